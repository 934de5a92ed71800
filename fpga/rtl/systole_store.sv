// The STORE unit: copies consecutive buffer rows to a strided 2-D block of elements in HBM
// (contract section 6.2) through its AXI4 write master.
//
// Pipeline (the instruction issues in cycle T):
//   - Rows src_row, src_row + 1, ... are read one a cycle from T + 1 while the byte buffer has
//     room for them; the first elem_bytes bytes of each row join one byte stream, the block's
//     elements back to back.
//   - systole_align_bursts cuts the block into bursts (the same cuts as LOAD); one AW a cycle
//     from T + 2, each burst's lanes queued for the W side.
//   - The W side sends a beat as soon as the byte stream holds all of its useful bytes, placed on
//     their lanes with their strobes (the other lanes' strobes are 0). Bursts go out in element
//     order, so where elements overlap in HBM the later one wins.
//   - bready is always 1; the unit is free in the cycle after the last B response.
// The exact cycle count is the model in dev.systole.driver.timing.TransferTiming.storeCycles.
//
// clear_i stops the instruction at once (no more row reads, no new AW). The bursts whose AW was
// already sent still get all their W beats, with every strobe 0 (nothing is written), and the unit
// is free once every B response owed has arrived.
module systole_store
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned AbufRows = 4096,
  parameter int unsigned WbufRows = 4096,
  parameter int unsigned AccRows  = 4096,
  parameter int unsigned LutRows  = 0,
  parameter int unsigned BurstFifoDepth = 32   // bursts sent on AW ahead of their W beats
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    clear_i,
  input  logic                    issue_i,
  input  logic [255:0]            instr_i,
  output logic                    free_o,
  output logic                    fault_o,
  // AXI4 write master
  output logic                    m_awvalid_o,
  input  logic                    m_awready_i,
  output logic [63:0]             m_awaddr_o,
  output logic [7:0]              m_awlen_o,
  output logic [2:0]              m_awsize_o,
  output logic [1:0]              m_awburst_o,
  output logic                    m_wvalid_o,
  input  logic                    m_wready_i,
  output logic [255:0]            m_wdata_o,
  output logic [31:0]             m_wstrb_o,
  output logic                    m_wlast_o,
  input  logic                    m_bvalid_i,
  output logic                    m_bready_o,
  input  logic [1:0]              m_bresp_i,
  // buffer read port (data the cycle after rd_en_o)
  output logic                    rd_en_o,
  output logic [1:0]              rd_buf_o,
  output logic [15:0]             rd_row_o,
  input  logic [8*ArrayDim-1:0]   abuf_rdata_i,
  input  logic [8*ArrayDim-1:0]   wbuf_rdata_i,
  input  logic [32*ArrayDim-1:0]  acc_rdata_i,
  input  logic [16*ArrayDim-1:0]  lut_rdata_i
);
  localparam int unsigned RowBytes   = 4 * ArrayDim;                     // widest element (ACC)
  localparam int unsigned AlignBytes = 1 << $clog2(2 * RowBytes + 128);  // byte buffer
  localparam int unsigned AlignWords = AlignBytes / 32;
  localparam int unsigned PtrW       = $clog2(AlignBytes);
  localparam int unsigned WinWords   = (RowBytes + 30) / 32 + 1;         // words one element spans

  // The row counts size the buffers, which are outside this unit; the issue stage has checked
  // every row range, so only the assertions at the end use them.
  logic [31:0] unused_rows;
  assign unused_rows = AbufRows ^ WbufRows ^ AccRows ^ LutRows;

  // ---------------------------------------------------------------------------------------------
  // Instruction fields
  logic [1:0]  f_buf;
  logic [15:0] f_src_row, f_x_size, f_y_size;
  logic [11:0] f_elem;
  logic [47:0] f_hbm_addr;
  logic [31:0] f_x_stride, f_y_stride;
  assign f_buf      = instr_i[systole_pkg::StoreBufLsb +: systole_pkg::StoreBufWidth];
  assign f_src_row  = instr_i[systole_pkg::StoreSrcRowLsb +: systole_pkg::StoreSrcRowWidth];
  assign f_elem     = instr_i[systole_pkg::StoreElemBytesLsb +: systole_pkg::StoreElemBytesWidth];
  assign f_hbm_addr = instr_i[systole_pkg::StoreHbmAddrLsb +: systole_pkg::StoreHbmAddrWidth];
  assign f_x_size   = instr_i[systole_pkg::StoreXSizeLsb +: systole_pkg::StoreXSizeWidth];
  assign f_y_size   = instr_i[systole_pkg::StoreYSizeLsb +: systole_pkg::StoreYSizeWidth];
  assign f_x_stride = instr_i[systole_pkg::StoreXStrideLsb +: systole_pkg::StoreXStrideWidth];
  assign f_y_stride = instr_i[systole_pkg::StoreYStrideLsb +: systole_pkg::StoreYStrideWidth];

  logic [255:0] unused_instr;
  assign unused_instr = instr_i;

  // ---------------------------------------------------------------------------------------------
  // State
  logic        busy_q, drain_q, faulted_q, fault_q;
  logic [1:0]  buf_q;
  logic [11:0] elem_q;
  logic [31:0] rows_left_q;   // rows still to read
  logic [15:0] rd_row_q;
  logic        rd_pending_q;  // a row read last cycle: its data is on the read port now
  // byte buffer
  logic [AlignWords*256-1:0] al_q;   // AlignWords words of 32 bytes
  logic [PtrW:0]   fill_q;
  logic [PtrW-1:0] wptr_q, rptr_q;
  // AXI
  logic        awvalid_q;
  logic [47:0] awaddr_q;
  logic [3:0]  awlen_q;
  logic [31:0] owed_q;        // B responses of accepted AWs not yet received
  logic [3:0]  beat_q;        // beat of the current W burst
  logic        wvalid_q, wlast_q;
  logic [255:0] wdata_q;
  logic [31:0]  wstrb_q;

  logic start;
  assign start  = issue_i && free_o;
  assign free_o = !busy_q && !drain_q;

  // ---------------------------------------------------------------------------------------------
  // Bursts and the AW channel
  logic        gen_valid, gen_ready, gen_fire;
  logic [47:0] gen_addr;
  logic [3:0]  gen_len;
  logic [4:0]  gen_beats, gen_lo, gen_hi;
  logic        aw_hs, b_fire;
  logic        desc_valid, desc_pop, desc_room;
  logic [13:0] desc;
  logic [5:0]  desc_count_q;  // descriptors in the FIFO

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

  // elem_bytes is at most 4*D: the width the byte buffer counts in is enough for it.
  logic [4:0]  unused_gen_beats;
  logic [11:0] unused_elem;
  assign unused_gen_beats = gen_beats;
  assign unused_elem      = elem_q;

  assign desc_room = desc_count_q < 6'(BurstFifoDepth);
  assign gen_ready = busy_q && !clear_i && (!awvalid_q || m_awready_i) && desc_room;
  assign gen_fire  = gen_valid && gen_ready;
  assign aw_hs     = awvalid_q && m_awready_i;
  assign b_fire    = m_bvalid_i;   // bready is always 1

  assign m_awvalid_o = awvalid_q;
  assign m_awaddr_o  = {16'd0, awaddr_q};
  assign m_awlen_o   = {4'd0, awlen_q};
  assign m_awsize_o  = 3'd5;
  assign m_awburst_o = 2'b01;
  assign m_bready_o  = 1'b1;

  systole_align_fifo #(
    .Width (14),
    .Depth (BurstFifoDepth)
  ) u_desc (
    .clk_i,
    .rst_ni,
    .clear_i (1'b0),   // bursts already on AW keep their W beats through a clear
    .push_i  (gen_fire),
    .wdata_i ({gen_len, gen_hi, gen_lo}),
    .pop_i   (desc_pop),
    .valid_o (desc_valid),
    .rdata_o (desc)
  );

  // ---------------------------------------------------------------------------------------------
  // Row reads into the byte buffer
  logic rd_en;
  logic [PtrW+1:0] fill_reserved;
  assign fill_reserved = {1'b0, fill_q} + (rd_pending_q ? (PtrW + 2)'(elem_q) : '0)
                       + (PtrW + 2)'(elem_q);
  assign rd_en    = busy_q && !clear_i && (rows_left_q != '0)
                  && (fill_reserved <= (PtrW + 2)'(AlignBytes));
  assign rd_en_o  = rd_en;
  assign rd_buf_o = buf_q;
  assign rd_row_o = rd_row_q;

  logic [8*RowBytes-1:0] row_data;
  always_comb begin
    row_data = '0;
    if (buf_q == systole_pkg::BufAcc) begin
      row_data = acc_rdata_i;
    end else if (buf_q == systole_pkg::BufLut) begin
      row_data[16*ArrayDim-1:0] = lut_rdata_i;
    end else if (buf_q == systole_pkg::BufWbuf) begin
      row_data[8*ArrayDim-1:0] = wbuf_rdata_i;
    end else begin
      row_data[8*ArrayDim-1:0] = abuf_rdata_i;
    end
  end

  // The W side: the current burst's beat and the bytes it needs.
  logic [4:0] d_lo, d_hi, b_lo, b_hi;
  logic [3:0] d_len;
  logic       b_last;
  logic [5:0] b_need;
  logic       w_free, w_send;
  assign {d_len, d_hi, d_lo} = desc;
  assign b_last = (beat_q == d_len);
  assign b_lo   = (beat_q == '0) ? d_lo : 5'd0;
  assign b_hi   = b_last ? d_hi : 5'd31;
  assign b_need = {1'b0, b_hi} - {1'b0, b_lo} + 6'd1;
  assign w_free = !wvalid_q || m_wready_i;
  assign w_send = desc_valid && w_free
               && (drain_q || (busy_q && (fill_q >= (PtrW + 1)'(b_need))));
  assign desc_pop = w_send && b_last;

  // Byte buffer: write the new element at wptr, read the beat's bytes at rptr.
  logic [PtrW-6:0]          wword, rword;
  logic [WinWords*256-1:0]  ewin;
  logic [AlignWords*256-1:0] al_d;
  logic [511:0]             rwin;
  logic [255:0]             beat_data;
  logic [31:0]              beat_strb;

  assign wword = wptr_q[PtrW-1:5];
  assign rword = rptr_q[PtrW-1:5];

  // the element shifted to its byte offset in the window of words it lands in
  // (window byte j is element byte j - off, off = wptr mod 32; outside the element it is 0 and
  // never written). With 32 zero bytes below the row, byte j comes from row_ext byte
  // j + 32 - off, one of the 32 bytes j + 1 .. j + 32.
  logic [8*(WinWords*32+32)-1:0] row_ext;
  logic                          unused_row_ext;
  assign row_ext        = {{(8*(WinWords*32-RowBytes)){1'b0}}, row_data, 256'd0};
  assign unused_row_ext = ^row_ext[7:0];   // byte 0 is below every window byte's range
  for (genvar j = 0; j < WinWords * 32; j++) begin : g_ewin
    logic [255:0] from;
    assign from           = row_ext[8*(j+1) +: 256];
    assign ewin[8*j +: 8] = from[8*(5'd31 - wptr_q[4:0]) +: 8];
  end

  // Buffer word w takes window word (w - wword) mod AlignWords, when that is a window word; each
  // of its bytes is written when it lies in wptr .. wptr + elem_bytes - 1.
  for (genvar w = 0; w < AlignWords; w++) begin : g_wr
    localparam logic [PtrW-6:0] Word = w;
    logic [PtrW-6:0] ww;
    logic [255:0]    src;
    assign ww  = Word - wword;
    assign src = ewin[256*ww +: 256];
    for (genvar l = 0; l < 32; l++) begin : g_byte
      localparam logic [PtrW-1:0] Addr = PtrW'(32 * w + l);
      logic [PtrW-1:0] k;
      assign k = Addr - wptr_q;
      assign al_d[256*w + 8*l +: 8] = (rd_pending_q && ({1'b0, k} < (PtrW + 1)'(elem_q))
                                       && ({1'b0, ww} < (PtrW - 4)'(WinWords)))
                                    ? src[8*l +: 8] : al_q[256*w + 8*l +: 8];
    end
  end

  // the beat: its lane j takes the byte at rptr + j - lo
  logic [PtrW-6:0] rword1;
  assign rword1 = rword + 1'b1;
  assign rwin   = {al_q[256*rword1 +: 256], al_q[256*rword +: 256]};
  for (genvar j = 0; j < 32; j++) begin : g_beat
    localparam logic [5:0] Lane = j;
    logic [5:0] idx;
    assign idx                 = {1'b0, rptr_q[4:0]} + Lane - {1'b0, b_lo};
    assign beat_data[8*j +: 8] = rwin[8*idx +: 8];
  end
  // strobes on lanes lo .. hi
  assign beat_strb = (drain_q || clear_i) ? 32'd0
                   : (32'hFFFF_FFFF << b_lo) & (32'hFFFF_FFFF >> (5'd31 - b_hi));

  // ---------------------------------------------------------------------------------------------
  // Sequential state
  logic [31:0] owed_d;
  logic        awvalid_d;
  logic        done;
  always_comb begin
    owed_d = owed_q + (aw_hs ? 32'd1 : 32'd0) - (b_fire ? 32'd1 : 32'd0);
    if (gen_fire) begin
      awvalid_d = 1'b1;
    end else if (aw_hs) begin
      awvalid_d = 1'b0;
    end else begin
      awvalid_d = awvalid_q;
    end
    // Every burst cut has been sent on AW and answered on B (so all its W beats went out).
    done = !gen_valid && !awvalid_d && (owed_d == '0);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q       <= 1'b0;
      drain_q      <= 1'b0;
      faulted_q    <= 1'b0;
      fault_q      <= 1'b0;
      buf_q        <= '0;
      elem_q       <= '0;
      rows_left_q  <= '0;
      rd_row_q     <= '0;
      rd_pending_q <= 1'b0;
      al_q         <= '0;
      fill_q       <= '0;
      wptr_q       <= '0;
      rptr_q       <= '0;
      awvalid_q    <= 1'b0;
      awaddr_q     <= '0;
      awlen_q      <= '0;
      owed_q       <= '0;
      desc_count_q <= '0;
      beat_q       <= '0;
      wvalid_q     <= 1'b0;
      wlast_q      <= 1'b0;
      wdata_q      <= '0;
      wstrb_q      <= '0;
    end else begin
      // AXI bookkeeping runs through clears: owed beats and responses are still owed.
      owed_q       <= owed_d;
      awvalid_q    <= awvalid_d;
      desc_count_q <= desc_count_q + (gen_fire ? 6'd1 : 6'd0) - (desc_pop ? 6'd1 : 6'd0);
      if (gen_fire) begin
        awaddr_q <= gen_addr;
        awlen_q  <= gen_len;
      end
      if (w_send) begin
        wvalid_q <= 1'b1;
        wlast_q  <= b_last;
        wdata_q  <= (drain_q || clear_i) ? '0 : beat_data;
        wstrb_q  <= beat_strb;
        beat_q   <= b_last ? 4'd0 : beat_q + 4'd1;
      end else if (m_wready_i) begin
        wvalid_q <= 1'b0;
      end
      fault_q <= 1'b0;

      if (clear_i) begin
        busy_q       <= 1'b0;
        drain_q      <= !done || (wvalid_q && !m_wready_i);
        rd_pending_q <= 1'b0;
        fill_q       <= '0;
        wptr_q       <= '0;
        rptr_q       <= '0;
      end else if (drain_q) begin
        drain_q <= !done;
      end else if (start) begin
        busy_q      <= 1'b1;
        faulted_q   <= 1'b0;
        buf_q       <= f_buf;
        elem_q      <= f_elem;
        rows_left_q <= {16'd0, f_x_size} * {16'd0, f_y_size};
        rd_row_q    <= f_src_row;
      end else if (busy_q) begin
        if (b_fire && m_bresp_i != 2'b00 && !faulted_q) begin
          faulted_q <= 1'b1;
          fault_q   <= 1'b1;
        end
        rd_pending_q <= rd_en;
        if (rd_en) begin
          rows_left_q <= rows_left_q - 32'd1;
          rd_row_q    <= rd_row_q + 16'd1;
        end
        al_q   <= al_d;
        fill_q <= fill_q + (rd_pending_q ? (PtrW + 1)'(elem_q) : '0)
                - (w_send ? (PtrW + 1)'(b_need) : '0);
        if (rd_pending_q) begin
          wptr_q <= wptr_q + PtrW'(elem_q);
        end
        if (w_send) begin
          rptr_q <= rptr_q + PtrW'(b_need);
        end
        if (done) begin
          busy_q <= 1'b0;
        end
      end
    end
  end

  assign fault_o    = fault_q;
  assign m_wvalid_o = wvalid_q;
  assign m_wdata_o  = wdata_q;
  assign m_wstrb_o  = wstrb_q;
  assign m_wlast_o  = wlast_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // AW and W: once raised, VALID and the payload stay until READY (AXI A3.2.1), clears included.
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  AwValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_awvalid_o && !m_awready_i |=> m_awvalid_o)
    else $error("systole_store: AW: awvalid dropped while awvalid && !awready");
  AwPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_awvalid_o && !m_awready_i
      |=> $stable({m_awaddr_o, m_awlen_o, m_awsize_o, m_awburst_o}))
    else $error("systole_store: AW: awaddr/awlen changed while awvalid && !awready");
  WValidHeld: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_wvalid_o && !m_wready_i |=> m_wvalid_o)
    else $error("systole_store: W: wvalid dropped while wvalid && !wready");
  WPayloadStable: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_wvalid_o && !m_wready_i |=> $stable({m_wdata_o, m_wstrb_o, m_wlast_o}))
    else $error("systole_store: W: wdata/wstrb/wlast changed while wvalid && !wready");
  // Every request is one INCR burst of at most 16 beats that does not cross 4 KiB.
  AwLegal: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_awvalid_o |-> m_awlen_o < 8'd16
                      && {1'b0, m_awaddr_o[11:5]} + {1'b0, m_awlen_o[6:0]} < 8'd128)
    else $error("systole_store: AW: burst at 0x%0h, awlen %0d: too long or across 4 KiB",
                m_awaddr_o, m_awlen_o);
  // B: responses come only for bursts whose AW was accepted (the memory's side of the protocol).
  BRespOwed: assert property (@(posedge clk_i) disable iff (!chk_q)
      m_bvalid_i |-> owed_q != '0)
    else $error("systole_store: B: response that no accepted AW asked for");

  // States: idle, busy or draining, never two at once; a clear stops the buffer reads.
  BusyXorDrain: assert property (@(posedge clk_i) disable iff (!chk_q) !(busy_q && drain_q))
    else $error("systole_store: busy and draining at once");
  NoReadWhileDraining: assert property (@(posedge clk_i) disable iff (!chk_q)
      drain_q |-> !rd_en_o)
    else $error("systole_store: buffer read after a clear");
  // The burst FIFO and the byte buffer stay within their sizes.
  DescCountInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      32'(desc_count_q) <= BurstFifoDepth)
    else $error("systole_store: %0d bursts queued, the burst FIFO holds %0d", desc_count_q,
                BurstFifoDepth);
  FillInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      32'(fill_q) <= AlignBytes)
    else $error("systole_store: byte buffer holds %0d bytes of %0d", fill_q, AlignBytes);
  // Buffer reads come from a buffer the STORE may name, on one of its rows (the issue stage
  // checked src_row + x_size*y_size against the rows; this checks the unit kept inside them).
  ReadBuffer: assert property (@(posedge clk_i) disable iff (!chk_q)
      rd_en_o |-> rd_buf_o != systole_pkg::BufLut || LutRows != 0)
    else $error("systole_store: buffer read from buffer id %0d", rd_buf_o);
  ReadRowInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      rd_en_o |-> 32'(rd_row_o) < (rd_buf_o == systole_pkg::BufAbuf ? AbufRows
                                  : rd_buf_o == systole_pkg::BufWbuf ? WbufRows
                                  : rd_buf_o == systole_pkg::BufAcc ? AccRows : LutRows))
    else $error("systole_store: buffer read of row %0d of buffer %0d, past its rows", rd_row_o,
                rd_buf_o);
`endif

endmodule
