// The VECTOR unit's VNORM engine (contract 6.15, arithmetic 7.8). For each group g of group_rows
// rows, with x the group's first n = valid lanes (lane l is lane j = l mod D of row r = l / D):
//
//   S1 = sum x;  S2 = sum x^2;  T = n*S2 - S1^2 + eps;  inv = T > 0 ? isqrt(floor(2^62 / T)) : 0
//   c = n*x[l] - S1;  t = rshift(c * inv, 19)
//   y[l] = sat8(rshift(t * scale + bias, shift & 63) + out_zero)
//
// with scale, bias, shift lane j of ACC rows param_row + 3r, + 1, + 2 (the same for every group),
// written to the group's rows from dst_row + g * group_rows, out_zero in the lanes past valid.
//
// Schedule. Let the instruction be accepted in cycle T (its fields are copied then); group 0
// starts in G = T + 1 (GR = group_rows):
//   sums     rows read in G .. G + GR - 1, one a cycle; a row read in c has its masked sums of x
//            and x^2 registered in c + 1 and added to S1, S2 in c + 2.
//   inverse  with c the last row's read: n*S2 and S1^2 in c + 3, T in c + 4; the divider
//            (systole_udiv, 2 bits a cycle, 63 quotient bits in 32 steps) starts in c + 5 and is
//            done in c + 38, when the square root (systole_isqrt, 2 bits a cycle, 32 root bits in
//            16 steps) starts; it is done in c + 55, whose end registers inv.
//   rows     from c + 56 = G + GR + 55, row r takes the 3-cycle slot s = c + 56 + 3r: ABUF row r
//            and ACC row param_row + 3r (scale) are read in s, the bias row in s + 1, the shift
//            row in s + 2 (ACC is read every cycle, param_row + 0 .. 3GR - 1 in order). Then
//            c = n*x - S1 in s + 1 (x and scale arrive), c * inv in s + 2 (bias arrives), t in
//            s + 3 (shift arrives), p = t * scale + bias in s + 4 (0 on a lane past valid, so
//            that its y is out_zero), systole_vec_round takes p in s + 5, the row is written in
//            s + 7.
// The next group starts right after the last slot (G' = G + 4GR + 55): its rows are other rows,
// and it first changes S1 (G' + 2) after this group's last use of it (G' - 2) and inv long after
// the last use of that (G' - 1). The last write of the instruction is in
// T + groups * (4GR + 55) + 5, at least 42 cycles before the contract's
// T + groups * (4GR + NORM_LATENCY) + VECTOR_LATENCY. busy_o is 1 from T + 1 through the last
// write. In place (dst_row = a_row) row r is written in s + 7, after its read in s, its last.
//
// Widths (n <= 65535): |S1| < 2^23, S2 < 2^30, T < 2^46 + 2^32, |c| < 2^24, inv <= 2^31. Since
// sum over l of c[l]^2 = n * (n*S2 - S1^2) <= n*T and inv <= sqrt(2^62 / T), |c * inv| <=
// sqrt(n) * 2^31 < 2^39, so |t| <= 2^20 and |t * scale + bias| < 2^52: no product wraps in 64 bits
// (asserted), so t is kept in 22 bits and p in 55, which gives Java's 64-bit results.
module systole_vnorm
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

  localparam int unsigned D    = ArrayDim;
  localparam int unsigned DP   = 2 ** $clog2(D);    // lanes rounded up for the trees
  localparam int unsigned RowW = 17;                // a row number, up to 2^16
  localparam int unsigned Rs1W = 8 + $clog2(DP);    // a row's sum of x (signed)
  localparam int unsigned Rs2W = 15 + $clog2(DP);   // a row's sum of x^2 (x^2 <= 2^14)
  localparam int unsigned S1W  = 24;                // S1, signed: |S1| <= 128 * 65535 < 2^23
  localparam int unsigned S2W  = 31;                // S2 <= 2^14 * 65535 < 2^30
  localparam int unsigned TW   = 48;                // n*S2, S1^2 < 2^46; T < 2^46 + 2^32
  localparam int unsigned QW   = 63;                // floor(2^62 / T) <= 2^62
  localparam int unsigned InvW = 32;                // inv <= 2^31
  localparam int unsigned CW   = 26;                // c, signed: |c| <= 255 * 65535 < 2^24
  localparam int unsigned PrW  = CW + InvW + 1;     // c * inv, signed
  localparam int unsigned TnW  = 22;                // t, signed: |t| <= 2^20 (header)
  localparam int unsigned PW   = TnW + 32 + 1;      // t * scale + bias, signed
  localparam logic [QW-1:0] Two62 = QW'(1) << 62;

`ifndef SYNTHESIS
  // Assertions start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));
`endif

  // -----------------------------------------------------------------------------------------------
  // Fields (row fields are 16 bits; the issue stage has checked the runs are in their buffers).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_arow, f_dstrow, f_groups, f_grows, f_valid, f_prow;
  logic [7:0]  f_oz;
  logic [31:0] f_eps;
  assign f_arow   = instr_i[systole_pkg::VnormARowLsb +: systole_pkg::VnormARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VnormDstRowLsb +: systole_pkg::VnormDstRowWidth];
  assign f_groups = instr_i[systole_pkg::VnormGroupsLsb +: systole_pkg::VnormGroupsWidth];
  assign f_grows  = instr_i[systole_pkg::VnormGroupRowsLsb +: systole_pkg::VnormGroupRowsWidth];
  assign f_valid  = instr_i[systole_pkg::VnormValidLsb +: systole_pkg::VnormValidWidth];
  assign f_prow   = instr_i[systole_pkg::VnormParamRowLsb +: systole_pkg::VnormParamRowWidth];
  assign f_oz     = instr_i[systole_pkg::VnormOutZeroLsb +: systole_pkg::VnormOutZeroWidth];
  assign f_eps    = instr_i[systole_pkg::VnormEpsLsb +: systole_pkg::VnormEpsWidth];
  assign unused_instr = instr_i;

  // The instruction's constants (valid is n).
  logic [RowW-1:0]   pbase_q;
  logic [15:0]       valid_q;
  logic signed [7:0] oz_q;
  logic [31:0]       eps_q;

  // -----------------------------------------------------------------------------------------------
  // The read sequence (systole_vgroups: the group, its row being read, in the rows phase the
  // slot's row, and the row's valid lanes): phase_q the cycle of the slot, pofs_q the ACC row read
  // next (offset from param_row).
  typedef enum logic [1:0] {Idle, PassSum, Inverse, PassRows} state_e;

  state_e            state_q;
  logic [15:0]       row;
  logic [1:0]        phase_q;
  logic [RowW:0]     pofs_q;
  logic              rd, step, first_row, last_row, more;
  logic [D-1:0]      mask;
  logic [AbufAw-1:0] waddr;
  logic              sq_done;

  assign rd   = state_q == PassSum || (state_q == PassRows && phase_q == 2'd0);
  assign step = state_q == PassSum || (state_q == PassRows && phase_q == 2'd2);

  systole_vgroups #(.ArrayDim(D), .Aw(AbufAw)) u_groups (
    .clk_i   (clk_i),
    .start_i (issue_i),
    .arow_i  (f_arow),
    .dstrow_i(f_dstrow),
    .groups_i(f_groups),
    .grows_i (f_grows),
    .valid_i (f_valid),
    .step_i  (step),
    .next_i  (state_q == PassRows),
    .row_o   (row),
    .raddr_o (abuf_raddr_o),
    .waddr_o (waddr),
    .first_o (first_row),
    .last_o  (last_row),
    .mask_o  (mask),
    .more_o  (more)
  );

  assign abuf_re_o    = rd;
  assign acc_re_o     = state_q == PassRows;
  assign acc_raddr_o  = AccAw'(32'(pbase_q) + 32'(pofs_q));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
    end else if (clear_i) begin
      state_q <= Idle;
    end else if (issue_i) begin
      state_q <= PassSum;
    end else begin
      unique case (state_q)
        PassSum:  if (last_row) state_q <= Inverse;
        Inverse:  if (sq_done) state_q <= PassRows;
        PassRows: if (step && last_row) state_q <= more ? PassSum : Idle;
        default:  state_q <= Idle;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      pbase_q <= RowW'(f_prow);
      valid_q <= f_valid;
      oz_q    <= f_oz;
      eps_q   <= f_eps;
    end
    phase_q <= (state_q == PassRows && phase_q != 2'd2) ? phase_q + 2'd1 : 2'd0;
    pofs_q  <= state_q == PassRows ? pofs_q + 1'b1 : '0;
  end

  // -----------------------------------------------------------------------------------------------
  // Pipeline valid bits. u<k>_q: a sums row read k cycles before; r<k>_q: a rows-phase row whose
  // slot began k cycles before. sdone_q, tcalc_q, tdone_q: the cycles after a group's last sums.
  logic u1_q, u2_q, sdone_q, tcalc_q, tdone_q;
  logic r1_q, r2_q, r3_q, r4_q, r5_q, r6_q, r7_q;
  logic div_busy, div_done, sq_busy;
  logic              first1_q, first2_q, last1_q, last2_q;
  logic [D-1:0]      mask1_q, mask2_q, mask3_q, mask4_q;
  logic [AbufAw-1:0] wa1_q, wa2_q, wa3_q, wa4_q, wa5_q, wa6_q, wa7_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      {u1_q, u2_q, sdone_q, tcalc_q, tdone_q}        <= '0;
      {r1_q, r2_q, r3_q, r4_q, r5_q, r6_q, r7_q}     <= '0;
    end else if (clear_i) begin
      {u1_q, u2_q, sdone_q, tcalc_q, tdone_q}        <= '0;
      {r1_q, r2_q, r3_q, r4_q, r5_q, r6_q, r7_q}     <= '0;
    end else begin
      u1_q    <= rd && state_q == PassSum;
      u2_q    <= u1_q;
      sdone_q <= u2_q && last2_q;
      tcalc_q <= sdone_q;
      tdone_q <= tcalc_q;
      r1_q    <= rd && state_q == PassRows;
      r2_q    <= r1_q;
      r3_q    <= r2_q;
      r4_q    <= r3_q;
      r5_q    <= r4_q;
      r6_q    <= r5_q;
      r7_q    <= r6_q;
    end
  end

  // Row tags: first and last row of the sums pass; valid lanes; destination row.
  always_ff @(posedge clk_i) begin
    first1_q <= first_row;
    last1_q  <= last_row;
    first2_q <= first1_q;
    last2_q  <= last1_q;
    mask1_q  <= mask;
    mask2_q  <= mask1_q;
    mask3_q  <= mask2_q;
    mask4_q  <= mask3_q;
    wa1_q    <= waddr;
    wa2_q    <= wa1_q;
    wa3_q    <= wa2_q;
    wa4_q    <= wa3_q;
    wa5_q    <= wa4_q;
    wa6_q    <= wa5_q;
    wa7_q    <= wa6_q;
  end

  // -----------------------------------------------------------------------------------------------
  // The sums: a row's masked sums of x and x^2 (trees), then S1 and S2.
  logic signed [7:0]      x [D];
  logic signed [Rs1W-1:0] rs1, rs1_q;
  logic [Rs2W-1:0]        rs2, rs2_q;
  logic signed [S1W-1:0]  s1_q;
  logic [S2W-1:0]         s2_q;
  for (genvar j = 0; j < D; j++) begin : g_x
    assign x[j] = abuf_rdata_i[8*j +: 8];
  end

  always_comb begin
    logic signed [Rs1W-1:0] a [DP];
    logic [Rs2W-1:0]        b [DP];
    for (int unsigned j = 0; j < DP; j++) begin
      a[j] = (j < D && mask1_q[j % D]) ? Rs1W'(x[j % D]) : '0;
      b[j] = (j < D && mask1_q[j % D]) ? Rs2W'(16'(x[j % D]) * 16'(x[j % D])) : '0;
    end
    for (int unsigned w = DP / 2; w >= 1; w = w / 2) begin
      for (int unsigned k = 0; k < w; k++) begin
        a[k] = a[2*k] + a[2*k+1];
        b[k] = b[2*k] + b[2*k+1];
      end
    end
    rs1 = a[0];
    rs2 = b[0];
  end

  always_ff @(posedge clk_i) begin
    if (u1_q) begin
      rs1_q <= rs1;
      rs2_q <= rs2;
    end
    if (u2_q) begin
      s1_q <= first2_q ? S1W'(rs1_q) : s1_q + S1W'(rs1_q);
      s2_q <= first2_q ? S2W'(rs2_q) : s2_q + S2W'(rs2_q);
    end
  end

  // The inverse: T = n*S2 - S1^2 + eps (>= 0: n*S2 >= S1^2 by Cauchy-Schwarz), then
  // inv = isqrt(floor(2^62 / T)), 0 for T = 0.
  logic [TW-1:0]   ns2_q, s1sq_q, t_q;
  logic [QW-1:0]   div_q;
  logic [InvW-1:0] root, inv_q;
  always_ff @(posedge clk_i) begin
    if (sdone_q) begin
      ns2_q  <= TW'(valid_q) * TW'(s2_q);
      s1sq_q <= TW'(TW'(s1_q) * TW'(s1_q));
    end
    if (tcalc_q) begin
      t_q <= ns2_q - s1sq_q + TW'(eps_q);
    end
    if (sq_done) begin
      inv_q <= t_q == '0 ? '0 : root;
    end
  end

  systole_udiv #(.NumW(QW), .DenW(TW), .BitsPerCycle(2)) u_div (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(tdone_q),
    .num_i  (Two62),
    .den_i  (t_q),
    .busy_o (div_busy),
    .done_o (div_done),
    .q_o    (div_q)
  );

  systole_isqrt #(.RootW(InvW), .BitsPerCycle(2)) u_isqrt (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(div_done),
    .v_i    ((2*InvW)'(div_q)),
    .busy_o (sq_busy),
    .done_o (sq_done),
    .root_o (root)
  );

  // -----------------------------------------------------------------------------------------------
  // The lanes of the rows phase (slot s; stage r<k> is s + k).
  logic signed [CW-1:0] nn;
  assign nn = CW'($signed({1'b0, valid_q}));

  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [CW-1:0]  c_q;
    logic signed [PrW-1:0] pr_q;
    logic signed [PrW-1:0] fl;
    logic                  inc;
    logic signed [TnW-1:0] t_lane_q;
    logic signed [31:0]    scale_q, bias_q;
    logic [5:0]            sh_q;
    logic signed [PW-1:0]  p_q;
    logic signed [7:0]     y;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [31:0]           acc_word;   // the shift row's word: only its low 6 bits count
    /* verilator lint_on UNUSEDSIGNAL */

    assign acc_word = acc_rdata_i[32*j +: 32];
    // t = rshift(c * inv, 19): floor, then up if the remainder is above half, or half and the
    // floor odd (contract 7.2).
    assign fl  = pr_q >>> 19;
    assign inc = pr_q[18] && ((|pr_q[17:0]) || fl[0]);

    always_ff @(posedge clk_i) begin
      if (r1_q) begin
        c_q     <= nn * CW'(x[j]) - CW'(s1_q);
        scale_q <= acc_word;
      end
      if (r2_q) begin
        pr_q   <= PrW'(c_q) * PrW'($signed({1'b0, inv_q}));
        bias_q <= acc_word;
      end
      if (r3_q) begin
        t_lane_q <= TnW'(fl + PrW'(inc));
        sh_q     <= acc_word[5:0];
      end
      if (r4_q) begin
        p_q <= mask4_q[j] ? PW'(t_lane_q) * PW'(scale_q) + PW'(bias_q) : '0;
      end
    end

    systole_vec_round u_round (
      .clk_i  (clk_i),
      .p_i    (r5_q ? 64'(p_q) : 64'sd0),
      .shift_i(sh_q),
      .zp_i   (oz_q),
      .relu_i (1'b0),
      .q_o    (y)
    );
    assign abuf_wdata_o[8*j +: 8] = y;

`ifndef SYNTHESIS
    // |t| <= 2^20 (the header's bound), so the 22 bits of t_lane_q hold it.
    logic signed [PrW-1:0] t_full;
    assign t_full = fl + PrW'(inc);
    TFits: assert property (@(posedge clk_i) disable iff (!chk_q)
        r3_q && mask3_q[j] |-> t_full >= -(PrW'(1) <<< 20) && t_full <= (PrW'(1) <<< 20))
      else $error("systole_vnorm: lane %0d: t = %0d beyond 2^20", j, t_full);
`endif
  end

  assign abuf_we_o    = r7_q;
  assign abuf_waddr_o = wa7_q;
  assign busy_o       = state_q != Idle || u1_q || u2_q || sdone_q || tcalc_q || tdone_q
                        || r1_q || r2_q || r3_q || r4_q || r5_q || r6_q || r7_q
                        || div_busy || div_done || sq_busy || sq_done;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // within the source run (two passes per group), writes within the destination run in order,
  // all by the contract's done time T + groups * (4GR + NORM_LATENCY) + VECTOR_LATENCY.
  systole_vcheck #(.Name("systole_vnorm"), .InOrder(1'b0)) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_groups) * 32'(f_grows)),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(32'(f_groups) * 32'(f_grows)),
    .deadline_i(32'(f_groups) * (32'd4 * 32'(f_grows) + systole_pkg::TimingNormLatency)
                + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (abuf_we_o),
    .waddr_i   (32'(abuf_waddr_o)),
    .wsrc_i    (1'b0)
  );

  // The parameter rows: param_row .. param_row + 3GR - 1.
  logic [RowW-1:0] p_lo_q, p_hi_q;
  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      p_lo_q <= RowW'(f_prow);
      p_hi_q <= RowW'(32'(f_prow) + 32'd3 * 32'(f_grows));
    end
  end

  AccInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      acc_re_o |-> 32'(pbase_q) + 32'(pofs_q) >= 32'(p_lo_q)
                   && 32'(pbase_q) + 32'(pofs_q) < 32'(p_hi_q))
    else $error("systole_vnorm: ACC read of row %0d past the parameter rows",
                32'(pbase_q) + 32'(pofs_q));
  // The slot's ACC rows are the row's own: scale is read with the row.
  AccWithRow: assert property (@(posedge clk_i) disable iff (!chk_q)
      rd && state_q == PassRows |-> 32'(pofs_q) == 32'd3 * 32'(row))
    else $error("systole_vnorm: row %0d read with parameter row offset %0d", row, pofs_q);
  VarianceNonNegative: assert property (@(posedge clk_i) disable iff (!chk_q)
      tcalc_q |-> ns2_q >= s1sq_q)
    else $error("systole_vnorm: n*S2 = %0d below S1^2 = %0d", ns2_q, s1sq_q);
  InvAtMost2to31: assert property (@(posedge clk_i) disable iff (!chk_q)
      sq_done |-> (t_q == '0 || root <= (InvW'(1) << 31)))
    else $error("systole_vnorm: inv = %0d above 2^31", root);
  DivStart: assert property (@(posedge clk_i) disable iff (!chk_q) tdone_q |-> state_q == Inverse)
    else $error("systole_vnorm: divider started outside the inverse phase");
`endif

endmodule
