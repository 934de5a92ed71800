// A stand-in for the core, for the harness testbench only: it exercises the register block, the
// three AXI ports of systole_top and the harness's memory models end to end, and reports what it
// saw by writing a log to HBM.
//
// On start_i (cycle 0) it ends at once with PROG_RANGE if PROG_LEN is 0, PROG_ADDR is not a
// multiple of 32 or the program runs past HBM_MB. Otherwise it fetches PROG_LEN beats from
// PROG_ADDR over m_fetch in bursts of at most 16 beats that never cross 4 KiB: one burst in flight
// until beat 0 has arrived, then up to `max_out` (below). Beat 0 configures the rest:
//
//   byte 0       0x08 (HALT): the run ends with NONE, anything else with PROG_END
//   byte 1       RREADY pattern once beat 0 has arrived: RREADY = pattern[cycle % 8] (0: always)
//   byte 2       bursts in flight after beat 0, 1 to 4 (0: 4)
//   byte 3       W leads AW by this many cycles on the store (0: AW with the first W beat)
//   byte 4       protocol violation on the store, to test the harness's checks: 1 AWLEN = 16,
//                3 AWSIZE = 4, 4 WLAST on the first beat, 5 no WLAST at all
//   bytes 8..15  card address of the log
//
// If every fetched beat came back OKAY it then writes the log, one burst of 6 beats (48 32-bit
// words, little-endian) at the log address, and ends the run in the cycle it accepts B: NONE or
// PROG_END as above, MEM_FAULT if B is not OKAY. A fetch error ends the run with MEM_FAULT as soon
// as every beat is in, without the store. Log words (cycles count from 0 at start_i):
//
//   0 .. 31   beat k < 32: accept cycle << 16 | cycle RVALID was first seen for it
//   32 .. 39  burst k < 8: cycle its AR was accepted
//   40        0x42555453 ("STUB")
//   41, 42    bursts and beats fetched
//   43        cycle AW was accepted
//   44        sum over bursts of (first beat's RVALID cycle - AR accept cycle)
//   45, 46    minimum and maximum of that latency
//   47        cycle the last beat was accepted
//
// The last W beat waits for AW to have been accepted (so word 43 is known when it is sent).
// Counter events: one instruction, one array row and 32 bytes read per beat fetched, 32 bytes
// written per W beat, a stall cycle per cycle RVALID waits for RREADY. PC is the beats fetched.
//
// soft_reset_i stops new requests, lets the requests in flight complete (a store burst is
// finished, B included) and ends nothing; a start_i that comes meanwhile begins once they have.
module systole_core
  import systole_pkg::*;
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned HbmMb    = 16384,
  parameter int unsigned VectorUnit = 0,
  parameter int unsigned LutRows  = 0
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic         soft_reset_i,
  input  logic [63:0]  prog_addr_i,
  input  logic [31:0]  prog_len_i,
  output logic         run_end_o,
  output logic [7:0]   run_error_o,
  output logic [31:0]  run_error_pc_o,
  output logic [31:0]  pc_o,
  output logic         instret_o,
  output logic [16:0]  array_rows_o,
  output logic         stall_o,
  output logic [47:0]  bytes_read_o,
  output logic [47:0]  bytes_written_o,
  output logic [23:0]  vector_cycles_o,

  output logic         m_fetch_arvalid_o,
  input  logic         m_fetch_arready_i,
  output logic [63:0]  m_fetch_araddr_o,
  output logic [7:0]   m_fetch_arlen_o,
  output logic [2:0]   m_fetch_arsize_o,
  output logic [1:0]   m_fetch_arburst_o,
  input  logic         m_fetch_rvalid_i,
  output logic         m_fetch_rready_o,
  input  logic [255:0] m_fetch_rdata_i,
  input  logic [1:0]   m_fetch_rresp_i,
  input  logic         m_fetch_rlast_i,

  output logic         m_load_arvalid_o,
  input  logic         m_load_arready_i,
  output logic [63:0]  m_load_araddr_o,
  output logic [7:0]   m_load_arlen_o,
  output logic [2:0]   m_load_arsize_o,
  output logic [1:0]   m_load_arburst_o,
  input  logic         m_load_rvalid_i,
  output logic         m_load_rready_o,
  input  logic [255:0] m_load_rdata_i,
  input  logic [1:0]   m_load_rresp_i,
  input  logic         m_load_rlast_i,

  output logic         m_store_awvalid_o,
  input  logic         m_store_awready_i,
  output logic [63:0]  m_store_awaddr_o,
  output logic [7:0]   m_store_awlen_o,
  output logic [2:0]   m_store_awsize_o,
  output logic [1:0]   m_store_awburst_o,
  output logic         m_store_wvalid_o,
  input  logic         m_store_wready_i,
  output logic [255:0] m_store_wdata_o,
  output logic [31:0]  m_store_wstrb_o,
  output logic         m_store_wlast_o,
  input  logic         m_store_bvalid_i,
  output logic         m_store_bready_o,
  input  logic [1:0]   m_store_bresp_i
);

  localparam int unsigned LogBeats   = 32;
  localparam int unsigned LogBursts  = 8;
  localparam int unsigned StoreBeats = 6;
  localparam int unsigned MaxOut     = 4;
  localparam logic [64:0] HbmBytes   = 65'(HbmMb) << 20;
  localparam logic [2:0]  Size32     = 3'd5;
  localparam logic [1:0]  BurstIncr  = 2'd1;

  typedef enum logic [1:0] {
    Idle,
    Fetch,
    Store
  } state_e;

  state_e      state_q;
  logic        abort_q, pend_q;
  logic [31:0] cyc_q;
  logic [31:0] now;

  assign now = start_i ? 32'd0 : cyc_q;

  // The run's beginning: at start_i, or after a drain for a start_i that came during it.
  logic begin_run, range_bad;
  assign begin_run = state_q == Idle && (start_i || pend_q);
  assign range_bad = prog_len_i == 0 || prog_addr_i[4:0] != 5'd0
      || 65'(prog_addr_i) + 65'({prog_len_i, 5'd0}) > HbmBytes;

  // Fetch.
  logic [63:0] addr_q;
  logic [31:0] remain_q;
  logic        arvalid_q;
  logic [63:0] araddr_q;
  logic [7:0]  arlen_q;
  logic [2:0]  outstanding_q;
  logic [31:0] ar_cyc_q [MaxOut];
  logic [7:0]  ar_len_q [MaxOut];
  logic [1:0]  ar_head_q, ar_tail_q;
  logic [7:0]  bib_q;           // beat index in the burst at the head
  logic        seen_q;          // RVALID seen for the current beat
  logic [31:0] seen_cyc_q;
  logic [31:0] beats_q, bursts_q;
  logic        fault_q;
  logic        cfg_q;           // beat 0 has arrived
  logic        halt_q;
  logic [7:0]  pattern_q, wlead_q, viol_q;
  logic [2:0]  max_out_q;
  logic [63:0] log_addr_q;
  logic [31:0] beat_log_q [LogBeats];
  logic [31:0] ar_log_q [LogBursts];
  logic [31:0] lat_sum_q, lat_min_q, lat_max_q, last_r_q;

  logic [2:0]  limit;
  logic [31:0] to_4k, burst;
  logic        issue, ar_hs, r_hs, fetch_done;
  logic [31:0] present, lat;

  assign limit = !cfg_q ? 3'd1 : max_out_q;
  assign to_4k = 32'd128 - 32'(addr_q[11:5]);
  always_comb begin
    burst = 32'd16;
    if (remain_q < burst) burst = remain_q;
    if (to_4k < burst) burst = to_4k;
  end
  assign issue = state_q == Fetch && !abort_q && remain_q != 0 && !arvalid_q
      && outstanding_q < limit;
  assign ar_hs = m_fetch_arvalid_o && m_fetch_arready_i;
  assign m_fetch_rready_o = abort_q || !cfg_q || pattern_q == 8'd0 || pattern_q[now[2:0]];
  assign r_hs = m_fetch_rvalid_i && m_fetch_rready_o;
  assign present = seen_q ? seen_cyc_q : now;
  assign lat = present - ar_cyc_q[ar_head_q];
  assign fetch_done = state_q == Fetch && (remain_q == 0 || abort_q) && outstanding_q == 0
      && !arvalid_q;

  // Store.
  logic [7:0]  st_cnt_q;
  logic        aw_done_q;
  logic [31:0] aw_cyc_q;
  logic [2:0]  w_idx_q;
  logic        aw_hs, w_hs, b_hs;
  logic [31:0] words [StoreBeats * 8];

  assign m_store_awvalid_o = state_q == Store && !aw_done_q && st_cnt_q >= wlead_q;
  assign m_store_awaddr_o  = log_addr_q;
  assign m_store_awlen_o   = viol_q == 8'd1 ? 8'd16 : 8'(StoreBeats - 1);
  assign m_store_awsize_o  = viol_q == 8'd3 ? 3'd4 : Size32;
  assign m_store_awburst_o = BurstIncr;
  assign m_store_wvalid_o  = state_q == Store && 32'(w_idx_q) < StoreBeats
      && (32'(w_idx_q) < StoreBeats - 1 || aw_done_q);
  assign m_store_wstrb_o   = '1;
  always_comb begin
    unique case (viol_q)
      8'd4:    m_store_wlast_o = w_idx_q == 3'd0;
      8'd5:    m_store_wlast_o = 1'b0;
      default: m_store_wlast_o = 32'(w_idx_q) == StoreBeats - 1;
    endcase
  end
  assign m_store_bready_o = 1'b1;
  assign aw_hs = m_store_awvalid_o && m_store_awready_i;
  assign w_hs  = m_store_wvalid_o && m_store_wready_i;
  assign b_hs  = m_store_bvalid_i && m_store_bready_o;

  always_comb begin
    for (int unsigned k = 0; k < LogBeats; k++) words[k] = beat_log_q[k];
    for (int unsigned k = 0; k < LogBursts; k++) words[LogBeats + k] = ar_log_q[k];
    words[40] = 32'h42555453;
    words[41] = bursts_q;
    words[42] = beats_q;
    words[43] = aw_cyc_q;
    words[44] = lat_sum_q;
    words[45] = lat_min_q;
    words[46] = lat_max_q;
    words[47] = last_r_q;
    for (int unsigned k = 0; k < 8; k++) begin
      m_store_wdata_o[32*k +: 32] = words[(32'(w_idx_q) % StoreBeats) * 8 + k];
    end
  end

  // The end of the run.
  always_comb begin
    run_end_o      = 1'b0;
    run_error_o    = ErrNone;
    run_error_pc_o = '0;
    if (!soft_reset_i && !abort_q) begin
      if (begin_run && range_bad) begin
        run_end_o   = 1'b1;
        run_error_o = ErrProgRange;
      end else if (fetch_done && fault_q) begin
        run_end_o      = 1'b1;
        run_error_o    = ErrMemFault;
        run_error_pc_o = beats_q;
      end else if (state_q == Store && b_hs) begin
        run_end_o = 1'b1;
        if (m_store_bresp_i != 2'b00) begin
          run_error_o    = ErrMemFault;
          run_error_pc_o = beats_q;
        end else if (!halt_q) begin
          run_error_o    = ErrProgEnd;
          run_error_pc_o = prog_len_i;
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= Idle;
      abort_q       <= 1'b0;
      pend_q        <= 1'b0;
      cyc_q         <= '0;
      addr_q        <= '0;
      remain_q      <= '0;
      arvalid_q     <= 1'b0;
      araddr_q      <= '0;
      arlen_q       <= '0;
      outstanding_q <= '0;
      ar_head_q     <= '0;
      ar_tail_q     <= '0;
      bib_q         <= '0;
      seen_q        <= 1'b0;
      seen_cyc_q    <= '0;
      beats_q       <= '0;
      bursts_q      <= '0;
      fault_q       <= 1'b0;
      cfg_q         <= 1'b0;
      halt_q        <= 1'b0;
      pattern_q     <= '0;
      wlead_q       <= '0;
      viol_q        <= '0;
      max_out_q     <= 3'(MaxOut);
      log_addr_q    <= '0;
      lat_sum_q     <= '0;
      lat_min_q     <= '0;
      lat_max_q     <= '0;
      last_r_q      <= '0;
      st_cnt_q      <= '0;
      aw_done_q     <= 1'b0;
      aw_cyc_q      <= '0;
      w_idx_q       <= '0;
      for (int unsigned k = 0; k < MaxOut; k++) begin
        ar_cyc_q[k] <= '0;
        ar_len_q[k] <= '0;
      end
      for (int unsigned k = 0; k < LogBeats; k++) beat_log_q[k] <= '0;
      for (int unsigned k = 0; k < LogBursts; k++) ar_log_q[k] <= '0;
    end else begin
      cyc_q <= now + 32'd1;

      if (soft_reset_i) begin
        pend_q  <= 1'b0;
        abort_q <= state_q != Idle;
      end else if (start_i && state_q != Idle) begin
        pend_q <= 1'b1;
      end

      if (begin_run && !soft_reset_i) begin
        pend_q <= 1'b0;
        if (!range_bad) begin
          state_q    <= Fetch;
          addr_q     <= prog_addr_i;
          remain_q   <= prog_len_i;
          beats_q    <= '0;
          bursts_q   <= '0;
          fault_q    <= 1'b0;
          cfg_q      <= 1'b0;
          halt_q     <= 1'b0;
          pattern_q  <= '0;
          wlead_q    <= '0;
          viol_q     <= '0;
          max_out_q  <= 3'(MaxOut);
          log_addr_q <= '0;
          lat_sum_q  <= '0;
          lat_min_q  <= '1;
          lat_max_q  <= '0;
          last_r_q   <= '0;
          for (int unsigned k = 0; k < LogBeats; k++) beat_log_q[k] <= '0;
          for (int unsigned k = 0; k < LogBursts; k++) ar_log_q[k] <= '0;
        end
      end

      // AR
      if (issue) begin
        arvalid_q <= 1'b1;
        araddr_q  <= addr_q;
        arlen_q   <= 8'(burst - 32'd1);
        addr_q    <= addr_q + 64'({burst, 5'd0});
        remain_q  <= remain_q - burst;
      end else if (ar_hs) begin
        arvalid_q <= 1'b0;
      end
      if (ar_hs) begin
        ar_cyc_q[ar_tail_q] <= now;
        ar_len_q[ar_tail_q] <= arlen_q;
        ar_tail_q <= ar_tail_q + 2'd1;
        if (bursts_q < LogBursts) ar_log_q[bursts_q[2:0]] <= now;
        bursts_q <= bursts_q + 32'd1;
      end

      // R
      if (m_fetch_rvalid_i && !r_hs && !seen_q) begin
        seen_q     <= 1'b1;
        seen_cyc_q <= now;
      end
      if (r_hs) begin
        seen_q <= 1'b0;
        if (!abort_q) begin
          if (beats_q < LogBeats) beat_log_q[beats_q[4:0]] <= {now[15:0], present[15:0]};
          beats_q  <= beats_q + 32'd1;
          last_r_q <= now;
          if (m_fetch_rresp_i != 2'b00) begin
            fault_q <= 1'b1;
          end else if (beats_q == 0) begin
            cfg_q      <= 1'b1;
            halt_q     <= m_fetch_rdata_i[7:0] == 8'(OpHalt);
            pattern_q  <= m_fetch_rdata_i[15:8];
            max_out_q  <= m_fetch_rdata_i[23:16] == 8'd0 || m_fetch_rdata_i[23:16] > 8'(MaxOut)
                ? 3'(MaxOut) : m_fetch_rdata_i[18:16];
            wlead_q    <= m_fetch_rdata_i[31:24];
            viol_q     <= m_fetch_rdata_i[39:32];
            log_addr_q <= m_fetch_rdata_i[127:64];
          end
          if (bib_q == 0) begin
            lat_sum_q <= lat_sum_q + lat;
            if (lat < lat_min_q) lat_min_q <= lat;
            if (lat > lat_max_q) lat_max_q <= lat;
          end
        end
        if (bib_q == ar_len_q[ar_head_q]) begin
          bib_q     <= '0;
          ar_head_q <= ar_head_q + 2'd1;
        end else begin
          bib_q <= bib_q + 8'd1;
        end
      end
      outstanding_q <= outstanding_q + 3'(ar_hs)
          - 3'(r_hs && bib_q == ar_len_q[ar_head_q]);

      if (fetch_done) begin
        if (abort_q || fault_q) begin
          state_q <= Idle;
          abort_q <= 1'b0;
        end else begin
          state_q   <= Store;
          st_cnt_q  <= '0;
          aw_done_q <= 1'b0;
          w_idx_q   <= '0;
        end
      end

      // Store
      if (state_q == Store) begin
        if (st_cnt_q != 8'hff) st_cnt_q <= st_cnt_q + 8'd1;
        if (aw_hs) begin
          aw_done_q <= 1'b1;
          aw_cyc_q  <= now;
        end
        if (w_hs) w_idx_q <= w_idx_q + 3'd1;
        if (b_hs) begin
          state_q <= Idle;
          abort_q <= 1'b0;
        end
      end
    end
  end

  assign m_fetch_arvalid_o = arvalid_q;
  assign m_fetch_araddr_o  = araddr_q;
  assign m_fetch_arlen_o   = arlen_q;
  assign m_fetch_arsize_o  = Size32;
  assign m_fetch_arburst_o = BurstIncr;

  assign m_load_arvalid_o  = 1'b0;
  assign m_load_araddr_o   = '0;
  assign m_load_arlen_o    = '0;
  assign m_load_arsize_o   = Size32;
  assign m_load_arburst_o  = BurstIncr;
  assign m_load_rready_o   = 1'b1;

  assign pc_o            = beats_q;
  assign instret_o       = r_hs && !abort_q;
  assign array_rows_o    = 17'(r_hs && !abort_q);
  assign stall_o         = m_fetch_rvalid_i && !m_fetch_rready_o;
  assign bytes_read_o    = (r_hs && !abort_q) ? 48'd32 : 48'd0;
  assign bytes_written_o = w_hs ? 48'd32 : 48'd0;
  assign vector_cycles_o = '0;

  logic unused_inputs;
  assign unused_inputs = ^{m_fetch_rlast_i, m_load_arready_i, m_load_rvalid_i, m_load_rdata_i,
                           m_load_rresp_i, m_load_rlast_i, m_fetch_rdata_i[255:128],
                           m_fetch_rdata_i[63:40], 32'(ArrayDim), 32'(AbufRows),
                           32'(WbufRows), 32'(AccRows), 32'(VectorUnit), 32'(LutRows)};

endmodule
