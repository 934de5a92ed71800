// An unsigned restoring divider: q = floor(num / den), BitsPerCycle quotient bits a cycle.
// VSOFTMAX's floor(2^44 / S) and VNORM's floor(2^62 / T) (contract 7.7, 7.8).
//
// The dividend is taken as Steps * BitsPerCycle bits (zero-extended from NumW), most significant
// first; each step shifts the next dividend bit into the partial remainder rem and subtracts den
// if rem >= den, which gives the next quotient bit. rem < den holds throughout, so it fits DenW
// bits and the trial value {rem, bit} DenW + 1 bits. The dividend bits leave the top of one
// register while the quotient bits enter at its bottom.
//
// Schedule: start_i in cycle X (num_i and den_i are sampled then; start_i is ignored while busy);
// the steps run in X + 1 .. X + Steps; done_o is high for the one cycle X + Steps + 1, and q_o is
// valid from then until the next start. den = 0 gives q = all ones (the caller treats that case
// itself). clear_i stops a division in one cycle.
module systole_udiv
#(
  parameter  int unsigned NumW         = 64,
  parameter  int unsigned DenW         = 48,
  parameter  int unsigned BitsPerCycle = 2,
  localparam int unsigned Steps        = (NumW + BitsPerCycle - 1) / BitsPerCycle,
  localparam int unsigned PadW         = Steps * BitsPerCycle
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             clear_i,
  input  logic             start_i,
  input  logic [NumW-1:0]  num_i,
  input  logic [DenW-1:0]  den_i,
  output logic             busy_o,
  output logic             done_o,
  output logic [NumW-1:0]  q_o
);

  logic [PadW-1:0] nq_q, nq_d; // dividend bits still to use (top), quotient bits so far (bottom)
  logic [DenW-1:0] rem_q, rem_d, den_q;

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

  // BitsPerCycle restoring steps.
  always_comb begin
    logic [DenW:0] trial;
    nq_d  = nq_q;
    rem_d = rem_q;
    for (int unsigned b = 0; b < BitsPerCycle; b++) begin
      trial = {rem_d, nq_d[PadW-1]};
      nq_d  = nq_d << 1;
      if (trial >= {1'b0, den_q}) begin
        rem_d   = DenW'(trial - {1'b0, den_q});
        nq_d[0] = 1'b1;
      end else begin
        rem_d = trial[DenW-1:0];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (load) begin
      nq_q  <= PadW'(num_i);
      rem_q <= '0;
      den_q <= den_i;
    end else if (busy_o) begin
      nq_q  <= nq_d;
      rem_q <= rem_d;
    end
  end

  assign done_o = done_q;
  assign q_o    = nq_q[NumW-1:0];

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk). With den != 0 the result is the
  // floor of the quotient: q * den <= num < (q + 1) * den, and the padding's quotient bits are 0.
  // num_q is a copy of the dividend for this check only.
  localparam int unsigned ChkW = PadW + DenW + 1;
  logic chk_q;
  logic [NumW-1:0] num_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));
  always_ff @(posedge clk_i) begin
    if (load) begin
      num_q <= num_i;
    end
  end
  QuotientIsFloor: assert property (@(posedge clk_i) disable iff (!chk_q)
      done_q && den_q != '0 |->
        ChkW'(nq_q) * ChkW'(den_q) <= ChkW'(num_q)
        && ChkW'(num_q) < (ChkW'(nq_q) + ChkW'(1)) * ChkW'(den_q))
    else $error("systole_udiv: %0d / %0d gave %0d", num_q, den_q, nq_q);
  StartWhenIdle: assert property (@(posedge clk_i) disable iff (!chk_q) start_i |-> !busy_o)
    else $error("systole_udiv: start while a division runs");
`endif

endmodule
