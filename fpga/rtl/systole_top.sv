// The accelerator: the register window (systole_regs) on an AXI4-Lite slave, the core
// (systole_core) with its three AXI4 masters toward HBM, and the interrupt line.
//
// The masters follow MICROARCH.md: m_fetch_* and m_load_* read, m_store_* writes; 64-bit
// addresses, 256-bit data, INCR bursts of at most 16 beats that never cross 4 KiB, one ID.
module systole_top
#(
  parameter int unsigned ArrayDim    = systole_pkg::ArrayRowsDefault,
  parameter int unsigned AbufRows    = systole_pkg::AbufRowsDefault,
  parameter int unsigned WbufRows    = systole_pkg::WbufRowsDefault,
  parameter int unsigned AccRows     = systole_pkg::AccRowsDefault,
  parameter int unsigned HbmMb       = systole_pkg::HbmMbDefault,
  parameter int unsigned HbmChannels = systole_pkg::HbmChannelsDefault,
  parameter int unsigned ClockKhz    = systole_pkg::ClockKhzDefault,
  // VectorUnit = 1 builds the VECTOR unit and a LUT of LutRows rows; with 0, LutRows must be 0.
  parameter int unsigned VectorUnit  = systole_pkg::VectorUnitDefault,
  parameter int unsigned LutRows     = systole_pkg::LutRowsDefault,
  parameter int unsigned BuildId     = 0
) (
  input  logic         clk_i,
  input  logic         rst_ni,

  // AXI4-Lite slave: the register window
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

  // AXI4 master: instruction fetch (read only)
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

  // AXI4 master: LOAD (read only)
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

  // AXI4 master: STORE (write only)
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
  input  logic [1:0]   m_store_bresp_i,

  output logic         irq_o,
  output logic         busy_o
);

  logic        start, soft_reset;
  logic [63:0] prog_addr;
  logic [31:0] prog_len;
  logic        run_end;
  logic [7:0]  run_error;
  logic [31:0] run_error_pc;
  logic [31:0] pc;
  logic        instret;
  logic [16:0] array_rows;
  logic        stall;
  logic [47:0] bytes_read, bytes_written;
  logic [23:0] vector_cycles;

  systole_regs #(
    .ArrayDim   (ArrayDim),
    .AbufRows   (AbufRows),
    .WbufRows   (WbufRows),
    .AccRows    (AccRows),
    .HbmMb      (HbmMb),
    .HbmChannels(HbmChannels),
    .ClockKhz   (ClockKhz),
    .VectorUnit (VectorUnit),
    .LutRows    (LutRows),
    .BuildId    (BuildId)
  ) u_regs (
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
    .start_o         (start),
    .soft_reset_o    (soft_reset),
    .prog_addr_o     (prog_addr),
    .prog_len_o      (prog_len),
    .busy_o          (busy_o),
    .run_end_i       (run_end),
    .run_error_i     (run_error),
    .run_error_pc_i  (run_error_pc),
    .pc_i            (pc),
    .instret_i       (instret),
    .array_rows_i    (array_rows),
    .stall_i         (stall),
    .bytes_read_i    (bytes_read),
    .bytes_written_i (bytes_written),
    .vector_cycles_i (vector_cycles),
    .irq_o           (irq_o)
  );

  systole_core #(
    .ArrayDim  (ArrayDim),
    .AbufRows  (AbufRows),
    .WbufRows  (WbufRows),
    .AccRows   (AccRows),
    .HbmMb     (HbmMb),
    .VectorUnit(VectorUnit),
    .LutRows   (LutRows)
  ) u_core (
    .clk_i            (clk_i),
    .rst_ni           (rst_ni),
    .start_i          (start),
    .soft_reset_i     (soft_reset),
    .prog_addr_i      (prog_addr),
    .prog_len_i       (prog_len),
    .run_end_o        (run_end),
    .run_error_o      (run_error),
    .run_error_pc_o   (run_error_pc),
    .pc_o             (pc),
    .instret_o        (instret),
    .array_rows_o     (array_rows),
    .stall_o          (stall),
    .bytes_read_o     (bytes_read),
    .bytes_written_o  (bytes_written),
    .vector_cycles_o  (vector_cycles),
    .m_fetch_arvalid_o(m_fetch_arvalid_o),
    .m_fetch_arready_i(m_fetch_arready_i),
    .m_fetch_araddr_o (m_fetch_araddr_o),
    .m_fetch_arlen_o  (m_fetch_arlen_o),
    .m_fetch_arsize_o (m_fetch_arsize_o),
    .m_fetch_arburst_o(m_fetch_arburst_o),
    .m_fetch_rvalid_i (m_fetch_rvalid_i),
    .m_fetch_rready_o (m_fetch_rready_o),
    .m_fetch_rdata_i  (m_fetch_rdata_i),
    .m_fetch_rresp_i  (m_fetch_rresp_i),
    .m_fetch_rlast_i  (m_fetch_rlast_i),
    .m_load_arvalid_o (m_load_arvalid_o),
    .m_load_arready_i (m_load_arready_i),
    .m_load_araddr_o  (m_load_araddr_o),
    .m_load_arlen_o   (m_load_arlen_o),
    .m_load_arsize_o  (m_load_arsize_o),
    .m_load_arburst_o (m_load_arburst_o),
    .m_load_rvalid_i  (m_load_rvalid_i),
    .m_load_rready_o  (m_load_rready_o),
    .m_load_rdata_i   (m_load_rdata_i),
    .m_load_rresp_i   (m_load_rresp_i),
    .m_load_rlast_i   (m_load_rlast_i),
    .m_store_awvalid_o(m_store_awvalid_o),
    .m_store_awready_i(m_store_awready_i),
    .m_store_awaddr_o (m_store_awaddr_o),
    .m_store_awlen_o  (m_store_awlen_o),
    .m_store_awsize_o (m_store_awsize_o),
    .m_store_awburst_o(m_store_awburst_o),
    .m_store_wvalid_o (m_store_wvalid_o),
    .m_store_wready_i (m_store_wready_i),
    .m_store_wdata_o  (m_store_wdata_o),
    .m_store_wstrb_o  (m_store_wstrb_o),
    .m_store_wlast_o  (m_store_wlast_o),
    .m_store_bvalid_i (m_store_bvalid_i),
    .m_store_bready_o (m_store_bready_o),
    .m_store_bresp_i  (m_store_bresp_i)
  );

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them). The
  // AXI channels are checked where they are driven: the masters in systole_fetch, systole_load
  // and systole_store, the AXI4-Lite slave in systole_regs.
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // No X after reset on the handshake and interrupt outputs, nor on a payload while its VALID is
  // high. Verilator simulates two states, where $isunknown is always 0 and these checks are
  // vacuous (an X becomes 0 or, with --x-assign/--x-initial unique, a random value that the
  // protocol checks of the masters and the unit benches see); a four-state simulator runs them.
  ControlKnown: assert property (@(posedge clk_i) disable iff (!chk_q)
      !$isunknown({s_axil_awready_o, s_axil_wready_o, s_axil_bvalid_o, s_axil_arready_o,
                   s_axil_rvalid_o, m_fetch_arvalid_o, m_fetch_rready_o, m_load_arvalid_o,
                   m_load_rready_o, m_store_awvalid_o, m_store_wvalid_o, m_store_bready_o, irq_o,
                   busy_o}))
    else $error("systole_top: X on a VALID, READY, irq_o or busy_o after reset");
  PayloadKnown: assert property (@(posedge clk_i) disable iff (!chk_q)
      !$isunknown({s_axil_rvalid_o ? {s_axil_rdata_o, s_axil_rresp_o} : 34'd0,
                   s_axil_bvalid_o ? s_axil_bresp_o : 2'd0,
                   m_fetch_arvalid_o ? {m_fetch_araddr_o, m_fetch_arlen_o, m_fetch_arsize_o,
                                        m_fetch_arburst_o} : 77'd0,
                   m_load_arvalid_o ? {m_load_araddr_o, m_load_arlen_o, m_load_arsize_o,
                                       m_load_arburst_o} : 77'd0,
                   m_store_awvalid_o ? {m_store_awaddr_o, m_store_awlen_o, m_store_awsize_o,
                                        m_store_awburst_o} : 77'd0,
                   m_store_wvalid_o ? {m_store_wdata_o, m_store_wstrb_o, m_store_wlast_o}
                                    : 289'd0}))
    else $error("systole_top: X on the payload of a channel whose VALID is high");
`endif

endmodule
