// The accelerator as the Vivado IP that a board's block design instantiates
// (bitstreams/u55c/bd.tcl): systole_top with every build parameter of the contract as a
// parameter named after it (ARRAY_ROWS becomes ArrayRows, and so on), the build id, and
// X_INTERFACE_INFO attributes that tell the IP packager which ports form the AXI4-Lite slave,
// the three AXI4 masters, the clock, the reset and the interrupt. The attributes are what the
// packager reads, so the ports keep the project's _i/_o names.
//
// The interrupt leaves in the clock domain of the PCIe core (irq_clk_i), through a two-flop
// synchronizer: irq_o is a level that stays high until the host acknowledges INT_STATUS, so a
// level synchronizer is enough and no edge is lost.
module systole_ip
#(
  parameter int unsigned ArrayRows   = systole_pkg::ArrayRowsDefault,
  parameter int unsigned ArrayCols   = systole_pkg::ArrayColsDefault,
  parameter int unsigned AbufRows    = systole_pkg::AbufRowsDefault,
  parameter int unsigned WbufRows    = systole_pkg::WbufRowsDefault,
  parameter int unsigned AccRows     = systole_pkg::AccRowsDefault,
  parameter int unsigned HbmMb       = systole_pkg::HbmMbDefault,
  parameter int unsigned HbmChannels = systole_pkg::HbmChannelsDefault,
  parameter int unsigned ClockKhz    = systole_pkg::ClockKhzDefault,
  parameter int unsigned VectorUnit  = systole_pkg::VectorUnitDefault,
  parameter int unsigned LutRows     = systole_pkg::LutRowsDefault,
  parameter int unsigned BuildId     = 0
) (
  (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 clk_i CLK" *)
  (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axil:m_fetch:m_load:m_store, ASSOCIATED_RESET rst_ni" *)
  input  logic         clk_i,
  (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 rst_ni RST" *)
  (* X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)
  input  logic         rst_ni,

  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil AWVALID" *)
  (* X_INTERFACE_PARAMETER = "PROTOCOL AXI4LITE, DATA_WIDTH 32, ADDR_WIDTH 12" *)
  input  logic         s_axil_awvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil AWREADY" *)
  output logic         s_axil_awready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil AWADDR" *)
  input  logic [11:0]  s_axil_awaddr_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil WVALID" *)
  input  logic         s_axil_wvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil WREADY" *)
  output logic         s_axil_wready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil WDATA" *)
  input  logic [31:0]  s_axil_wdata_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil WSTRB" *)
  input  logic [3:0]   s_axil_wstrb_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil BVALID" *)
  output logic         s_axil_bvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil BREADY" *)
  input  logic         s_axil_bready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil BRESP" *)
  output logic [1:0]   s_axil_bresp_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil ARVALID" *)
  input  logic         s_axil_arvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil ARREADY" *)
  output logic         s_axil_arready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil ARADDR" *)
  input  logic [11:0]  s_axil_araddr_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil RVALID" *)
  output logic         s_axil_rvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil RREADY" *)
  input  logic         s_axil_rready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil RDATA" *)
  output logic [31:0]  s_axil_rdata_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 s_axil RRESP" *)
  output logic [1:0]   s_axil_rresp_o,

  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARVALID" *)
  (* X_INTERFACE_PARAMETER = "PROTOCOL AXI4, READ_WRITE_MODE READ_ONLY, DATA_WIDTH 256, ADDR_WIDTH 64, MAX_BURST_LENGTH 16" *)
  output logic         m_fetch_arvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARREADY" *)
  input  logic         m_fetch_arready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARADDR" *)
  output logic [63:0]  m_fetch_araddr_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARLEN" *)
  output logic [7:0]   m_fetch_arlen_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARSIZE" *)
  output logic [2:0]   m_fetch_arsize_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch ARBURST" *)
  output logic [1:0]   m_fetch_arburst_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch RVALID" *)
  input  logic         m_fetch_rvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch RREADY" *)
  output logic         m_fetch_rready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch RDATA" *)
  input  logic [255:0] m_fetch_rdata_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch RRESP" *)
  input  logic [1:0]   m_fetch_rresp_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_fetch RLAST" *)
  input  logic         m_fetch_rlast_i,

  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARVALID" *)
  (* X_INTERFACE_PARAMETER = "PROTOCOL AXI4, READ_WRITE_MODE READ_ONLY, DATA_WIDTH 256, ADDR_WIDTH 64, MAX_BURST_LENGTH 16" *)
  output logic         m_load_arvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARREADY" *)
  input  logic         m_load_arready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARADDR" *)
  output logic [63:0]  m_load_araddr_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARLEN" *)
  output logic [7:0]   m_load_arlen_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARSIZE" *)
  output logic [2:0]   m_load_arsize_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load ARBURST" *)
  output logic [1:0]   m_load_arburst_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load RVALID" *)
  input  logic         m_load_rvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load RREADY" *)
  output logic         m_load_rready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load RDATA" *)
  input  logic [255:0] m_load_rdata_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load RRESP" *)
  input  logic [1:0]   m_load_rresp_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_load RLAST" *)
  input  logic         m_load_rlast_i,

  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWVALID" *)
  (* X_INTERFACE_PARAMETER = "PROTOCOL AXI4, READ_WRITE_MODE WRITE_ONLY, DATA_WIDTH 256, ADDR_WIDTH 64, MAX_BURST_LENGTH 16" *)
  output logic         m_store_awvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWREADY" *)
  input  logic         m_store_awready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWADDR" *)
  output logic [63:0]  m_store_awaddr_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWLEN" *)
  output logic [7:0]   m_store_awlen_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWSIZE" *)
  output logic [2:0]   m_store_awsize_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store AWBURST" *)
  output logic [1:0]   m_store_awburst_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store WVALID" *)
  output logic         m_store_wvalid_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store WREADY" *)
  input  logic         m_store_wready_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store WDATA" *)
  output logic [255:0] m_store_wdata_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store WSTRB" *)
  output logic [31:0]  m_store_wstrb_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store WLAST" *)
  output logic         m_store_wlast_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store BVALID" *)
  input  logic         m_store_bvalid_i,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store BREADY" *)
  output logic         m_store_bready_o,
  (* X_INTERFACE_INFO = "xilinx.com:interface:aximm:1.0 m_store BRESP" *)
  input  logic [1:0]   m_store_bresp_i,

  (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 irq_clk_i CLK" *)
  input  logic         irq_clk_i,
  (* X_INTERFACE_INFO = "xilinx.com:signal:interrupt:1.0 irq_o INTERRUPT" *)
  (* X_INTERFACE_PARAMETER = "SENSITIVITY LEVEL_HIGH" *)
  output logic         irq_o
);

  // The contract's array is square in 1.x; systole_top takes one dimension.
  if (ArrayRows != ArrayCols) begin : gen_square
    $error("systole_ip: ArrayRows (%0d) must equal ArrayCols (%0d) in contract 1.x",
           ArrayRows, ArrayCols);
  end

  // A build without the vector unit has no LUT (contract 2); one with it has at least one table.
  if (VectorUnit > 1 || (VectorUnit == 0 && LutRows != 0)
      || (VectorUnit == 1 && (LutRows < (255 + ArrayRows) / ArrayRows || LutRows > 4096))) begin
      : gen_vector_params
    $error("systole_ip: VectorUnit %0d with LutRows %0d: expected VectorUnit 0 with LutRows 0, or 1 with LutRows from one table (%0d) to 4096",
           VectorUnit, LutRows, (255 + ArrayRows) / ArrayRows);
  end

  logic irq_core;
  logic unused_busy;

  systole_top #(
    .ArrayDim   (ArrayRows),
    .AbufRows   (AbufRows),
    .WbufRows   (WbufRows),
    .AccRows    (AccRows),
    .HbmMb      (HbmMb),
    .HbmChannels(HbmChannels),
    .ClockKhz   (ClockKhz),
    .VectorUnit (VectorUnit),
    .LutRows    (LutRows),
    .BuildId    (BuildId)
  ) u_top (
    .clk_i            (clk_i),
    .rst_ni           (rst_ni),
    .s_axil_awvalid_i (s_axil_awvalid_i),
    .s_axil_awready_o (s_axil_awready_o),
    .s_axil_awaddr_i  (s_axil_awaddr_i),
    .s_axil_wvalid_i  (s_axil_wvalid_i),
    .s_axil_wready_o  (s_axil_wready_o),
    .s_axil_wdata_i   (s_axil_wdata_i),
    .s_axil_wstrb_i   (s_axil_wstrb_i),
    .s_axil_bvalid_o  (s_axil_bvalid_o),
    .s_axil_bready_i  (s_axil_bready_i),
    .s_axil_bresp_o   (s_axil_bresp_o),
    .s_axil_arvalid_i (s_axil_arvalid_i),
    .s_axil_arready_o (s_axil_arready_o),
    .s_axil_araddr_i  (s_axil_araddr_i),
    .s_axil_rvalid_o  (s_axil_rvalid_o),
    .s_axil_rready_i  (s_axil_rready_i),
    .s_axil_rdata_o   (s_axil_rdata_o),
    .s_axil_rresp_o   (s_axil_rresp_o),
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
    .m_store_bresp_i  (m_store_bresp_i),
    .irq_o            (irq_core),
    .busy_o           (unused_busy)
  );

  // Two flops into the PCIe clock domain; ASYNC_REG keeps them together and out of retiming.
  (* ASYNC_REG = "TRUE" *) logic irq_meta_q, irq_sync_q;

  always_ff @(posedge irq_clk_i) begin
    irq_meta_q <= irq_core;
    irq_sync_q <= irq_meta_q;
  end

  assign irq_o = irq_sync_q;

`ifndef SYNTHESIS
  // The AXI rule the block design's interconnects rely on, at the IP's boundary: a channel
  // that raises VALID keeps it, and keeps its payload, until the handshake. (The units that drive
  // the channels check the same inside; these hold for whatever systole_top becomes.)
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  FetchArHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_fetch_arvalid_o && !m_fetch_arready_i
      |=> m_fetch_arvalid_o && $stable({m_fetch_araddr_o, m_fetch_arlen_o}))
    else $error("systole_ip: fetch AR dropped or changed before AR ready");
  LoadArHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_load_arvalid_o && !m_load_arready_i
      |=> m_load_arvalid_o && $stable({m_load_araddr_o, m_load_arlen_o}))
    else $error("systole_ip: load AR dropped or changed before AR ready");
  StoreAwHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_store_awvalid_o && !m_store_awready_i
      |=> m_store_awvalid_o && $stable({m_store_awaddr_o, m_store_awlen_o}))
    else $error("systole_ip: store AW dropped or changed before AW ready");
  StoreWHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_store_wvalid_o && !m_store_wready_i
      |=> m_store_wvalid_o && $stable({m_store_wdata_o, m_store_wstrb_o, m_store_wlast_o}))
    else $error("systole_ip: store W dropped or changed before W ready");
  RegReadHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_rvalid_o && !s_axil_rready_i
      |=> s_axil_rvalid_o && $stable({s_axil_rdata_o, s_axil_rresp_o}))
    else $error("systole_ip: register read data dropped or changed before R ready");
  RegWriteHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_bvalid_o && !s_axil_bready_i
      |=> s_axil_bvalid_o && $stable(s_axil_bresp_o))
    else $error("systole_ip: register write response dropped or changed before B ready");
`endif

endmodule
