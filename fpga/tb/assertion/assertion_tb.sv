// Testbench top for the assertion bench (tb.cpp): small instances of modules whose assertions
// the bench can violate from their inputs, side by side, each driven on its own ports. A FIFO of
// 4 entries, a RAM of 48 rows (not a power of two, so an address can be out of range), the
// register window (an AXI4-Lite slave), instruction fetch (an AXI4 read master) and a 4 x 4 array.
module assertion_tb (
  input  logic         clk_i,
  input  logic         rst_ni,

  // systole_fifo #(Width 8, Depth 4)
  input  logic         fifo_push_i,
  input  logic [7:0]   fifo_wdata_i,
  input  logic         fifo_pop_i,
  output logic         fifo_valid_o,
  output logic [7:0]   fifo_rdata_o,
  output logic [2:0]   fifo_count_o,

  // systole_ram #(Rows 48, Width 8)
  input  logic         ram_we_i,
  input  logic [5:0]   ram_waddr_i,
  input  logic [7:0]   ram_wdata_i,
  input  logic         ram_re_i,
  input  logic [5:0]   ram_raddr_i,
  output logic [7:0]   ram_rdata_o,

  // systole_regs: the AXI4-Lite slave (the core side is tied off: no runs end)
  input  logic         s_axil_awvalid_i,
  output logic         s_axil_awready_o,
  input  logic [11:0]  s_axil_awaddr_i,
  input  logic         s_axil_wvalid_i,
  output logic         s_axil_wready_o,
  input  logic [31:0]  s_axil_wdata_i,
  input  logic [3:0]   s_axil_wstrb_i,
  output logic         s_axil_bvalid_o,
  input  logic         s_axil_bready_i,
  output logic [1:0]   s_axil_bresp_o,
  input  logic         s_axil_arvalid_i,
  output logic         s_axil_arready_o,
  input  logic [11:0]  s_axil_araddr_i,
  output logic         s_axil_rvalid_o,
  input  logic         s_axil_rready_i,
  output logic [31:0]  s_axil_rdata_o,
  output logic [1:0]   s_axil_rresp_o,

  // systole_fetch #(Depth 8, MaxBurst 4)
  input  logic         fetch_start_i,
  input  logic [63:0]  fetch_prog_addr_i,
  input  logic [31:0]  fetch_prog_len_i,
  input  logic         fetch_stop_i,
  output logic         fetch_arvalid_o,
  input  logic         fetch_arready_i,
  output logic [63:0]  fetch_araddr_o,
  output logic [7:0]   fetch_arlen_o,
  input  logic         fetch_rvalid_i,
  input  logic [255:0] fetch_rdata_i,
  input  logic         fetch_rlast_i,
  output logic         fetch_instr_valid_o,
  output logic [255:0] fetch_instr_o,
  input  logic         fetch_instr_pop_i,

  // systole_array #(ArrayDim 4)
  input  logic         arr_clear_i,
  input  logic         arr_in_valid_i,
  input  logic         arr_in_bank_i,
  input  logic [31:0]  arr_in_data_i,
  input  logic         arr_w_first_i,
  input  logic         arr_w_bank_i,
  input  logic [31:0]  arr_w_data_i,
  output logic         arr_out_valid_o,
  output logic [127:0] arr_out_data_o
);

  systole_fifo #(
    .Width(8),
    .Depth(4)
  ) u_fifo (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .flush_i(1'b0),
    .push_i (fifo_push_i),
    .wdata_i(fifo_wdata_i),
    .pop_i  (fifo_pop_i),
    .valid_o(fifo_valid_o),
    .rdata_o(fifo_rdata_o),
    .count_o(fifo_count_o)
  );

  systole_ram #(
    .Rows (48),
    .Width(8)
  ) u_ram (
    .clk_i  (clk_i),
    .we_i   (ram_we_i),
    .waddr_i(ram_waddr_i),
    .wdata_i(ram_wdata_i),
    .re_i   (ram_re_i),
    .raddr_i(ram_raddr_i),
    .rdata_o(ram_rdata_o)
  );

  logic        unused_regs;
  logic        regs_start, regs_soft_reset, regs_busy, regs_irq;
  logic [63:0] regs_prog_addr;
  logic [31:0] regs_prog_len;
  assign unused_regs = ^{regs_start, regs_soft_reset, regs_busy, regs_irq, regs_prog_addr,
                         regs_prog_len};

  systole_regs u_regs (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awvalid_i(s_axil_awvalid_i),
    .s_axil_awready_o(s_axil_awready_o),
    .s_axil_awaddr_i (s_axil_awaddr_i),
    .s_axil_wvalid_i (s_axil_wvalid_i),
    .s_axil_wready_o (s_axil_wready_o),
    .s_axil_wdata_i  (s_axil_wdata_i),
    .s_axil_wstrb_i  (s_axil_wstrb_i),
    .s_axil_bvalid_o (s_axil_bvalid_o),
    .s_axil_bready_i (s_axil_bready_i),
    .s_axil_bresp_o  (s_axil_bresp_o),
    .s_axil_arvalid_i(s_axil_arvalid_i),
    .s_axil_arready_o(s_axil_arready_o),
    .s_axil_araddr_i (s_axil_araddr_i),
    .s_axil_rvalid_o (s_axil_rvalid_o),
    .s_axil_rready_i (s_axil_rready_i),
    .s_axil_rdata_o  (s_axil_rdata_o),
    .s_axil_rresp_o  (s_axil_rresp_o),
    .start_o         (regs_start),
    .soft_reset_o    (regs_soft_reset),
    .prog_addr_o     (regs_prog_addr),
    .prog_len_o      (regs_prog_len),
    .busy_o          (regs_busy),
    .run_end_i       (1'b0),
    .run_error_i     (8'd0),
    .run_error_pc_i  (32'd0),
    .pc_i            (32'd0),
    .instret_i       (1'b0),
    .array_rows_i    (17'd0),
    .stall_i         (1'b0),
    .bytes_read_i    (48'd0),
    .bytes_written_i (48'd0),
    .irq_o           (regs_irq)
  );

  logic       unused_fetch;
  logic [2:0] fetch_arsize;
  logic [1:0] fetch_arburst;
  logic       fetch_rready, fetch_instr_fault;
  assign unused_fetch = ^{fetch_arsize, fetch_arburst, fetch_rready, fetch_instr_fault};

  systole_fetch #(
    .Depth   (8),
    .MaxBurst(4)
  ) u_fetch (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .start_i      (fetch_start_i),
    .prog_addr_i  (fetch_prog_addr_i),
    .prog_len_i   (fetch_prog_len_i),
    .stop_i       (fetch_stop_i),
    .m_arvalid_o  (fetch_arvalid_o),
    .m_arready_i  (fetch_arready_i),
    .m_araddr_o   (fetch_araddr_o),
    .m_arlen_o    (fetch_arlen_o),
    .m_arsize_o   (fetch_arsize),
    .m_arburst_o  (fetch_arburst),
    .m_rvalid_i   (fetch_rvalid_i),
    .m_rready_o   (fetch_rready),
    .m_rdata_i    (fetch_rdata_i),
    .m_rresp_i    (2'b00),
    .m_rlast_i    (fetch_rlast_i),
    .instr_valid_o(fetch_instr_valid_o),
    .instr_o      (fetch_instr_o),
    .instr_fault_o(fetch_instr_fault),
    .instr_pop_i  (fetch_instr_pop_i)
  );

  logic unused_arr;
  logic arr_pre_valid, arr_pre_tag, arr_out_tag;
  assign unused_arr = ^{arr_pre_valid, arr_pre_tag, arr_out_tag};

  systole_array #(
    .ArrayDim(4),
    .TagWidth(1)
  ) u_array (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .clear_i    (arr_clear_i),
    .in_valid_i (arr_in_valid_i),
    .in_bank_i  (arr_in_bank_i),
    .in_tag_i   (1'b0),
    .in_data_i  (arr_in_data_i),
    .w_first_i  (arr_w_first_i),
    .w_bank_i   (arr_w_bank_i),
    .w_data_i   (arr_w_data_i),
    .pre_valid_o(arr_pre_valid),
    .pre_tag_o  (arr_pre_tag),
    .out_valid_o(arr_out_valid_o),
    .out_tag_o  (arr_out_tag),
    .out_data_o (arr_out_data_o)
  );

endmodule
