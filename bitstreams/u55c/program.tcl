# Loads a bitstream into the U55C over JTAG, or writes a flash image to its configuration flash
# and boots from it, through Vivado's hardware manager in batch mode:
#
#   vivado -mode batch -source program.tcl -tclargs jtag FILE.bit PART HW_SERVER
#   vivado -mode batch -source program.tcl -tclargs flash FILE.mcs PART HW_SERVER FLASH_PART
#
# Run through `systole program`, which takes the card off the PCIe bus first and finds it again
# after. JTAG reaches the card through its USB maintenance port (the FTDI cable on the card's
# side), served by hw_server (HW_SERVER, e.g. localhost:3121).

if {[llength $argv] < 4} {
  error "usage: program.tcl jtag|flash FILE PART HW_SERVER \[FLASH_PART\] (got: $argv)"
}
lassign $argv mode file part url flash_part
if {$mode ni {jtag flash}} {
  error "mode $mode (expected jtag or flash)"
}
if {$mode eq "flash" && $flash_part eq ""} {
  error "flash needs the flash part, e.g. mt25qu01g-spi-x1_x2_x4"
}
# The hardware device's name is the part's die without package and grade: xcu55c.
set die [lindex [split $part -] 0]

open_hw_manager
connect_hw_server -url $url
set device ""
foreach target [get_hw_targets] {
  open_hw_target $target
  set found [get_hw_devices -quiet ${die}*]
  if {[llength $found] > 0} {
    set device [lindex $found 0]
    break
  }
  close_hw_target
}
if {$device eq ""} {
  error "no $die on any JTAG target of $url: is the card's USB maintenance cable connected, and\
    does hw_server see it (Vivado's cable drivers installed)?"
}
current_hw_device $device
refresh_hw_device -update_hw_probes false $device
puts "systole: $device on [current_hw_target]"

if {$mode eq "jtag"} {
  set_property PROGRAM.FILE $file $device
  program_hw_devices $device
} else {
  set memory [lindex [get_cfgmem_parts $flash_part] 0]
  create_hw_cfgmem -hw_device $device -mem_dev $memory
  set cfgmem [get_property PROGRAM.HW_CFGMEM $device]
  set_property PROGRAM.FILES [list $file] $cfgmem
  set_property PROGRAM.ADDRESS_RANGE use_file $cfgmem
  set_property PROGRAM.BLANK_CHECK 0 $cfgmem
  set_property PROGRAM.ERASE 1 $cfgmem
  set_property PROGRAM.CFG_PROGRAM 1 $cfgmem
  set_property PROGRAM.VERIFY 1 $cfgmem
  set_property PROGRAM.CHECKSUM 0 $cfgmem
  # The flash is written through a small bitstream that Vivado loads into the FPGA first.
  create_hw_bitstream -hw_device $device [get_property PROGRAM.HW_CFGMEM_BITFILE $device]
  program_hw_devices $device
  refresh_hw_device $device
  program_hw_cfgmem -hw_cfgmem $cfgmem
  # Load the new image now, as a power cycle would.
  boot_hw_device $device
}
refresh_hw_device -update_hw_probes false $device
if {[get_property REGISTER.CONFIG_STATUS.BIT14_DONE_PIN $device] ne "1"} {
  error "$device did not finish configuration (DONE is low)"
}
puts "systole: $device configured from $file"
close_hw_target
disconnect_hw_server
close_hw_manager
