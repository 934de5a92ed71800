// The EXEC unit: MATMUL through the systolic array, REQUANT, VMAX and VADD (contract 6.3 to 6.6,
// arithmetic in section 7), with the cycle timing of MICROARCH.md "EXEC timing".
//
// Let an instruction issue (be accepted) in cycle T; D = ArrayDim.
//
// MATMUL: L0 = w_load ? D : 0, S = L0 + max(rows, w_preload ? D : 0).
//   WBUF row w_row + k is read in cycle T + k (w_load), pre_row + k in T + L0 + k (w_preload),
//   ABUF row a_row + i in T + L0 + i (port a). The row enters the array through one register
//   (T + L0 + i + 2), leaves it de-skewed 2D - 1 cycles later; ACC row acc_row + i is read in
//   the cycle before (when accumulating) and written from a register in
//   T + L0 + i + 2D + ArrayLatency - 1. free_o is 1 again at T + S, done_o at
//   T + L0 + rows + 2D + ArrayLatency (and not before every earlier MATMUL's own done time; a
//   preload that outlasts the rows does not delay it: its weight writes only meet later MATMULs).
//   The old ACC value is taken from the two most recent writes when they hit the same row (the
//   write in progress and the one of the cycle before, which a read in that cycle may miss), so
//   MATMULs accumulating into the same rows may follow each other back to back.
//   w_swap flips the active bank; w_load writes the active bank, w_preload the other one. A tile
//   row read in cycle c is written into PE (k, n) at the edge ending c + k + n + 1.
// REQUANT, VMAX, VADD: systole_lanes, whose done is this unit's free and done while they run
//   (a build without the VECTOR unit, contract 5.1). With WithLanes = 0 (a build with the VECTOR
//   unit, which holds the lanes) the unit takes MATMUL only, and its ABUF b port and ABUF write
//   port are idle.
//
// The issue stage sends MATMUL only when free_o, REQUANT/VMAX/VADD only when done_o, with every
// field already checked; anything else on issue_i is ignored. clear_i returns the unit to idle in
// one cycle: nothing stays in flight, the bank pointer returns to 0.
module systole_exec
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned WbufRows = 4096,
  parameter  int unsigned AccRows  = 4096,
  parameter  bit          WithLanes = 1'b1,
  localparam int unsigned AbufAw   = $clog2(AbufRows),
  localparam int unsigned WbufAw   = $clog2(WbufRows),
  localparam int unsigned AccAw    = $clog2(AccRows)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      clear_i,

  input  logic                      issue_i,
  input  logic [systole_pkg::InstructionBits-1:0] instr_i,
  output logic                      free_o,
  output logic                      done_o,

  output logic                      abuf_a_re_o,
  output logic [AbufAw-1:0]         abuf_a_addr_o,
  input  logic [8*ArrayDim-1:0]     abuf_a_rdata_i,
  output logic                      abuf_b_re_o,
  output logic [AbufAw-1:0]         abuf_b_addr_o,
  input  logic [8*ArrayDim-1:0]     abuf_b_rdata_i,
  output logic                      abuf_we_o,
  output logic [AbufAw-1:0]         abuf_waddr_o,
  output logic [8*ArrayDim-1:0]     abuf_wdata_o,

  output logic                      wbuf_re_o,
  output logic [WbufAw-1:0]         wbuf_addr_o,
  input  logic [8*ArrayDim-1:0]     wbuf_rdata_i,

  output logic                      acc_re_o,
  output logic [AccAw-1:0]          acc_raddr_o,
  input  logic [32*ArrayDim-1:0]    acc_rdata_i,
  output logic                      acc_we_o,
  output logic [AccAw-1:0]          acc_waddr_o,
  output logic [32*ArrayDim-1:0]    acc_wdata_o
);

  localparam int unsigned D = ArrayDim;

  // Timing constants of this implementation (MICROARCH.md "EXEC timing").
  localparam int unsigned ArrayLatency   = 3;  // ABUF data register, ACC add register, write

  localparam int unsigned RelW = 18;  // cycles since issue: S < 2^17
  localparam int unsigned CntW = 18;  // cycles until free / done: < 2^17
  localparam int unsigned TagW = AccAw + 1;  // {accumulate, ACC row} beside each array row

  // -----------------------------------------------------------------------------------------------
  // Accepting an instruction.
  logic [systole_pkg::OpcodeWidth-1:0] op;
  logic                   op_mm, op_rq, op_vmax, op_vadd;
  logic                   free_q, done_q, lanes_done;
  logic                   acc_mm, acc_lanes;

  assign op      = instr_i[systole_pkg::OpcodeLsb +: systole_pkg::OpcodeWidth];
  assign op_mm   = op == systole_pkg::OpMatmul;
  assign op_rq   = op == systole_pkg::OpRequant;
  assign op_vmax = op == systole_pkg::OpVmax;
  assign op_vadd = op == systole_pkg::OpVadd;

  assign acc_mm    = issue_i && !clear_i && op_mm && free_o;
  assign acc_lanes = WithLanes && issue_i && !clear_i && (op_rq || op_vmax || op_vadd) && done_o;

  // The MATMUL being sequenced: instr_i in the cycle it is accepted, its copy after that.
  logic [191:0]    instr_q;
  logic [191:0]    ins;
  logic            seq_q, active;
  logic [RelW-1:0] rel_q, rel;
  logic            bank_q, bank;

  assign ins    = acc_mm ? instr_i[191:0] : instr_q;
  assign active = acc_mm || seq_q;
  assign rel    = acc_mm ? '0 : rel_q;

  // Bits of the instruction that no MATMUL field uses (opcode and wait are decoded above).
  logic unused_instr;
  assign unused_instr = ^{instr_i[systole_pkg::InstructionBits-1:192], ins[11:0], ins[191:64]};

  // -----------------------------------------------------------------------------------------------
  // Fields.
  logic            m_accum, m_wload, m_wswap, m_wpre;
  logic [15:0]     m_rows;
  // Row fields are 16 bits; a buffer address uses their low bits (the issue stage has checked that
  // the rows lie inside the buffer), so the high bits go unused in smaller builds.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0]     m_arow, m_accrow, m_wrow, m_prerow;
  /* verilator lint_on UNUSEDSIGNAL */

  assign m_accum  = ins[systole_pkg::MatmulAccumulateLsb];
  assign m_wload  = ins[systole_pkg::MatmulWLoadLsb];
  assign m_wswap  = ins[systole_pkg::MatmulWSwapLsb];
  assign m_wpre   = ins[systole_pkg::MatmulWPreloadLsb];
  assign m_arow   = ins[systole_pkg::MatmulARowLsb +: systole_pkg::MatmulARowWidth];
  assign m_accrow = ins[systole_pkg::MatmulAccRowLsb +: systole_pkg::MatmulAccRowWidth];
  assign m_rows   = ins[systole_pkg::MatmulRowsLsb +: systole_pkg::MatmulRowsWidth];
  assign m_wrow   = ins[systole_pkg::MatmulWRowLsb +: systole_pkg::MatmulWRowWidth];
  assign m_prerow = ins[systole_pkg::MatmulPreRowLsb +: systole_pkg::MatmulPreRowWidth];

  // -----------------------------------------------------------------------------------------------
  // The read sequence, one step per cycle from T.
  logic [RelW-1:0] m_l0, m_body, m_len, m_arel;

  assign m_l0   = m_wload ? RelW'(D) : '0;
  assign m_body = (m_wpre && RelW'(m_rows) < RelW'(D)) ? RelW'(D) : RelW'(m_rows);
  assign m_len  = m_l0 + m_body;
  assign m_arel = rel - m_l0;

  logic mm_now;
  assign mm_now = active;

  // The bank the rows of this MATMUL use: flipped by w_swap when it is accepted.
  assign bank = (acc_mm && m_wswap) ? !bank_q : bank_q;

  // MATMUL: weight tiles.
  logic w_load_rd, w_pre_rd, w_rd, w_first, w_bank;
  assign w_load_rd = mm_now && m_wload && rel < RelW'(D);
  assign w_pre_rd  = mm_now && m_wpre && rel >= m_l0 && m_arel < RelW'(D);
  assign w_rd      = w_load_rd || w_pre_rd;
  assign w_first   = w_load_rd ? rel == '0 : rel == m_l0;
  assign w_bank    = w_load_rd ? bank : !bank;

  assign wbuf_re_o   = w_rd;
  assign wbuf_addr_o = w_load_rd ? WbufAw'(m_wrow) + WbufAw'(rel)
                                 : WbufAw'(m_prerow) + WbufAw'(m_arel);

  // MATMUL: activation rows.
  logic             a_rd;
  logic [TagW-1:0]  a_tag;
  assign a_rd  = mm_now && rel >= m_l0 && m_arel < RelW'(m_rows);
  assign a_tag = {m_accum, AccAw'(m_accrow) + AccAw'(m_arel)};

  // ABUF read ports: MATMUL rows on port a; VMAX/VADD (the lanes) on both.
  logic             ln_a_re, ln_b_re, ln_acc_re;
  logic [AbufAw-1:0] ln_a_addr, ln_b_addr;
  logic [AccAw-1:0] ln_acc_addr;
  assign abuf_a_re_o   = a_rd || ln_a_re;
  assign abuf_a_addr_o = ln_a_re ? ln_a_addr : AbufAw'(m_arow) + AbufAw'(m_arel);
  assign abuf_b_re_o   = ln_b_re;
  assign abuf_b_addr_o = ln_b_addr;

  // -----------------------------------------------------------------------------------------------
  // Sequencer state, free and done.
  logic [CntW-1:0] free_cnt_q, free_cnt_d, done_cnt_q, done_cnt_d, done_dec, mm_done;

  assign done_dec = (done_cnt_q == '0) ? '0 : done_cnt_q - 1'b1;
  assign mm_done  = CntW'(m_l0) + CntW'(m_rows) + CntW'(2 * D + ArrayLatency - 1);

  always_comb begin
    free_cnt_d = (free_cnt_q == '0) ? '0 : free_cnt_q - 1'b1;
    done_cnt_d = done_dec;
    if (acc_mm) begin
      free_cnt_d = CntW'(m_len) - 1'b1;
      done_cnt_d = (mm_done > done_dec) ? mm_done : done_dec;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      seq_q      <= 1'b0;
      rel_q      <= '0;
      bank_q     <= 1'b0;
      free_cnt_q <= '0;
      done_cnt_q <= '0;
      free_q     <= 1'b1;
      done_q     <= 1'b1;
    end else if (clear_i) begin
      seq_q      <= 1'b0;
      rel_q      <= '0;
      bank_q     <= 1'b0;
      free_cnt_q <= '0;
      done_cnt_q <= '0;
      free_q     <= 1'b1;
      done_q     <= 1'b1;
    end else begin
      seq_q      <= active && (rel + 1'b1 < m_len);
      rel_q      <= rel + 1'b1;
      if (acc_mm) begin
        bank_q <= bank;
      end
      free_cnt_q <= free_cnt_d;
      done_cnt_q <= done_cnt_d;
      free_q     <= free_cnt_d == '0;
      done_q     <= done_cnt_d == '0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (acc_mm) begin
      instr_q <= instr_i[191:0];
    end
  end

  // The lanes hold the whole unit while they run: a MATMUL waits for them, and they wait for
  // the array to drain.
  assign free_o = free_q && lanes_done;
  assign done_o = done_q && lanes_done;

  // -----------------------------------------------------------------------------------------------
  // MATMUL datapath: read data one cycle after the read, one register, the array.
  logic            a_v1_q, a_v2_q, a_bank1_q, a_bank2_q;
  logic [TagW-1:0] a_tag1_q, a_tag2_q;
  logic [8*D-1:0]  a_data2_q;
  logic            w_first1_q, w_bank1_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_v1_q     <= 1'b0;
      a_v2_q     <= 1'b0;
      w_first1_q <= 1'b0;
    end else if (clear_i) begin
      a_v1_q     <= 1'b0;
      a_v2_q     <= 1'b0;
      w_first1_q <= 1'b0;
    end else begin
      a_v1_q     <= a_rd;
      a_v2_q     <= a_v1_q;
      w_first1_q <= w_rd && w_first;
    end
  end

  always_ff @(posedge clk_i) begin
    a_tag1_q  <= a_tag;
    a_bank1_q <= bank;
    a_tag2_q  <= a_tag1_q;
    a_bank2_q <= a_bank1_q;
    a_data2_q <= abuf_a_rdata_i;
    w_bank1_q <= w_bank;
  end

  logic             pre_valid, out_valid;
  logic [TagW-1:0]  pre_tag, out_tag;
  logic [32*D-1:0]  out_data;

  systole_array #(
    .ArrayDim(D),
    .TagWidth(TagW)
  ) u_array (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .clear_i    (clear_i),
    .in_valid_i (a_v2_q),
    .in_bank_i  (a_bank2_q),
    .in_tag_i   (a_tag2_q),
    .in_data_i  (a_data2_q),
    .w_first_i  (w_first1_q),
    .w_bank_i   (w_bank1_q),
    .w_data_i   (wbuf_rdata_i),
    .pre_valid_o(pre_valid),
    .pre_tag_o  (pre_tag),
    .out_valid_o(out_valid),
    .out_tag_o  (out_tag),
    .out_data_o (out_data)
  );

  // Accumulate: the old row is read the cycle before the result leaves the array.
  logic             mm_acc_re;
  logic             out_accum;
  logic [AccAw-1:0] out_addr;
  assign mm_acc_re = pre_valid && pre_tag[TagW-1];
  assign out_accum = out_tag[TagW-1];
  assign out_addr  = out_tag[AccAw-1:0];

  logic             wr_v_q, last_v_q;
  logic [AccAw-1:0] wr_addr_q, last_addr_q;
  logic [32*D-1:0]  wr_data_q, last_data_q;
  logic [32*D-1:0]  old, sum;

  always_comb begin
    if (wr_v_q && wr_addr_q == out_addr) begin
      old = wr_data_q;
    end else if (last_v_q && last_addr_q == out_addr) begin
      old = last_data_q;
    end else begin
      old = acc_rdata_i;
    end
    for (int unsigned n = 0; n < D; n++) begin
      sum[32*n +: 32] = (out_accum ? old[32*n +: 32] : 32'd0) + out_data[32*n +: 32];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_v_q   <= 1'b0;
      last_v_q <= 1'b0;
    end else if (clear_i) begin
      wr_v_q   <= 1'b0;
      last_v_q <= 1'b0;
    end else begin
      wr_v_q   <= out_valid;
      last_v_q <= wr_v_q;
    end
  end

  always_ff @(posedge clk_i) begin
    wr_addr_q   <= out_addr;
    wr_data_q   <= sum;
    last_addr_q <= wr_addr_q;
    last_data_q <= wr_data_q;
  end

  assign acc_we_o    = wr_v_q;
  assign acc_waddr_o = wr_addr_q;
  assign acc_wdata_o = wr_data_q;

  assign acc_re_o    = ln_acc_re || mm_acc_re;
  assign acc_raddr_o = ln_acc_re ? ln_acc_addr : pre_tag[AccAw-1:0];

  // -----------------------------------------------------------------------------------------------
  // REQUANT, VMAX, VADD.
  if (WithLanes) begin : g_lanes
    systole_lanes #(
      .ArrayDim(ArrayDim),
      .AbufRows(AbufRows),
      .AccRows (AccRows)
    ) u_lanes (
      .clk_i         (clk_i),
      .rst_ni        (rst_ni),
      .clear_i       (clear_i),
      .issue_i       (acc_lanes),
      .instr_i       (instr_i[191:0]),
      .done_o        (lanes_done),
      .abuf_a_re_o   (ln_a_re),
      .abuf_a_addr_o (ln_a_addr),
      .abuf_a_rdata_i(abuf_a_rdata_i),
      .abuf_b_re_o   (ln_b_re),
      .abuf_b_addr_o (ln_b_addr),
      .abuf_b_rdata_i(abuf_b_rdata_i),
      .abuf_we_o     (abuf_we_o),
      .abuf_waddr_o  (abuf_waddr_o),
      .abuf_wdata_o  (abuf_wdata_o),
      .acc_re_o      (ln_acc_re),
      .acc_raddr_o   (ln_acc_addr),
      .acc_rdata_i   (acc_rdata_i)
    );
  end else begin : g_no_lanes
    assign lanes_done   = 1'b1;
    assign ln_a_re      = 1'b0;
    assign ln_a_addr    = '0;
    assign ln_b_re      = 1'b0;
    assign ln_b_addr    = '0;
    assign ln_acc_re    = 1'b0;
    assign ln_acc_addr  = '0;
    assign abuf_we_o    = 1'b0;
    assign abuf_waddr_o = '0;
    assign abuf_wdata_o = '0;
    logic unused_b;
    assign unused_b = ^abuf_b_rdata_i;
  end

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The issue stage sends a MATMUL only when the unit is free, anything else only when it is
  // done; what it sends is accepted.
  IssueAccepted: assert property (@(posedge clk_i) disable iff (!chk_q)
      issue_i && !clear_i && (op_mm || (WithLanes && (op_rq || op_vmax || op_vadd)))
      |-> acc_mm || acc_lanes)
    else $error("systole_exec: opcode 0x%0h issued while the unit could not take it", op);
  DoneImpliesFree: assert property (@(posedge clk_i) disable iff (!chk_q) done_o |-> free_o)
    else $error("systole_exec: done but not free");
  // Every buffer access is on a row of its buffer (the issue stage checked the fields; this
  // checks the unit kept inside them; it bites in builds whose rows are not a power of two).
  AbufReadInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      (abuf_a_re_o -> 32'(abuf_a_addr_o) < AbufRows)
      && (abuf_b_re_o -> 32'(abuf_b_addr_o) < AbufRows))
    else $error("systole_exec: ABUF read past its %0d rows", AbufRows);
  AbufWriteInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      abuf_we_o |-> 32'(abuf_waddr_o) < AbufRows)
    else $error("systole_exec: ABUF write to row %0d of %0d", abuf_waddr_o, AbufRows);
  WbufReadInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      wbuf_re_o |-> 32'(wbuf_addr_o) < WbufRows)
    else $error("systole_exec: WBUF read of row %0d of %0d", wbuf_addr_o, WbufRows);
  AccInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      (acc_re_o -> 32'(acc_raddr_o) < AccRows) && (acc_we_o -> 32'(acc_waddr_o) < AccRows))
    else $error("systole_exec: ACC access past its %0d rows", AccRows);
  // The lanes and the array never write ABUF or read ACC for two instructions at once: the
  // lanes run only on a done unit, and a MATMUL issues only once they are free.
  LanesAlone: assert property (@(posedge clk_i) disable iff (!chk_q)
      !(ln_acc_re && mm_acc_re))
    else $error("systole_exec: REQUANT and a MATMUL read ACC in the same cycle");
`endif

endmodule
