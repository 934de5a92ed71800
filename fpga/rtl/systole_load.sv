// The LOAD unit: copies a strided, padded 2-D block of elements from HBM into consecutive buffer
// rows (contract section 6.1) through its AXI4 read master.
//
// Pipeline (the instruction issues in cycle T):
//   - systole_align_bursts cuts the block into bursts; one AR a cycle from T + 2, as long as the
//     beat FIFO has room for every beat requested and not yet taken by the aligner (credits).
//   - R beats (rready is always 1) go with the lanes they carry into the beat FIFO.
//   - The aligner, a circular byte buffer, packs the useful bytes of the beats into one byte
//     stream, the block's elements back to back, and cuts one element a cycle out of it.
//   - The write port writes a data row whenever an element is ready, and a padding row in every
//     other cycle until all padding rows are written (padding rows need no data, so they fill the
//     cycles in which the data is still on its way; data rows never wait for them).
// The unit is free again in the cycle after its last buffer write. The exact cycle count is the
// model in dev.systole.driver.timing.TransferTiming.loadCycles.
//
// clear_i stops the instruction at once (no more buffer writes, no new AR); the unit then
// accepts and drops the R beats it is still owed and is free once it has them all.
module systole_load
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned LutRows  = 0,
  // Beats requested and not yet taken by the aligner; more than the read latency plus 16
  // keeps a beat-bound transfer streaming at one beat a cycle.
  parameter int unsigned BeatFifoDepth = 512
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    clear_i,
  input  logic                    issue_i,
  input  logic [255:0]            instr_i,
  output logic                    free_o,
  output logic                    fault_o,
  // AXI4 read master
  output logic                    m_arvalid_o,
  input  logic                    m_arready_i,
  output logic [63:0]             m_araddr_o,
  output logic [7:0]              m_arlen_o,
  output logic [2:0]              m_arsize_o,
  output logic [1:0]              m_arburst_o,
  input  logic                    m_rvalid_i,
  output logic                    m_rready_o,
  input  logic [255:0]            m_rdata_i,
  input  logic [1:0]              m_rresp_i,
  input  logic                    m_rlast_i,
  // buffer write port
  output logic                    wr_en_o,
  output logic [1:0]              wr_buf_o,
  output logic [15:0]             wr_row_o,
  output logic [32*ArrayDim-1:0]  wr_data_o
);
  localparam int unsigned RowBytes   = 4 * ArrayDim;                   // widest element (ACC)
  localparam int unsigned AlignBytes = 1 << $clog2(RowBytes + 96);     // byte buffer
  localparam int unsigned AlignWords = AlignBytes / 32;
  localparam int unsigned PtrW       = $clog2(AlignBytes);
  localparam int unsigned WinWords   = (RowBytes + 30) / 32 + 1;       // words one element spans
  localparam int unsigned CreditW    = $clog2(BeatFifoDepth) + 1;

  // The row counts size the buffers, which are outside this unit; the issue stage has checked
  // every row range, so only the assertions at the end use them.
  logic [31:0] unused_rows;
  assign unused_rows = AbufRows ^ WbufRows ^ AccRows ^ LutRows;

  // ---------------------------------------------------------------------------------------------
  // Instruction fields
  logic [1:0]  f_buf;
  logic [15:0] f_dst_row, f_x_size, f_y_size;
  logic [11:0] f_elem;
  logic [7:0]  f_pad, f_x_pad0, f_x_pad1, f_y_pad0, f_y_pad1;
  logic [47:0] f_hbm_addr;
  logic [31:0] f_x_stride, f_y_stride;
  assign f_buf      = instr_i[systole_pkg::LoadBufLsb +: systole_pkg::LoadBufWidth];
  assign f_dst_row  = instr_i[systole_pkg::LoadDstRowLsb +: systole_pkg::LoadDstRowWidth];
  assign f_elem     = instr_i[systole_pkg::LoadElemBytesLsb +: systole_pkg::LoadElemBytesWidth];
  assign f_pad      = instr_i[systole_pkg::LoadPadValueLsb +: systole_pkg::LoadPadValueWidth];
  assign f_hbm_addr = instr_i[systole_pkg::LoadHbmAddrLsb +: systole_pkg::LoadHbmAddrWidth];
  assign f_x_size   = instr_i[systole_pkg::LoadXSizeLsb +: systole_pkg::LoadXSizeWidth];
  assign f_y_size   = instr_i[systole_pkg::LoadYSizeLsb +: systole_pkg::LoadYSizeWidth];
  assign f_x_stride = instr_i[systole_pkg::LoadXStrideLsb +: systole_pkg::LoadXStrideWidth];
  assign f_y_stride = instr_i[systole_pkg::LoadYStrideLsb +: systole_pkg::LoadYStrideWidth];
  assign f_x_pad0   = instr_i[systole_pkg::LoadXPad0Lsb +: systole_pkg::LoadXPad0Width];
  assign f_x_pad1   = instr_i[systole_pkg::LoadXPad1Lsb +: systole_pkg::LoadXPad1Width];
  assign f_y_pad0   = instr_i[systole_pkg::LoadYPad0Lsb +: systole_pkg::LoadYPad0Width];
  assign f_y_pad1   = instr_i[systole_pkg::LoadYPad1Lsb +: systole_pkg::LoadYPad1Width];

  logic [255:0] unused_instr;
  assign unused_instr = instr_i;

  // Geometry at issue. Row numbers are 16 bits: the issue stage checked dst_row + W*H <= rows.
  logic [16:0] g_w;           // W = x_pad0 + x_size + x_pad1
  logic [16:0] g_h;           // H
  logic [31:0] g_top;         // y_pad0 * W padding rows above the block
  logic [15:0] g_data_y0;     // (y_pad0 + y_size) * W: first row below the block, from dst_row
  logic [31:0] g_bottom;      // y_pad1 * W
  logic [31:0] g_side;        // y_size * (x_pad0 + x_pad1)
  logic [31:0] g_rows;        // W * H (at most 65536 once the issue stage has checked it)
  logic [31:0] g_data;        // x_size * y_size
  always_comb begin
    g_w       = {9'd0, f_x_pad0} + {1'b0, f_x_size} + {9'd0, f_x_pad1};
    g_h       = {9'd0, f_y_pad0} + {1'b0, f_y_size} + {9'd0, f_y_pad1};
    g_top     = {24'd0, f_y_pad0} * {15'd0, g_w};
    g_data_y0 = ({8'd0, f_y_pad0} + f_y_size) * g_w[15:0];
    g_bottom  = {24'd0, f_y_pad1} * {15'd0, g_w};
    g_side    = {16'd0, f_y_size} * ({24'd0, f_x_pad0} + {24'd0, f_x_pad1});
    g_rows    = {15'd0, g_w} * {15'd0, g_h};
    g_data    = {16'd0, f_x_size} * {16'd0, f_y_size};
  end

  // ---------------------------------------------------------------------------------------------
  // State
  logic        busy_q, drain_q, faulted_q, fault_q;
  logic [1:0]  buf_q;
  logic [11:0] elem_q;
  logic [7:0]  pad_q, x_pad0_q, x_pad1_q;
  logic [15:0] x_size_q;
  logic [31:0] writes_left_q;   // buffer rows still to write (W*H at issue)
  // data rows
  logic [31:0] data_left_q;
  logic [15:0] data_row_q;
  logic [15:0] data_x_q;
  // padding rows: the block above, the sides of each block row, the block below
  logic [31:0] top_left_q, side_left_q, bot_left_q;
  logic [15:0] top_row_q, side_row_q, bot_row_q;
  logic [8:0]  side_k_q;
  // AXI
  logic        arvalid_q;
  logic [47:0] araddr_q;
  logic [3:0]  arlen_q;
  logic [CreditW-1:0] credit_q; // beats requested and not yet taken by the aligner
  logic [31:0] owed_q;          // beats of accepted ARs not yet received
  logic        r_first_q;       // the next R beat is the first of its burst
  // aligner
  logic [AlignWords*256-1:0] al_q;   // AlignWords words of 32 bytes
  logic [PtrW:0]   fill_q;
  logic [PtrW-1:0] wptr_q, rptr_q;
  // write port
  logic                   wr_en_q;
  logic [1:0]             wr_buf_q;
  logic [15:0]            wr_row_q;
  logic [32*ArrayDim-1:0] wr_data_q;

  logic start;
  assign start  = issue_i && free_o;
  assign free_o = !busy_q && !drain_q;

  // ---------------------------------------------------------------------------------------------
  // Bursts and the AR channel
  logic        gen_valid, gen_ready, gen_fire;
  logic [47:0] gen_addr;
  logic [3:0]  gen_len;
  logic [4:0]  gen_beats, gen_lo, gen_hi;
  logic        ar_hs, r_fire, absorb;

  systole_align_bursts u_bursts (
    .clk_i,
    .rst_ni,
    .clear_i,
    .start_i      (start),
    .hbm_addr_i   (f_hbm_addr),
    .elem_bytes_i (f_elem),
    .x_size_i     (f_x_size),
    .y_size_i     (f_y_size),
    .x_stride_i   (f_x_stride),
    .y_stride_i   (f_y_stride),
    .valid_o      (gen_valid),
    .ready_i      (gen_ready),
    .addr_o       (gen_addr),
    .len_o        (gen_len),
    .beats_o      (gen_beats),
    .lo_o         (gen_lo),
    .hi_o         (gen_hi)
  );

  logic [CreditW:0] credit_need;
  assign credit_need = {1'b0, credit_q} + {{CreditW-4{1'b0}}, gen_beats};
  assign gen_ready   = busy_q && !clear_i && (!arvalid_q || m_arready_i)
                     && (credit_need <= (CreditW + 1)'(BeatFifoDepth));
  assign gen_fire  = gen_valid && gen_ready;
  assign ar_hs     = arvalid_q && m_arready_i;
  assign r_fire    = m_rvalid_i;   // rready is always 1

  assign m_arvalid_o = arvalid_q;
  assign m_araddr_o  = {16'd0, araddr_q};
  assign m_arlen_o   = {4'd0, arlen_q};
  assign m_arsize_o  = 3'd5;
  assign m_arburst_o = 2'b01;
  assign m_rready_o  = 1'b1;

  // Burst descriptors (the lanes of the first and last beat), in AR order.
  logic       desc_valid;
  logic [9:0] desc;
  logic       desc_pop;
  assign desc_pop = r_fire && busy_q && m_rlast_i;

  systole_align_fifo #(
    .Width (10),
    .Depth (BeatFifoDepth)
  ) u_desc (
    .clk_i,
    .rst_ni,
    .clear_i,
    .push_i  (gen_fire),
    .wdata_i ({gen_hi, gen_lo}),
    .pop_i   (desc_pop),
    .valid_o (desc_valid),
    .rdata_o (desc)
  );

  // Beats with their useful lanes lo..hi.
  logic [4:0]   r_lo, r_hi;
  logic         beat_valid;
  logic [265:0] beat;
  logic [255:0] beat_data;
  logic [4:0]   beat_lo, beat_hi;
  assign r_lo = r_first_q ? desc[4:0] : 5'd0;
  assign r_hi = m_rlast_i ? desc[9:5] : 5'd31;

  systole_align_fifo #(
    .Width (266),
    .Depth (BeatFifoDepth)
  ) u_beats (
    .clk_i,
    .rst_ni,
    .clear_i,
    .push_i  (r_fire && busy_q),
    .wdata_i ({r_hi, r_lo, m_rdata_i}),
    .pop_i   (absorb),
    .valid_o (beat_valid),
    .rdata_o (beat)
  );
  assign {beat_hi, beat_lo, beat_data} = beat;

  // ---------------------------------------------------------------------------------------------
  // Aligner
  logic            out_data, out_pad;
  logic [5:0]      beat_n;
  logic [PtrW:0]   fill_after_out;
  logic [4:0]      wshift;
  logic [255:0]    rot;
  logic [AlignWords*256-1:0] al_d;

  assign out_data       = busy_q && (data_left_q != '0) && (fill_q >= (PtrW + 1)'(elem_q));
  assign beat_n         = {1'b0, beat_hi} - {1'b0, beat_lo} + 6'd1;
  assign fill_after_out = out_data ? fill_q - (PtrW + 1)'(elem_q) : fill_q;
  assign absorb         = busy_q && beat_valid
                        && ({1'b0, fill_after_out} + (PtrW + 2)'(beat_n)
                            <= (PtrW + 2)'(AlignBytes));
  assign wshift         = wptr_q[4:0] - beat_lo;

  // rot[lane] = the beat byte that lands on that lane of the byte buffer
  for (genvar l = 0; l < 32; l++) begin : g_rot
    localparam logic [4:0] Lane = l;
    logic [4:0] src;
    assign src             = Lane - wshift;
    assign rot[8*l +: 8]   = beat_data[8*src +: 8];
  end

  // byte a of the buffer takes its lane of the beat when it lies in wptr .. wptr + n - 1
  for (genvar a = 0; a < AlignBytes; a++) begin : g_wr
    localparam logic [PtrW-1:0] Addr = a;
    logic [PtrW-1:0] k;
    assign k                = Addr - wptr_q;
    assign al_d[8*a +: 8]   = (absorb && ({1'b0, k} < (PtrW + 1)'(beat_n)))
                            ? rot[8*(a % 32) +: 8] : al_q[8*a +: 8];
  end

  // The element at the read pointer, and the row it makes.
  logic [PtrW-6:0]                rword;
  logic [WinWords*256-1:0]         win;
  logic [8*RowBytes-1:0]           elem_bytes;
  logic [32*ArrayDim-1:0]          data_row, pad_row;
  logic                            acc_row, lut_row;

  assign rword   = rptr_q[PtrW-1:5];
  // The window's last bytes are past any element (k + off <= RowBytes + 30).
  logic unused_win;
  assign unused_win = ^win;
  assign acc_row = (buf_q == systole_pkg::BufAcc);
  assign lut_row = (buf_q == systole_pkg::BufLut);

  // the words the element spans, from the read pointer's word on
  for (genvar w = 0; w < WinWords; w++) begin : g_win
    localparam logic [PtrW-6:0] Word = w;
    logic [PtrW-6:0] idx;
    assign idx                = rword + Word;
    assign win[256*w +: 256]  = al_q[256*idx +: 256];
  end

  for (genvar k = 0; k < RowBytes; k++) begin : g_row
    localparam logic [11:0] Byte = k;
    logic [7:0]   fillb;
    logic [255:0] from; // the 32 window bytes it can come from: k + 0 .. k + 31
    assign from = win[8*k +: 256];
    // ACC (4-byte) and LUT (2-byte) lanes take pad_value sign-extended, int8 lanes pad_value;
    // bytes past a row are 0
    if (k % 4 == 0) begin : g_lsb
      assign fillb = (acc_row || (lut_row && k < 2 * ArrayDim) || k < ArrayDim) ? pad_q : 8'd0;
    end else if (k % 2 == 0) begin : g_mid
      assign fillb = acc_row ? {8{pad_q[7]}} : (lut_row && k < 2 * ArrayDim) ? pad_q
          : (k < ArrayDim) ? pad_q : 8'd0;
    end else begin : g_msb
      assign fillb = (acc_row || (lut_row && k < 2 * ArrayDim)) ? {8{pad_q[7]}}
          : (k < ArrayDim) ? pad_q : 8'd0;
    end
    assign elem_bytes[8*k +: 8] = from[8*rptr_q[4:0] +: 8];
    assign pad_row[8*k +: 8]    = fillb;
    assign data_row[8*k +: 8]   = (Byte < elem_q) ? elem_bytes[8*k +: 8] : fillb;
  end

  // ---------------------------------------------------------------------------------------------
  // Write port: a data row when one is ready, else a padding row.
  logic        pad_top, pad_side, pad_bot;
  logic [15:0] pad_row_addr;
  assign pad_top  = top_left_q != '0;
  assign pad_side = !pad_top && (side_left_q != '0);
  assign pad_bot  = !pad_top && !pad_side && (bot_left_q != '0);
  assign out_pad  = busy_q && !out_data && (pad_top || pad_side || pad_bot);
  always_comb begin
    if (pad_top) begin
      pad_row_addr = top_row_q;
    end else if (pad_side) begin
      pad_row_addr = side_row_q;
    end else begin
      pad_row_addr = bot_row_q;
    end
  end

  // The side enumerator's next row: left pads, jump over the data, right pads, next block row.
  logic [9:0]  side_per_row;
  logic [15:0] side_next_row;
  logic [8:0]  side_next_k;
  always_comb begin
    side_per_row = {2'd0, x_pad0_q} + {2'd0, x_pad1_q};
    if ({1'b0, side_k_q} + 10'd1 == side_per_row) begin
      side_next_k   = '0;
      side_next_row = side_row_q + 16'd1 + ((x_pad1_q == '0) ? x_size_q : 16'd0)
                    + ((x_pad0_q == '0) ? x_size_q : 16'd0);
    end else if (side_k_q + 9'd1 == {1'b0, x_pad0_q}) begin
      side_next_k   = side_k_q + 9'd1;
      side_next_row = side_row_q + 16'd1 + x_size_q;
    end else begin
      side_next_k   = side_k_q + 9'd1;
      side_next_row = side_row_q + 16'd1;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Sequential state
  logic [31:0] owed_d;
  logic        arvalid_d;
  always_comb begin
    owed_d = owed_q;
    if (ar_hs) begin
      owed_d = owed_d + {28'd0, arlen_q} + 32'd1;
    end
    if (r_fire) begin
      owed_d = owed_d - 32'd1;
    end
    if (gen_fire) begin
      arvalid_d = 1'b1;
    end else if (ar_hs) begin
      arvalid_d = 1'b0;
    end else begin
      arvalid_d = arvalid_q;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q        <= 1'b0;
      drain_q       <= 1'b0;
      faulted_q     <= 1'b0;
      fault_q       <= 1'b0;
      buf_q         <= '0;
      elem_q        <= '0;
      pad_q         <= '0;
      x_pad0_q      <= '0;
      x_pad1_q      <= '0;
      x_size_q      <= '0;
      writes_left_q <= '0;
      data_left_q   <= '0;
      data_row_q    <= '0;
      data_x_q      <= '0;
      top_left_q    <= '0;
      side_left_q   <= '0;
      bot_left_q    <= '0;
      top_row_q     <= '0;
      side_row_q    <= '0;
      bot_row_q     <= '0;
      side_k_q      <= '0;
      arvalid_q     <= 1'b0;
      araddr_q      <= '0;
      arlen_q       <= '0;
      credit_q      <= '0;
      owed_q        <= '0;
      r_first_q     <= 1'b1;
      al_q          <= '0;
      fill_q        <= '0;
      wptr_q        <= '0;
      rptr_q        <= '0;
      wr_en_q       <= 1'b0;
      wr_buf_q      <= '0;
      wr_row_q      <= '0;
      wr_data_q     <= '0;
    end else begin
      // AXI bookkeeping runs through clears: owed beats are still owed.
      owed_q    <= owed_d;
      arvalid_q <= arvalid_d;
      if (gen_fire) begin
        araddr_q <= gen_addr;
        arlen_q  <= gen_len;
      end
      fault_q <= 1'b0;

      if (clear_i) begin
        busy_q    <= 1'b0;
        drain_q   <= (owed_d != '0) || arvalid_d;
        credit_q  <= '0;
        r_first_q <= 1'b1;
        fill_q    <= '0;
        wptr_q    <= '0;
        rptr_q    <= '0;
        wr_en_q   <= 1'b0;
      end else if (drain_q) begin
        drain_q <= (owed_d != '0) || arvalid_d;
      end else if (start) begin
        busy_q        <= 1'b1;
        faulted_q     <= 1'b0;
        buf_q         <= f_buf;
        elem_q        <= f_elem;
        pad_q         <= f_pad;
        x_pad0_q      <= f_x_pad0;
        x_pad1_q      <= f_x_pad1;
        x_size_q      <= f_x_size;
        writes_left_q <= g_rows;
        data_left_q   <= g_data;
        data_row_q    <= f_dst_row + g_top[15:0] + {8'd0, f_x_pad0};
        data_x_q      <= '0;
        top_left_q    <= g_top;
        top_row_q     <= f_dst_row;
        side_left_q   <= g_side;
        side_row_q    <= f_dst_row + g_top[15:0] + ((f_x_pad0 == '0) ? f_x_size : 16'd0);
        side_k_q      <= '0;
        bot_left_q    <= g_bottom;
        bot_row_q     <= f_dst_row + g_data_y0;
        wr_en_q       <= 1'b0;
      end else if (busy_q) begin
        // R side
        if (r_fire) begin
          r_first_q <= m_rlast_i;
          if (m_rresp_i != 2'b00 && !faulted_q) begin
            faulted_q <= 1'b1;
            fault_q   <= 1'b1;
          end
        end
        credit_q <= credit_q + (gen_fire ? CreditW'(gen_beats) : '0) - (absorb ? CreditW'(1) : '0);
        // aligner
        al_q   <= al_d;
        fill_q <= fill_after_out + (absorb ? (PtrW + 1)'(beat_n) : '0);
        if (absorb) begin
          wptr_q <= wptr_q + PtrW'(beat_n);
        end
        if (out_data) begin
          rptr_q      <= rptr_q + PtrW'(elem_q);
          data_left_q <= data_left_q - 32'd1;
          if (data_x_q + 16'd1 < x_size_q) begin
            data_x_q   <= data_x_q + 16'd1;
            data_row_q <= data_row_q + 16'd1;
          end else begin
            data_x_q   <= '0;
            data_row_q <= data_row_q + 16'd1 + {8'd0, x_pad1_q} + {8'd0, x_pad0_q};
          end
        end
        if (out_pad) begin
          if (pad_top) begin
            top_left_q <= top_left_q - 32'd1;
            top_row_q  <= top_row_q + 16'd1;
          end else if (pad_side) begin
            side_left_q <= side_left_q - 32'd1;
            side_row_q  <= side_next_row;
            side_k_q    <= side_next_k;
          end else begin
            bot_left_q <= bot_left_q - 32'd1;
            bot_row_q  <= bot_row_q + 16'd1;
          end
        end
        // write port
        wr_en_q  <= out_data || out_pad;
        wr_buf_q <= buf_q;
        wr_row_q <= out_data ? data_row_q : pad_row_addr;
        if (out_data || out_pad) begin
          wr_data_q <= out_data ? data_row : pad_row;
        end
        if (wr_en_q) begin
          writes_left_q <= writes_left_q - 32'd1;
          if (writes_left_q == 32'd1) begin
            busy_q <= 1'b0;
          end
        end
      end
    end
  end

  assign fault_o   = fault_q;
  assign wr_en_o   = wr_en_q;
  assign wr_buf_o  = wr_buf_q;
  assign wr_row_o  = wr_row_q;
  assign wr_data_o = wr_data_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  always_ff @(posedge clk_i) begin
    if (chk_q && busy_q && !clear_i && r_fire) begin
      assert (desc_valid) else $error("systole_load: R beat without a burst descriptor");
    end
  end

  // AR: once raised, ARVALID and the request stay until ARREADY (AXI A3.2.1).
  ArValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o && !m_arready_i |=> m_arvalid_o)
    else $error("systole_load: AR: arvalid dropped while arvalid && !arready");
  ArPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o && !m_arready_i
      |=> $stable({m_araddr_o, m_arlen_o, m_arsize_o, m_arburst_o}))
    else $error("systole_load: AR: araddr/arlen changed while arvalid && !arready");
  // Every request is one INCR burst of at most 16 beats that does not cross 4 KiB.
  ArLegal: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_arvalid_o |-> m_arlen_o < 8'd16
                      && {1'b0, m_araddr_o[11:5]} + {1'b0, m_arlen_o[6:0]} < 8'd128)
    else $error("systole_load: AR: burst at 0x%0h, arlen %0d: too long or across 4 KiB",
                m_araddr_o, m_arlen_o);
  // R: beats come only for requests accepted (the memory's side of the protocol).
  RBeatOwed: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_rvalid_i |-> owed_q != '0)
    else $error("systole_load: R: beat that no accepted AR asked for");

  // States: idle, busy or draining, never two at once; a clear stops the buffer writes.
  BusyXorDrain: assert property (@(posedge clk_i) disable iff (!chk_q) !(busy_q && drain_q))
    else $error("systole_load: busy and draining at once");
  NoWriteWhileDraining: assert property (@(posedge clk_i) disable iff (!chk_q)
      drain_q |-> !wr_en_o)
    else $error("systole_load: buffer write after a clear");
  // Credits and the byte buffer stay within their sizes.
  CreditInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      32'(credit_q) <= BeatFifoDepth)
    else $error("systole_load: %0d beats of credit taken, the beat FIFO holds %0d", credit_q,
                BeatFifoDepth);
  FillInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      32'(fill_q) <= AlignBytes)
    else $error("systole_load: byte buffer holds %0d bytes of %0d", fill_q, AlignBytes);
  // Buffer writes land in a buffer the LOAD may name, on one of its rows (the issue stage
  // checked dst_row + W*H against the rows; this checks the unit kept inside them).
  WriteBuffer: assert property (@(posedge clk_i) disable iff (!chk_q)
      wr_en_o |-> wr_buf_o != systole_pkg::BufLut || LutRows != 0)
    else $error("systole_load: buffer write to buffer id %0d", wr_buf_o);
  WriteRowInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      wr_en_o |-> 32'(wr_row_o) < (wr_buf_o == systole_pkg::BufAbuf ? AbufRows
                                  : wr_buf_o == systole_pkg::BufWbuf ? WbufRows
                                  : wr_buf_o == systole_pkg::BufAcc ? AccRows : LutRows))
    else $error("systole_load: buffer write to row %0d of buffer %0d, past its rows", wr_row_o,
                wr_buf_o);
`endif

endmodule
