// The VECTOR unit's VLUT engine (contract 6.9): ABUF[dst_row + i][j] = sat8(LUT[table][e]) with
// e = ABUF[a_row + i][j] + 128, for rows i and lanes j.
//
// Let the instruction be accepted in cycle T. Row a_row + i is read in T + i; in T + i + 1 each
// lane looks up its entry (systole_vector reads lane j's copy of the LUT); the entry arrives in
// T + i + 2 and is saturated into a register; dst_row + i is written in T + i + 3. busy_o is 1
// from T + 1 until the last write, T + rows + 2, well inside the unit's T + rows + VECTOR_LATENCY.
module systole_vlut
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  localparam int unsigned AbufAw   = $clog2(AbufRows)
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

  localparam int unsigned D = ArrayDim;

  // Fields (row fields are 16 bits; a buffer address uses the low bits, the issue stage having
  // checked the range).
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0] f_arow, f_dstrow;
  logic [191:0] unused_instr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [15:0] f_rows;
  logic [7:0]  f_table;
  assign f_arow   = instr_i[systole_pkg::VlutARowLsb +: systole_pkg::VlutARowWidth];
  assign f_dstrow = instr_i[systole_pkg::VlutDstRowLsb +: systole_pkg::VlutDstRowWidth];
  assign f_rows   = instr_i[systole_pkg::VlutRowsLsb +: systole_pkg::VlutRowsWidth];
  assign f_table  = instr_i[systole_pkg::VlutTableLsb +: systole_pkg::VlutTableWidth];
  assign unused_instr = instr_i;

  // Read sequence: rows a_row .. from T (systole_vrows). Then look_q, a row's lookup; ent_q, its
  // entries; we_q, its write.
  logic              rd_busy;
  logic [AbufAw-1:0] waddr_q;
  logic [7:0]        table_q;
  logic              look_q, ent_q, we_q;
  logic [8*D-1:0]    wdata_q;
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
      look_q <= 1'b0;
      ent_q  <= 1'b0;
      we_q   <= 1'b0;
    end else if (clear_i) begin
      look_q <= 1'b0;
      ent_q  <= 1'b0;
      we_q   <= 1'b0;
    end else begin
      look_q <= abuf_re_o;
      ent_q  <= look_q;
      we_q   <= ent_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      table_q <= f_table;
      waddr_q <= AbufAw'(f_dstrow);
    end else if (we_q) begin
      waddr_q <= waddr_q + 1'b1;
    end
  end

  // The entries: e = x + 128 is x with its sign bit flipped.
  for (genvar j = 0; j < D; j++) begin : g_lane
    logic signed [15:0] ent;
    assign lut_index_o[8*j +: 8] = abuf_rdata_i[8*j +: 8] ^ 8'h80;
    assign ent = lut_entry_i[16*j +: 16];
    always_ff @(posedge clk_i) begin
      wdata_q[8*j +: 8] <= ent > 16'sd127 ? 8'sd127 : ent < -16'sd128 ? -8'sd128 : ent[7:0];
    end
  end

  assign lut_re_o     = look_q;
  assign lut_table_o  = table_q;
  assign abuf_we_o    = we_q;
  assign abuf_waddr_o = waddr_q;
  assign abuf_wdata_o = wdata_q;
  assign busy_o       = rd_busy || look_q || ent_q || we_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them): reads
  // and writes within the runs, in order, by the unit's deadline T + rows + VECTOR_LATENCY - 1.
  systole_vcheck #(.Name("systole_vlut")) u_check (
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
    .re_i      (abuf_re_o),
    .raddr_i   (32'(abuf_raddr_o)),
    .we_i      (abuf_we_o),
    .waddr_i   (32'(abuf_waddr_o)),
    .wsrc_i    (1'b1)
  );
`endif

endmodule
