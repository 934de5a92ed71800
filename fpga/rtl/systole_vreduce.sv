// The VECTOR unit's VREDUCE engine (contract 6.12): the maximum (int8, from -128) or the wrapping
// int32 sum of the raw int8 values, either down the rows a_row .. a_row + rows - 1 per lane into
// the one row dst_row, or across lanes 0 .. valid - 1 of each row, broadcast to all D lanes of
// row dst_row + i. A maximum goes to ABUF, a sum to ACC; with accumulate it is combined with the
// destination's old value (max, or wrapping sum).
//
// Let the instruction be accepted in cycle T. Source row a_row + i is read on ABUF port a in
// T + i and arrives in T + i + 1 (stage 1), where it is folded into the per-lane result (down the
// rows) or reduced across its valid lanes and broadcast (across lanes), into res_q. The
// destination row of a result (dst_row + i across lanes; dst_row after the last row down the
// rows) is read for its old value in that same cycle T + i + 1 (ABUF port b for a maximum, the ACC
// read port for a sum) when accumulating; in T + i + 2 (stage 2) the old value arrives and is
// combined with res_q into wdata_q; the row is written in T + i + 3. So the last write is in
// T + rows + 2 and busy_o is 1 from T + 1 to then, inside the unit's T + rows + VECTOR_LATENCY.
//
// In place (a maximum whose destination run is its source run, contract 8.2): a row is written
// three cycles after it was read, and its old value is read after it was read as a source and
// before it is written; the destination rows of one instruction are distinct, so a row's old value
// is never one this instruction wrote. Down the rows the one write comes after every read.
module systole_vreduce
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

  output logic                    abuf_a_re_o,
  output logic [AbufAw-1:0]       abuf_a_addr_o,
  input  logic [8*ArrayDim-1:0]   abuf_a_rdata_i,
  output logic                    abuf_b_re_o,
  output logic [AbufAw-1:0]       abuf_b_addr_o,
  input  logic [8*ArrayDim-1:0]   abuf_b_rdata_i,
  output logic                    abuf_we_o,
  output logic [AbufAw-1:0]       abuf_waddr_o,
  output logic [8*ArrayDim-1:0]   abuf_wdata_o,
  output logic                    acc_re_o,
  output logic [AccAw-1:0]        acc_raddr_o,
  input  logic [32*ArrayDim-1:0]  acc_rdata_i,
  output logic                    acc_we_o,
  output logic [AccAw-1:0]        acc_waddr_o,
  output logic [32*ArrayDim-1:0]  acc_wdata_o
);

  localparam int unsigned D = ArrayDim;
  // A sum across at most D int8 lanes lies in -128 D .. 127 D.
  localparam int unsigned SumW = 8 + $clog2(D);
  // The tree across lanes: D leaves padded to a power of two.
  localparam int unsigned P = 1 << $clog2(D);
  localparam int unsigned DstAw = AbufAw > AccAw ? AbufAw : AccAw;

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0]  f_arow, f_dstrow;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0]  f_rows;
  logic [7:0]   f_valid;
  logic         f_max, f_lanes, f_accum;
  assign f_arow   = instr_i[systole_pkg::VreduceARowLsb +: systole_pkg::VreduceARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VreduceDstRowLsb +: systole_pkg::VreduceDstRowWidth];
  assign f_rows   = instr_i[systole_pkg::VreduceRowsLsb +: systole_pkg::VreduceRowsWidth];
  assign f_valid  = instr_i[systole_pkg::VreduceValidLsb +: systole_pkg::VreduceValidWidth];
  assign f_max    = instr_i[systole_pkg::VreduceMaxLsb];
  assign f_lanes  = instr_i[systole_pkg::VreduceLanesLsb];
  assign f_accum  = instr_i[systole_pkg::VreduceAccumulateLsb];
  assign unused_instr = instr_i;

  // The instruction, held from T.
  logic             max_q, lanes_q, accum_q;
  logic [7:0]       valid_q;

  // Read sequence: rows a_row .. on port a from T (systole_vrows). A read carries "last" (the last
  // source row) down the pipeline: s1 the cycle its data arrives, s2 the combine, we_q the write.
  logic              rd_busy, rd_last;
  logic              s1_q, s1_last_q, s2_q, we_q;
  logic [DstAw-1:0]  s1_dst_q, s2_dst_q, waddr_q;

  systole_vrows #(.Aw(AbufAw)) u_rows (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(clear_i),
    .start_i(issue_i),
    .first_i(AbufAw'(f_arow)),
    .rows_i (f_rows),
    .re_o   (abuf_a_re_o),
    .addr_o (abuf_a_addr_o),
    .last_o (rd_last),
    .busy_o (rd_busy)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_q      <= 1'b0;
      s1_last_q <= 1'b0;
      s2_q      <= 1'b0;
      we_q      <= 1'b0;
    end else if (clear_i) begin
      s1_q      <= 1'b0;
      s1_last_q <= 1'b0;
      s2_q      <= 1'b0;
      we_q      <= 1'b0;
    end else begin
      s1_q      <= abuf_a_re_o;
      s1_last_q <= abuf_a_re_o && rd_last;
      // Across lanes every row makes a result row; down the rows only the last.
      s2_q      <= s1_q && (lanes_q || s1_last_q);
      we_q      <= s2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      max_q   <= f_max;
      lanes_q <= f_lanes;
      accum_q <= f_accum;
      valid_q <= f_valid;
    end
    // The destination row of a result: dst_row + i across lanes, dst_row down the rows.
    if (issue_i) begin
      s1_dst_q <= DstAw'(f_dstrow);
    end else if (s1_q && lanes_q) begin
      s1_dst_q <= s1_dst_q + 1'b1;
    end
    s2_dst_q <= s1_dst_q;
    waddr_q  <= s2_dst_q;
  end

  // The old value of the destination row, read in the cycle its result is formed (stage 1).
  logic old_re;
  assign old_re        = s1_q && accum_q && (lanes_q || s1_last_q);
  assign abuf_b_re_o   = old_re && max_q;
  assign abuf_b_addr_o = AbufAw'(s1_dst_q);
  assign acc_re_o      = old_re && !max_q;
  assign acc_raddr_o   = AccAw'(s1_dst_q);

  // Down the rows, stage 1 of the first row: the cycle after issue.
  logic s1_first_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_first_q <= 1'b0;
    end else begin
      s1_first_q <= issue_i && !clear_i;
    end
  end

  // Stage 1: the result per lane, in 32 bits (a maximum is an int8 value sign-extended). Down the
  // rows lane j folds in its value, the first row starting from -128 (maximum) or 0 (sum); across
  // lanes the row's valid lanes go through a tree and the result is broadcast.
  logic signed [31:0] across;

  always_comb begin
    logic signed [SumW-1:0] t [2*P-1];
    for (int unsigned l = 0; l < P; l++) begin
      if (l < D && l < 32'(valid_q)) begin
        t[P-1+l] = SumW'($signed(abuf_a_rdata_i[8*l +: 8]));
      end else begin
        t[P-1+l] = max_q ? -SumW'(128) : '0;
      end
    end
    // Nodes P - 2 down to 0, each from its two children.
    for (int unsigned k = 0; k + 1 < P; k++) begin
      if (max_q) begin
        t[P-2-k] = t[2*(P-2-k)+1] > t[2*(P-2-k)+2] ? t[2*(P-2-k)+1] : t[2*(P-2-k)+2];
      end else begin
        t[P-2-k] = t[2*(P-2-k)+1] + t[2*(P-2-k)+2];
      end
    end
    across = 32'(t[0]);
  end

  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [31:0] x, prev, old, r;
    logic [31:0]        res_q, wdata_q;
    assign x    = 32'($signed(abuf_a_rdata_i[8*j +: 8]));
    // The first row starts afresh.
    assign prev = s1_first_q ? (max_q ? -32'sd128 : 32'sd0) : $signed(res_q);
    assign old  = max_q ? 32'($signed(abuf_b_rdata_i[8*j +: 8])) : $signed(acc_rdata_i[32*j +: 32]);
    assign r    = $signed(res_q);
    always_ff @(posedge clk_i) begin
      if (s1_q) begin
        if (lanes_q) begin
          res_q <= across;
        end else if (max_q) begin
          res_q <= x > prev ? x : prev;
        end else begin
          res_q <= prev + x;
        end
      end
      if (s2_q) begin
        if (!accum_q) begin
          wdata_q <= r;
        end else if (max_q) begin
          wdata_q <= old > r ? old : r;
        end else begin
          wdata_q <= old + r;
        end
      end
    end
    assign abuf_wdata_o[8*j +: 8]   = wdata_q[7:0];
    assign acc_wdata_o[32*j +: 32]  = wdata_q;
  end

  assign abuf_we_o    = we_q && max_q;
  assign abuf_waddr_o = AbufAw'(waddr_q);
  assign acc_we_o     = we_q && !max_q;
  assign acc_waddr_o  = AccAw'(waddr_q);
  assign busy_o       = rd_busy || s1_q || s2_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // and writes within the runs, in order (rows results across lanes, one down the rows), a
  // maximum in place only on rows already read, by the unit's deadline
  // T + rows + VECTOR_LATENCY - 1.
  systole_vcheck #(.Name("systole_vreduce")) u_check (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .clear_i   (clear_i),
    .issue_i   (issue_i),
    .busy_i    (busy_o),
    .src_i     (32'(f_arow)),
    .src_rows_i(32'(f_rows)),
    .dst_i     (32'(f_dstrow)),
    .dst_rows_i(f_lanes ? 32'(f_rows) : 32'd1),
    .deadline_i(32'(f_rows) + systole_pkg::TimingVectorLatency),
    .re_i      (abuf_a_re_o),
    .raddr_i   (32'(abuf_a_addr_o)),
    .we_i      (abuf_we_o || acc_we_o),
    .waddr_i   (max_q ? 32'(abuf_waddr_o) : 32'(acc_waddr_o)),
    .wsrc_i    (abuf_we_o)
  );

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // One port written at a time, the one of the result: ABUF for a maximum, ACC for a sum.
  WritePort: assert property (@(posedge clk_i) disable iff (!chk_q)
      !(abuf_we_o && acc_we_o) && !(abuf_we_o && !max_q) && !(acc_we_o && max_q))
    else $error("systole_vreduce: write of ABUF %0b and ACC %0b", abuf_we_o, acc_we_o);
  // The old value is read before its row is written, and only when accumulating.
  OldOnAccumulate: assert property (@(posedge clk_i) disable iff (!chk_q)
      (abuf_b_re_o || acc_re_o) |-> accum_q && !(abuf_b_re_o && acc_re_o))
    else $error("systole_vreduce: old value read without accumulate");
`endif

endmodule
