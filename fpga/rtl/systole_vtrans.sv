// The VECTOR unit's VTRANS engine (contract 6.16): each block of D rows is transposed,
//
//   DST[dst_row + b*D + j][i] = ABUF[a_row + b*D + i][j]      (DST = ABUF for buf 0, WBUF for 1)
//
// for blocks b, rows i and lanes j.
//
// The transpose is one D x D register block that shifts, in one direction for a whole block of D
// steps and then in the other: vertically, a row enters at the bottom and the top row leaves;
// horizontally, a row enters as the right column (its lane i in row i) and the left column leaves.
// A block that entered in one direction leaves, one column per step, in the other, while the next
// block enters in its place; so block b enters vertically for b even and horizontally for b odd,
// and leaves transposed in the D steps after it entered.
//
// Let the instruction be accepted in cycle T. The blocks' rows are read from ABUF in
// T .. T + blocks*D - 1, row a_row + s in T + s, and arrive in T + 1 + s, the cycle of shift step s
// (s = 0 .. (blocks + 1)*D - 1; the last D steps shift in nothing and drain the last block). Block
// b enters in steps b*D .. b*D + D - 1; in step (b + 1)*D + k its column k leaves into wdata_q,
// and row dst_row + b*D + k is written the cycle after, T + (b + 1)*D + k + 2. So the last write
// is in T + (blocks + 1)*D + 1 and busy_o is 1 from T + 1 to then, inside the unit's deadline
// T + (blocks + 1)*D + VECTOR_LATENCY - 1.
//
// In place (ABUF, dst_row == a_row): block b's rows are read by T + b*D + D - 1 and written from
// T + (b + 1)*D + 2; the reads of block b + 1 are of other rows.
module systole_vtrans
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned WbufRows = 4096,
  localparam int unsigned AbufAw = $clog2(AbufRows),
  localparam int unsigned WbufAw = $clog2(WbufRows)
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
  output logic                    abuf_we_o,
  output logic [AbufAw-1:0]       abuf_waddr_o,
  output logic [8*ArrayDim-1:0]   abuf_wdata_o,
  output logic                    wbuf_we_o,
  output logic [WbufAw-1:0]       wbuf_waddr_o,
  output logic [8*ArrayDim-1:0]   wbuf_wdata_o
);

  localparam int unsigned D   = ArrayDim;
  localparam int unsigned Dw  = D > 1 ? $clog2(D) : 1;            // a step within a block
  localparam int unsigned Cw  = 17 + $clog2(D);                    // up to (2^16 - 1 + 1) * D
  localparam int unsigned WAw = AbufAw > WbufAw ? AbufAw : WbufAw; // a destination row

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range; buf is 0 or 1).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0] f_arow, f_dstrow;
  logic [1:0]  f_buf;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_blocks;
  assign f_buf    = instr_i[systole_pkg::VtransBufLsb +: systole_pkg::VtransBufWidth];
  assign f_arow   = instr_i[systole_pkg::VtransARowLsb +: systole_pkg::VtransARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VtransDstRowLsb +: systole_pkg::VtransDstRowWidth];
  assign f_blocks = instr_i[systole_pkg::VtransBlocksLsb +: systole_pkg::VtransBlocksWidth];
  assign unused_instr = instr_i;

  // -----------------------------------------------------------------------------------------------
  // Sequence. The reads: blocks*D rows from a_row, the first in T (systole_vrows). sh_q: a shift
  // step (sh_left_q still to do counting it), k_q the step within its block, dir_q the direction
  // (0 vertical, 1 horizontal), full_q a block in the registers to leave; we_q: a write, to WBUF
  // when wbuf_q.
  logic              rd_busy, sh_q, dir_q, full_q, we_q, wbuf_q;
  logic [Cw-1:0]     sh_left_q;
  logic [Dw-1:0]     k_q;
  logic [WAw-1:0]    waddr_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic              rd_last;
  /* verilator lint_on UNUSEDSIGNAL */

  systole_vrows #(.Aw(AbufAw), .CntW(Cw)) u_rows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AbufAw'(f_arow)),
    .rows_i (Cw'(f_blocks) * Cw'(D)),
    .re_o   (abuf_re_o),
    .addr_o (abuf_raddr_o),
    .last_o (rd_last),
    .busy_o (rd_busy)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sh_q      <= 1'b0;
      sh_left_q <= '0;
      k_q       <= '0;
      dir_q     <= 1'b0;
      full_q    <= 1'b0;
      we_q      <= 1'b0;
    end else if (clear_i) begin
      sh_q      <= 1'b0;
      sh_left_q <= '0;
      k_q       <= '0;
      dir_q     <= 1'b0;
      full_q    <= 1'b0;
      we_q      <= 1'b0;
    end else begin
      // Shift steps: (blocks + 1)*D, from T + 1.
      if (issue_i) begin
        sh_q      <= 1'b1;
        sh_left_q <= (Cw'(f_blocks) + Cw'(1)) * Cw'(D);
        k_q       <= '0;
        dir_q     <= 1'b0;
        full_q    <= 1'b0;
      end else if (sh_q) begin
        sh_q      <= sh_left_q > Cw'(1);
        sh_left_q <= sh_left_q - 1'b1;
        k_q       <= k_q + 1'b1;
        if (k_q == Dw'(D - 1)) begin
          k_q    <= '0;
          dir_q  <= !dir_q;
          full_q <= 1'b1;
        end
      end
      we_q <= sh_q && full_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      wbuf_q  <= f_buf[0];
      waddr_q <= WAw'(f_dstrow);
    end else if (we_q) begin
      waddr_q <= waddr_q + 1'b1;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // The register block: element (row r, column c) at blk_q[8*(r*D + c) +: 8], row r at
  // [8*D*r +: 8*D]; and the step. Pure datapath: no reset.
  logic [8*D*D-1:0] blk_q, blk_d;
  logic [8*D-1:0]   in_row, out_col;
  logic [8*D-1:0]   wdata_q;

  assign in_row = abuf_rdata_i;

  always_comb begin
    if (!dir_q) begin
      // Vertical: rows move up, the new row enters at the bottom, the top row leaves.
      blk_d   = {in_row, blk_q[8*D*D-1:8*D]};
      out_col = blk_q[8*D-1:0];
    end else begin
      // Horizontal: columns move left, the new row enters as the right column (its lane r in
      // row r), the left column leaves.
      for (int unsigned r = 0; r < D; r++) begin
        blk_d[8*D*r +: 8*D] = {in_row[8*r +: 8], blk_q[8*D*r + 8 +: 8*(D-1)]};
        out_col[8*r +: 8]   = blk_q[8*D*r +: 8];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (sh_q) begin
      blk_q   <= blk_d;
      wdata_q <= out_col;
    end
  end

  assign abuf_we_o    = we_q && !wbuf_q;
  assign abuf_waddr_o = AbufAw'(waddr_q);
  assign abuf_wdata_o = wdata_q;
  assign wbuf_we_o    = we_q && wbuf_q;
  assign wbuf_waddr_o = WbufAw'(waddr_q);
  assign wbuf_wdata_o = wdata_q;
  assign busy_o       = rd_busy || sh_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // and writes within the runs, in order, in place a row written only once every row of its block
  // has been read, by the unit's deadline T + (blocks + 1)*D + VECTOR_LATENCY - 1.
  systole_vcheck #(.Name("systole_vtrans"), .Block(D)) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_blocks) * D),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(32'(f_blocks) * D),
    .deadline_i((32'(f_blocks) + 1) * D + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (abuf_we_o || wbuf_we_o),
    .waddr_i   (wbuf_q ? 32'(wbuf_waddr_o) : 32'(abuf_waddr_o)),
    .wsrc_i    (abuf_we_o)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // One buffer written at a time.
  OneBuffer: assert property (@(posedge clk_i) disable iff (!chk_q) !(abuf_we_o && wbuf_we_o))
    else $error("systole_vtrans: ABUF and WBUF written at once");
`endif

endmodule
