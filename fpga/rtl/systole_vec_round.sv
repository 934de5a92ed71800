// The back end shared by REQUANT and VADD lanes (contract 7.2 to 7.4): a rounding shift of a
// 64-bit value, ties to even, then the zero point and the clamp to [relu ? zp : -128, 127].
//
//   r = rshift(p, shift)        p / 2^shift rounded to nearest, ties to even (|p| <= 2^62)
//   q = min(max(r + zp, relu ? zp : -128), 127)
//
// Two pipeline stages: inputs in cycle x, q_o valid in cycle x + 2 (a register).
// Stage 1: floor = p >>> shift, and the round-up decision: the remainder (the low `shift` bits)
// is above half when bit shift-1 is set and a lower bit is set, exactly half when only bit
// shift-1 is set; round up above half, or at half when floor is odd. Stage 2: add, clamp.
// Pure datapath: no reset.
module systole_vec_round (
  input  logic               clk_i,
  input  logic signed [63:0] p_i,
  input  logic [5:0]         shift_i,
  input  logic signed [7:0]  zp_i,
  input  logic               relu_i,
  output logic signed [7:0]  q_o
);

  logic [63:0] low_mask, below_mask;
  logic        round_bit, sticky;
  logic signed [63:0] floor_d;

  assign low_mask   = (64'd1 << shift_i) - 64'd1;   // bits [shift-1:0]
  assign below_mask = low_mask >> 1;                // bits [shift-2:0]
  assign round_bit  = |(p_i & (low_mask & ~below_mask));
  assign sticky     = |(p_i & below_mask);
  assign floor_d    = p_i >>> shift_i;

  logic signed [63:0] floor_q;
  logic               inc_q;
  logic signed [7:0]  zp_q;
  logic               relu_q;

  always_ff @(posedge clk_i) begin
    floor_q <= floor_d;
    inc_q   <= round_bit && (sticky || floor_d[0]);
    zp_q    <= zp_i;
    relu_q  <= relu_i;
  end

  logic signed [63:0] sum, lo;
  assign sum = floor_q + 64'(inc_q) + 64'(zp_q);
  assign lo  = relu_q ? 64'(zp_q) : -64'sd128;

  always_ff @(posedge clk_i) begin
    if (sum < lo) begin
      q_o <= lo[7:0];
    end else if (sum > 64'sd127) begin
      q_o <= 8'sd127;
    end else begin
      q_o <= sum[7:0];
    end
  end

`ifndef SYNTHESIS
  // Invariant, checked by Verilator with --assert (yosys defines SYNTHESIS and skips it): the
  // input is in the range the header states, |p| <= 2^62, so that floor + round + zp cannot wrap
  // in 64 bits. There is no reset, and the callers' pipelines hold their initial values for a few
  // edges, so the check starts after PipeFill edges; an unknown p_i (a four-state simulator's X in
  // a cycle that carries no data) is not checked.
  localparam int unsigned PipeFill = 8;
  localparam logic signed [63:0] PMax = 64'sd1 <<< 62;
  int unsigned edges_q = 0;
  always_ff @(posedge clk_i) begin
    if (edges_q < PipeFill) begin
      edges_q <= edges_q + 1;
    end else if (!$isunknown(p_i)) begin
      assert (p_i >= -PMax && p_i <= PMax)
        else $error("systole_vec_round: |p_i| = |%0d| above 2^62", p_i);
    end
  end
`endif

endmodule
