// Splits the HBM side of a LOAD or STORE into AXI4 INCR bursts of 32-byte beats.
//
// The transfer is y_size rows of x_size elements of elem_bytes bytes, element (x, y) at
// hbm_addr + y*y_stride + x*x_stride. A "range" is a run of bytes moved as one: a whole row of
// the block when x_stride == elem_bytes (x_size*elem_bytes bytes from the row's address), else one
// element. Ranges are produced in (y, x) order and each is cut into bursts only where AXI
// requires it: at most 16 beats, never across a 4 KiB boundary. Both cuts fall on beat
// boundaries, so a range of n bytes at address a always takes
// floor((a + n - 1) / 32) - floor(a / 32) + 1 beats, however it is cut.
//
// One burst is offered per cycle (valid_o, combinational from the state) and the next range is
// prepared ahead, so consecutive bursts follow each other without a gap for as long as ready_i
// is 1. The first burst is offered in the cycle after start_i.
module systole_align_bursts (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,
  input  logic        start_i,
  input  logic [47:0] hbm_addr_i,
  input  logic [11:0] elem_bytes_i,
  input  logic [15:0] x_size_i,
  input  logic [15:0] y_size_i,
  input  logic [31:0] x_stride_i,
  input  logic [31:0] y_stride_i,
  output logic        valid_o,
  input  logic        ready_i,
  output logic [47:0] addr_o,    // byte address of the first useful byte
  output logic [3:0]  len_o,     // beats - 1
  output logic [4:0]  beats_o,   // beats, 1 to 16
  output logic [4:0]  lo_o,      // first useful byte lane of the first beat
  output logic [4:0]  hi_o       // last useful byte lane of the last beat
);
  logic        active_q;
  logic [47:0] cur_addr_q;      // next byte of the current range
  logic [27:0] cur_rem_q;       // bytes of the current range still to cut
  logic [31:0] ranges_left_q;   // ranges after the current one
  logic [47:0] nxt_addr_q;      // address of the range after the current one
  logic [47:0] row_q;           // base address of the block row that range belongs to
  logic [15:0] nx_q;            // its x index (per-element ranges)
  logic [15:0] x_count_q;       // ranges per block row: 1 (contiguous rows) or x_size
  logic [27:0] range_len_q;
  logic [31:0] x_stride_q, y_stride_q;

  // The burst at the current position.
  logic [4:0]  lo;
  logic [28:0] end_off;         // offset of the range's last byte from the current beat
  logic [24:0] beats_rem;       // beats to the end of the range
  logic [7:0]  beats_4k;        // beats to the next 4 KiB boundary
  logic [4:0]  beats;
  logic [9:0]  span;            // bytes from cur_addr to the end of the last beat of the burst
  logic [27:0] bytes;           // bytes of the range this burst moves
  logic        range_done;
  logic [4:0]  unused_end_lo;
  assign unused_end_lo = end_off[4:0];

  always_comb begin
    lo        = cur_addr_q[4:0];
    end_off   = {24'd0, lo} + {1'b0, cur_rem_q} - 29'd1;
    beats_rem = end_off[28:5] + 25'd1;
    beats_4k  = 8'd128 - {1'b0, cur_addr_q[11:5]};
    beats     = 5'd16;
    if (beats_rem < 25'd16) begin
      beats = beats_rem[4:0];
    end
    if ({3'd0, beats} > beats_4k) begin
      beats = beats_4k[4:0];
    end
    span       = {beats, 5'd0} - {5'd0, lo};
    bytes      = ({18'd0, span} < cur_rem_q) ? {18'd0, span} : cur_rem_q;
    range_done = (bytes == cur_rem_q);
  end

  assign valid_o = active_q;
  assign addr_o  = cur_addr_q;
  assign beats_o = beats;
  assign len_o   = 4'(beats - 5'd1);
  assign lo_o    = lo;
  assign hi_o    = lo + bytes[4:0] - 5'd1;

  // Setup from the instruction fields.
  logic        contig;
  logic [27:0] start_len;
  logic [31:0] start_ranges;
  logic [15:0] start_x_count;
  assign contig        = ({20'd0, elem_bytes_i} == x_stride_i);
  assign start_len     = contig ? {12'd0, x_size_i} * {16'd0, elem_bytes_i} : {16'd0, elem_bytes_i};
  assign start_x_count = contig ? 16'd1 : x_size_i;
  assign start_ranges  = contig ? {16'd0, y_size_i} : {16'd0, x_size_i} * {16'd0, y_size_i};

  logic fire;
  assign fire = active_q && ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q      <= 1'b0;
      cur_addr_q    <= '0;
      cur_rem_q     <= '0;
      ranges_left_q <= '0;
      nxt_addr_q    <= '0;
      row_q         <= '0;
      nx_q          <= '0;
      x_count_q     <= '0;
      range_len_q   <= '0;
      x_stride_q    <= '0;
      y_stride_q    <= '0;
    end else if (clear_i) begin
      active_q <= 1'b0;
    end else if (start_i) begin
      active_q      <= 1'b1;
      cur_addr_q    <= hbm_addr_i;
      cur_rem_q     <= start_len;
      ranges_left_q <= start_ranges - 32'd1;
      x_count_q     <= start_x_count;
      range_len_q   <= start_len;
      x_stride_q    <= x_stride_i;
      y_stride_q    <= y_stride_i;
      if (start_x_count > 16'd1) begin
        nx_q       <= 16'd1;
        row_q      <= hbm_addr_i;
        nxt_addr_q <= hbm_addr_i + {16'd0, x_stride_i};
      end else begin
        nx_q       <= 16'd0;
        row_q      <= hbm_addr_i + {16'd0, y_stride_i};
        nxt_addr_q <= hbm_addr_i + {16'd0, y_stride_i};
      end
    end else if (fire) begin
      if (!range_done) begin
        cur_addr_q <= cur_addr_q + {20'd0, bytes};
        cur_rem_q  <= cur_rem_q - bytes;
      end else if (ranges_left_q == '0) begin
        active_q <= 1'b0;
      end else begin
        cur_addr_q    <= nxt_addr_q;
        cur_rem_q     <= range_len_q;
        ranges_left_q <= ranges_left_q - 32'd1;
        if (nx_q + 16'd1 < x_count_q) begin
          nx_q       <= nx_q + 16'd1;
          nxt_addr_q <= nxt_addr_q + {16'd0, x_stride_q};
        end else begin
          nx_q       <= 16'd0;
          row_q      <= row_q + {16'd0, y_stride_q};
          nxt_addr_q <= row_q + {16'd0, y_stride_q};
        end
      end
    end
  end

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // The offer is a valid/ready handshake: held, and unchanged, until taken (or cut by clear_i).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  OfferHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      valid_o && !ready_i && !clear_i
      |=> valid_o && $stable({addr_o, len_o, beats_o, lo_o, hi_o}))
    else $error("systole_align_bursts: burst dropped or changed while valid_o && !ready_i");
  // A transfer starts only once the last one is cut.
  StartWhenIdle: assert property (@(posedge clk_i) disable iff (!chk_q)
      start_i && !clear_i |-> !active_q)
    else $error("systole_align_bursts: start_i while bursts are still being cut");
  // Every burst is a legal AXI INCR burst: 1 to 16 beats, not across a 4 KiB boundary, and it
  // moves at least one byte of a range that is not empty.
  BurstBeats: assert property (@(posedge clk_i) disable iff (!chk_q)
      valid_o |-> beats_o >= 5'd1 && beats_o <= 5'd16 && {1'b0, len_o} == beats_o - 5'd1)
    else $error("systole_align_bursts: burst of %0d beats", beats_o);
  BurstIn4k: assert property (@(posedge clk_i) disable iff (!chk_q)
      valid_o |-> {1'b0, addr_o[11:5]} + {3'd0, beats_o} <= 8'd128)
    else $error("systole_align_bursts: burst at 0x%0h of %0d beats crosses 4 KiB", addr_o,
                beats_o);
  RangeNotEmpty: assert property (@(posedge clk_i) disable iff (!chk_q)
      valid_o |-> cur_rem_q != '0 && (beats_o != 5'd1 || lo_o <= hi_o))
    else $error("systole_align_bursts: empty range or single beat with lo_o > hi_o");
`endif

endmodule
