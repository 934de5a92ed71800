// Instruction fetch: reads the program from HBM, one 32-byte instruction per beat, into a FIFO the
// issue stage pops. It keeps the FIFO fed with bursts of up to MaxBurst beats (never across a
// 4 KiB boundary), several in flight, and asks only for beats the FIFO has room for, so R is
// always ready. AXI requests cannot be taken back: when a run stops (its end, or a soft reset)
// the beats still owed are counted and dropped as they arrive, and a new run starts at once.
//
// Timing with the fixed-latency memory: start in cycle 0, the first AR in cycle 1, its first beat
// accepted in cycle 1 + Lr and at the FIFO's head in cycle 2 + Lr; then one instruction per cycle.
module systole_fetch #(
  parameter int unsigned Depth    = 64,
  parameter int unsigned MaxBurst = 16,
  localparam int unsigned Cw      = $clog2(Depth + 1)
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic [63:0]  prog_addr_i,
  input  logic [31:0]  prog_len_i,
  input  logic         stop_i,

  output logic         m_arvalid_o,
  input  logic         m_arready_i,
  output logic [63:0]  m_araddr_o,
  output logic [7:0]   m_arlen_o,
  output logic [2:0]   m_arsize_o,
  output logic [1:0]   m_arburst_o,
  input  logic         m_rvalid_i,
  output logic         m_rready_o,
  input  logic [255:0] m_rdata_i,
  input  logic [1:0]   m_rresp_i,
  input  logic         m_rlast_i,

  output logic         instr_valid_o,
  output logic [255:0] instr_o,
  output logic         instr_fault_o,
  input  logic         instr_pop_i
);

  localparam int unsigned BeatBytes = 32;

  logic        active_q;
  logic [63:0] addr_q;
  logic [31:0] remain_q;
  logic [31:0] inflight_q;
  logic [31:0] discard_q;
  logic        arvalid_q;
  logic [63:0] araddr_q;
  logic [7:0]  arlen_q;

  logic [Cw-1:0] fifo_count;
  logic          fifo_flush;
  logic          fifo_push;

  // The next burst: from the program's start in the START cycle, else from where fetch is.
  logic [63:0] src_addr;
  logic [31:0] src_remain;
  logic        src_active;
  logic [7:0]  to_4k;
  logic [31:0] burst;
  logic        slot_free;
  logic        request;

  assign src_addr   = start_i ? prog_addr_i : addr_q;
  assign src_remain = start_i ? prog_len_i : remain_q;
  assign src_active = start_i ? 1'b1 : active_q && !stop_i;
  assign to_4k      = 8'(8'd128 - {1'b0, src_addr[11:5]});

  always_comb begin
    burst = 32'(MaxBurst);
    if (src_remain < burst) begin
      burst = src_remain;
    end
    if (32'(to_4k) < burst) begin
      burst = 32'(to_4k);
    end
  end

  assign slot_free = !arvalid_q || m_arready_i;
  // Room: beats in the FIFO plus beats owed to this run plus the new burst fit in the FIFO. After
  // START the FIFO is flushed and nothing is owed to the new run.
  assign request = src_active && slot_free && src_remain != 0
      && (start_i ? burst <= 32'(Depth)
                  : 32'(fifo_count) + inflight_q + burst <= 32'(Depth));

  logic beat_taken;
  logic beat_owed_to_old;
  assign beat_taken       = m_rvalid_i;  // R is always ready
  assign beat_owed_to_old = discard_q != 0;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q   <= 1'b0;
      addr_q     <= '0;
      remain_q   <= '0;
      inflight_q <= '0;
      discard_q  <= '0;
      arvalid_q  <= 1'b0;
      araddr_q   <= '0;
      arlen_q    <= '0;
    end else begin
      // The AR register.
      if (request) begin
        arvalid_q <= 1'b1;
        araddr_q  <= src_addr;
        arlen_q   <= 8'(burst - 1);
      end else if (m_arready_i) begin
        arvalid_q <= 1'b0;
      end

      if (start_i) begin
        active_q <= 1'b1;
      end else if (stop_i) begin
        active_q <= 1'b0;
      end
      if (request) begin
        addr_q   <= src_addr + 64'(burst * BeatBytes);
        remain_q <= src_remain - burst;
      end else if (start_i) begin
        addr_q   <= prog_addr_i;
        remain_q <= prog_len_i;
      end else if (stop_i) begin
        remain_q <= '0;
      end

      // Beats owed: to this run (inflight) and to runs that stopped (discard).
      if (start_i || stop_i) begin
        // Everything owed so far is now owed to a stopped run; a beat taken now pays one back.
        discard_q  <= discard_q + inflight_q - 32'(beat_taken);
        inflight_q <= request ? burst : '0;
      end else begin
        inflight_q <= inflight_q + (request ? burst : 32'd0)
            - 32'(beat_taken && !beat_owed_to_old);
        discard_q  <= discard_q - 32'(beat_taken && beat_owed_to_old);
      end
    end
  end

  assign fifo_flush = start_i || stop_i;
  assign fifo_push  = beat_taken && !beat_owed_to_old && active_q && !stop_i;

  logic [256:0] fifo_rdata;
  systole_fifo #(
    .Width(257),
    .Depth(Depth)
  ) u_fifo (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .flush_i(fifo_flush),
    .push_i (fifo_push),
    .wdata_i({m_rresp_i[1], m_rdata_i}),  // SLVERR and DECERR have bit 1 set
    .pop_i  (instr_pop_i && !fifo_flush),
    .valid_o(instr_valid_o),
    .rdata_o(fifo_rdata),
    .count_o(fifo_count)
  );

  assign instr_o       = fifo_rdata[255:0];
  assign instr_fault_o = fifo_rdata[256];

  assign m_arvalid_o = arvalid_q;
  assign m_araddr_o  = araddr_q;
  assign m_arlen_o   = arlen_q;
  assign m_arsize_o  = 3'd5;
  assign m_arburst_o = 2'b01;
  assign m_rready_o  = 1'b1;

  logic unused_r;
  assign unused_r = m_rlast_i ^ m_rresp_i[0];

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // AR: once raised, ARVALID and the request stay until ARREADY (AXI A3.2.1).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  ArValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o && !m_arready_i |=> m_arvalid_o)
    else $error("systole_fetch: AR: arvalid dropped while arvalid && !arready");
  ArPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o && !m_arready_i
      |=> $stable({m_araddr_o, m_arlen_o, m_arsize_o, m_arburst_o}))
    else $error("systole_fetch: AR: araddr/arlen changed while arvalid && !arready");
  // Every request is whole 32-byte instructions in one INCR burst of at most MaxBurst beats that
  // does not cross 4 KiB.
  ArLegal: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o |-> m_araddr_o[4:0] == 5'd0 && 32'(m_arlen_o) < MaxBurst
                      && {1'b0, m_araddr_o[11:5]} + {1'b0, m_arlen_o[6:0]} < 8'd128)
    else $error("systole_fetch: AR: burst at 0x%0h, arlen %0d: unaligned, too long or across 4 KiB",
                m_araddr_o, m_arlen_o);
  // R: beats come only for requests accepted (the memory's side of the protocol).
  RBeatOwed: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_rvalid_i |-> inflight_q != '0 || discard_q != '0)
    else $error("systole_fetch: R: beat that no accepted AR asked for");
  // Credits: the beats in the FIFO and those owed to this run fit in it, so R never waits.
  FifoRoom: assert property (@(posedge clk_i) disable iff (!chk_q)
      32'(fifo_count) + inflight_q <= 32'(Depth))
    else $error("systole_fetch: FIFO entries plus beats owed exceed Depth");
`endif

endmodule
