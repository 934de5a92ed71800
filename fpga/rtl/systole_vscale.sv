// The VECTOR unit's VSCALE engine (contract 6.10, 7.5): a per-lane affine map with a separate
// slope below the zero point,
//
//   d = x - a_zero                                   (9-bit signed)
//   p = d * (d >= 0 ? mpos[j] : mneg[j]) + bias[j]   (|p| < 2^40)
//   ABUF[dst_row + i][j] = sat8(rshift(p, shift[j]) + out_zero)
//
// for x = ABUF[a_row + i][j], with lane j's parameters in ACC rows param_row (mpos), +1 (mneg),
// +2 (bias) and +3 (shift, & 63).
//
// Let the instruction be accepted in cycle T. The parameter rows are read from ACC in T .. T + 3
// (SCALE_SETUP = 4) and arrive in T + 1 .. T + 4, into per-lane registers. Source row a_row + i is
// read in T + 4 + i and arrives in C = T + 5 + i, where each lane forms d and picks its slope
// (stage A, registered at the end of C); the 9 x 32 product is registered at the end of C + 1
// (stage B), the bias added at the end of C + 2 (stage S); systole_vec_round takes p in C + 3 and
// has the byte in C + 5 = T + 10 + i, the cycle dst_row + i is written. So the last write is in
// T + rows + 9 and busy_o is 1 from T + 1 to then, inside the unit's deadline
// T + SCALE_SETUP + rows + VECTOR_LATENCY - 1 = T + rows + 10.
//
// In place (dst_row == a_row, contract 8.2): row a_row + i is written six cycles after it was
// read and is not read again.
module systole_vscale
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned AccRows = 4096,
  localparam int unsigned AbufAw = $clog2(AbufRows),
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
  output logic                    abuf_we_o,
  output logic [AbufAw-1:0]       abuf_waddr_o,
  output logic [8*ArrayDim-1:0]   abuf_wdata_o,
  output logic                    acc_re_o,
  output logic [AccAw-1:0]        acc_raddr_o,
  input  logic [32*ArrayDim-1:0]  acc_rdata_i
);

  localparam int unsigned D = ArrayDim;

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0] f_arow, f_dstrow, f_prow;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_rows;
  logic signed [7:0] f_azero, f_ozero;
  assign f_arow   = instr_i[systole_pkg::VscaleARowLsb +: systole_pkg::VscaleARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VscaleDstRowLsb +: systole_pkg::VscaleDstRowWidth];
  assign f_rows   = instr_i[systole_pkg::VscaleRowsLsb +: systole_pkg::VscaleRowsWidth];
  assign f_prow   = instr_i[systole_pkg::VscaleParamRowLsb +: systole_pkg::VscaleParamRowWidth];
  assign f_azero  = instr_i[systole_pkg::VscaleAZeroLsb +: systole_pkg::VscaleAZeroWidth];
  assign f_ozero  = instr_i[systole_pkg::VscaleOutZeroLsb +: systole_pkg::VscaleOutZeroWidth];
  assign unused_instr = instr_i;

  // -----------------------------------------------------------------------------------------------
  // Read sequence (systole_vrows): the four parameter rows from param_row in T .. T + 3; go_q, the
  // cycle after the last of them, T + 4, starts the source rows from a_row (held in arow_q, with
  // rows_q).
  logic              prm_busy, prm_last, go_q, rd_busy;
  logic [AbufAw-1:0] arow_q, waddr_q;
  logic [15:0]       rows_q;
  // Arrivals: pv_q a parameter row (pidx_q which), xv_q a source row; then the valid bits of
  // stages A, B, S, the first round stage, and the write.
  logic              pv_q, xv_q, va_q, vb_q, vs_q, vc_q, we_q;
  logic [1:0]        pidx_q;
  logic signed [7:0] azero_q, ozero_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic              rd_last;
  /* verilator lint_on UNUSEDSIGNAL */

  systole_vrows #(.Aw(AccAw), .CntW(3)) u_prm_rows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AccAw'(f_prow)),
    .rows_i (3'd4),   // mpos, mneg, bias, shift
    .re_o   (acc_re_o),
    .addr_o (acc_raddr_o),
    .last_o (prm_last),
    .busy_o (prm_busy)
  );

  systole_vrows #(.Aw(AbufAw)) u_rows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(go_q),
    .first_i(arow_q),
    .rows_i (rows_q),
    .re_o   (abuf_re_o),
    .addr_o (abuf_raddr_o),
    .last_o (rd_last),
    .busy_o (rd_busy)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      go_q <= 1'b0;
      pv_q <= 1'b0;
      xv_q <= 1'b0;
      va_q <= 1'b0;
      vb_q <= 1'b0;
      vs_q <= 1'b0;
      vc_q <= 1'b0;
      we_q <= 1'b0;
    end else if (clear_i) begin
      go_q <= 1'b0;
      pv_q <= 1'b0;
      xv_q <= 1'b0;
      va_q <= 1'b0;
      vb_q <= 1'b0;
      vs_q <= 1'b0;
      vc_q <= 1'b0;
      we_q <= 1'b0;
    end else begin
      go_q <= acc_re_o && prm_last;
      pv_q <= acc_re_o;
      xv_q <= abuf_re_o;
      va_q <= xv_q;
      vb_q <= va_q;
      vs_q <= vb_q;
      vc_q <= vs_q;
      we_q <= vc_q;
    end
  end

  always_ff @(posedge clk_i) begin
    // Parameter row k, read in T + k, arrives in T + k + 1.
    pidx_q <= issue_i ? 2'd0 : pidx_q + 2'd1;
    if (issue_i) begin
      arow_q  <= AbufAw'(f_arow);
      rows_q  <= f_rows;
      azero_q <= f_azero;
      ozero_q <= f_ozero;
      waddr_q <= AbufAw'(f_dstrow);
    end else if (we_q) begin
      waddr_q <= waddr_q + 1'b1;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // The lanes: parameters, then stages A (d and its slope), B (product), S (+ bias), round.
  logic [8*D-1:0] wdata;

  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [31:0] mpos_q, mneg_q, bias_q, m_q;
    logic [5:0]         shift_q;
    logic signed [7:0]  x;
    logic signed [8:0]  d, d_q;
    logic signed [40:0] prod_q;
    logic signed [63:0] p_q;
    logic [31:0]        prm;

    assign prm = acc_rdata_i[32*j +: 32];
    assign x   = abuf_rdata_i[8*j +: 8];
    assign d   = 9'(x) - 9'(azero_q);

    always_ff @(posedge clk_i) begin
      if (pv_q) begin
        unique case (pidx_q)
          2'd0: mpos_q <= prm;
          2'd1: mneg_q <= prm;
          2'd2: bias_q <= prm;
          default: shift_q <= prm[5:0];   // shift & 63
        endcase
      end
      d_q    <= d;
      m_q    <= d >= 9'sd0 ? mpos_q : mneg_q;
      prod_q <= 41'(d_q) * 41'(m_q);
      p_q    <= 64'(prod_q) + 64'(bias_q);
    end

    // The upper bits of a shift parameter are ignored (& 63).
    /* verilator lint_off UNUSEDSIGNAL */
    logic [25:0] unused_prm;
    /* verilator lint_on UNUSEDSIGNAL */
    assign unused_prm = prm[31:6];

    systole_vec_round u_round (
      .clk_i  (clk_i),
      .p_i    (p_q),
      .shift_i(shift_q),
      .zp_i   (ozero_q),
      .relu_i (1'b0),
      .q_o    (wdata[8*j +: 8])
    );

`ifndef SYNTHESIS
    // Invariant (contract 7.5): |p| < 2^40, checked when stage S holds a row.
    localparam logic signed [63:0] PLimit = 64'sd1 <<< 40;
    always_ff @(posedge clk_i) begin
      if (vs_q) begin
        assert (p_q > -PLimit && p_q < PLimit)
          else $error("systole_vscale: lane %0d |p| = |%0d| not below 2^40", j, p_q);
      end
    end
`endif
  end

  assign abuf_we_o    = we_q;
  assign abuf_waddr_o = waddr_q;
  assign abuf_wdata_o = wdata;
  assign busy_o       = prm_busy || go_q || rd_busy || pv_q || xv_q || va_q || vb_q || vs_q || vc_q
                        || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // of the source run and writes within the runs, in order, each write after its row was read, by
  // the unit's deadline T + SCALE_SETUP + rows + VECTOR_LATENCY - 1.
  systole_vcheck #(.Name("systole_vscale")) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_rows)),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(32'(f_rows)),
    .deadline_i(systole_pkg::TimingScaleSetup + 32'(f_rows) + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (abuf_we_o),
    .waddr_i   (32'(abuf_waddr_o)),
    .wsrc_i    (1'b1)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The four parameter rows in order, in T .. T + 3, and no source row read before them all.
  logic [15:0] c_prow_q;
  logic [2:0]  nprm_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      c_prow_q <= f_prow;
      nprm_q   <= 3'd1;
    end else begin
      nprm_q <= nprm_q + 3'(acc_re_o);
    end
  end
  ParamInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      acc_re_o && !issue_i |-> 32'(acc_raddr_o) == 32'(c_prow_q) + 32'(nprm_q) && nprm_q < 3'd4)
    else $error("systole_vscale: read of ACC row %0d outside the parameter rows", acc_raddr_o);
  ParamFirst: assert property (@(posedge clk_i) disable iff (!chk_q)
      abuf_re_o |-> !acc_re_o && !issue_i && nprm_q == 3'd4)
    else $error("systole_vscale: ABUF row %0d read before the parameters", abuf_raddr_o);
`endif

endmodule
