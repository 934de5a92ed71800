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
  // Read sequence (systole_vrows): rows a_row .. on port a from T, and with them rows b_row .. on
  // port b, or with b_bcast b_row alone, in T.
  logic              rd_busy, bcast_q;
  logic [AbufAw-1:0] waddr_q;
  // Arrivals: xv_q a pair of rows (xfirst_q the first); then the valid bits of stages A, B, M,
  // the first round stage, and the write.
  logic              xv_q, xfirst_q, va_q, vb_q, vm_q, vc_q, we_q;
  logic signed [7:0]  azero_q, bzero_q, ozero_q;
  logic [5:0]         shift_q;
  logic signed [31:0] mult_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic              a_last, b_last, b_busy;
  /* verilator lint_on UNUSEDSIGNAL */

  systole_vrows #(.Aw(AbufAw)) u_arows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AbufAw'(f_arow)),
    .rows_i (f_rows),
    .re_o   (abuf_a_re_o),
    .addr_o (abuf_a_addr_o),
    .last_o (a_last),
    .busy_o (rd_busy)
  );

  systole_vrows #(.Aw(AbufAw)) u_brows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AbufAw'(f_brow)),
    .rows_i (f_bcast ? 16'd1 : f_rows),
    .re_o   (abuf_b_re_o),
    .addr_o (abuf_b_addr_o),
    .last_o (b_last),
    .busy_o (b_busy)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      xv_q     <= 1'b0;
      xfirst_q <= 1'b0;
      va_q     <= 1'b0;
      vb_q     <= 1'b0;
      vm_q     <= 1'b0;
      vc_q     <= 1'b0;
      we_q     <= 1'b0;
    end else if (clear_i) begin
      xv_q     <= 1'b0;
      xfirst_q <= 1'b0;
      va_q     <= 1'b0;
      vb_q     <= 1'b0;
      vm_q     <= 1'b0;
      vc_q     <= 1'b0;
      we_q     <= 1'b0;
    end else begin
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
      bcast_q <= f_bcast;
      azero_q <= f_azero;
      bzero_q <= f_bzero;
      ozero_q <= f_ozero;
      shift_q <= f_shift;
      mult_q  <= f_mult;
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
  assign busy_o       = rd_busy || xv_q || va_q || vb_q || vm_q || vc_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): port
  // a's reads and the writes within the runs, in order, each write after its rows were read, by
  // the unit's deadline T + rows + VECTOR_LATENCY - 1.
  systole_vcheck #(.Name("systole_vmul")) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_rows)),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(32'(f_rows)),
    .deadline_i(32'(f_rows) + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_a_re_o),
    .raddr_i   (32'(abuf_a_addr_o)),
    .we_i      (abuf_we_o),
    .waddr_i   (32'(abuf_waddr_o)),
    .wsrc_i    (1'b1)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // Port b reads with port a, b_row - a_row rows further on, every row or with b_bcast only the
  // first.
  logic [AbufAw-1:0] c_brow_q, c_bofs_q, c_bofs;
  logic              c_multi_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      c_brow_q  <= AbufAw'(f_brow);
      c_bofs_q  <= AbufAw'(f_brow) - AbufAw'(f_arow);
      c_multi_q <= f_rows > 16'd1;
    end
  end
  assign c_bofs = issue_i ? AbufAw'(f_brow) - AbufAw'(f_arow) : c_bofs_q;
  BReadWithA: assert property (@(posedge clk_i) disable iff (!chk_q)
      abuf_a_re_o || abuf_b_re_o |-> abuf_b_re_o == (abuf_a_re_o && (issue_i || !bcast_q))
                                      && (!abuf_b_re_o || abuf_b_addr_o - abuf_a_addr_o == c_bofs))
    else $error("systole_vmul: read of ABUF row %0d on port b with row %0d on port a",
                abuf_b_addr_o, abuf_a_addr_o);
  // A held broadcast row is never one this instruction wrote (contract 6.11: it lies in the
  // destination run only when rows = 1).
  BcastNotWritten: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q && bcast_q && c_multi_q |-> abuf_waddr_o != c_brow_q)
    else $error("systole_vmul: broadcast b row %0d written", c_brow_q);
`endif

endmodule
