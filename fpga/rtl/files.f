systole_pkg.sv
systole_regs.sv
systole_top.sv
