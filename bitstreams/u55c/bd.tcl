# The block design of the U55C build, as TCL (not a binary .bd): the XDMA PCIe subsystem, the
# HBM subsystem, the accelerator IP, their clocks and resets, and the interconnect between them.
# Every number that the host relies on (the register window's place on the AXI-Lite BAR, the
# HBM address map, the accelerator's parameters and build id) comes from the systole namespace
# of the build's params.tcl, which is generated from the contract; nothing here repeats one.
#
#   pcie_refclk ─ IBUFDSGTE ─ XDMA (Gen3 x16, AXI-MM, 250 MHz) ── M_AXI_LITE ─ SmartConnect ─ s_axil
#                                 │  usr_irq_req[0] ◄── irq_o (synchronised in systole_ip)   │
#                                 └─ M_AXI ─ SmartConnect ─ SAXI_00 ┐                        │
#   sys_clk ─ clocking wizard ─ kernel clock ─ systole_ip ─ m_fetch ─ SAXI_08 ├─ HBM (2 stacks, 16 GiB,
#                                              (+ reset)    m_load  ─ SAXI_16 │  32 pseudo-channels,
#                                                           m_store ─ SAXI_24 ┘  global switch on)
#   hbm_refclk ─ IBUFDS ─ HBM reference and APB clocks; cattrip ◄─ OR of both stacks' CATTRIP

namespace eval systole {}

# The HBM ports the masters use: one each, so that no two share a port's bandwidth. With the
# HBM's global address switch on, every port reaches every pseudo-channel at the same address.
set systole::hbm_ports {xdma/M_AXI 00 systole/m_fetch 08 systole/m_load 16 systole/m_store 24}

proc systole::create_bd {name} {
  create_bd_design $name

  # ---- Ports of the card ----
  set pcie_refclk [create_bd_intf_port -mode Slave -vlnv xilinx.com:interface:diff_clock_rtl:1.0 pcie_refclk]
  set_property CONFIG.FREQ_HZ 100000000 $pcie_refclk
  create_bd_intf_port -mode Master -vlnv xilinx.com:interface:pcie_7x_mgt_rtl:1.0 pci_express
  set perst [create_bd_port -dir I -type rst pcie_perstn]
  set_property CONFIG.POLARITY ACTIVE_LOW $perst
  set hbm_refclk [create_bd_intf_port -mode Slave -vlnv xilinx.com:interface:diff_clock_rtl:1.0 hbm_refclk]
  set_property CONFIG.FREQ_HZ 100000000 $hbm_refclk
  set sys_clk [create_bd_intf_port -mode Slave -vlnv xilinx.com:interface:diff_clock_rtl:1.0 sys_clk]
  set_property CONFIG.FREQ_HZ 100000000 $sys_clk
  create_bd_port -dir O hbm_cattrip

  # ---- PCIe: the XDMA core ----
  set refbuf [create_bd_cell -type ip -vlnv xilinx.com:ip:util_ds_buf:2.2 pcie_refclk_buf]
  set_property CONFIG.C_BUF_TYPE IBUFDSGTE $refbuf
  set xdma [create_bd_cell -type ip -vlnv xilinx.com:ip:xdma:4.1 xdma]
  set_property -dict [list \
    CONFIG.functional_mode DMA \
    CONFIG.mode_selection Advanced \
    CONFIG.pcie_blk_locn PCIE4C_X1Y0 \
    CONFIG.select_quad GTY_Quad_227 \
    CONFIG.pl_link_cap_max_link_width X16 \
    CONFIG.pl_link_cap_max_link_speed 8.0_GT/s \
    CONFIG.axi_data_width 512_bit \
    CONFIG.axisten_freq 250 \
    CONFIG.xdma_axi_intf_mm AXI_Memory_Mapped \
    CONFIG.pf0_device_id 903F \
    CONFIG.xdma_rnum_chnl 1 \
    CONFIG.xdma_wnum_chnl 1 \
    CONFIG.xdma_num_usr_irq 1 \
    CONFIG.axilite_master_en true \
    CONFIG.axilite_master_size 1 \
    CONFIG.axilite_master_scale Megabytes \
    CONFIG.pciebar2axibar_axil_master $systole::register_window_offset \
    CONFIG.sys_reset_polarity ACTIVE_LOW \
  ] $xdma
  connect_bd_intf_net [get_bd_intf_ports pcie_refclk] [get_bd_intf_pins pcie_refclk_buf/CLK_IN_D]
  connect_bd_net [get_bd_pins pcie_refclk_buf/IBUF_DS_ODIV2] [get_bd_pins xdma/sys_clk]
  connect_bd_net [get_bd_pins pcie_refclk_buf/IBUF_OUT] [get_bd_pins xdma/sys_clk_gt]
  connect_bd_net [get_bd_ports pcie_perstn] [get_bd_pins xdma/sys_rst_n]
  connect_bd_intf_net [get_bd_intf_pins xdma/pcie_mgt] [get_bd_intf_ports pci_express]

  # ---- The kernel clock, at the contract's CLOCK_KHZ, and its reset ----
  set clk [create_bd_cell -type ip -vlnv xilinx.com:ip:clk_wiz:6.0 kernel_clk]
  set_property -dict [list \
    CONFIG.PRIM_SOURCE Differential_clock_capable_pin \
    CONFIG.PRIM_IN_FREQ 100.000 \
    CONFIG.CLKOUT1_REQUESTED_OUT_FREQ $systole::clock_mhz \
    CONFIG.USE_LOCKED true \
    CONFIG.USE_RESET false \
  ] $clk
  connect_bd_intf_net [get_bd_intf_ports sys_clk] [get_bd_intf_pins kernel_clk/CLK_IN1_D]
  set rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 kernel_reset]
  connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins kernel_reset/slowest_sync_clk]
  connect_bd_net [get_bd_pins kernel_clk/locked] [get_bd_pins kernel_reset/dcm_locked]
  connect_bd_net [get_bd_pins xdma/axi_aresetn] [get_bd_pins kernel_reset/ext_reset_in]

  # ---- HBM: both stacks, 16 GiB, reference and APB clocks from the card's 100 MHz ----
  set hbmbuf [create_bd_cell -type ip -vlnv xilinx.com:ip:util_ds_buf:2.2 hbm_refclk_buf]
  set_property CONFIG.C_BUF_TYPE IBUFDS $hbmbuf
  connect_bd_intf_net [get_bd_intf_ports hbm_refclk] [get_bd_intf_pins hbm_refclk_buf/CLK_IN_D]
  set apb_rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 hbm_apb_reset]
  connect_bd_net [get_bd_pins hbm_refclk_buf/IBUF_OUT] [get_bd_pins hbm_apb_reset/slowest_sync_clk]
  connect_bd_net [get_bd_ports pcie_perstn] [get_bd_pins hbm_apb_reset/ext_reset_in]
  set hbm [create_bd_cell -type ip -vlnv xilinx.com:ip:hbm:1.0 hbm]
  set config [list \
    CONFIG.USER_HBM_DENSITY 16GB \
    CONFIG.USER_HBM_STACK 2 \
    CONFIG.USER_SWITCH_ENABLE_00 TRUE \
    CONFIG.USER_SWITCH_ENABLE_01 TRUE \
    CONFIG.USER_APB_EN false \
    CONFIG.USER_HBM_REF_CLK_0 100 \
    CONFIG.USER_HBM_REF_CLK_1 100 \
    CONFIG.USER_CLK_SEL_LIST0 AXI_00_ACLK \
    CONFIG.USER_CLK_SEL_LIST1 AXI_16_ACLK \
  ]
  for {set p 0} {$p < $systole::hbm_channels} {incr p} {
    set used [expr {[lsearch -exact [dict values $systole::hbm_ports] [format %02d $p]] >= 0}]
    lappend config CONFIG.USER_SAXI_[format %02d $p] [expr {$used ? "true" : "false"}]
  }
  set_property -dict $config $hbm
  foreach stack {0 1} {
    connect_bd_net [get_bd_pins hbm_refclk_buf/IBUF_OUT] [get_bd_pins hbm/HBM_REF_CLK_$stack]
    connect_bd_net [get_bd_pins hbm_refclk_buf/IBUF_OUT] [get_bd_pins hbm/APB_${stack}_PCLK]
    connect_bd_net [get_bd_pins hbm_apb_reset/peripheral_aresetn] [get_bd_pins hbm/APB_${stack}_PRESET_N]
  }
  # The catastrophic-temperature pin: high shuts the card's power down, so it is the OR of both
  # stacks' CATTRIP, and low otherwise.
  set cattrip [create_bd_cell -type ip -vlnv xilinx.com:ip:util_vector_logic:2.0 hbm_cattrip_or]
  set_property -dict [list CONFIG.C_SIZE 1 CONFIG.C_OPERATION or] $cattrip
  connect_bd_net [get_bd_pins hbm/DRAM_0_STAT_CATTRIP] [get_bd_pins hbm_cattrip_or/Op1]
  connect_bd_net [get_bd_pins hbm/DRAM_1_STAT_CATTRIP] [get_bd_pins hbm_cattrip_or/Op2]
  connect_bd_net [get_bd_pins hbm_cattrip_or/Res] [get_bd_ports hbm_cattrip]

  # ---- The accelerator, with every contract parameter and the build id ----
  set acc [create_bd_cell -type ip -vlnv systole.dev:systole:systole_ip:1.0 systole]
  set acc_config [list CONFIG.BuildId [expr {$systole::build_id}]]
  foreach {param ip} $systole::ip_params {
    set value [dict get $systole::params $param]
    if {[llength [list_property $acc CONFIG.$ip]] > 0} {
      lappend acc_config CONFIG.$ip $value
    } elseif {$value != [dict get $systole::param_defaults $param]} {
      error "contract parameter $param = $value, but systole_ip has no parameter $ip to build\
        it with (its default, [dict get $systole::param_defaults $param], is the only value this\
        RTL can have)"
    } else {
      puts "systole: systole_ip has no parameter $ip; $param is built at its default, $value"
    }
  }
  set_property -dict $acc_config $acc
  connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins systole/clk_i]
  connect_bd_net [get_bd_pins kernel_reset/peripheral_aresetn] [get_bd_pins systole/rst_ni]
  connect_bd_net [get_bd_pins xdma/axi_aclk] [get_bd_pins systole/irq_clk_i]
  connect_bd_net [get_bd_pins systole/irq_o] [get_bd_pins xdma/usr_irq_req]

  # ---- Interconnect ----
  # The register window: XDMA's AXI-Lite master (PCIe clock) to the accelerator (kernel clock).
  set sc [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect:1.0 axil_sc]
  set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI 1 CONFIG.NUM_CLKS 2] $sc
  connect_bd_intf_net [get_bd_intf_pins xdma/M_AXI_LITE] [get_bd_intf_pins axil_sc/S00_AXI]
  connect_bd_intf_net [get_bd_intf_pins axil_sc/M00_AXI] [get_bd_intf_pins systole/s_axil]
  connect_bd_net [get_bd_pins xdma/axi_aclk] [get_bd_pins axil_sc/aclk]
  connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins axil_sc/aclk1]
  connect_bd_net [get_bd_pins xdma/axi_aresetn] [get_bd_pins axil_sc/aresetn]
  # Each master to its own HBM port, the HBM's AXI side on the kernel clock; XDMA's through a
  # clock (and 512 to 256-bit width) conversion.
  foreach {master port} $systole::hbm_ports {
    set sc_name [string map {/ _} $master]_sc
    set from_pcie [string equal $master xdma/M_AXI]
    set sc [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect:1.0 $sc_name]
    set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI 1 CONFIG.NUM_CLKS [expr {$from_pcie ? 2 : 1}]] $sc
    connect_bd_intf_net [get_bd_intf_pins $master] [get_bd_intf_pins $sc_name/S00_AXI]
    connect_bd_intf_net [get_bd_intf_pins $sc_name/M00_AXI] [get_bd_intf_pins hbm/SAXI_$port]
    if {$from_pcie} {
      connect_bd_net [get_bd_pins xdma/axi_aclk] [get_bd_pins $sc_name/aclk]
      connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins $sc_name/aclk1]
      connect_bd_net [get_bd_pins xdma/axi_aresetn] [get_bd_pins $sc_name/aresetn]
    } else {
      connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins $sc_name/aclk]
      connect_bd_net [get_bd_pins kernel_reset/peripheral_aresetn] [get_bd_pins $sc_name/aresetn]
    }
    connect_bd_net [get_bd_pins kernel_clk/clk_out1] [get_bd_pins hbm/AXI_${port}_ACLK]
    connect_bd_net [get_bd_pins kernel_reset/peripheral_aresetn] [get_bd_pins hbm/AXI_${port}_ARESET_N]
  }

  # ---- Address map, from params.tcl ----
  # Card address A is HBM address A for every master: pseudo-channel i at the contract's channel i.
  foreach {master port} $systole::hbm_ports {
    foreach segment $systole::hbm_segments {
      lassign $segment seg offset range
      assign_bd_address -target_address_space [get_bd_addr_spaces $master] \
        [get_bd_addr_segs hbm/SAXI_$port/$seg] -offset $offset -range $range
    }
  }
  # The register window at the offset of the AXI-Lite BAR where the host maps it.
  assign_bd_address -target_address_space [get_bd_addr_spaces xdma/M_AXI_LITE] \
    [get_bd_addr_segs systole/s_axil/reg0] -offset $systole::register_window_offset \
    -range $systole::register_window_bytes

  validate_bd_design
  save_bd_design
}
