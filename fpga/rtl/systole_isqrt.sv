// The integer square root of contract 7.6, isqrt(v) = the largest r with r * r <= v, digit by
// digit, BitsPerCycle root bits a cycle. VNORM's isqrt(floor(2^62 / T)) (contract 7.8).
//
// v has 2 * RootW bits, taken in pairs from the top (zero-extended to whole steps). After k
// steps root is isqrt of the top 2k bits and rem = those bits - root^2 <= 2 * root; each step
// brings the next pair into rem (rem * 4 + pair) and sets the next root bit if rem >= 4 * root + 1,
// subtracting that (which is (2 root + 1)^2 - (2 root)^2 scaled). rem < 2^(k+1), so RemW bits
// hold it and the trial RemW + 2.
//
// Schedule: start_i in cycle X (v_i sampled then; ignored while busy); the steps run in
// X + 1 .. X + Steps; done_o is high for the one cycle X + Steps + 1, and root_o is valid from then
// until the next start. clear_i stops it in one cycle.
module systole_isqrt
#(
  parameter  int unsigned RootW        = 32,
  parameter  int unsigned BitsPerCycle = 2,
  localparam int unsigned Steps        = (RootW + BitsPerCycle - 1) / BitsPerCycle,
  localparam int unsigned PadW         = Steps * BitsPerCycle,   // root bits, padded
  localparam int unsigned RemW         = PadW + 2
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  input  logic               start_i,
  input  logic [2*RootW-1:0] v_i,
  output logic               busy_o,
  output logic               done_o,
  output logic [RootW-1:0]   root_o
);

  logic [2*PadW-1:0] v_q, v_d;       // the pairs still to bring in, at the top
  logic [PadW-1:0]   root_q, root_d;
  logic [RemW-1:0]   rem_q, rem_d;

  // The steps (systole_steps): load takes the operands in X, a step runs in each busy cycle.
  logic load, done_q;

  systole_steps #(.Steps(Steps)) u_steps (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(start_i),
    .load_o (load),
    .busy_o (busy_o),
    .done_o (done_q)
  );

  always_comb begin
    logic [RemW+1:0] cur, trial;
    v_d    = v_q;
    root_d = root_q;
    rem_d  = rem_q;
    for (int unsigned b = 0; b < BitsPerCycle; b++) begin
      cur   = {rem_d, v_d[2*PadW-1 -: 2]};
      trial = (RemW+2)'({root_d, 2'b01});
      v_d   = v_d << 2;
      if (cur >= trial) begin
        rem_d  = RemW'(cur - trial);
        root_d = {root_d[PadW-2:0], 1'b1};
      end else begin
        rem_d  = RemW'(cur);
        root_d = {root_d[PadW-2:0], 1'b0};
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (load) begin
      v_q    <= (2*PadW)'(v_i);
      root_q <= '0;
      rem_q  <= '0;
    end else if (busy_o) begin
      v_q    <= v_d;
      root_q <= root_d;
      rem_q  <= rem_d;
    end
  end

  assign done_o = done_q;
  assign root_o = root_q[RootW-1:0];

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk). The result is the floor of the
  // square root: r * r <= v < (r + 1)^2. v_chk_q is a copy of v for this check only.
  localparam int unsigned ChkW = 2 * PadW + 2;
  logic chk_q;
  logic [2*RootW-1:0] v_chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));
  always_ff @(posedge clk_i) begin
    if (load) begin
      v_chk_q <= v_i;
    end
  end
  RootIsFloor: assert property (@(posedge clk_i) disable iff (!chk_q)
      done_q |->
        ChkW'(root_q) * ChkW'(root_q) <= ChkW'(v_chk_q)
        && ChkW'(v_chk_q) < (ChkW'(root_q) + ChkW'(1)) * (ChkW'(root_q) + ChkW'(1)))
    else $error("systole_isqrt: isqrt(%0d) gave %0d", v_chk_q, root_q);
  StartWhenIdle: assert property (@(posedge clk_i) disable iff (!chk_q) start_i |-> !busy_o)
    else $error("systole_isqrt: start while a root is computed");
`endif

endmodule
