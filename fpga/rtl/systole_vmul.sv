// The VECTOR unit's VMUL engine (contract 6.11, 7.5): the lane-wise product of two rows,
//
//   p = (a - a_zero) * (b - b_zero) * mult            (|p| < 2^47; mult int32)
//   ABUF[dst_row + i][j] = sat8(rshift(p, shift) + out_zero)
//
// for a = ABUF[a_row + i][j] and b = ABUF[b][j], b = b_bcast ? b_row : b_row + i.
//
// Let the instruction be accepted in cycle T. Row a_row + i is read on ABUF port a in T + i, and
// row b_row + i on port b in the same cycle; with b_bcast b_row is read once, in T, and its
// differences held. The rows arrive in C = T + 1 + i, where each lane forms the 9-bit differences
// (stage A, registered at the end of C; with b_bcast the b difference only for the first row); the
// 9 x 9 product is registered at the end of C + 1 (stage B), its product with mult at the end of
// C + 2 (stage M); systole_vec_round takes p in C + 3 and has the byte in C + 5 = T + 6 + i, the
// cycle dst_row + i is written. So the last write is in T + rows + 5 and busy_o is 1 from T + 1 to
// then, inside the unit's deadline T + rows + VECTOR_LATENCY - 1 = T + rows + 6.
//
// In place (dst_row == a_row, or == b_row without b_bcast; contract 6.6 and 6.11): row
// dst_row + i is written six cycles after it was read and is not read again. A broadcast b row
// lies in the destination run only when rows = 1, and is read before the one write.
module systole_vmul
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  localparam int unsigned AbufAw = $clog2(AbufRows)
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    clear_i,
  input  logic                    issue_i,
  input  logic [191:0]            instr_i,
  output logic                    busy_o,

  output logic                    abuf_a_re_o,
  output logic [AbufAw-1:0]       abuf_a_addr_o,
  input  logic [8*ArrayDim-1:0]   abuf_a_rdata_i,
  output logic                    abuf_b_re_o,
  output logic [AbufAw-1:0]       abuf_b_addr_o,
  input  logic [8*ArrayDim-1:0]   abuf_b_rdata_i,
  output logic                    abuf_we_o,
  output logic [AbufAw-1:0]       abuf_waddr_o,
  output logic [8*ArrayDim-1:0]   abuf_wdata_o
);

  localparam int unsigned D = ArrayDim;

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0] f_arow, f_brow, f_dstrow;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_rows;
  logic        f_bcast;
  logic signed [7:0]  f_azero, f_bzero, f_ozero;
  logic [5:0]         f_shift;
  logic signed [31:0] f_mult;
  assign f_bcast  = instr_i[systole_pkg::VmulBBcastLsb];
  assign f_arow   = instr_i[systole_pkg::VmulARowLsb +: systole_pkg::VmulARowWidth];
  assign f_brow   = instr_i[systole_pkg::VmulBRowLsb +: systole_pkg::VmulBRowWidth];
  assign f_dstrow = instr_i[systole_pkg::VmulDstRowLsb +: systole_pkg::VmulDstRowWidth];
  assign f_rows   = instr_i[systole_pkg::VmulRowsLsb +: systole_pkg::VmulRowsWidth];
  assign f_azero  = instr_i[systole_pkg::VmulAZeroLsb +: systole_pkg::VmulAZeroWidth];
  assign f_bzero  = instr_i[systole_pkg::VmulBZeroLsb +: systole_pkg::VmulBZeroWidth];
  assign f_ozero  = instr_i[systole_pkg::VmulOutZeroLsb +: systole_pkg::VmulOutZeroWidth];
  assign f_shift  = instr_i[systole_pkg::VmulShiftLsb +: systole_pkg::VmulShiftWidth];
  assign f_mult   = instr_i[systole_pkg::VmulMultLsb +: systole_pkg::VmulMultWidth];
  assign unused_instr = instr_i;

  // -----------------------------------------------------------------------------------------------
  // Read sequence: arow_q and brow_q are the next source rows, left_q the rows still to read.
  // Port b reads with port a, except after the first row with b_bcast.
  logic              rd_q, bcast_q;
  logic [AbufAw-1:0] arow_q, brow_q, waddr_q;
  logic [16:0]       left_q;
  // Arrivals: xv_q a pair of rows (xfirst_q the first); then the valid bits of stages A, B, M,
  // the first round stage, and the write.
  logic              xv_q, xfirst_q, va_q, vb_q, vm_q, vc_q, we_q;
  logic signed [7:0]  azero_q, bzero_q, ozero_q;
  logic [5:0]         shift_q;
  logic signed [31:0] mult_q;

  assign abuf_a_re_o   = issue_i || rd_q;
  assign abuf_a_addr_o = issue_i ? AbufAw'(f_arow) : arow_q;
  assign abuf_b_re_o   = issue_i || (rd_q && !bcast_q);
  assign abuf_b_addr_o = issue_i ? AbufAw'(f_brow) : brow_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q     <= 1'b0;
      left_q   <= '0;
      xv_q     <= 1'b0;
      xfirst_q <= 1'b0;
      va_q     <= 1'b0;
      vb_q     <= 1'b0;
      vm_q     <= 1'b0;
      vc_q     <= 1'b0;
      we_q     <= 1'b0;
    end else if (clear_i) begin
      rd_q     <= 1'b0;
      left_q   <= '0;
      xv_q     <= 1'b0;
      xfirst_q <= 1'b0;
      va_q     <= 1'b0;
      vb_q     <= 1'b0;
      vm_q     <= 1'b0;
      vc_q     <= 1'b0;
      we_q     <= 1'b0;
    end else begin
      if (issue_i) begin
        rd_q   <= f_rows > 16'd1;
        left_q <= 17'(f_rows) - 17'd1;
      end else if (rd_q) begin
        rd_q   <= left_q > 17'd1;
        left_q <= left_q - 17'd1;
      end
      xv_q     <= abuf_a_re_o;
      xfirst_q <= issue_i;
      va_q     <= xv_q;
      vb_q     <= va_q;
      vm_q     <= vb_q;
      vc_q     <= vm_q;
      we_q     <= vc_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      arow_q  <= AbufAw'(f_arow) + 1'b1;
      brow_q  <= AbufAw'(f_brow) + 1'b1;
      bcast_q <= f_bcast;
      azero_q <= f_azero;
      bzero_q <= f_bzero;
      ozero_q <= f_ozero;
      shift_q <= f_shift;
      mult_q  <= f_mult;
    end else if (rd_q) begin
      arow_q <= arow_q + 1'b1;
      brow_q <= brow_q + 1'b1;
    end
    if (issue_i) begin
      waddr_q <= AbufAw'(f_dstrow);
    end else if (we_q) begin
      waddr_q <= waddr_q + 1'b1;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // The lanes: stages A (differences), B (9 x 9 product), M (x mult), round.
  logic [8*D-1:0] wdata;

  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [7:0]  a, b;
    logic signed [8:0]  da_q, db_q;
    logic signed [17:0] pab_q;     // |(a - a_zero) * (b - b_zero)| <= 255^2 < 2^16
    logic signed [49:0] pm;        // 18 x 32 bits
    logic signed [63:0] p_q;       // |p| < 2^47

    assign a = abuf_a_rdata_i[8*j +: 8];
    assign b = abuf_b_rdata_i[8*j +: 8];
    assign pm = 50'(pab_q) * 50'(mult_q);

    always_ff @(posedge clk_i) begin
      da_q <= 9'(a) - 9'(azero_q);
      // With b_bcast only the first row's b is read: hold its difference.
      if (xfirst_q || !bcast_q) begin
        db_q <= 9'(b) - 9'(bzero_q);
      end
      pab_q <= 18'(da_q) * 18'(db_q);
      p_q   <= 64'(pm);
    end

    systole_vec_round u_round (
      .clk_i  (clk_i),
      .p_i    (p_q),
      .shift_i(shift_q),
      .zp_i   (ozero_q),
      .relu_i (1'b0),
      .q_o    (wdata[8*j +: 8])
    );

`ifndef SYNTHESIS
    // Invariant (contract 7.5): |p| < 2^47, checked when stage M holds a row.
    localparam logic signed [63:0] PLimit = 64'sd1 <<< 47;
    always_ff @(posedge clk_i) begin
      if (vm_q) begin
        assert (p_q > -PLimit && p_q < PLimit)
          else $error("systole_vmul: lane %0d |p| = |%0d| not below 2^47", j, p_q);
      end
    end
`endif
  end

  assign abuf_we_o    = we_q;
  assign abuf_waddr_o = waddr_q;
  assign abuf_wdata_o = wdata;
  assign busy_o       = rd_q || xv_q || va_q || vb_q || vm_q || vc_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The instruction's runs and counts of reads and writes since issue; el_q counts the cycles
  // since issue (1 in T + 1).
  logic [15:0] c_arow_q, c_brow_q, c_dst_q, c_rows_q;
  logic [16:0] nrd_q, nwr_q;
  logic [23:0] el_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      c_arow_q <= f_arow;
      c_brow_q <= f_brow;
      c_dst_q  <= f_dstrow;
      c_rows_q <= f_rows;
      nrd_q    <= 17'd1;
      nwr_q    <= '0;
      el_q     <= 24'd1;
    end else begin
      nrd_q <= nrd_q + 17'(rd_q);
      nwr_q <= nwr_q + 17'(we_q);
      el_q  <= el_q + 24'(busy_o);
    end
  end

  IdleOnIssue: assert property (@(posedge clk_i) disable iff (!chk_q) issue_i |-> !busy_o)
    else $error("systole_vmul: issued while busy");
  // Reads within the source runs, in order; port b only for the first row with b_bcast.
  ReadInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      rd_q |-> nrd_q < 17'(c_rows_q) && 32'(abuf_a_addr_o) == 32'(c_arow_q) + 32'(nrd_q)
               && (bcast_q ? !abuf_b_re_o
                           : abuf_b_re_o && 32'(abuf_b_addr_o) == 32'(c_brow_q) + 32'(nrd_q)))
    else $error("systole_vmul: read of ABUF rows %0d, %0d outside the source runs",
                abuf_a_addr_o, abuf_b_addr_o);
  // Writes on the destination rows in order, each after its source rows were read, all by the
  // deadline T + rows + VECTOR_LATENCY - 1.
  WriteInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q |-> nwr_q < 17'(c_rows_q) && 32'(abuf_waddr_o) == 32'(c_dst_q) + 32'(nwr_q)
               && nwr_q < nrd_q)
    else $error("systole_vmul: write of row %0d outside the destination run", abuf_waddr_o);
  WriteInTime: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q |-> 32'(el_q) < 32'(c_rows_q) + systole_pkg::TimingVectorLatency)
    else $error("systole_vmul: write %0d cycles after issue, past the deadline", el_q);
  AllWritten: assert property (@(posedge clk_i) disable iff (!chk_q)
      $fell(busy_o) && !clear_i && !$past(clear_i) |-> nwr_q == 17'(c_rows_q))
    else $error("systole_vmul: %0d rows written of %0d", nwr_q, c_rows_q);
  // A held broadcast row is never one this instruction wrote (contract 6.11: it lies in the
  // destination run only when rows = 1).
  BcastNotWritten: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q && bcast_q && c_rows_q > 16'd1 |-> 32'(abuf_waddr_o) != 32'(c_brow_q))
    else $error("systole_vmul: broadcast b row %0d written", c_brow_q);
`endif

endmodule
