// One lane of REQUANT (contract 7.3):
//
//   v = sat32(acc + bias)                   (the sum in 33 bits, clamped to int32)
//   p = v * mult                            (64 bits, |p| <= 2^62)
//   q = clamp(rshift(p, shift) + zp, relu ? zp : -128, 127)
//
// shift_i is the parameter's low 6 bits (shift & 63). Fully pipelined, one result per cycle:
// inputs in cycle x, q_o valid in cycle x + 5 (a register): the saturating
// add, two stages of the 32 x 32 multiply (DSP M and P registers), two stages of
// systole_vec_round. Pure datapath: no reset; the caller tracks which cycles are valid. The one
// invariant, the product's range |p| <= 2^62, is asserted in systole_vec_round, which needs it.
module systole_requant (
  input  logic               clk_i,
  input  logic signed [31:0] acc_i,
  input  logic signed [31:0] bias_i,
  input  logic signed [31:0] mult_i,
  input  logic [5:0]         shift_i,
  input  logic signed [7:0]  zp_i,
  input  logic               relu_i,
  output logic signed [7:0]  q_o
);

  // Stage A: saturating add.
  logic signed [32:0] sum33;
  logic signed [31:0] sat;
  assign sum33 = 33'(acc_i) + 33'(bias_i);
  always_comb begin
    if (sum33 > 33'sd2147483647) begin
      sat = 32'sh7fffffff;
    end else if (sum33 < -33'sd2147483648) begin
      sat = 32'sh80000000;
    end else begin
      sat = sum33[31:0];
    end
  end

  logic signed [31:0] v_q, mult_q;
  logic [5:0]         shift_a_q, shift_b_q, shift_c_q;
  logic signed [7:0]  zp_a_q, zp_b_q, zp_c_q;
  logic               relu_a_q, relu_b_q, relu_c_q;
  logic signed [63:0] p1_q, p2_q;

  always_ff @(posedge clk_i) begin
    // A
    v_q       <= sat;
    mult_q    <= mult_i;
    shift_a_q <= shift_i;
    zp_a_q    <= zp_i;
    relu_a_q  <= relu_i;
    // B1, B2: the multiply
    p1_q      <= 64'(v_q) * 64'(mult_q);
    shift_b_q <= shift_a_q;
    zp_b_q    <= zp_a_q;
    relu_b_q  <= relu_a_q;
    p2_q      <= p1_q;
    shift_c_q <= shift_b_q;
    zp_c_q    <= zp_b_q;
    relu_c_q  <= relu_b_q;
  end

  // C, D
  systole_vec_round u_round (
    .clk_i  (clk_i),
    .p_i    (p2_q),
    .shift_i(shift_c_q),
    .zp_i   (zp_c_q),
    .relu_i (relu_c_q),
    .q_o    (q_o)
  );

endmodule
