// The register window of the contract (CONTRACT.md section 3, tables.md "Registers") behind an
// AXI4-Lite slave, the performance counters of section 9.5 and the interrupt line.
//
// AXI4-Lite: 12-bit addresses (bits 1:0 ignored), 32-bit data, one write and one read
// outstanding. AW and W are taken in either order or together; the write acts at the clock edge
// that completes the pair, and B (OKAY) is presented from the next cycle until BREADY. A read
// samples the register at the edge that accepts AR and presents R (OKAY) from the next cycle
// until RREADY. WSTRB is honoured: bytes not strobed keep their value (rw) or are written as 0
// (CTRL, INT_STATUS).
//
// Runs: the edge that performs a CTRL write with START (SOFT_RESET clear, not BUSY) sets STATUS
// to BUSY, clears ERROR_CODE, ERROR_PC, PC and CYCLES and latches PROG_ADDR/PROG_LEN onto
// prog_addr_o/prog_len_o; start_o is high in the next cycle, the core's cycle 0. While BUSY,
// CYCLES grows by one at every edge, so a run whose run_end_i pulse comes in cycle E (E = 0 is
// possible: PROG_RANGE) reads CYCLES = E + 1 when it has ended. At the edge ending cycle E all
// end-of-run state changes together: STATUS, ERROR_CODE, ERROR_PC, PC, CYCLES, BUSY_CYCLES
// (+= E + 1), INT_STATUS and the event counters (which include the events of cycle E).
//
// Counter events (instret_i ... vector_cycles_i) are counted in the cycles where STATUS.BUSY is
// 1, so events of an aborted run after the SOFT_RESET, or outside a run, are dropped. PC follows
// pc_i (one cycle later) in cycles 1 .. E of a run and holds its value between runs.
//
// SOFT_RESET returns every register and counter to its reset value at the edge that performs the
// write (other bits of that write are ignored) and pulses soft_reset_o in the next cycle; a
// run_end_i after it is ignored (the run was aborted). CLEAR_COUNTERS acts before START of the
// same write.
module systole_regs
#(
  parameter int unsigned ArrayDim    = systole_pkg::ArrayRowsDefault,
  parameter int unsigned AbufRows    = systole_pkg::AbufRowsDefault,
  parameter int unsigned WbufRows    = systole_pkg::WbufRowsDefault,
  parameter int unsigned AccRows     = systole_pkg::AccRowsDefault,
  parameter int unsigned HbmMb       = systole_pkg::HbmMbDefault,
  parameter int unsigned HbmChannels = systole_pkg::HbmChannelsDefault,
  parameter int unsigned ClockKhz    = systole_pkg::ClockKhzDefault,
  parameter int unsigned VectorUnit  = 0,
  parameter int unsigned LutRows     = 0,
  parameter int unsigned BuildId     = 0
) (
  input  logic        clk_i,
  input  logic        rst_ni,

  // AXI4-Lite slave
  input  logic        s_axil_awvalid_i,
  output logic        s_axil_awready_o,
  input  logic [11:0] s_axil_awaddr_i,
  input  logic        s_axil_wvalid_i,
  output logic        s_axil_wready_o,
  input  logic [31:0] s_axil_wdata_i,
  input  logic [3:0]  s_axil_wstrb_i,
  output logic        s_axil_bvalid_o,
  input  logic        s_axil_bready_i,
  output logic [1:0]  s_axil_bresp_o,
  input  logic        s_axil_arvalid_i,
  output logic        s_axil_arready_o,
  input  logic [11:0] s_axil_araddr_i,
  output logic        s_axil_rvalid_o,
  input  logic        s_axil_rready_i,
  output logic [31:0] s_axil_rdata_o,
  output logic [1:0]  s_axil_rresp_o,

  // Toward the core
  output logic        start_o,
  output logic        soft_reset_o,
  output logic [63:0] prog_addr_o,
  output logic [31:0] prog_len_o,
  output logic        busy_o,
  input  logic        run_end_i,
  input  logic [7:0]  run_error_i,
  input  logic [31:0] run_error_pc_i,
  input  logic [31:0] pc_i,

  // Counter events of the current cycle
  input  logic        instret_i,
  input  logic [16:0] array_rows_i,
  input  logic        stall_i,
  input  logic [47:0] bytes_read_i,
  input  logic [47:0] bytes_written_i,
  input  logic [23:0] vector_cycles_i,

  output logic        irq_o
);

  localparam logic [63:0] MacsPerRow = 64'(ArrayDim) * 64'(ArrayDim);
  localparam logic [1:0]  RespOkay = 2'b00;
  localparam logic [1:0]  IntBits = 2'b11;

  // ---------------------------------------------------------------------------------------------
  // AXI4-Lite write channel: AW and W are each held until the other arrives.

  logic        aw_full_q, aw_full_d;
  logic [11:0] aw_addr_q, aw_addr_d;
  logic        w_full_q, w_full_d;
  logic [31:0] w_data_q, w_data_d;
  logic [3:0]  w_strb_q, w_strb_d;
  logic        b_valid_q, b_valid_d;

  logic        aw_hs, w_hs, wr_fire;
  logic [11:0] wr_addr;
  logic [31:0] wr_data, wr_mask, wr_bits;

  assign s_axil_awready_o = !aw_full_q && !b_valid_q;
  assign s_axil_wready_o  = !w_full_q && !b_valid_q;
  assign aw_hs   = s_axil_awvalid_i && s_axil_awready_o;
  assign w_hs    = s_axil_wvalid_i && s_axil_wready_o;
  assign wr_fire = (aw_full_q || aw_hs) && (w_full_q || w_hs);
  assign wr_addr = aw_full_q ? aw_addr_q : s_axil_awaddr_i;
  assign wr_data = w_full_q ? w_data_q : s_axil_wdata_i;
  assign wr_mask = w_full_q ? {{8{w_strb_q[3]}}, {8{w_strb_q[2]}}, {8{w_strb_q[1]}},
                               {8{w_strb_q[0]}}}
                            : {{8{s_axil_wstrb_i[3]}}, {8{s_axil_wstrb_i[2]}},
                               {8{s_axil_wstrb_i[1]}}, {8{s_axil_wstrb_i[0]}}};
  // The bits written as 1 (for wo and w1c registers).
  assign wr_bits = wr_data & wr_mask;

  always_comb begin
    aw_full_d = aw_full_q;
    aw_addr_d = aw_addr_q;
    w_full_d  = w_full_q;
    w_data_d  = w_data_q;
    w_strb_d  = w_strb_q;
    b_valid_d = b_valid_q;
    if (wr_fire) begin
      aw_full_d = 1'b0;
      w_full_d  = 1'b0;
      b_valid_d = 1'b1;
    end else begin
      if (aw_hs) begin
        aw_full_d = 1'b1;
        aw_addr_d = s_axil_awaddr_i;
      end
      if (w_hs) begin
        w_full_d = 1'b1;
        w_data_d = s_axil_wdata_i;
        w_strb_d = s_axil_wstrb_i;
      end
    end
    if (b_valid_q && s_axil_bready_i) begin
      b_valid_d = 1'b0;
    end
  end

  assign s_axil_bvalid_o = b_valid_q;
  assign s_axil_bresp_o  = RespOkay;

  // Which register a write names (bits 1:0 of the address are ignored).
  logic [11:0] wr_word;
  logic        wr_ctrl, wr_prog_addr_lo, wr_prog_addr_hi, wr_prog_len;
  logic        wr_int_enable, wr_int_status, wr_scratch;

  assign wr_word         = {wr_addr[11:2], 2'b00};
  assign wr_ctrl         = wr_fire && wr_word == systole_pkg::RegCtrl;
  assign wr_prog_addr_lo = wr_fire && wr_word == systole_pkg::RegProgAddrLo;
  assign wr_prog_addr_hi = wr_fire && wr_word == systole_pkg::RegProgAddrHi;
  assign wr_prog_len     = wr_fire && wr_word == systole_pkg::RegProgLen;
  assign wr_int_enable   = wr_fire && wr_word == systole_pkg::RegIntEnable;
  assign wr_int_status   = wr_fire && wr_word == systole_pkg::RegIntStatus;
  assign wr_scratch      = wr_fire && wr_word == systole_pkg::RegScratch;

  // ---------------------------------------------------------------------------------------------
  // CTRL: SOFT_RESET first and alone, else CLEAR_COUNTERS, then START.

  logic soft_reset, clear_counters, start;
  logic busy_q;

  assign soft_reset     = wr_ctrl && wr_bits[systole_pkg::RegCtrlSoftResetLsb];
  assign clear_counters = wr_ctrl && !soft_reset && wr_bits[systole_pkg::RegCtrlClearCountersLsb];
  assign start          = wr_ctrl && !soft_reset && wr_bits[systole_pkg::RegCtrlStartLsb] && !busy_q;

  // ---------------------------------------------------------------------------------------------
  // Registers.

  logic        busy_d, done_q, done_d, error_q, error_d;
  logic [7:0]  error_code_q, error_code_d;
  logic [31:0] error_pc_q, error_pc_d;
  logic [31:0] pc_q, pc_d;
  logic [31:0] prog_addr_lo_q, prog_addr_lo_d, prog_addr_hi_q, prog_addr_hi_d;
  logic [31:0] prog_len_q, prog_len_d;
  logic [63:0] run_addr_q, run_addr_d;
  logic [31:0] run_len_q, run_len_d;
  logic [1:0]  int_enable_q, int_enable_d, int_status_q, int_status_d;
  logic [31:0] scratch_q, scratch_d;
  logic        start_q, start_d, soft_reset_q, soft_reset_d;

  logic [63:0] cycles_q, cycles_d;
  logic [63:0] busy_cycles_q, busy_cycles_d;
  logic [63:0] array_cycles_q, array_cycles_d;
  logic [63:0] stall_cycles_q, stall_cycles_d;
  logic [63:0] instret_q, instret_d;
  logic [63:0] macs_q, macs_d;
  logic [63:0] bytes_read_q, bytes_read_d;
  logic [63:0] bytes_written_q, bytes_written_d;
  logic [63:0] vector_cycles_q, vector_cycles_d;
  logic [63:0] total_cycles_q, total_cycles_d;

  logic        run_end, run_failed;
  logic [63:0] cycles_inc;

  // A run ends only while one is running: a pulse after a SOFT_RESET belongs to an aborted run.
  assign run_end    = run_end_i && busy_q;
  assign run_failed = run_error_i != 8'(systole_pkg::ErrNone);
  assign cycles_inc = cycles_q + 64'd1;

  always_comb begin
    busy_d          = busy_q;
    done_d          = done_q;
    error_d         = error_q;
    error_code_d    = error_code_q;
    error_pc_d      = error_pc_q;
    pc_d            = pc_q;
    prog_addr_lo_d  = prog_addr_lo_q;
    prog_addr_hi_d  = prog_addr_hi_q;
    prog_len_d      = prog_len_q;
    run_addr_d      = run_addr_q;
    run_len_d       = run_len_q;
    int_enable_d    = int_enable_q;
    int_status_d    = int_status_q;
    scratch_d       = scratch_q;
    start_d         = start;
    soft_reset_d    = soft_reset;
    cycles_d        = cycles_q;
    busy_cycles_d   = busy_cycles_q;
    array_cycles_d  = array_cycles_q;
    stall_cycles_d  = stall_cycles_q;
    instret_d       = instret_q;
    macs_d          = macs_q;
    bytes_read_d    = bytes_read_q;
    bytes_written_d = bytes_written_q;
    vector_cycles_d = vector_cycles_q;
    total_cycles_d  = total_cycles_q + 64'd1;

    // rw registers
    if (wr_prog_addr_lo) prog_addr_lo_d = (prog_addr_lo_q & ~wr_mask) | wr_bits;
    if (wr_prog_addr_hi) prog_addr_hi_d = (prog_addr_hi_q & ~wr_mask) | wr_bits;
    if (wr_prog_len)     prog_len_d     = (prog_len_q & ~wr_mask) | wr_bits;
    if (wr_scratch)      scratch_d      = (scratch_q & ~wr_mask) | wr_bits;
    if (wr_int_enable)   int_enable_d   = (int_enable_q & ~wr_mask[1:0]) | (wr_bits[1:0] & IntBits);
    if (wr_int_status)   int_status_d   = int_status_q & ~wr_bits[1:0];

    // The running program.
    if (busy_q) begin
      cycles_d = cycles_inc;
      if (!start_q) begin
        pc_d = pc_i;
      end
      instret_d       = instret_q + 64'(instret_i);
      stall_cycles_d  = stall_cycles_q + 64'(stall_i);
      array_cycles_d  = array_cycles_q + 64'(array_rows_i);
      macs_d          = macs_q + 64'(array_rows_i) * MacsPerRow;
      bytes_read_d    = bytes_read_q + 64'(bytes_read_i);
      bytes_written_d = bytes_written_q + 64'(bytes_written_i);
      vector_cycles_d = vector_cycles_q + 64'(vector_cycles_i);
    end
    if (run_end) begin
      busy_d        = 1'b0;
      done_d        = 1'b1;
      error_d       = run_failed;
      error_code_d  = run_error_i;
      error_pc_d    = run_failed ? run_error_pc_i : 32'd0;
      busy_cycles_d = busy_cycles_q + cycles_inc;
      // A new cause wins over an acknowledgement in the same cycle.
      int_status_d  = int_status_d | {run_failed, 1'b1};
    end

    if (clear_counters) begin
      cycles_d        = '0;
      busy_cycles_d   = '0;
      array_cycles_d  = '0;
      stall_cycles_d  = '0;
      instret_d       = '0;
      macs_d          = '0;
      bytes_read_d    = '0;
      bytes_written_d = '0;
      vector_cycles_d = '0;
      total_cycles_d  = '0;
    end
    if (start) begin
      busy_d       = 1'b1;
      done_d       = 1'b0;
      error_d      = 1'b0;
      error_code_d = '0;
      error_pc_d   = '0;
      pc_d         = '0;
      cycles_d     = '0;
      run_addr_d   = {prog_addr_hi_q, prog_addr_lo_q};
      run_len_d    = prog_len_q;
    end

    if (soft_reset) begin
      busy_d          = 1'b0;
      done_d          = 1'b0;
      error_d         = 1'b0;
      error_code_d    = '0;
      error_pc_d      = '0;
      pc_d            = '0;
      prog_addr_lo_d  = '0;
      prog_addr_hi_d  = '0;
      prog_len_d      = '0;
      run_addr_d      = '0;
      run_len_d       = '0;
      int_enable_d    = '0;
      int_status_d    = '0;
      scratch_d       = '0;
      cycles_d        = '0;
      busy_cycles_d   = '0;
      array_cycles_d  = '0;
      stall_cycles_d  = '0;
      instret_d       = '0;
      macs_d          = '0;
      bytes_read_d    = '0;
      bytes_written_d = '0;
      vector_cycles_d = '0;
      total_cycles_d  = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_full_q       <= 1'b0;
      aw_addr_q       <= '0;
      w_full_q        <= 1'b0;
      w_data_q        <= '0;
      w_strb_q        <= '0;
      b_valid_q       <= 1'b0;
      busy_q          <= 1'b0;
      done_q          <= 1'b0;
      error_q         <= 1'b0;
      error_code_q    <= '0;
      error_pc_q      <= '0;
      pc_q            <= '0;
      prog_addr_lo_q  <= '0;
      prog_addr_hi_q  <= '0;
      prog_len_q      <= '0;
      run_addr_q      <= '0;
      run_len_q       <= '0;
      int_enable_q    <= '0;
      int_status_q    <= '0;
      scratch_q       <= '0;
      start_q         <= 1'b0;
      soft_reset_q    <= 1'b0;
      cycles_q        <= '0;
      busy_cycles_q   <= '0;
      array_cycles_q  <= '0;
      stall_cycles_q  <= '0;
      instret_q       <= '0;
      macs_q          <= '0;
      bytes_read_q    <= '0;
      bytes_written_q <= '0;
      vector_cycles_q <= '0;
      total_cycles_q  <= '0;
    end else begin
      aw_full_q       <= aw_full_d;
      aw_addr_q       <= aw_addr_d;
      w_full_q        <= w_full_d;
      w_data_q        <= w_data_d;
      w_strb_q        <= w_strb_d;
      b_valid_q       <= b_valid_d;
      busy_q          <= busy_d;
      done_q          <= done_d;
      error_q         <= error_d;
      error_code_q    <= error_code_d;
      error_pc_q      <= error_pc_d;
      pc_q            <= pc_d;
      prog_addr_lo_q  <= prog_addr_lo_d;
      prog_addr_hi_q  <= prog_addr_hi_d;
      prog_len_q      <= prog_len_d;
      run_addr_q      <= run_addr_d;
      run_len_q       <= run_len_d;
      int_enable_q    <= int_enable_d;
      int_status_q    <= int_status_d;
      scratch_q       <= scratch_d;
      start_q         <= start_d;
      soft_reset_q    <= soft_reset_d;
      cycles_q        <= cycles_d;
      busy_cycles_q   <= busy_cycles_d;
      array_cycles_q  <= array_cycles_d;
      stall_cycles_q  <= stall_cycles_d;
      instret_q       <= instret_d;
      macs_q          <= macs_d;
      bytes_read_q    <= bytes_read_d;
      bytes_written_q <= bytes_written_d;
      vector_cycles_q <= vector_cycles_d;
      total_cycles_q  <= total_cycles_d;
    end
  end

  assign start_o      = start_q;
  assign soft_reset_o = soft_reset_q;
  assign prog_addr_o  = run_addr_q;
  assign prog_len_o   = run_len_q;
  assign busy_o       = busy_q;
  assign irq_o        = |(int_status_q & int_enable_q);

  // ---------------------------------------------------------------------------------------------
  // AXI4-Lite read channel.

  logic        r_valid_q, r_valid_d;
  logic [31:0] r_data_q, r_data_d;
  logic        ar_hs;
  logic [31:0] rd_value;

  assign s_axil_arready_o = !r_valid_q;
  assign ar_hs = s_axil_arvalid_i && s_axil_arready_o;

  always_comb begin
    unique case ({s_axil_araddr_i[11:2], 2'b00})
      systole_pkg::RegMagic:         rd_value = systole_pkg::Magic;
      systole_pkg::RegVersion:       rd_value = {16'(systole_pkg::ContractVersionMajor), 16'(systole_pkg::ContractVersionMinor)};
      systole_pkg::RegBuildId:       rd_value = 32'(BuildId);
      systole_pkg::RegArrayRows:     rd_value = 32'(ArrayDim);
      systole_pkg::RegArrayCols:     rd_value = 32'(ArrayDim);
      systole_pkg::RegAbufRows:      rd_value = 32'(AbufRows);
      systole_pkg::RegWbufRows:      rd_value = 32'(WbufRows);
      systole_pkg::RegAccRows:       rd_value = 32'(AccRows);
      systole_pkg::RegHbmMb:         rd_value = 32'(HbmMb);
      systole_pkg::RegHbmChannels:   rd_value = 32'(HbmChannels);
      systole_pkg::RegClockKhz:      rd_value = 32'(ClockKhz);
      systole_pkg::RegVectorUnit:    rd_value = 32'(VectorUnit);
      systole_pkg::RegLutRows:       rd_value = 32'(LutRows);
      systole_pkg::RegStatus:        rd_value = 32'({error_q, done_q, busy_q});
      systole_pkg::RegErrorCode:     rd_value = 32'(error_code_q);
      systole_pkg::RegErrorPc:       rd_value = error_pc_q;
      systole_pkg::RegPc:            rd_value = pc_q;
      systole_pkg::RegProgAddrLo:    rd_value = prog_addr_lo_q;
      systole_pkg::RegProgAddrHi:    rd_value = prog_addr_hi_q;
      systole_pkg::RegProgLen:       rd_value = prog_len_q;
      systole_pkg::RegIntEnable:     rd_value = 32'(int_enable_q);
      systole_pkg::RegIntStatus:     rd_value = 32'(int_status_q);
      systole_pkg::RegScratch:       rd_value = scratch_q;
      systole_pkg::RegCyclesLo:      rd_value = cycles_q[31:0];
      systole_pkg::RegCyclesHi:      rd_value = cycles_q[63:32];
      systole_pkg::RegBusyCyclesLo:  rd_value = busy_cycles_q[31:0];
      systole_pkg::RegBusyCyclesHi:  rd_value = busy_cycles_q[63:32];
      systole_pkg::RegArrayCyclesLo: rd_value = array_cycles_q[31:0];
      systole_pkg::RegArrayCyclesHi: rd_value = array_cycles_q[63:32];
      systole_pkg::RegStallCyclesLo: rd_value = stall_cycles_q[31:0];
      systole_pkg::RegStallCyclesHi: rd_value = stall_cycles_q[63:32];
      systole_pkg::RegInstretLo:     rd_value = instret_q[31:0];
      systole_pkg::RegInstretHi:     rd_value = instret_q[63:32];
      systole_pkg::RegMacsLo:        rd_value = macs_q[31:0];
      systole_pkg::RegMacsHi:        rd_value = macs_q[63:32];
      systole_pkg::RegBytesReadLo:   rd_value = bytes_read_q[31:0];
      systole_pkg::RegBytesReadHi:   rd_value = bytes_read_q[63:32];
      systole_pkg::RegBytesWrittenLo: rd_value = bytes_written_q[31:0];
      systole_pkg::RegBytesWrittenHi: rd_value = bytes_written_q[63:32];
      systole_pkg::RegVectorCyclesLo: rd_value = vector_cycles_q[31:0];
      systole_pkg::RegVectorCyclesHi: rd_value = vector_cycles_q[63:32];
      systole_pkg::RegTotalCyclesLo: rd_value = total_cycles_q[31:0];
      systole_pkg::RegTotalCyclesHi: rd_value = total_cycles_q[63:32];
      // CTRL (wo) reads 0, and so does every offset that names no register.
      default:          rd_value = '0;
    endcase
  end

  always_comb begin
    r_valid_d = r_valid_q;
    r_data_d  = r_data_q;
    if (ar_hs) begin
      r_valid_d = 1'b1;
      r_data_d  = rd_value;
    end else if (r_valid_q && s_axil_rready_i) begin
      r_valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_valid_q <= 1'b0;
      r_data_q  <= '0;
    end else begin
      r_valid_q <= r_valid_d;
      r_data_q  <= r_data_d;
    end
  end

  assign s_axil_rvalid_o = r_valid_q;
  assign s_axil_rdata_o  = r_data_q;
  assign s_axil_rresp_o  = RespOkay;

  // Bits 1:0 of the addresses do not select anything: accesses are whole words.
  logic unused_addr;
  assign unused_addr = ^{s_axil_araddr_i[1:0], wr_addr[1:0]};

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // AXI4-Lite, this slave's side: R and B, once raised, stay with their payload until READY.
  RValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_rvalid_o && !s_axil_rready_i |=> s_axil_rvalid_o)
    else $error("systole_regs: R: rvalid dropped while rvalid && !rready");
  RPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_rvalid_o && !s_axil_rready_i |=> $stable({s_axil_rdata_o, s_axil_rresp_o}))
    else $error("systole_regs: R: rdata/rresp changed while rvalid && !rready");
  BValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_bvalid_o && !s_axil_bready_i |=> s_axil_bvalid_o)
    else $error("systole_regs: B: bvalid dropped while bvalid && !bready");
  BPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_bvalid_o && !s_axil_bready_i |=> $stable(s_axil_bresp_o))
    else $error("systole_regs: B: bresp changed while bvalid && !bready");
  // The master's side (AW, W, AR), which the channel registers above rely on.
  AwValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_awvalid_i && !s_axil_awready_o |=> s_axil_awvalid_i)
    else $error("systole_regs: AW: awvalid dropped while awvalid && !awready (AXI4-Lite master)");
  AwPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_awvalid_i && !s_axil_awready_o |=> $stable(s_axil_awaddr_i))
    else $error("systole_regs: AW: awaddr changed while awvalid && !awready (AXI4-Lite master)");
  WValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_wvalid_i && !s_axil_wready_o |=> s_axil_wvalid_i)
    else $error("systole_regs: W: wvalid dropped while wvalid && !wready (AXI4-Lite master)");
  WPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_wvalid_i && !s_axil_wready_o |=> $stable({s_axil_wdata_i, s_axil_wstrb_i}))
    else $error("systole_regs: W: wdata/wstrb changed while wvalid && !wready (AXI4-Lite master)");
  ArValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_arvalid_i && !s_axil_arready_o |=> s_axil_arvalid_i)
    else $error("systole_regs: AR: arvalid dropped while arvalid && !arready (AXI4-Lite master)");
  ArPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      s_axil_arvalid_i && !s_axil_arready_o |=> $stable(s_axil_araddr_i))
    else $error("systole_regs: AR: araddr changed while arvalid && !arready (AXI4-Lite master)");

  // The write channel holds one of AW and W at most (the pair acts at once), and nothing while
  // its response waits.
  WriteHalfHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      !(aw_full_q && w_full_q) && !(b_valid_q && (aw_full_q || w_full_q)))
    else $error("systole_regs: AW and W both held, or one held while B waits");
  // STATUS is idle (000), busy (001), done (010) or done with an error (110); START and
  // SOFT_RESET never act together, and START makes the run busy.
  StatusLegal: assert property (@(posedge clk_i) disable iff (!chk_q)
      !(busy_q && done_q) && (!error_q || done_q))
    else $error("systole_regs: STATUS %b is not a legal state", {error_q, done_q, busy_q});
  StartOrSoftReset: assert property (@(posedge clk_i) disable iff (!chk_q)
      !(start_o && soft_reset_o) && (!start_o || busy_o))
    else $error("systole_regs: start_o with soft_reset_o, or without BUSY");
  // The core ends a run only while one is running; in the cycle of its soft_reset_i pulse it may
  // still end the run it is being told to abort (that pulse is ignored above).
  RunEndWhileBusy: assert property (@(posedge clk_i) run_end_i |-> busy_q || soft_reset_q)
    else $error("systole_regs: run_end_i while no program runs");
`endif

endmodule
