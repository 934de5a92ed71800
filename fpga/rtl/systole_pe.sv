// One processing element of the weight-stationary systolic array.
//
// The activation comes in from the left and leaves to the right one cycle later, together with
// its bank bit, which selects the weight register it is multiplied with. The partial sum comes in
// from above and leaves downwards one cycle later as psum + a * w (int32, wrapping). The two
// weight registers are written through the weight port (enable, bank, value) by the weight wave
// of systole_array; a register written at the edge ending cycle c is used from cycle c + 1.
//
// The multiply-add is kept a plain registered `psum + a * w` so that synthesis maps it to one
// DSP48E2 (multiplier and post-adder, P register). The datapath has no reset: the array's
// valid bits travel outside the PEs, and DSP registers have no asynchronous reset.
//
// No assertions here: the PE's rule of use (a valid row never reads a weight register in the
// cycle a tile is written into it) needs the row's valid bit, so systole_array asserts it.
module systole_pe (
  input  logic               clk_i,
  // activation from the left, to the right
  input  logic signed [7:0]  a_i,
  input  logic               bank_i,
  output logic signed [7:0]  a_o,
  output logic               bank_o,
  // partial sum from above, downwards
  input  logic signed [31:0] psum_i,
  output logic signed [31:0] psum_o,
  // weight write port
  input  logic               w_we_i,
  input  logic               w_bank_i,
  input  logic signed [7:0]  w_data_i
);

  logic signed [7:0] w0_q, w1_q;
  logic signed [7:0] w_sel;

  assign w_sel = bank_i ? w1_q : w0_q;

  always_ff @(posedge clk_i) begin
    a_o    <= a_i;
    bank_o <= bank_i;
    psum_o <= psum_i + a_i * w_sel;
  end

  always_ff @(posedge clk_i) begin
    if (w_we_i && !w_bank_i) begin
      w0_q <= w_data_i;
    end
    if (w_we_i && w_bank_i) begin
      w1_q <= w_data_i;
    end
  end

endmodule
