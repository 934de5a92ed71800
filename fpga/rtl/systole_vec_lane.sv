// One lane of VMAX and VADD (contract 6.5, 7.4):
//
//   VMAX: q = max(a, b)                                               (signed int8)
//   VADD: sum = (a - a_zero) * a_mult + (b - b_zero) * b_mult         (|sum| < 2^40)
//         q   = clamp(rshift(sum, shift) + out_zero, relu ? out_zero : -128, 127)
//
// max_i selects VMAX. Fully pipelined: inputs in cycle x, q_o valid in cycle x + Latency
// (a register), 5 stages: the zero-point subtraction (and the max), the two multiplies, their
// sum, two stages of systole_vec_round. The max goes through the same back end with shift 0,
// zero point 0 and no ReLU, which leaves it unchanged. Pure datapath: no reset.
module systole_vec_lane (
  input  logic               clk_i,
  input  logic               max_i,
  input  logic signed [7:0]  a_i,
  input  logic signed [7:0]  b_i,
  input  logic signed [7:0]  a_zero_i,
  input  logic signed [7:0]  b_zero_i,
  input  logic signed [7:0]  out_zero_i,
  input  logic signed [31:0] a_mult_i,
  input  logic signed [31:0] b_mult_i,
  input  logic [5:0]         shift_i,
  input  logic               relu_i,
  output logic signed [7:0]  q_o
);

  // Stage A: differences and the max.
  logic signed [8:0]  da_q, db_q;
  logic signed [7:0]  mx_a_q, mx_b_q;
  logic signed [31:0] am_q, bm_q;
  logic               max_a_q, max_b_q;
  logic [5:0]         shift_a_q, shift_b_q, shift_s_q;
  logic signed [7:0]  oz_a_q, oz_b_q, oz_s_q;
  logic               relu_a_q, relu_b_q, relu_s_q;
  // Stage B: products; stage S: their sum.
  logic signed [40:0] pa_q, pb_q;
  logic signed [63:0] sum_q;

  always_ff @(posedge clk_i) begin
    // A
    da_q      <= 9'(a_i) - 9'(a_zero_i);
    db_q      <= 9'(b_i) - 9'(b_zero_i);
    mx_a_q    <= (a_i > b_i) ? a_i : b_i;
    am_q      <= a_mult_i;
    bm_q      <= b_mult_i;
    max_a_q   <= max_i;
    shift_a_q <= shift_i;
    oz_a_q    <= out_zero_i;
    relu_a_q  <= relu_i;
    // B
    pa_q      <= 41'(da_q) * 41'(am_q);
    pb_q      <= 41'(db_q) * 41'(bm_q);
    mx_b_q    <= mx_a_q;
    max_b_q   <= max_a_q;
    shift_b_q <= shift_a_q;
    oz_b_q    <= oz_a_q;
    relu_b_q  <= relu_a_q;
    // S
    sum_q     <= max_b_q ? 64'(mx_b_q) : 64'(pa_q) + 64'(pb_q);
    shift_s_q <= max_b_q ? 6'd0 : shift_b_q;
    oz_s_q    <= max_b_q ? 8'sd0 : oz_b_q;
    relu_s_q  <= relu_b_q && !max_b_q;
  end

  // C, D
  systole_vec_round u_round (
    .clk_i  (clk_i),
    .p_i    (sum_q),
    .shift_i(shift_s_q),
    .zp_i   (oz_s_q),
    .relu_i (relu_s_q),
    .q_o    (q_o)
  );

`ifndef SYNTHESIS
  // Invariant, checked by Verilator with --assert (yosys defines SYNTHESIS and skips it): the sum
  // is within the header's bound, |sum| < 2^40 (so the 41-bit products are wide enough). There is
  // no reset, so the check starts once the pipeline has been filled (PipeFill edges); an unknown
  // sum (a four-state simulator's X in a cycle that carries no data) is not checked.
  localparam int unsigned PipeFill = 8;
  localparam logic signed [63:0] SumLimit = 64'sd1 <<< 40;
  int unsigned edges_q = 0;
  always_ff @(posedge clk_i) begin
    if (edges_q < PipeFill) begin
      edges_q <= edges_q + 1;
    end else if (!$isunknown(sum_q)) begin
      assert (sum_q > -SumLimit && sum_q < SumLimit)
        else $error("systole_vec_lane: |sum| = |%0d| not below 2^40", sum_q);
    end
  end
`endif

endmodule
