// The accelerator behind the register window: fetch, the issue stage, the LOAD, EXEC, STORE and
// (VectorUnit = 1) VECTOR units and the buffers, ABUF, WBUF, ACC and (VectorUnit = 1) the LUT.
// See MICROARCH.md.
module systole_core
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned HbmMb    = 16384,
  parameter int unsigned VectorUnit = 0,
  parameter int unsigned LutRows  = 0
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic         soft_reset_i,
  input  logic [63:0]  prog_addr_i,
  input  logic [31:0]  prog_len_i,
  output logic         run_end_o,
  output logic [7:0]   run_error_o,
  output logic [31:0]  run_error_pc_o,
  output logic [31:0]  pc_o,
  output logic         instret_o,
  output logic [16:0]  array_rows_o,
  output logic         stall_o,
  output logic [47:0]  bytes_read_o,
  output logic [47:0]  bytes_written_o,
  output logic [23:0]  vector_cycles_o,

  output logic         m_fetch_arvalid_o,
  input  logic         m_fetch_arready_i,
  output logic [63:0]  m_fetch_araddr_o,
  output logic [7:0]   m_fetch_arlen_o,
  output logic [2:0]   m_fetch_arsize_o,
  output logic [1:0]   m_fetch_arburst_o,
  input  logic         m_fetch_rvalid_i,
  output logic         m_fetch_rready_o,
  input  logic [255:0] m_fetch_rdata_i,
  input  logic [1:0]   m_fetch_rresp_i,
  input  logic         m_fetch_rlast_i,

  output logic         m_load_arvalid_o,
  input  logic         m_load_arready_i,
  output logic [63:0]  m_load_araddr_o,
  output logic [7:0]   m_load_arlen_o,
  output logic [2:0]   m_load_arsize_o,
  output logic [1:0]   m_load_arburst_o,
  input  logic         m_load_rvalid_i,
  output logic         m_load_rready_o,
  input  logic [255:0] m_load_rdata_i,
  input  logic [1:0]   m_load_rresp_i,
  input  logic         m_load_rlast_i,

  output logic         m_store_awvalid_o,
  input  logic         m_store_awready_i,
  output logic [63:0]  m_store_awaddr_o,
  output logic [7:0]   m_store_awlen_o,
  output logic [2:0]   m_store_awsize_o,
  output logic [1:0]   m_store_awburst_o,
  output logic         m_store_wvalid_o,
  input  logic         m_store_wready_i,
  output logic [255:0] m_store_wdata_o,
  output logic [31:0]  m_store_wstrb_o,
  output logic         m_store_wlast_o,
  input  logic         m_store_bvalid_i,
  output logic         m_store_bready_o,
  input  logic [1:0]   m_store_bresp_i
);

  localparam int unsigned D      = ArrayDim;
  localparam int unsigned AbufAw = $clog2(AbufRows);
  localparam int unsigned WbufAw = $clog2(WbufRows);
  localparam int unsigned AccAw  = $clog2(AccRows);
  localparam bit          Vu     = VectorUnit != 0;
  localparam int unsigned LutAw  = LutRows > 1 ? $clog2(LutRows) : 1;

  // Fetch and issue.
  logic         instr_valid, instr_fault, instr_pop, fetch_start, fetch_stop;
  logic [255:0] instr;
  logic [255:0] unit_instr;
  logic         load_issue, load_free, load_fault;
  logic         store_issue, store_free, store_fault;
  logic         exec_issue, exec_free, exec_done;
  logic         vector_issue, vector_done;
  logic         running;

  systole_fetch u_fetch (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .start_i      (fetch_start),
    .prog_addr_i  (prog_addr_i),
    .prog_len_i   (prog_len_i),
    .stop_i       (fetch_stop),
    .m_arvalid_o  (m_fetch_arvalid_o),
    .m_arready_i  (m_fetch_arready_i),
    .m_araddr_o   (m_fetch_araddr_o),
    .m_arlen_o    (m_fetch_arlen_o),
    .m_arsize_o   (m_fetch_arsize_o),
    .m_arburst_o  (m_fetch_arburst_o),
    .m_rvalid_i   (m_fetch_rvalid_i),
    .m_rready_o   (m_fetch_rready_o),
    .m_rdata_i    (m_fetch_rdata_i),
    .m_rresp_i    (m_fetch_rresp_i),
    .m_rlast_i    (m_fetch_rlast_i),
    .instr_valid_o(instr_valid),
    .instr_o      (instr),
    .instr_fault_o(instr_fault),
    .instr_pop_i  (instr_pop)
  );

  systole_issue #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows),
    .HbmMb   (HbmMb),
    .VectorUnit(VectorUnit),
    .LutRows (LutRows)
  ) u_issue (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .clear_i        (soft_reset_i),
    .start_i        (start_i),
    .prog_addr_i    (prog_addr_i),
    .prog_len_i     (prog_len_i),
    .instr_valid_i  (instr_valid),
    .instr_i        (instr),
    .instr_fault_i  (instr_fault),
    .instr_pop_o    (instr_pop),
    .fetch_start_o  (fetch_start),
    .fetch_stop_o   (fetch_stop),
    .unit_instr_o   (unit_instr),
    .load_issue_o   (load_issue),
    .load_free_i    (load_free),
    .load_fault_i   (load_fault),
    .store_issue_o  (store_issue),
    .store_free_i   (store_free),
    .store_fault_i  (store_fault),
    .exec_issue_o   (exec_issue),
    .exec_free_i    (exec_free),
    .exec_done_i    (exec_done),
    .vector_issue_o (vector_issue),
    .vector_done_i  (vector_done),
    .running_o      (running),
    .run_end_o      (run_end_o),
    .run_error_o    (run_error_o),
    .run_error_pc_o (run_error_pc_o),
    .pc_o           (pc_o),
    .instret_o      (instret_o),
    .array_rows_o   (array_rows_o),
    .stall_o        (stall_o),
    .bytes_read_o   (bytes_read_o),
    .bytes_written_o(bytes_written_o)
  );

  // Row fields are 16 bits; a buffer of fewer rows uses the low bits (the issue stage checked the
  // range). The issue stage's running flag is for debug visibility only.
  logic unused_core;
  assign unused_core = running ^ (^ld_wr_row) ^ (^st_rd_row);

  // Buffers (systole_mpram), ports by number. Without the VECTOR unit: ABUF is written by LOAD
  // and EXEC (its lanes) and read by EXEC a, EXEC b and STORE; WBUF written by LOAD, read by EXEC
  // and STORE; ACC written by LOAD and EXEC, read by EXEC and STORE. With it (MICROARCH.md "The
  // VECTOR unit"), each unit has ports of its own: ABUF is written by LOAD and VECTOR and read by
  // EXEC, VECTOR a, VECTOR b and STORE; WBUF written by LOAD and VECTOR, read by EXEC, VECTOR and
  // STORE; ACC written by LOAD, EXEC and VECTOR, read by EXEC, VECTOR and STORE; the LUT written
  // by LOAD and read by each lane of VECTOR and by STORE.
  localparam int unsigned AbufW = 2, AbufR = Vu ? 4 : 3;
  localparam int unsigned WbufW = Vu ? 2 : 1, WbufR = Vu ? 3 : 2;
  localparam int unsigned AccW  = Vu ? 3 : 2, AccR = Vu ? 3 : 2;
  // Port numbers.
  localparam int unsigned AbufRdStore = AbufR - 1, WbufRdStore = WbufR - 1, AccRdStore = AccR - 1;

  logic [AbufW-1:0]          abuf_we;
  logic [AbufW*AbufAw-1:0]   abuf_waddr;
  logic [AbufW*8*D-1:0]      abuf_wdata;
  logic [AbufR-1:0]          abuf_re;
  logic [AbufR*AbufAw-1:0]   abuf_raddr;
  logic [AbufR*8*D-1:0]      abuf_rdata;
  logic [WbufW-1:0]          wbuf_we;
  logic [WbufW*WbufAw-1:0]   wbuf_waddr;
  logic [WbufW*8*D-1:0]      wbuf_wdata;
  logic [WbufR-1:0]          wbuf_re;
  logic [WbufR*WbufAw-1:0]   wbuf_raddr;
  logic [WbufR*8*D-1:0]      wbuf_rdata;
  logic [AccW-1:0]           acc_we;
  logic [AccW*AccAw-1:0]     acc_waddr;
  logic [AccW*32*D-1:0]      acc_wdata;
  logic [AccR-1:0]           acc_re;
  logic [AccR*AccAw-1:0]     acc_raddr;
  logic [AccR*32*D-1:0]      acc_rdata;
  logic [16*D-1:0]           lut_store_rdata;

  systole_mpram #(.Rows(AbufRows), .Width(8 * D), .NumWrite(AbufW), .NumRead(AbufR)) u_abuf (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .we_i   (abuf_we),
    .waddr_i(abuf_waddr),
    .wdata_i(abuf_wdata),
    .re_i   (abuf_re),
    .raddr_i(abuf_raddr),
    .rdata_o(abuf_rdata)
  );

  systole_mpram #(.Rows(WbufRows), .Width(8 * D), .NumWrite(WbufW), .NumRead(WbufR)) u_wbuf (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .we_i   (wbuf_we),
    .waddr_i(wbuf_waddr),
    .wdata_i(wbuf_wdata),
    .re_i   (wbuf_re),
    .raddr_i(wbuf_raddr),
    .rdata_o(wbuf_rdata)
  );

  systole_mpram #(.Rows(AccRows), .Width(32 * D), .NumWrite(AccW), .NumRead(AccR)) u_acc (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .we_i   (acc_we),
    .waddr_i(acc_waddr),
    .wdata_i(acc_wdata),
    .re_i   (acc_re),
    .raddr_i(acc_raddr),
    .rdata_o(acc_rdata)
  );

  // LOAD: one write port into the buffer its instruction names.
  logic          ld_wr_en;
  logic [1:0]    ld_wr_buf;
  logic [15:0]   ld_wr_row;
  logic [32*D-1:0] ld_wr_data;

  systole_load #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows),
    .LutRows (LutRows)
  ) u_load (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .clear_i    (soft_reset_i),
    .issue_i    (load_issue),
    .instr_i    (unit_instr),
    .free_o     (load_free),
    .fault_o    (load_fault),
    .m_arvalid_o(m_load_arvalid_o),
    .m_arready_i(m_load_arready_i),
    .m_araddr_o (m_load_araddr_o),
    .m_arlen_o  (m_load_arlen_o),
    .m_arsize_o (m_load_arsize_o),
    .m_arburst_o(m_load_arburst_o),
    .m_rvalid_i (m_load_rvalid_i),
    .m_rready_o (m_load_rready_o),
    .m_rdata_i  (m_load_rdata_i),
    .m_rresp_i  (m_load_rresp_i),
    .m_rlast_i  (m_load_rlast_i),
    .wr_en_o    (ld_wr_en),
    .wr_buf_o   (ld_wr_buf),
    .wr_row_o   (ld_wr_row),
    .wr_data_o  (ld_wr_data)
  );

  assign abuf_we[0]    = ld_wr_en && ld_wr_buf == systole_pkg::BufAbuf;
  assign abuf_waddr[0*AbufAw +: AbufAw] = AbufAw'(ld_wr_row);
  assign abuf_wdata[0*8*D +: 8*D] = ld_wr_data[8*D-1:0];
  assign wbuf_we[0]    = ld_wr_en && ld_wr_buf == systole_pkg::BufWbuf;
  assign wbuf_waddr[0*WbufAw +: WbufAw] = WbufAw'(ld_wr_row);
  assign wbuf_wdata[0*8*D +: 8*D] = ld_wr_data[8*D-1:0];
  assign acc_we[0]     = ld_wr_en && ld_wr_buf == systole_pkg::BufAcc;
  assign acc_waddr[0*AccAw +: AccAw]  = AccAw'(ld_wr_row);
  assign acc_wdata[0*32*D +: 32*D]  = ld_wr_data;
  // (the LUT's write port is in the VECTOR unit's block below)

  // STORE: one read port from the buffer its instruction names.
  logic        st_rd_en;
  logic [1:0]  st_rd_buf;
  logic [15:0] st_rd_row;

  systole_store #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows),
    .LutRows (LutRows)
  ) u_store (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .clear_i     (soft_reset_i),
    .issue_i     (store_issue),
    .instr_i     (unit_instr),
    .free_o      (store_free),
    .fault_o     (store_fault),
    .m_awvalid_o (m_store_awvalid_o),
    .m_awready_i (m_store_awready_i),
    .m_awaddr_o  (m_store_awaddr_o),
    .m_awlen_o   (m_store_awlen_o),
    .m_awsize_o  (m_store_awsize_o),
    .m_awburst_o (m_store_awburst_o),
    .m_wvalid_o  (m_store_wvalid_o),
    .m_wready_i  (m_store_wready_i),
    .m_wdata_o   (m_store_wdata_o),
    .m_wstrb_o   (m_store_wstrb_o),
    .m_wlast_o   (m_store_wlast_o),
    .m_bvalid_i  (m_store_bvalid_i),
    .m_bready_o  (m_store_bready_o),
    .m_bresp_i   (m_store_bresp_i),
    .rd_en_o     (st_rd_en),
    .rd_buf_o    (st_rd_buf),
    .rd_row_o    (st_rd_row),
    .abuf_rdata_i(abuf_rdata[AbufRdStore*8*D +: 8*D]),
    .wbuf_rdata_i(wbuf_rdata[WbufRdStore*8*D +: 8*D]),
    .acc_rdata_i (acc_rdata[AccRdStore*32*D +: 32*D]),
    .lut_rdata_i (lut_store_rdata)
  );

  assign abuf_re[AbufRdStore] = st_rd_en && st_rd_buf == systole_pkg::BufAbuf;
  assign abuf_raddr[AbufRdStore*AbufAw +: AbufAw] = AbufAw'(st_rd_row);
  assign wbuf_re[WbufRdStore] = st_rd_en && st_rd_buf == systole_pkg::BufWbuf;
  assign wbuf_raddr[WbufRdStore*WbufAw +: WbufAw] = WbufAw'(st_rd_row);
  assign acc_re[AccRdStore]   = st_rd_en && st_rd_buf == systole_pkg::BufAcc;
  assign acc_raddr[AccRdStore*AccAw +: AccAw] = AccAw'(st_rd_row);

  // EXEC: MATMUL, and without the VECTOR unit REQUANT, VMAX and VADD. Its ABUF b read port and
  // ABUF write port are the lanes' (VECTOR's, in a build with it).
  logic            ex_b_re, ex_we;
  logic [AbufAw-1:0] ex_b_addr, ex_waddr;
  logic [8*D-1:0]  ex_wdata;

  systole_exec #(
    .ArrayDim (ArrayDim),
    .AbufRows (AbufRows),
    .WbufRows (WbufRows),
    .AccRows  (AccRows),
    .WithLanes(!Vu)
  ) u_exec (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .clear_i       (soft_reset_i),
    .issue_i       (exec_issue),
    .instr_i       (unit_instr),
    .free_o        (exec_free),
    .done_o        (exec_done),
    .abuf_a_re_o   (abuf_re[0]),
    .abuf_a_addr_o (abuf_raddr[0*AbufAw +: AbufAw]),
    .abuf_a_rdata_i(abuf_rdata[0*8*D +: 8*D]),
    .abuf_b_re_o   (ex_b_re),
    .abuf_b_addr_o (ex_b_addr),
    .abuf_b_rdata_i(abuf_rdata[1*8*D +: 8*D]),
    .abuf_we_o     (ex_we),
    .abuf_waddr_o  (ex_waddr),
    .abuf_wdata_o  (ex_wdata),
    .wbuf_re_o     (wbuf_re[0]),
    .wbuf_addr_o   (wbuf_raddr[0*WbufAw +: WbufAw]),
    .wbuf_rdata_i  (wbuf_rdata[0*8*D +: 8*D]),
    .acc_re_o      (acc_re[0]),
    .acc_raddr_o   (acc_raddr[0*AccAw +: AccAw]),
    .acc_rdata_i   (acc_rdata[0*32*D +: 32*D]),
    .acc_we_o      (acc_we[1]),
    .acc_waddr_o   (acc_waddr[1*AccAw +: AccAw]),
    .acc_wdata_o   (acc_wdata[1*32*D +: 32*D])
  );

  if (!Vu) begin : g_no_vector
    assign abuf_re[1]                   = ex_b_re;
    assign abuf_raddr[1*AbufAw +: AbufAw] = ex_b_addr;
    assign abuf_we[1]                   = ex_we;
    assign abuf_waddr[1*AbufAw +: AbufAw] = ex_waddr;
    assign abuf_wdata[1*8*D +: 8*D]     = ex_wdata;
    assign vector_done                  = 1'b1;
    assign vector_cycles_o              = '0;
    assign lut_store_rdata              = '0;
    logic unused_vector;
    assign unused_vector = vector_issue;
  end else begin : g_vector
    // The LUT: one copy per lane (a lane looks up its own entry every cycle) and one for STORE.
    logic [D:0]              lut_re;
    logic [(D+1)*LutAw-1:0]  lut_raddr;
    logic [(D+1)*16*D-1:0]   lut_rdata;
    logic [D-1:0]            vec_lut_re;
    logic [D*LutAw-1:0]      vec_lut_addr;

    systole_mpram #(.Rows(LutRows), .Width(16 * D), .NumWrite(1), .NumRead(D + 1)) u_lut (
      .clk_i  (clk_i),
      .rst_ni (rst_ni),
      .we_i   (ld_wr_en && ld_wr_buf == systole_pkg::BufLut),
      .waddr_i(LutAw'(ld_wr_row)),
      .wdata_i(ld_wr_data[16*D-1:0]),
      .re_i   (lut_re),
      .raddr_i(lut_raddr),
      .rdata_o(lut_rdata)
    );

    assign lut_re[D-1:0]                = vec_lut_re;
    assign lut_raddr[D*LutAw-1:0]       = vec_lut_addr;
    assign lut_re[D]                    = st_rd_en && st_rd_buf == systole_pkg::BufLut;
    assign lut_raddr[D*LutAw +: LutAw]  = LutAw'(st_rd_row);
    assign lut_store_rdata              = lut_rdata[D*16*D +: 16*D];

    // EXEC has no lanes here.
    logic unused_exec;
    assign unused_exec = ex_b_re ^ ex_we ^ (^ex_b_addr) ^ (^ex_waddr) ^ (^ex_wdata);

    systole_vector #(
      .ArrayDim(ArrayDim),
      .AbufRows(AbufRows),
      .WbufRows(WbufRows),
      .AccRows (AccRows),
      .LutRows (LutRows)
    ) u_vector (
      .clk_i         (clk_i),
      .rst_ni        (rst_ni),
      .clear_i       (soft_reset_i),
      .issue_i       (vector_issue),
      .instr_i       (unit_instr[191:0]),
      .done_o        (vector_done),
      .cycles_o      (vector_cycles_o),
      .abuf_a_re_o   (abuf_re[1]),
      .abuf_a_addr_o (abuf_raddr[1*AbufAw +: AbufAw]),
      .abuf_a_rdata_i(abuf_rdata[1*8*D +: 8*D]),
      .abuf_b_re_o   (abuf_re[2]),
      .abuf_b_addr_o (abuf_raddr[2*AbufAw +: AbufAw]),
      .abuf_b_rdata_i(abuf_rdata[2*8*D +: 8*D]),
      .abuf_we_o     (abuf_we[1]),
      .abuf_waddr_o  (abuf_waddr[1*AbufAw +: AbufAw]),
      .abuf_wdata_o  (abuf_wdata[1*8*D +: 8*D]),
      .wbuf_re_o     (wbuf_re[1]),
      .wbuf_raddr_o  (wbuf_raddr[1*WbufAw +: WbufAw]),
      .wbuf_rdata_i  (wbuf_rdata[1*8*D +: 8*D]),
      .wbuf_we_o     (wbuf_we[1]),
      .wbuf_waddr_o  (wbuf_waddr[1*WbufAw +: WbufAw]),
      .wbuf_wdata_o  (wbuf_wdata[1*8*D +: 8*D]),
      .acc_re_o      (acc_re[1]),
      .acc_raddr_o   (acc_raddr[1*AccAw +: AccAw]),
      .acc_rdata_i   (acc_rdata[1*32*D +: 32*D]),
      .acc_we_o      (acc_we[2]),
      .acc_waddr_o   (acc_waddr[2*AccAw +: AccAw]),
      .acc_wdata_o   (acc_wdata[2*32*D +: 32*D]),
      .lut_re_o      (vec_lut_re),
      .lut_raddr_o   (vec_lut_addr),
      .lut_rdata_i   (lut_rdata[D*16*D-1:0])
    );
  end

endmodule
