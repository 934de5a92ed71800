// The VECTOR unit of a build with VectorUnit = 1 (contract 5.1, 6.4 to 6.16): REQUANT, VMAX and
// VADD on systole_lanes, and VLUT to VTRANS on an engine each, one instruction at a time, beside
// the array. See MICROARCH.md "The VECTOR unit".
//
// Let an instruction be accepted in cycle T. done_o is 0 from T + 1 and 1 again at
// T + busy + VectorLatency, where busy is the instruction's occupancy in CONTRACT.md 9.3 (for
// REQUANT, RequantSetup + rows with RequantLatency): that is the unit's free and done time of the
// timing model, counted here once for every instruction. Each engine finishes its reads and
// writes by then (asserted). cycles_o is that count in the cycle an instruction of the vector
// unit proper (VLUT to VTRANS) is accepted, for VECTOR_CYCLES.
//
// The engines share the unit's buffer ports: only the running one drives them. Read data comes
// the cycle after the read. An engine looks up the LUT by (table, entry) per lane; the entry's
// row in lane j's copy of the LUT is table * T + e / D, its lane e mod D.
//
// The issue stage sends an instruction only when done_o, with every field checked. clear_i
// returns the unit to idle in one cycle.
module systole_vector
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned WbufRows = 4096,
  parameter  int unsigned AccRows  = 4096,
  parameter  int unsigned LutRows  = 256,
  localparam int unsigned AbufAw   = $clog2(AbufRows),
  localparam int unsigned WbufAw   = $clog2(WbufRows),
  localparam int unsigned AccAw    = $clog2(AccRows),
  localparam int unsigned LutAw    = LutRows > 1 ? $clog2(LutRows) : 1
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        clear_i,

  input  logic                        issue_i,
  input  logic [191:0]                instr_i,
  output logic                        done_o,
  output logic [23:0]                 cycles_o,

  output logic                        abuf_a_re_o,
  output logic [AbufAw-1:0]           abuf_a_addr_o,
  input  logic [8*ArrayDim-1:0]       abuf_a_rdata_i,
  output logic                        abuf_b_re_o,
  output logic [AbufAw-1:0]           abuf_b_addr_o,
  input  logic [8*ArrayDim-1:0]       abuf_b_rdata_i,
  output logic                        abuf_we_o,
  output logic [AbufAw-1:0]           abuf_waddr_o,
  output logic [8*ArrayDim-1:0]       abuf_wdata_o,

  output logic                        wbuf_re_o,
  output logic [WbufAw-1:0]           wbuf_raddr_o,
  input  logic [8*ArrayDim-1:0]       wbuf_rdata_i,
  output logic                        wbuf_we_o,
  output logic [WbufAw-1:0]           wbuf_waddr_o,
  output logic [8*ArrayDim-1:0]       wbuf_wdata_o,

  output logic                        acc_re_o,
  output logic [AccAw-1:0]            acc_raddr_o,
  input  logic [32*ArrayDim-1:0]      acc_rdata_i,
  output logic                        acc_we_o,
  output logic [AccAw-1:0]            acc_waddr_o,
  output logic [32*ArrayDim-1:0]      acc_wdata_o,

  // Lane j's copy of the LUT: port j.
  output logic [ArrayDim-1:0]         lut_re_o,
  output logic [ArrayDim*LutAw-1:0]   lut_raddr_o,
  input  logic [ArrayDim*16*ArrayDim-1:0] lut_rdata_i
);

  localparam int unsigned D         = ArrayDim;
  localparam int unsigned TableRows = (256 + D - 1) / D;
  localparam int unsigned CntW      = 24;  // busy + latency < 2^23 (CONTRACT.md 9.3, rows < 2^16)

  // -----------------------------------------------------------------------------------------------
  // The instruction and its occupancy.
  logic [systole_pkg::OpcodeWidth-1:0] op;
  logic accept;
  assign op     = instr_i[systole_pkg::OpcodeLsb +: systole_pkg::OpcodeWidth];
  assign accept = issue_i && !clear_i;

  logic [CntW-1:0] busy, lat;
  always_comb begin
    lat = CntW'(systole_pkg::TimingVectorLatency);
    unique case (op)
      systole_pkg::OpRequant: begin
        busy = CntW'(systole_pkg::TimingRequantSetup) + CntW'(instr_i[systole_pkg::RequantRowsLsb +: 16]);
        lat  = CntW'(systole_pkg::TimingRequantLatency);
      end
      systole_pkg::OpVmax:   busy = CntW'(instr_i[systole_pkg::VmaxRowsLsb +: 16]);
      systole_pkg::OpVadd:   busy = CntW'(instr_i[systole_pkg::VaddRowsLsb +: 16]);
      systole_pkg::OpVlut:   busy = CntW'(instr_i[systole_pkg::VlutRowsLsb +: 16]);
      systole_pkg::OpVscale: busy = CntW'(systole_pkg::TimingScaleSetup)
                                    + CntW'(instr_i[systole_pkg::VscaleRowsLsb +: 16]);
      systole_pkg::OpVmul:   busy = CntW'(instr_i[systole_pkg::VmulRowsLsb +: 16]);
      systole_pkg::OpVreduce: busy = CntW'(instr_i[systole_pkg::VreduceRowsLsb +: 16]);
      systole_pkg::OpVmac:   busy = CntW'(instr_i[systole_pkg::VmacRowsLsb +: 16]);
      systole_pkg::OpVsoftmax:
        busy = CntW'(instr_i[systole_pkg::VsoftmaxGroupsLsb +: 16])
               * (CntW'(3) * CntW'(instr_i[systole_pkg::VsoftmaxGroupRowsLsb +: 16])
                  + CntW'(systole_pkg::TimingSoftmaxLatency));
      systole_pkg::OpVnorm:
        busy = CntW'(instr_i[systole_pkg::VnormGroupsLsb +: 16])
               * (CntW'(4) * CntW'(instr_i[systole_pkg::VnormGroupRowsLsb +: 16])
                  + CntW'(systole_pkg::TimingNormLatency));
      default:               // VTRANS
        busy = (CntW'(instr_i[systole_pkg::VtransBlocksLsb +: 16]) + CntW'(1)) * CntW'(D);
    endcase
  end

  logic [CntW-1:0] done_cnt_q, done_cnt_d;
  logic            done_q;

  always_comb begin
    done_cnt_d = (done_cnt_q == '0) ? '0 : done_cnt_q - 1'b1;
    if (accept) begin
      done_cnt_d = busy + lat - 1'b1;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      done_cnt_q <= '0;
      done_q     <= 1'b1;
    end else if (clear_i) begin
      done_cnt_q <= '0;
      done_q     <= 1'b1;
    end else begin
      done_cnt_q <= done_cnt_d;
      done_q     <= done_cnt_d == '0;
    end
  end

  assign done_o   = done_q;
  assign cycles_o = (accept && op >= systole_pkg::OpVlut) ? busy + lat : '0;

  // -----------------------------------------------------------------------------------------------
  // The engines. Each takes issue in the cycle its instruction is accepted.
  logic is_lanes, is_vlut, is_vscale, is_vmul, is_vreduce, is_vmac, is_vsoftmax, is_vnorm;
  logic is_vtrans;
  assign is_lanes    = op == systole_pkg::OpRequant || op == systole_pkg::OpVmax
                       || op == systole_pkg::OpVadd;
  assign is_vlut     = op == systole_pkg::OpVlut;
  assign is_vscale   = op == systole_pkg::OpVscale;
  assign is_vmul     = op == systole_pkg::OpVmul;
  assign is_vreduce  = op == systole_pkg::OpVreduce;
  assign is_vmac     = op == systole_pkg::OpVmac;
  assign is_vsoftmax = op == systole_pkg::OpVsoftmax;
  assign is_vnorm    = op == systole_pkg::OpVnorm;
  assign is_vtrans   = op == systole_pkg::OpVtrans;

  // Per engine e: ABUF port a read, port b read, write; ACC read, write; WBUF read, write; LUT.
  // Flat vectors, engine e's field at [e*W +: W].
  localparam int unsigned NumEng = 9;
  localparam int unsigned ELanes = 0, EVlut = 1, EVscale = 2, EVmul = 3, EVreduce = 4, EVmac = 5,
                          EVsoftmax = 6, EVnorm = 7, EVtrans = 8;

  logic [NumEng-1:0]          a_re, b_re, a_we, acc_re, acc_we, wbuf_re, wbuf_we, lut_re, busy_e;
  logic [NumEng*AbufAw-1:0]   a_addr, b_addr, a_waddr;
  logic [NumEng*8*D-1:0]      a_wdata;
  logic [NumEng*AccAw-1:0]    acc_raddr, acc_waddr;
  logic [NumEng*32*D-1:0]     acc_wdata;
  logic [NumEng*WbufAw-1:0]   wbuf_raddr, wbuf_waddr;
  logic [NumEng*8*D-1:0]      wbuf_wdata;
  logic [NumEng*8-1:0]        lut_table;
  logic [NumEng*8*D-1:0]      lut_index;
  logic [16*D-1:0]            lut_entry;

  // Ports an engine does not use.
  for (genvar e = 0; e < NumEng; e++) begin : g_tie
    if (e != EVreduce && e != EVmac) begin : g_acc_w
      assign acc_we[e] = 1'b0;
      assign acc_waddr[e*AccAw +: AccAw] = '0;
      assign acc_wdata[e*32*D +: 32*D] = '0;
    end
    if (e != ELanes && e != EVscale && e != EVreduce && e != EVmac && e != EVnorm) begin : g_acc_r
      assign acc_re[e] = 1'b0;
      assign acc_raddr[e*AccAw +: AccAw] = '0;
    end
    if (e != EVmac) begin : g_wbuf_r
      assign wbuf_re[e] = 1'b0;
      assign wbuf_raddr[e*WbufAw +: WbufAw] = '0;
    end
    if (e != EVtrans) begin : g_wbuf_w
      assign wbuf_we[e] = 1'b0;
      assign wbuf_waddr[e*WbufAw +: WbufAw] = '0;
      assign wbuf_wdata[e*8*D +: 8*D] = '0;
    end
    if (e != EVlut && e != EVsoftmax) begin : g_lut
      assign lut_re[e] = 1'b0;
      assign lut_table[e*8 +: 8] = '0;
      assign lut_index[e*8*D +: 8*D] = '0;
    end
    if (e != ELanes && e != EVmul && e != EVreduce) begin : g_b
      assign b_re[e] = 1'b0;
      assign b_addr[e*AbufAw +: AbufAw] = '0;
    end
    if (e == EVmac) begin : g_no_abuf_w
      assign a_we[e] = 1'b0;
      assign a_waddr[e*AbufAw +: AbufAw] = '0;
      assign a_wdata[e*8*D +: 8*D] = '0;
    end
  end

  // REQUANT, VMAX, VADD: the lanes of both kinds of build. Their done is the counter's.
  logic lanes_done;
  assign busy_e[ELanes] = !lanes_done;

  systole_lanes #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .AccRows (AccRows)
  ) u_lanes (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .clear_i       (clear_i),
    .issue_i       (accept && is_lanes),
    .instr_i       (instr_i),
    .done_o        (lanes_done),
    .abuf_a_re_o   (a_re[ELanes]),
    .abuf_a_addr_o (a_addr[ELanes*AbufAw +: AbufAw]),
    .abuf_a_rdata_i(abuf_a_rdata_i),
    .abuf_b_re_o   (b_re[ELanes]),
    .abuf_b_addr_o (b_addr[ELanes*AbufAw +: AbufAw]),
    .abuf_b_rdata_i(abuf_b_rdata_i),
    .abuf_we_o     (a_we[ELanes]),
    .abuf_waddr_o  (a_waddr[ELanes*AbufAw +: AbufAw]),
    .abuf_wdata_o  (a_wdata[ELanes*8*D +: 8*D]),
    .acc_re_o      (acc_re[ELanes]),
    .acc_raddr_o   (acc_raddr[ELanes*AccAw +: AccAw]),
    .acc_rdata_i   (acc_rdata_i)
  );

  systole_vlut #(.ArrayDim(D), .AbufRows(AbufRows)) u_vlut (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vlut),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVlut]),
    .abuf_re_o    (a_re[EVlut]),
    .abuf_raddr_o (a_addr[EVlut*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .abuf_we_o    (a_we[EVlut]),
    .abuf_waddr_o (a_waddr[EVlut*AbufAw +: AbufAw]),
    .abuf_wdata_o (a_wdata[EVlut*8*D +: 8*D]),
    .lut_re_o     (lut_re[EVlut]),
    .lut_table_o  (lut_table[EVlut*8 +: 8]),
    .lut_index_o  (lut_index[EVlut*8*D +: 8*D]),
    .lut_entry_i  (lut_entry)
  );

  systole_vscale #(.ArrayDim(D), .AbufRows(AbufRows), .AccRows(AccRows)) u_vscale (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vscale),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVscale]),
    .abuf_re_o    (a_re[EVscale]),
    .abuf_raddr_o (a_addr[EVscale*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .abuf_we_o    (a_we[EVscale]),
    .abuf_waddr_o (a_waddr[EVscale*AbufAw +: AbufAw]),
    .abuf_wdata_o (a_wdata[EVscale*8*D +: 8*D]),
    .acc_re_o     (acc_re[EVscale]),
    .acc_raddr_o  (acc_raddr[EVscale*AccAw +: AccAw]),
    .acc_rdata_i  (acc_rdata_i)
  );

  systole_vmul #(.ArrayDim(D), .AbufRows(AbufRows)) u_vmul (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .clear_i       (clear_i),
    .issue_i       (accept && is_vmul),
    .instr_i       (instr_i),
    .busy_o        (busy_e[EVmul]),
    .abuf_a_re_o   (a_re[EVmul]),
    .abuf_a_addr_o (a_addr[EVmul*AbufAw +: AbufAw]),
    .abuf_a_rdata_i(abuf_a_rdata_i),
    .abuf_b_re_o   (b_re[EVmul]),
    .abuf_b_addr_o (b_addr[EVmul*AbufAw +: AbufAw]),
    .abuf_b_rdata_i(abuf_b_rdata_i),
    .abuf_we_o     (a_we[EVmul]),
    .abuf_waddr_o  (a_waddr[EVmul*AbufAw +: AbufAw]),
    .abuf_wdata_o  (a_wdata[EVmul*8*D +: 8*D])
  );

  systole_vreduce #(.ArrayDim(D), .AbufRows(AbufRows), .AccRows(AccRows)) u_vreduce (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .clear_i       (clear_i),
    .issue_i       (accept && is_vreduce),
    .instr_i       (instr_i),
    .busy_o        (busy_e[EVreduce]),
    .abuf_a_re_o   (a_re[EVreduce]),
    .abuf_a_addr_o (a_addr[EVreduce*AbufAw +: AbufAw]),
    .abuf_a_rdata_i(abuf_a_rdata_i),
    .abuf_b_re_o   (b_re[EVreduce]),
    .abuf_b_addr_o (b_addr[EVreduce*AbufAw +: AbufAw]),
    .abuf_b_rdata_i(abuf_b_rdata_i),
    .abuf_we_o     (a_we[EVreduce]),
    .abuf_waddr_o  (a_waddr[EVreduce*AbufAw +: AbufAw]),
    .abuf_wdata_o  (a_wdata[EVreduce*8*D +: 8*D]),
    .acc_re_o      (acc_re[EVreduce]),
    .acc_raddr_o   (acc_raddr[EVreduce*AccAw +: AccAw]),
    .acc_rdata_i   (acc_rdata_i),
    .acc_we_o      (acc_we[EVreduce]),
    .acc_waddr_o   (acc_waddr[EVreduce*AccAw +: AccAw]),
    .acc_wdata_o   (acc_wdata[EVreduce*32*D +: 32*D])
  );

  systole_vmac #(.ArrayDim(D), .AbufRows(AbufRows), .WbufRows(WbufRows), .AccRows(AccRows)) u_vmac (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vmac),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVmac]),
    .abuf_re_o    (a_re[EVmac]),
    .abuf_raddr_o (a_addr[EVmac*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .wbuf_re_o    (wbuf_re[EVmac]),
    .wbuf_raddr_o (wbuf_raddr[EVmac*WbufAw +: WbufAw]),
    .wbuf_rdata_i (wbuf_rdata_i),
    .acc_re_o     (acc_re[EVmac]),
    .acc_raddr_o  (acc_raddr[EVmac*AccAw +: AccAw]),
    .acc_rdata_i  (acc_rdata_i),
    .acc_we_o     (acc_we[EVmac]),
    .acc_waddr_o  (acc_waddr[EVmac*AccAw +: AccAw]),
    .acc_wdata_o  (acc_wdata[EVmac*32*D +: 32*D])
  );

  systole_vsoftmax #(.ArrayDim(D), .AbufRows(AbufRows)) u_vsoftmax (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vsoftmax),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVsoftmax]),
    .abuf_re_o    (a_re[EVsoftmax]),
    .abuf_raddr_o (a_addr[EVsoftmax*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .abuf_we_o    (a_we[EVsoftmax]),
    .abuf_waddr_o (a_waddr[EVsoftmax*AbufAw +: AbufAw]),
    .abuf_wdata_o (a_wdata[EVsoftmax*8*D +: 8*D]),
    .lut_re_o     (lut_re[EVsoftmax]),
    .lut_table_o  (lut_table[EVsoftmax*8 +: 8]),
    .lut_index_o  (lut_index[EVsoftmax*8*D +: 8*D]),
    .lut_entry_i  (lut_entry)
  );

  systole_vnorm #(.ArrayDim(D), .AbufRows(AbufRows), .AccRows(AccRows)) u_vnorm (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vnorm),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVnorm]),
    .abuf_re_o    (a_re[EVnorm]),
    .abuf_raddr_o (a_addr[EVnorm*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .abuf_we_o    (a_we[EVnorm]),
    .abuf_waddr_o (a_waddr[EVnorm*AbufAw +: AbufAw]),
    .abuf_wdata_o (a_wdata[EVnorm*8*D +: 8*D]),
    .acc_re_o     (acc_re[EVnorm]),
    .acc_raddr_o  (acc_raddr[EVnorm*AccAw +: AccAw]),
    .acc_rdata_i  (acc_rdata_i)
  );

  systole_vtrans #(.ArrayDim(D), .AbufRows(AbufRows), .WbufRows(WbufRows)) u_vtrans (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .clear_i      (clear_i),
    .issue_i      (accept && is_vtrans),
    .instr_i      (instr_i),
    .busy_o       (busy_e[EVtrans]),
    .abuf_re_o    (a_re[EVtrans]),
    .abuf_raddr_o (a_addr[EVtrans*AbufAw +: AbufAw]),
    .abuf_rdata_i (abuf_a_rdata_i),
    .abuf_we_o    (a_we[EVtrans]),
    .abuf_waddr_o (a_waddr[EVtrans*AbufAw +: AbufAw]),
    .abuf_wdata_o (a_wdata[EVtrans*8*D +: 8*D]),
    .wbuf_we_o    (wbuf_we[EVtrans]),
    .wbuf_waddr_o (wbuf_waddr[EVtrans*WbufAw +: WbufAw]),
    .wbuf_wdata_o (wbuf_wdata[EVtrans*8*D +: 8*D])
  );

  // -----------------------------------------------------------------------------------------------
  // The unit's ports: the running engine's (an idle engine drives no enable).
  always_comb begin
    abuf_a_re_o   = 1'b0;
    abuf_a_addr_o = '0;
    abuf_b_re_o   = 1'b0;
    abuf_b_addr_o = '0;
    abuf_we_o     = 1'b0;
    abuf_waddr_o  = '0;
    abuf_wdata_o  = '0;
    acc_re_o      = 1'b0;
    acc_raddr_o   = '0;
    acc_we_o      = 1'b0;
    acc_waddr_o   = '0;
    acc_wdata_o   = '0;
    wbuf_re_o     = 1'b0;
    wbuf_raddr_o  = '0;
    wbuf_we_o     = 1'b0;
    wbuf_waddr_o  = '0;
    wbuf_wdata_o  = '0;
    for (int unsigned e = 0; e < NumEng; e++) begin
      if (a_re[e]) begin
        abuf_a_re_o   = 1'b1;
        abuf_a_addr_o = a_addr[e*AbufAw +: AbufAw];
      end
      if (b_re[e]) begin
        abuf_b_re_o   = 1'b1;
        abuf_b_addr_o = b_addr[e*AbufAw +: AbufAw];
      end
      if (a_we[e]) begin
        abuf_we_o    = 1'b1;
        abuf_waddr_o = a_waddr[e*AbufAw +: AbufAw];
        abuf_wdata_o = a_wdata[e*8*D +: 8*D];
      end
      if (acc_re[e]) begin
        acc_re_o    = 1'b1;
        acc_raddr_o = acc_raddr[e*AccAw +: AccAw];
      end
      if (acc_we[e]) begin
        acc_we_o    = 1'b1;
        acc_waddr_o = acc_waddr[e*AccAw +: AccAw];
        acc_wdata_o = acc_wdata[e*32*D +: 32*D];
      end
      if (wbuf_re[e]) begin
        wbuf_re_o    = 1'b1;
        wbuf_raddr_o = wbuf_raddr[e*WbufAw +: WbufAw];
      end
      if (wbuf_we[e]) begin
        wbuf_we_o    = 1'b1;
        wbuf_waddr_o = wbuf_waddr[e*WbufAw +: WbufAw];
        wbuf_wdata_o = wbuf_wdata[e*8*D +: 8*D];
      end
    end
  end

  // The LUT: each lane reads the row of its entry in its own copy, then takes the entry's lane.
  logic          lut_any;
  logic [7:0]    lut_tab;
  logic [8*D-1:0] lut_idx;
  always_comb begin
    lut_any = 1'b0;
    lut_tab = '0;
    lut_idx = '0;
    for (int unsigned e = 0; e < NumEng; e++) begin
      if (lut_re[e]) begin
        lut_any = 1'b1;
        lut_tab = lut_table[e*8 +: 8];
        lut_idx = lut_index[e*8*D +: 8*D];
      end
    end
  end

  for (genvar j = 0; j < D; j++) begin : g_lut_lane
    logic [7:0] idx;
    logic [$clog2(D > 1 ? D : 2)-1:0] sel_q;
    assign idx = lut_idx[8*j +: 8];
    assign lut_re_o[j] = lut_any;
    // The issue stage checked (table + 1) * T <= LutRows, so the row is in range.
    assign lut_raddr_o[j*LutAw +: LutAw] = LutAw'(32'(lut_tab) * TableRows + 32'(idx) / D);
    always_ff @(posedge clk_i) begin
      if (lut_any) begin
        sel_q <= $bits(sel_q)'(32'(idx) % D);
      end
    end
    assign lut_entry[16*j +: 16] = lut_rdata_i[j*16*D + 16*sel_q +: 16];
  end

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // One instruction at a time, and each engine done with its reads and writes by the unit's done.
  OneAtATime: assert property (@(posedge clk_i) disable iff (!chk_q) accept |-> done_q)
    else $error("systole_vector: opcode 0x%0h taken before the last instruction was done", op);
  EnginesDone: assert property (@(posedge clk_i) disable iff (!chk_q)
      done_q |-> busy_e == '0)
    else $error("systole_vector: done while engines %b still work", busy_e);
  KnownOpcode: assert property (@(posedge clk_i) disable iff (!chk_q)
      accept |-> is_lanes || (op >= systole_pkg::OpVlut && op <= systole_pkg::OpVtrans))
    else $error("systole_vector: opcode 0x%0h is not the VECTOR unit's", op);
  // Only the running engine uses a port.
  OnePortUser: assert property (@(posedge clk_i) disable iff (!chk_q)
      $onehot0(a_re) && $onehot0(b_re) && $onehot0(a_we) && $onehot0(acc_re) && $onehot0(acc_we)
      && $onehot0(wbuf_re) && $onehot0(wbuf_we) && $onehot0(lut_re))
    else $error("systole_vector: two engines on one buffer port");
  // Every buffer access on a row of its buffer.
  InRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      (abuf_a_re_o -> 32'(abuf_a_addr_o) < AbufRows) && (abuf_b_re_o -> 32'(abuf_b_addr_o) < AbufRows)
      && (abuf_we_o -> 32'(abuf_waddr_o) < AbufRows)
      && (acc_re_o -> 32'(acc_raddr_o) < AccRows) && (acc_we_o -> 32'(acc_waddr_o) < AccRows)
      && (wbuf_re_o -> 32'(wbuf_raddr_o) < WbufRows) && (wbuf_we_o -> 32'(wbuf_waddr_o) < WbufRows))
    else $error("systole_vector: buffer access past the end of its buffer");
  LutInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      lut_any |-> 32'(lut_tab) * TableRows + TableRows <= LutRows)
    else $error("systole_vector: LUT table %0d past the %0d rows", lut_tab, LutRows);
`endif

endmodule
