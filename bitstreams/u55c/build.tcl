# Builds the Systole bitstream for the AMD Alveo U55C, in Vivado batch mode:
#
#   vivado -mode batch -source build.tcl -tclargs PARAMS_TCL OUT_DIR JOBS
#
# Run through bitstreams/build (systole bitstream build), which writes PARAMS_TCL (the build id,
# every contract parameter and the address map, generated from fpga/spec/contract.toml), makes
# OUT_DIR, checks Vivado's version, and writes the manifest from what this leaves in OUT_DIR:
# the bitstream, the flash image, and the utilization and timing reports.

if {[llength $argv] != 3} {
  error "usage: vivado -mode batch -source build.tcl -tclargs PARAMS_TCL OUT_DIR JOBS (got: $argv)"
}
lassign $argv params_file out_dir jobs
set flow [file dirname [file normalize [info script]]]
set root [file dirname [file dirname $flow]]
source $params_file

if {[lsearch -exact $systole::vivado_versions [version -short]] < 0} {
  error "Vivado [version -short]: this flow was written for $systole::vivado_versions"
}
puts "systole: building $systole::board ($systole::part), build $systole::build_id,\
  contract $systole::contract_version, kernel clock $systole::clock_mhz MHz, $jobs jobs"

# 1. The accelerator as an IP, packaged from fpga/rtl/files.f.
source [file join $flow package_ip.tcl]
set ip_repo [file join $out_dir ip]
systole::package_ip $root $ip_repo

# 2. The project, the block design, its wrapper as the top, and the constraints.
create_project -force systole [file join $out_dir project] -part $systole::part
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog
source [file join $flow bd.tcl]
systole::create_bd systole_u55c
set bd_file [get_files systole_u55c.bd]
generate_target all $bd_file
add_files -norecurse [make_wrapper -files $bd_file -top]
set_property top systole_u55c_wrapper [current_fileset]
add_files -fileset constrs_1 -norecurse [list [file join $flow u55c.xdc] [file join $flow timing.xdc]]

# 3. Synthesis and implementation; a run that fails stops the build here.
launch_runs synth_1 -jobs $jobs
wait_on_runs synth_1
if {[get_property PROGRESS [get_runs synth_1]] ne "100%"} {
  error "synthesis failed: see [get_property DIRECTORY [get_runs synth_1]]/runme.log"
}
launch_runs impl_1 -jobs $jobs
wait_on_runs impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
  error "implementation failed: see [get_property DIRECTORY [get_runs impl_1]]/runme.log"
}

# 4. The outputs. The bitstream is written even when timing is not met: the timing report says
# so, and the manifest marks the build.
open_run impl_1
report_utilization -hierarchical -file [file join $out_dir $systole::utilization_report]
report_timing_summary -max_paths 10 -report_unconstrained -file [file join $out_dir $systole::timing_report]
set bit [file join $out_dir $systole::bit_file]
write_bitstream -force $bit
write_cfgmem -force -format mcs -interface SPIx4 -size $systole::flash_mb \
  -loadbit [list up $systole::flash_offset $bit] -file [file join $out_dir $systole::mcs_file]
puts "systole: wrote $bit"
