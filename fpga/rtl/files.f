systole_pkg.sv
