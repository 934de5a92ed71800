# A stand-in for Vivado's Tcl commands, so that the bitstream flow's scripts run in plain tclsh:
# every command tclsh does not know is recorded in LOG, one call per line as a Tcl list, and
# returns its last argument (so get_bd_pins xdma/axi_aclk stands for the pin it names); the few
# whose results the scripts test return what a good run would.
#
#   tclsh vivado-standin.tcl LOG IP_PARAMS SCRIPT ARG...
#
# IP_PARAMS: the parameters the accelerator's IP has (list_property answers with these).
set standin_log [open [lindex $argv 0] w]
set standin_ip_params [lindex $argv 1]
set standin_script [lindex $argv 2]
set argv [lrange $argv 3 end]
set argc [llength $argv]

proc standin_record {call} {
  puts $::standin_log $call
  flush $::standin_log
}
proc unknown {args} {
  standin_record $args
  return [lindex $args end]
}
proc version {args} { return 2023.2 }
proc get_property {name args} {
  standin_record [concat get_property $name $args]
  switch -- $name {
    PROGRESS { return 100% }
    REGISTER.CONFIG_STATUS.BIT14_DONE_PIN { return 1 }
    PROGRAM.HW_CFGMEM { return cfgmem_0 }
    default { return $name }
  }
}
proc list_property {object pattern} {
  set name [string range $pattern [string length CONFIG.] end]
  return [expr {[lsearch -exact $::standin_ip_params $name] >= 0 ? $pattern : ""}]
}
proc get_hw_targets {args} { return localhost:3121/xilinx_tcf/Xilinx/0 }
proc get_hw_devices {args} { return xcu55c_0 }
proc current_hw_target {args} { return localhost:3121/xilinx_tcf/Xilinx/0 }
proc make_wrapper {args} {
  standin_record [concat make_wrapper $args]
  return systole_u55c_wrapper.v
}

source $standin_script
close $standin_log
