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
  // Read sequence. set_q: parameter rows 1 .. 3 being read (T + 1 .. T + 3), sidx_q the one read
  // now; rd_q: source rows being read (T + 4 ..), row_q the one read now, left_q the rows still to
  // read counting it.
  logic              set_q, rd_q;
  logic [1:0]        sidx_q;
  logic [AccAw-1:0]  prow_q;
  logic [AbufAw-1:0] row_q, waddr_q;
  logic [16:0]       left_q;
  // Arrivals: pv_q a parameter row (pidx_q which), xv_q a source row; then the valid bits of
  // stages A, B, S, the first round stage, and the write.
  logic              pv_q, xv_q, va_q, vb_q, vs_q, vc_q, we_q;
  logic [1:0]        pidx_q;
  logic signed [7:0] azero_q, ozero_q;

  assign acc_re_o     = issue_i || set_q;
  assign acc_raddr_o  = issue_i ? AccAw'(f_prow) : prow_q;
  assign abuf_re_o    = rd_q;
  assign abuf_raddr_o = row_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      set_q  <= 1'b0;
      rd_q   <= 1'b0;
      sidx_q <= '0;
      left_q <= '0;
      pv_q   <= 1'b0;
      pidx_q <= '0;
      xv_q   <= 1'b0;
      va_q   <= 1'b0;
      vb_q   <= 1'b0;
      vs_q   <= 1'b0;
      vc_q   <= 1'b0;
      we_q   <= 1'b0;
    end else if (clear_i) begin
      set_q  <= 1'b0;
      rd_q   <= 1'b0;
      sidx_q <= '0;
      left_q <= '0;
      pv_q   <= 1'b0;
      pidx_q <= '0;
      xv_q   <= 1'b0;
      va_q   <= 1'b0;
      vb_q   <= 1'b0;
      vs_q   <= 1'b0;
      vc_q   <= 1'b0;
      we_q   <= 1'b0;
    end else begin
      if (issue_i) begin
        set_q  <= 1'b1;
        sidx_q <= 2'd1;
        left_q <= 17'(f_rows);
      end else if (set_q) begin
        set_q  <= sidx_q != 2'd3;
        sidx_q <= sidx_q + 2'd1;
        rd_q   <= sidx_q == 2'd3;   // the first source row in T + 4
      end else if (rd_q) begin
        rd_q   <= left_q > 17'd1;
        left_q <= left_q - 17'd1;
      end
      pv_q   <= acc_re_o;
      pidx_q <= issue_i ? 2'd0 : sidx_q;
      xv_q   <= abuf_re_o;
      va_q   <= xv_q;
      vb_q   <= va_q;
      vs_q   <= vb_q;
      vc_q   <= vs_q;
      we_q   <= vc_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      prow_q  <= AccAw'(f_prow) + 1'b1;
      row_q   <= AbufAw'(f_arow);
      azero_q <= f_azero;
      ozero_q <= f_ozero;
    end else begin
      if (set_q) begin
        prow_q <= prow_q + 1'b1;
      end
      if (rd_q) begin
        row_q <= row_q + 1'b1;
      end
    end
    if (issue_i) begin
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
  assign busy_o       = set_q || rd_q || pv_q || xv_q || va_q || vb_q || vs_q || vc_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The instruction's runs and counts of reads and writes since issue; el_q counts the cycles
  // since issue (1 in T + 1).
  logic [15:0] c_arow_q, c_dst_q, c_prow_q, c_rows_q;
  logic [16:0] nrd_q, nwr_q;
  logic [23:0] el_q;
  logic [2:0]  nprm_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      c_arow_q <= f_arow;
      c_dst_q  <= f_dstrow;
      c_prow_q <= f_prow;
      c_rows_q <= f_rows;
      nprm_q   <= 3'd1;
      nrd_q    <= '0;
      nwr_q    <= '0;
      el_q     <= 24'd1;
    end else begin
      nprm_q <= nprm_q + 3'(acc_re_o);
      nrd_q  <= nrd_q + 17'(rd_q);
      nwr_q  <= nwr_q + 17'(we_q);
      el_q   <= el_q + 24'(busy_o);
    end
  end

  IdleOnIssue: assert property (@(posedge clk_i) disable iff (!chk_q) issue_i |-> !busy_o)
    else $error("systole_vscale: issued while busy");
  // The four parameter rows in order, in T .. T + 3, and no source row read meanwhile.
  ParamInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      set_q |-> 32'(acc_raddr_o) == 32'(c_prow_q) + 32'(nprm_q) && nprm_q < 3'd4 && !rd_q)
    else $error("systole_vscale: read of ACC row %0d outside the parameter rows", acc_raddr_o);
  // Reads within the source run, in order, only after the parameters.
  ReadInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      rd_q |-> 32'(abuf_raddr_o) == 32'(c_arow_q) + 32'(nrd_q) && nrd_q < 17'(c_rows_q)
               && nprm_q == 3'd4)
    else $error("systole_vscale: read of ABUF row %0d outside the source run", abuf_raddr_o);
  // Writes on the destination rows in order, each after its source row was read, all by the
  // deadline T + SCALE_SETUP + rows + VECTOR_LATENCY - 1.
  WriteInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q |-> nwr_q < 17'(c_rows_q) && 32'(abuf_waddr_o) == 32'(c_dst_q) + 32'(nwr_q)
               && nwr_q < nrd_q)
    else $error("systole_vscale: write of row %0d outside the destination run", abuf_waddr_o);
  WriteInTime: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_q |-> 32'(el_q) < systole_pkg::TimingScaleSetup + 32'(c_rows_q)
                           + systole_pkg::TimingVectorLatency)
    else $error("systole_vscale: write %0d cycles after issue, past the deadline", el_q);
  AllWritten: assert property (@(posedge clk_i) disable iff (!chk_q)
      $fell(busy_o) && !clear_i && !$past(clear_i) |-> nwr_q == 17'(c_rows_q))
    else $error("systole_vscale: %0d rows written of %0d", nwr_q, c_rows_q);
`endif

endmodule
