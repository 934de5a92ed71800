# Pins and configuration of the AMD Alveo U55C (xcu55c-fsvh2892-2L-e) for the Systole block
# design (bd.tcl), whose ports these name. Pin locations are those of the U55C's schematics as
# the public open shells for the card use them (corundum's and warpshell's U55C/U55N files, the
# U55N/Varium C1100 being the same board with another die); they have not been tried on a card
# by this project (see bitstreams/README.md).

# ---- Configuration: the card's 1 Gbit quad-SPI flash (MT25QU01G), 1.8 V banks ----
set_property CFGBVS GND                                [current_design]
set_property CONFIG_VOLTAGE 1.8                        [current_design]
set_property CONFIG_MODE SPIx4                         [current_design]
set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4           [current_design]
set_property BITSTREAM.CONFIG.SPI_32BIT_ADDR YES       [current_design]
set_property BITSTREAM.CONFIG.SPI_FALL_EDGE YES        [current_design]
set_property BITSTREAM.CONFIG.CONFIGRATE 85.0          [current_design]
set_property BITSTREAM.CONFIG.EXTMASTERCCLK_EN DISABLE [current_design]
# If the user image in flash is bad, the FPGA falls back to the factory golden image below it.
set_property BITSTREAM.CONFIG.CONFIGFALLBACK ENABLE    [current_design]
set_property BITSTREAM.CONFIG.UNUSEDPIN PULLUP         [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE           [current_design]
set_property BITSTREAM.CONFIG.OVERTEMPSHUTDOWN ENABLE  [current_design]

# ---- PCIe x16: reference clock and PERST# ----
# The lanes are GTY quads 224 to 227; the XDMA core places them from its block location
# (PCIE4C_X1Y0) and quad (GTY_Quad_227), set in bd.tcl. The x16 reference clock is MGTREFCLK0 of
# quad 225, 100 MHz from the slot.
set_property PACKAGE_PIN AR15 [get_ports pcie_refclk_clk_p]
set_property PACKAGE_PIN AR14 [get_ports pcie_refclk_clk_n]
create_clock -period 10.000 -name pcie_refclk [get_ports pcie_refclk_clk_p]
set_property -dict {PACKAGE_PIN BF41 IOSTANDARD LVCMOS18 PULLUP true} [get_ports pcie_perstn]
set_false_path -from [get_ports pcie_perstn]

# ---- 100 MHz board clocks (SI5394 OUT3): HBM reference and APB, and the kernel clock's source ----
set_property -dict {PACKAGE_PIN BK10 IOSTANDARD LVDS} [get_ports hbm_refclk_clk_p]
set_property -dict {PACKAGE_PIN BL10 IOSTANDARD LVDS} [get_ports hbm_refclk_clk_n]
create_clock -period 10.000 -name hbm_refclk [get_ports hbm_refclk_clk_p]
set_property -dict {PACKAGE_PIN BK43 IOSTANDARD LVDS} [get_ports sys_clk_clk_p]
set_property -dict {PACKAGE_PIN BK44 IOSTANDARD LVDS} [get_ports sys_clk_clk_n]
create_clock -period 10.000 -name sys_clk [get_ports sys_clk_clk_p]

# ---- HBM catastrophic temperature: high tells the card's controller to cut power ----
# Pulled down so that it reads low while the FPGA is being configured.
set_property -dict {PACKAGE_PIN BE45 IOSTANDARD LVCMOS18 PULLDOWN true} [get_ports hbm_cattrip]
set_false_path -to [get_ports hbm_cattrip]
set_output_delay 0 [get_ports hbm_cattrip]
