// The accelerator behind the register window: fetch, the issue stage, the LOAD, EXEC and STORE
// units and the three buffers. See MICROARCH.md.
module systole_core
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned HbmMb    = 16384
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

  // Fetch and issue.
  logic         instr_valid, instr_fault, instr_pop, fetch_start, fetch_stop;
  logic [255:0] instr;
  logic [255:0] unit_instr;
  logic         load_issue, load_free, load_fault;
  logic         store_issue, store_free, store_fault;
  logic         exec_issue, exec_free, exec_done;
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
    .HbmMb   (HbmMb)
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

  // Buffers. ABUF: written by LOAD (0) and EXEC (1); read by EXEC a (0), EXEC b (1), STORE (2).
  // WBUF: written by LOAD; read by EXEC (0) and STORE (1). ACC: written by LOAD (0) and EXEC (1);
  // read by EXEC (0) and STORE (1).
  logic [1:0]                abuf_we;
  logic [2*AbufAw-1:0]   abuf_waddr;
  logic [2*8*D-1:0]       abuf_wdata;
  logic [2:0]                abuf_re;
  logic [3*AbufAw-1:0]   abuf_raddr;
  logic [3*8*D-1:0]       abuf_rdata;
  logic [0:0]                wbuf_we;
  logic [1*WbufAw-1:0]   wbuf_waddr;
  logic [1*8*D-1:0]       wbuf_wdata;
  logic [1:0]                wbuf_re;
  logic [2*WbufAw-1:0]   wbuf_raddr;
  logic [2*8*D-1:0]       wbuf_rdata;
  logic [1:0]                acc_we;
  logic [2*AccAw-1:0]   acc_waddr;
  logic [2*32*D-1:0]      acc_wdata;
  logic [1:0]                acc_re;
  logic [2*AccAw-1:0]   acc_raddr;
  logic [2*32*D-1:0]      acc_rdata;

  systole_mpram #(.Rows(AbufRows), .Width(8 * D), .NumWrite(2), .NumRead(3)) u_abuf (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .we_i   (abuf_we),
    .waddr_i(abuf_waddr),
    .wdata_i(abuf_wdata),
    .re_i   (abuf_re),
    .raddr_i(abuf_raddr),
    .rdata_o(abuf_rdata)
  );

  systole_mpram #(.Rows(WbufRows), .Width(8 * D), .NumWrite(1), .NumRead(2)) u_wbuf (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .we_i   (wbuf_we),
    .waddr_i(wbuf_waddr),
    .wdata_i(wbuf_wdata),
    .re_i   (wbuf_re),
    .raddr_i(wbuf_raddr),
    .rdata_o(wbuf_rdata)
  );

  systole_mpram #(.Rows(AccRows), .Width(32 * D), .NumWrite(2), .NumRead(2)) u_acc (
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
    .AccRows (AccRows)
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

  // STORE: one read port from the buffer its instruction names.
  logic        st_rd_en;
  logic [1:0]  st_rd_buf;
  logic [15:0] st_rd_row;

  systole_store #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows)
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
    .abuf_rdata_i(abuf_rdata[2*8*D +: 8*D]),
    .wbuf_rdata_i(wbuf_rdata[1*8*D +: 8*D]),
    .acc_rdata_i (acc_rdata[1*32*D +: 32*D])
  );

  assign abuf_re[2]    = st_rd_en && st_rd_buf == systole_pkg::BufAbuf;
  assign abuf_raddr[2*AbufAw +: AbufAw] = AbufAw'(st_rd_row);
  assign wbuf_re[1]    = st_rd_en && st_rd_buf == systole_pkg::BufWbuf;
  assign wbuf_raddr[1*WbufAw +: WbufAw] = WbufAw'(st_rd_row);
  assign acc_re[1]     = st_rd_en && st_rd_buf == systole_pkg::BufAcc;
  assign acc_raddr[1*AccAw +: AccAw]  = AccAw'(st_rd_row);

  // EXEC.
  systole_exec #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows)
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
    .abuf_b_re_o   (abuf_re[1]),
    .abuf_b_addr_o (abuf_raddr[1*AbufAw +: AbufAw]),
    .abuf_b_rdata_i(abuf_rdata[1*8*D +: 8*D]),
    .abuf_we_o     (abuf_we[1]),
    .abuf_waddr_o  (abuf_waddr[1*AbufAw +: AbufAw]),
    .abuf_wdata_o  (abuf_wdata[1*8*D +: 8*D]),
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

endmodule
