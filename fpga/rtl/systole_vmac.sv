// The VECTOR unit's VMAC engine (contract 6.13): for rows i and lanes j,
// p = ABUF[a_row + i][j] * WBUF[w_row][j] (int8 x int8, exact in int32), and
// ACC[acc_row + i][j] = accumulate ? ACC[acc_row + i][j] + p : p, wrapping.
//
// Let the instruction be accepted in cycle T. The tap row w_row is read from WBUF once, in T, and
// held from T + 1 (in T + 1 it is taken straight from the read data). Row a_row + i is read in
// T + i; in T + i + 1 (stage 1) its data arrives and the D products are registered, and with
// accumulate ACC row acc_row + i is read for its old value; in T + i + 2 (stage 2) the old value
// arrives and is added to the products; acc_row + i is written in T + i + 3. So the last write is
// in T + rows + 2 and busy_o is 1 from T + 1 to then, inside the unit's T + rows + VECTOR_LATENCY.
// The destination rows of one instruction are distinct, so an old value is never one this
// instruction wrote; the source is in ABUF and the destination in ACC, so they cannot overlap.
module systole_vmac
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned WbufRows = 4096,
  parameter  int unsigned AccRows = 4096,
  localparam int unsigned AbufAw = $clog2(AbufRows),
  localparam int unsigned WbufAw = $clog2(WbufRows),
  localparam int unsigned AccAw = $clog2(AccRows)
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    clear_i,
  input  logic                    issue_i,
  input  logic [191:0]            instr_i,
  output logic                    busy_o,

  output logic                    abuf_re_o,
  output logic [AbufAw-1:0]       abuf_raddr_o,
  input  logic [8*ArrayDim-1:0]   abuf_rdata_i,
  output logic                    wbuf_re_o,
  output logic [WbufAw-1:0]       wbuf_raddr_o,
  input  logic [8*ArrayDim-1:0]   wbuf_rdata_i,
  output logic                    acc_re_o,
  output logic [AccAw-1:0]        acc_raddr_o,
  input  logic [32*ArrayDim-1:0]  acc_rdata_i,
  output logic                    acc_we_o,
  output logic [AccAw-1:0]        acc_waddr_o,
  output logic [32*ArrayDim-1:0]  acc_wdata_o
);

  localparam int unsigned D = ArrayDim;

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0]  f_arow, f_accrow, f_wrow;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0]  f_rows;
  logic         f_accum;
  assign f_arow   = instr_i[systole_pkg::VmacARowLsb +: systole_pkg::VmacARowWidth];
  assign f_accrow = instr_i[systole_pkg::VmacAccRowLsb +: systole_pkg::VmacAccRowWidth];
  assign f_rows   = instr_i[systole_pkg::VmacRowsLsb +: systole_pkg::VmacRowsWidth];
  assign f_wrow   = instr_i[systole_pkg::VmacWRowLsb +: systole_pkg::VmacWRowWidth];
  assign f_accum  = instr_i[systole_pkg::VmacAccumulateLsb];
  assign unused_instr = instr_i;

  // Read sequence: rows a_row .. from T (systole_vrows). s1_q is the cycle a row's data arrives
  // (s1_first_q for the first row), s2_q the add, we_q the write.
  logic              rd_busy;
  logic              accum_q;
  logic              s1_q, s1_first_q, s2_q, we_q;
  logic [AccAw-1:0]  s1_dst_q, s2_dst_q, waddr_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic              rd_last;
  /* verilator lint_on UNUSEDSIGNAL */

  systole_vrows #(.Aw(AbufAw)) u_rows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AbufAw'(f_arow)),
    .rows_i (f_rows),
    .re_o   (abuf_re_o),
    .addr_o (abuf_raddr_o),
    .last_o (rd_last),
    .busy_o (rd_busy)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_q       <= 1'b0;
      s1_first_q <= 1'b0;
      s2_q       <= 1'b0;
      we_q       <= 1'b0;
    end else if (clear_i) begin
      s1_q       <= 1'b0;
      s1_first_q <= 1'b0;
      s2_q       <= 1'b0;
      we_q       <= 1'b0;
    end else begin
      s1_q       <= abuf_re_o;
      s1_first_q <= issue_i;
      s2_q       <= s1_q;
      we_q       <= s2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      accum_q  <= f_accum;
      s1_dst_q <= AccAw'(f_accrow);
    end else if (s1_q) begin
      s1_dst_q <= s1_dst_q + 1'b1;
    end
    s2_dst_q <= s1_dst_q;
    waddr_q  <= s2_dst_q;
  end

  assign wbuf_re_o    = issue_i;
  assign wbuf_raddr_o = WbufAw'(f_wrow);
  // The old value of destination row i, read in its stage 1.
  assign acc_re_o     = s1_q && accum_q;
  assign acc_raddr_o  = s1_dst_q;

  // Per lane: the tap (held from T + 1), the product (stage 1), the sum (stage 2).
  for (genvar j = 0; j < D; j++) begin : g_lane
    logic [7:0]         w_q;
    logic [15:0]        p_q;
    logic [31:0]        wdata_q;
    logic signed [7:0]  x, w;
    logic signed [15:0] prod;
    logic signed [31:0] p, old;
    assign x   = abuf_rdata_i[8*j +: 8];
    assign w   = s1_first_q ? wbuf_rdata_i[8*j +: 8] : w_q;
    assign prod = x * w;  // both operands signed: an exact int8 x int8 product
    assign p   = 32'($signed(p_q));
    assign old = acc_rdata_i[32*j +: 32];
    always_ff @(posedge clk_i) begin
      if (s1_first_q) begin
        w_q <= w;
      end
      if (s1_q) begin
        p_q <= prod;
      end
      if (s2_q) begin
        wdata_q <= accum_q ? old + p : p;
      end
    end
    assign acc_wdata_o[32*j +: 32] = wdata_q;
  end

  assign acc_we_o    = we_q;
  assign acc_waddr_o = waddr_q;
  assign busy_o      = rd_busy || s1_q || s2_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // and writes within the runs, in order, by the unit's deadline T + rows + VECTOR_LATENCY - 1
  // (the source is in ABUF and the destination in ACC: never in place).
  systole_vcheck #(.Name("systole_vmac")) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_rows)),
    .dst_i     (32'(f_accrow)),
    .dst_rows_i(32'(f_rows)),
    .deadline_i(32'(f_rows) + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (acc_we_o),
    .waddr_i   (32'(acc_waddr_o)),
    .wsrc_i    (1'b0)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The old value of a destination row read only with accumulate, before the row is written: the
  // writes go to acc_row, acc_row + 1, ... (u_check), so after a row any later one.
  logic             c_wrote_q;
  logic [AccAw-1:0] c_wrow_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      c_wrote_q <= 1'b0;
    end else if (acc_we_o) begin
      c_wrote_q <= 1'b1;
      c_wrow_q  <= acc_waddr_o;
    end
  end
  OldInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      acc_re_o |-> accum_q && (!c_wrote_q || acc_raddr_o > c_wrow_q))
    else $error("systole_vmac: old value of ACC row %0d read out of turn", acc_raddr_o);
`endif

endmodule
