# Packages the accelerator as a Vivado IP: every file of fpga/rtl/files.f, top systole_ip, whose
# X_INTERFACE_INFO attributes give the packager its AXI4-Lite slave, its three AXI4 masters, its
# clocks, reset and interrupt, and whose parameters (one per contract parameter, and BuildId)
# become the IP's configuration.

namespace eval systole {}

# The RTL files of the accelerator, in compile order, as absolute paths.
proc systole::rtl_files {root} {
  set list [file join $root fpga rtl files.f]
  set f [open $list r]
  set text [read $f]
  close $f
  set files {}
  foreach line [split $text "\n"] {
    set name [string trim $line]
    if {$name ne ""} {
      lappend files [file join $root fpga rtl $name]
    }
  }
  if {[llength $files] == 0} {
    error "$list names no file"
  }
  return $files
}

proc systole::package_ip {root ip_repo} {
  set files [systole::rtl_files $root]
  create_project -force systole_ip [file join $ip_repo project] -part $systole::part
  add_files -norecurse $files
  set_property file_type SystemVerilog [get_files $files]
  set_property top systole_ip [current_fileset]
  update_compile_order -fileset sources_1
  ipx::package_project -root_dir [file join $ip_repo systole_ip] -vendor systole.dev \
    -library systole -taxonomy /UserIP -import_files -set_current true
  set core [ipx::current_core]
  set_property name systole_ip $core
  set_property display_name "Systole accelerator" $core
  set_property version 1.0 $core
  ipx::infer_bus_interfaces xilinx.com:interface:aximm_rtl:1.0 $core
  ipx::create_xgui_files $core
  ipx::update_checksums $core
  ipx::check_integrity $core
  ipx::save_core $core
  close_project
}
