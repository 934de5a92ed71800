// The VECTOR unit's VSOFTMAX engine (contract 6.14, arithmetic 7.7). For each group g of
// group_rows rows, with x the group's first `valid` lanes (lane l is lane l mod D of row l / D):
//
//   m = max x;  e[l] = max(table[m - x[l]], 0);  S = sum e;  R = S > 0 ? floor(2^44 / S) : 0
//   y[l] = sat8(rshift(e[l] * R * mult, shift) + out_zero)
//
// written to the group's rows from dst_row + g * group_rows, out_zero in the lanes past valid.
//
// Schedule. Let the instruction be accepted in cycle T (its fields are copied then); group 0
// starts in G = T + 1. Each group reads its rows three times, one row a cycle, in order (GR =
// group_rows):
//   pass 1 (max)   reads in G .. G + GR - 1;      each row's masked maximum updates m the cycle
//                                                 after its read.
//   pass 2 (sum)   reads in G + GR .. G + 2GR - 1; a row read in c looks up table[m - x] in c + 1
//                                                 (m is final by then), the entries arrive in
//                                                 c + 2 and are clipped at 0 and masked (e), the
//                                                 row's sum is registered in c + 3 and added to S
//                                                 in c + 4.
//   reciprocal     S is final in X = G + 2GR + 4, when the divider (systole_udiv, 2 bits a cycle,
//                  45 quotient bits in 23 steps) starts; its result is registered as R in X + 24.
//   pass 3 (norm)  reads in X + 25 .. X + GR + 24; as pass 2 to e in c + 2; e * R in c + 3
//                  (<= 2^44 since e <= S), p = e * R * mult in c + 4 (< 2^60: no product wraps);
//                  systole_vec_round takes p in c + 5; the row is written in c + 7. A lane past
//                  valid has e = 0, hence y = out_zero.
// The next group starts right after pass 3's last read (G' = G + 3GR + 29): its rows are other
// rows, and its first use of m, S or R comes after the last use of them by this group's pass 3.
// The last write of the instruction is in T + groups * (3GR + 29) + 7, at least 18 cycles before
// the contract's T + groups * (3GR + SOFTMAX_LATENCY) + VECTOR_LATENCY. busy_o is 1 from T + 1
// through the last write. In place (dst_row = a_row) a row is written only after its pass 3
// read, which is its last read.
module systole_vsoftmax
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

  output logic                    abuf_re_o,
  output logic [AbufAw-1:0]       abuf_raddr_o,
  input  logic [8*ArrayDim-1:0]   abuf_rdata_i,
  output logic                    abuf_we_o,
  output logic [AbufAw-1:0]       abuf_waddr_o,
  output logic [8*ArrayDim-1:0]   abuf_wdata_o,
  output logic                    lut_re_o,
  output logic [7:0]              lut_table_o,
  output logic [8*ArrayDim-1:0]   lut_index_o,
  input  logic [16*ArrayDim-1:0]  lut_entry_i
);

  localparam int unsigned D    = ArrayDim;
  localparam int unsigned DP   = 2 ** $clog2(D);       // lanes rounded up for the trees
  localparam int unsigned EW   = 15;                   // e = max(entry, 0) < 2^15
  localparam int unsigned RsW  = EW + $clog2(DP);      // a row's sum of e
  localparam int unsigned SW   = 32;                   // S < 65535 * 2^15 < 2^31
  localparam int unsigned RW   = 45;                   // R <= 2^44
  localparam int unsigned ErW  = 45;                   // e * R <= 2^44
  localparam int unsigned PW   = 60;                   // e * R * mult < 2^44 * 2^16
  localparam logic [RW-1:0] Two44 = RW'(1) << 44;

  // -----------------------------------------------------------------------------------------------
  // Fields (row fields are 16 bits; the issue stage has checked the runs are in ABUF).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_arow, f_dstrow, f_groups, f_grows, f_valid, f_mult;
  logic [7:0]  f_table, f_oz;
  logic [5:0]  f_shift;
  assign f_arow   = instr_i[systole_pkg::VsoftmaxARowLsb +: systole_pkg::VsoftmaxARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VsoftmaxDstRowLsb +: systole_pkg::VsoftmaxDstRowWidth];
  assign f_groups = instr_i[systole_pkg::VsoftmaxGroupsLsb +: systole_pkg::VsoftmaxGroupsWidth];
  assign f_grows  = instr_i[systole_pkg::VsoftmaxGroupRowsLsb +: systole_pkg::VsoftmaxGroupRowsWidth];
  assign f_valid  = instr_i[systole_pkg::VsoftmaxValidLsb +: systole_pkg::VsoftmaxValidWidth];
  assign f_table  = instr_i[systole_pkg::VsoftmaxTableLsb +: systole_pkg::VsoftmaxTableWidth];
  assign f_oz     = instr_i[systole_pkg::VsoftmaxOutZeroLsb +: systole_pkg::VsoftmaxOutZeroWidth];
  assign f_shift  = instr_i[systole_pkg::VsoftmaxShiftLsb +: systole_pkg::VsoftmaxShiftWidth];
  assign f_mult   = instr_i[systole_pkg::VsoftmaxMultLsb +: systole_pkg::VsoftmaxMultWidth];
  assign unused_instr = instr_i;

  // The instruction's constants.
  logic [15:0]       mult_q;
  logic [7:0]        table_q;
  logic signed [7:0] oz_q;
  logic [5:0]        shift_q;

  // -----------------------------------------------------------------------------------------------
  // The read sequence: a pass reads the group's rows in order (systole_vgroups: the group, its row
  // being read, the row's valid lanes).
  typedef enum logic [2:0] {Idle, PassMax, PassSum, Recip, PassNorm} state_e;
  typedef enum logic [1:0] {KMax, KSum, KNorm} kind_e;

  state_e            state_q;
  logic              rd, first_row, last_row, more;
  kind_e             kind;
  logic [D-1:0]      mask;
  logic [AbufAw-1:0] waddr;
  logic              div_busy, div_done;
  logic [RW-1:0]     div_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0]       row;
  /* verilator lint_on UNUSEDSIGNAL */

  assign rd   = state_q == PassMax || state_q == PassSum || state_q == PassNorm;
  assign kind = state_q == PassMax ? KMax : state_q == PassSum ? KSum : KNorm;

  systole_vgroups #(.ArrayDim(D), .Aw(AbufAw)) u_groups (
    .clk_i   (clk_i),
    .start_i (issue_i),
    .arow_i  (f_arow),
    .dstrow_i(f_dstrow),
    .groups_i(f_groups),
    .grows_i (f_grows),
    .valid_i (f_valid),
    .step_i  (rd),
    .next_i  (state_q == PassNorm),
    .row_o   (row),
    .raddr_o (abuf_raddr_o),
    .waddr_o (waddr),
    .first_o (first_row),
    .last_o  (last_row),
    .mask_o  (mask),
    .more_o  (more)
  );

  assign abuf_re_o = rd;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
    end else if (clear_i) begin
      state_q <= Idle;
    end else if (issue_i) begin
      state_q <= PassMax;
    end else begin
      unique case (state_q)
        PassMax:  if (last_row) state_q <= PassSum;
        PassSum:  if (last_row) state_q <= Recip;
        Recip:    if (div_done) state_q <= PassNorm;
        PassNorm: if (last_row) state_q <= more ? PassMax : Idle;
        default:  state_q <= Idle;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      mult_q  <= f_mult;
      table_q <= f_table;
      oz_q    <= f_oz;
      shift_q <= f_shift;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // The pipeline. Stage k holds the row read k cycles before: v<k>_q says there is one, its kind,
  // whether it is the group's first or last row of its pass, its valid lanes and (pass 3) its
  // destination row.
  logic              v1_q, v2_q, v3_q, v4_q, v5_q, v6_q, v7_q;
  kind_e             k1_q;
  logic              n2_q, n3_q, n4_q;          // pass 3 (else pass 2), from stage 2 on
  logic              first1_q, first2_q, first3_q, first4_q;
  logic              last1_q, last2_q, last3_q, last4_q;
  logic [D-1:0]      mask1_q, mask2_q;
  logic [AbufAw-1:0] wa1_q, wa2_q, wa3_q, wa4_q, wa5_q, wa6_q, wa7_q;
  logic              sdone_q;                   // S is final: start the divider

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q    <= 1'b0;
      v2_q    <= 1'b0;
      v3_q    <= 1'b0;
      v4_q    <= 1'b0;
      v5_q    <= 1'b0;
      v6_q    <= 1'b0;
      v7_q    <= 1'b0;
      sdone_q <= 1'b0;
    end else if (clear_i) begin
      v1_q    <= 1'b0;
      v2_q    <= 1'b0;
      v3_q    <= 1'b0;
      v4_q    <= 1'b0;
      v5_q    <= 1'b0;
      v6_q    <= 1'b0;
      v7_q    <= 1'b0;
      sdone_q <= 1'b0;
    end else begin
      v1_q    <= rd;
      v2_q    <= v1_q && k1_q != KMax;
      v3_q    <= v2_q;
      v4_q    <= v3_q;
      v5_q    <= v4_q && n4_q;
      v6_q    <= v5_q;
      v7_q    <= v6_q;
      sdone_q <= v4_q && !n4_q && last4_q;
    end
  end

  always_ff @(posedge clk_i) begin
    k1_q     <= kind;
    first1_q <= first_row;
    last1_q  <= last_row;
    mask1_q  <= mask;
    wa1_q    <= waddr;
    n2_q     <= k1_q == KNorm;
    first2_q <= first1_q;
    last2_q  <= last1_q;
    mask2_q  <= mask1_q;
    wa2_q    <= wa1_q;
    n3_q     <= n2_q;
    first3_q <= first2_q;
    last3_q  <= last2_q;
    wa3_q    <= wa2_q;
    n4_q     <= n3_q;
    first4_q <= first3_q;
    last4_q  <= last3_q;
    wa4_q    <= wa3_q;
    wa5_q    <= wa4_q;
    wa6_q    <= wa5_q;
    wa7_q    <= wa6_q;
  end

  // -----------------------------------------------------------------------------------------------
  // Stage 1: the row's data. Pass 1: the maximum over its valid lanes (a tree; lanes past valid
  // count as -128, which never raises m), into m. Passes 2 and 3: the LUT lookup of m - x, which
  // is 0 .. 255 on a valid lane (on the others it is some entry of the table, masked later).
  logic signed [7:0] x [D];
  logic signed [7:0] rowmax, m_q;
  for (genvar j = 0; j < D; j++) begin : g_x
    assign x[j] = abuf_rdata_i[8*j +: 8];
    assign lut_index_o[8*j +: 8] = m_q - x[j];
  end

  always_comb begin
    logic signed [7:0] t [DP];
    for (int unsigned j = 0; j < DP; j++) begin
      t[j] = (j < D && mask1_q[j % D]) ? x[j % D] : -8'sd128;
    end
    for (int unsigned w = DP / 2; w >= 1; w = w / 2) begin
      for (int unsigned j = 0; j < w; j++) begin
        t[j] = t[2*j] > t[2*j+1] ? t[2*j] : t[2*j+1];
      end
    end
    rowmax = t[0];
  end

  always_ff @(posedge clk_i) begin
    if (v1_q && k1_q == KMax) begin
      m_q <= (first1_q || rowmax > m_q) ? rowmax : m_q;
    end
  end

  assign lut_re_o    = v1_q && k1_q != KMax;
  assign lut_table_o = table_q;

  // Stage 2: e = max(entry, 0) on a valid lane, else 0.
  logic [EW-1:0] e_q [D];
  for (genvar j = 0; j < D; j++) begin : g_e
    logic signed [15:0] ent;
    assign ent = lut_entry_i[16*j +: 16];
    always_ff @(posedge clk_i) begin
      e_q[j] <= (mask2_q[j] && ent >= 16'sd0) ? ent[EW-1:0] : '0;
    end
  end

  // Stage 3, pass 2: the row's sum of e (a tree). Stage 4: S.
  logic [RsW-1:0] rowsum, rowsum_q;
  logic [SW-1:0]  s_q;
  always_comb begin
    logic [RsW-1:0] t [DP];
    for (int unsigned j = 0; j < DP; j++) begin
      t[j] = j < D ? RsW'(e_q[j % D]) : '0;
    end
    for (int unsigned w = DP / 2; w >= 1; w = w / 2) begin
      for (int unsigned j = 0; j < w; j++) begin
        t[j] = t[2*j] + t[2*j+1];
      end
    end
    rowsum = t[0];
  end

  always_ff @(posedge clk_i) begin
    if (v3_q && !n3_q) begin
      rowsum_q <= rowsum;
    end
    if (v4_q && !n4_q) begin
      s_q <= first4_q ? SW'(rowsum_q) : s_q + SW'(rowsum_q);
    end
  end

  // The reciprocal R = floor(2^44 / S) (0 for S = 0), registered when the divider is done.
  logic [RW-1:0] r_q;

  systole_udiv #(.NumW(RW), .DenW(SW), .BitsPerCycle(2)) u_div (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(sdone_q),
    .num_i  (Two44),
    .den_i  (s_q),
    .busy_o (div_busy),
    .done_o (div_done),
    .q_o    (div_q)
  );

  always_ff @(posedge clk_i) begin
    if (state_q == Recip && div_done) begin
      r_q <= s_q == '0 ? '0 : div_q;
    end
  end

  // Stage 3, pass 3: e * R. Stage 4: p = e * R * mult. Stage 5: the rounding shift, out_zero and
  // the clamp, whose result is written in stage 7. Its input is 0 in a cycle without a pass 3 row.
  logic [ErW-1:0] er_q [D];
  logic [PW-1:0]  p_q [D];
  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [7:0] y;
    always_ff @(posedge clk_i) begin
      if (v3_q && n3_q) begin
        er_q[j] <= ErW'(e_q[j]) * r_q;
      end
      if (v4_q && n4_q) begin
        p_q[j] <= PW'(er_q[j]) * PW'(mult_q);
      end
    end
    systole_vec_round u_round (
      .clk_i  (clk_i),
      .p_i    (v5_q ? 64'(p_q[j]) : 64'sd0),
      .shift_i(shift_q),
      .zp_i   (oz_q),
      .relu_i (1'b0),
      .q_o    (y)
    );
    assign abuf_wdata_o[8*j +: 8] = y;
  end

  assign abuf_we_o    = v7_q;
  assign abuf_waddr_o = wa7_q;
  assign busy_o       = state_q != Idle || v1_q || v2_q || v3_q || v4_q || v5_q || v6_q || v7_q
                        || sdone_q || div_busy;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // within the source run (three passes per group), writes within the destination run in order,
  // all by the contract's done time T + groups * (3GR + SOFTMAX_LATENCY) + VECTOR_LATENCY.
  systole_vcheck #(.Name("systole_vsoftmax"), .InOrder(1'b0)) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_groups) * 32'(f_grows)),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(32'(f_groups) * 32'(f_grows)),
    .deadline_i(32'(f_groups) * (32'd3 * 32'(f_grows) + systole_pkg::TimingSoftmaxLatency)
                + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (abuf_we_o),
    .waddr_i   (32'(abuf_waddr_o)),
    .wsrc_i    (1'b0)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // A valid lane is at most the group's maximum, so m - x is a table index 0 .. 255.
  logic [D-1:0] above_m;
  for (genvar j = 0; j < D; j++) begin : g_chk_m
    assign above_m[j] = mask1_q[j] && x[j] > m_q;
  end
  IndexInTable: assert property (@(posedge clk_i) disable iff (!chk_q)
      v1_q && k1_q != KMax |-> above_m == '0)
    else $error("systole_vsoftmax: lanes %b above the maximum %0d", above_m, m_q);
  // e <= S, so e * R <= 2^44 and p < 2^60 (the divider checks R * S <= 2^44).
  logic [D-1:0] above_s;
  for (genvar j = 0; j < D; j++) begin : g_chk_s
    assign above_s[j] = SW'(e_q[j]) > s_q;
  end
  EntryWithinSum: assert property (@(posedge clk_i) disable iff (!chk_q)
      v3_q && n3_q |-> above_s == '0)
    else $error("systole_vsoftmax: entries %b above their sum %0d", above_s, s_q);
  // The divider is started once per group, while its result is awaited.
  DivStart: assert property (@(posedge clk_i) disable iff (!chk_q) sdone_q |-> state_q == Recip)
    else $error("systole_vsoftmax: divider started outside the reciprocal phase");
`endif

endmodule
