// Testbench top: one REQUANT lane and one VMAX/VADD lane side by side, driven independently.
module requant_tb (
  input  logic               clk_i,
  input  logic signed [31:0] acc_i,
  input  logic signed [31:0] bias_i,
  input  logic signed [31:0] mult_i,
  input  logic [5:0]         shift_i,
  input  logic signed [7:0]  zp_i,
  input  logic               relu_i,
  output logic signed [7:0]  rq_o,
  input  logic               max_i,
  input  logic signed [7:0]  a_i,
  input  logic signed [7:0]  b_i,
  input  logic signed [7:0]  a_zero_i,
  input  logic signed [7:0]  b_zero_i,
  input  logic signed [7:0]  out_zero_i,
  input  logic signed [31:0] a_mult_i,
  input  logic signed [31:0] b_mult_i,
  input  logic [5:0]         vshift_i,
  input  logic               vrelu_i,
  output logic signed [7:0]  vec_o
);

  systole_requant u_requant (
    .clk_i  (clk_i),
    .acc_i  (acc_i),
    .bias_i (bias_i),
    .mult_i (mult_i),
    .shift_i(shift_i),
    .zp_i   (zp_i),
    .relu_i (relu_i),
    .q_o    (rq_o)
  );

  systole_vec_lane u_vec (
    .clk_i     (clk_i),
    .max_i     (max_i),
    .a_i       (a_i),
    .b_i       (b_i),
    .a_zero_i  (a_zero_i),
    .b_zero_i  (b_zero_i),
    .out_zero_i(out_zero_i),
    .a_mult_i  (a_mult_i),
    .b_mult_i  (b_mult_i),
    .shift_i   (vshift_i),
    .relu_i    (vrelu_i),
    .q_o       (vec_o)
  );

endmodule
