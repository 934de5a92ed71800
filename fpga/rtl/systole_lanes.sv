// The vector lanes: REQUANT, VMAX and VADD (contract 6.4 to 6.6, arithmetic in section 7), one
// instruction at a time, with the cycle timing of MICROARCH.md "EXEC timing". A build without
// the VECTOR unit runs them inside systole_exec, which shares its free and done with them; a
// build with it will run them in the VECTOR unit beside the array (MICROARCH.md "The VECTOR
// unit"). One implementation of the lanes in both.
//
// Let an instruction be accepted in cycle T.
// REQUANT: ACC rows param_row, +1, +2 (bias, mult, shift) are read in T, T + 1, T + 2, ACC row
//   acc_row + i in T + RequantSetup + i; ABUF row dst_row + i is written in
//   T + RequantSetup + i + RequantLatency - 1; done at T + RequantSetup + rows + RequantLatency.
// VMAX, VADD: ABUF rows a_row + i (port a) and b_row + i (port b) are read in T + i; dst_row + i
//   is written in T + i + VectorLatency - 1; done at T + rows + VectorLatency.
//
// issue_i takes the instruction on instr_i in that cycle; the caller sends one only when done_o
// (and the instruction is REQUANT, VMAX or VADD, its fields checked). clear_i returns the lanes
// to idle in one cycle.
module systole_lanes
#(
  parameter  int unsigned ArrayDim = 16,
  parameter  int unsigned AbufRows = 4096,
  parameter  int unsigned AccRows  = 4096,
  localparam int unsigned AbufAw   = $clog2(AbufRows),
  localparam int unsigned AccAw    = $clog2(AccRows)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      clear_i,

  input  logic                      issue_i,
  input  logic [191:0]              instr_i,
  output logic                      done_o,

  output logic                      abuf_a_re_o,
  output logic [AbufAw-1:0]         abuf_a_addr_o,
  input  logic [8*ArrayDim-1:0]     abuf_a_rdata_i,
  output logic                      abuf_b_re_o,
  output logic [AbufAw-1:0]         abuf_b_addr_o,
  input  logic [8*ArrayDim-1:0]     abuf_b_rdata_i,
  output logic                      abuf_we_o,
  output logic [AbufAw-1:0]         abuf_waddr_o,
  output logic [8*ArrayDim-1:0]     abuf_wdata_o,

  output logic                      acc_re_o,
  output logic [AccAw-1:0]          acc_raddr_o,
  input  logic [32*ArrayDim-1:0]    acc_rdata_i
);

  localparam int unsigned D = ArrayDim;

  // Timing constants of this implementation (MICROARCH.md "EXEC timing").
  localparam int unsigned RequantSetup   = 3;  // the three parameter rows
  localparam int unsigned LaneLatency    = 5;  // systole_requant and systole_vec_lane
  localparam int unsigned RequantLatency = LaneLatency + 2;  // + read latency, + write cycle
  localparam int unsigned VectorLatency  = LaneLatency + 2;

  localparam int unsigned RelW = 18;  // cycles since accepted: setup + rows < 2^17
  localparam int unsigned CntW = 18;  // cycles until done

  // -----------------------------------------------------------------------------------------------
  // Accepting an instruction.
  logic [systole_pkg::OpcodeWidth-1:0] op;
  logic acc_rq, acc_vec;

  assign op      = instr_i[systole_pkg::OpcodeLsb +: systole_pkg::OpcodeWidth];
  assign acc_rq  = issue_i && !clear_i && op == systole_pkg::OpRequant;
  assign acc_vec = issue_i && !clear_i && (op == systole_pkg::OpVmax || op == systole_pkg::OpVadd);

  // The instruction being sequenced: instr_i in the cycle it is accepted, its copy after that.
  logic [191:0]    instr_q;
  logic [191:0]    ins;
  logic            rq_q, rq;       // REQUANT (else VMAX or VADD)
  logic            vmax_q;
  logic            seq_q, active;
  logic [RelW-1:0] rel_q, rel;

  assign ins    = (acc_rq || acc_vec) ? instr_i : instr_q;
  assign rq     = acc_rq || (!acc_vec && rq_q);
  assign active = acc_rq || acc_vec || seq_q;
  assign rel    = (acc_rq || acc_vec) ? '0 : rel_q;

  // The read sequence takes its rows from ins; the lanes take their parameters (zero points,
  // multipliers, shift, ReLU) from instr_q, so most bits of ins go unused.
  logic unused_instr;
  assign unused_instr = ^ins;

  // -----------------------------------------------------------------------------------------------
  // Fields. Row fields are 16 bits; a buffer address uses their low bits (the issue stage has
  // checked that the rows lie inside the buffer), so the high bits go unused in smaller builds.
  logic [15:0]     r_rows, v_rows;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0]     r_accrow, r_dstrow, r_prmrow;
  logic [15:0]     v_arow, v_brow, v_dstrow;
  logic [RelW-1:0] r_drel;
  /* verilator lint_on UNUSEDSIGNAL */

  assign r_accrow = ins[systole_pkg::RequantAccRowLsb +: systole_pkg::RequantAccRowWidth];
  assign r_dstrow = ins[systole_pkg::RequantDstRowLsb +: systole_pkg::RequantDstRowWidth];
  assign r_rows   = ins[systole_pkg::RequantRowsLsb +: systole_pkg::RequantRowsWidth];
  assign r_prmrow = ins[systole_pkg::RequantParamRowLsb +: systole_pkg::RequantParamRowWidth];

  // VMAX and VADD share the positions of a_row, b_row, dst_row and rows.
  assign v_arow   = ins[systole_pkg::VaddARowLsb +: systole_pkg::VaddARowWidth];
  assign v_brow   = ins[systole_pkg::VaddBRowLsb +: systole_pkg::VaddBRowWidth];
  assign v_dstrow = ins[systole_pkg::VaddDstRowLsb +: systole_pkg::VaddDstRowWidth];
  assign v_rows   = ins[systole_pkg::VaddRowsLsb +: systole_pkg::VaddRowsWidth];

  // -----------------------------------------------------------------------------------------------
  // The read sequence, one step per cycle from T.
  logic [RelW-1:0] r_len, v_len, len;
  assign r_len  = RelW'(RequantSetup) + RelW'(r_rows);
  assign r_drel = rel - RelW'(RequantSetup);
  assign v_len  = RelW'(v_rows);
  assign len    = rq ? r_len : v_len;

  logic rq_now, vec_now;
  assign rq_now  = active && rq;
  assign vec_now = active && !rq;

  // REQUANT: parameter rows, then the source rows.
  logic             r_prm;
  logic [1:0]       r_prm_sel;
  assign r_prm     = rel < RelW'(RequantSetup);
  assign r_prm_sel = rel[1:0];

  assign acc_re_o    = rq_now;
  assign acc_raddr_o = r_prm ? AccAw'(r_prmrow) + AccAw'(rel) : AccAw'(r_accrow) + AccAw'(r_drel);

  // VMAX and VADD read both ABUF ports.
  assign abuf_a_re_o   = vec_now;
  assign abuf_a_addr_o = AbufAw'(v_arow) + AbufAw'(rel);
  assign abuf_b_re_o   = vec_now;
  assign abuf_b_addr_o = AbufAw'(v_brow) + AbufAw'(rel);

  // -----------------------------------------------------------------------------------------------
  // Sequencer state and done.
  logic [CntW-1:0] done_cnt_q, done_cnt_d;
  logic            done_q;

  always_comb begin
    done_cnt_d = (done_cnt_q == '0) ? '0 : done_cnt_q - 1'b1;
    if (acc_rq) begin
      done_cnt_d = CntW'(r_len) + CntW'(RequantLatency - 1);
    end else if (acc_vec) begin
      done_cnt_d = CntW'(v_len) + CntW'(VectorLatency - 1);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      seq_q      <= 1'b0;
      rel_q      <= '0;
      rq_q       <= 1'b0;
      vmax_q     <= 1'b0;
      done_cnt_q <= '0;
      done_q     <= 1'b1;
    end else if (clear_i) begin
      seq_q      <= 1'b0;
      rel_q      <= '0;
      rq_q       <= 1'b0;
      vmax_q     <= 1'b0;
      done_cnt_q <= '0;
      done_q     <= 1'b1;
    end else begin
      seq_q      <= active && (rel + 1'b1 < len);
      rel_q      <= rel + 1'b1;
      rq_q       <= rq;
      if (acc_rq || acc_vec) begin
        vmax_q <= op == systole_pkg::OpVmax;
      end
      done_cnt_q <= done_cnt_d;
      done_q     <= done_cnt_d == '0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (acc_rq || acc_vec) begin
      instr_q <= instr_i;
    end
  end

  assign done_o = done_q;

  // -----------------------------------------------------------------------------------------------
  // Lanes fed the cycle after the read, written LaneLatency cycles later.
  logic             prm_v_q, rq_v_q, vec_v_q;
  logic [1:0]       prm_sel_q;
  logic [32*D-1:0]  bias_q, mult_q;
  logic [6*D-1:0]   shift_q;
  logic [LaneLatency-1:0] lane_v_q;
  logic [AbufAw-1:0] waddr_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      prm_v_q  <= 1'b0;
      rq_v_q   <= 1'b0;
      vec_v_q  <= 1'b0;
      lane_v_q <= '0;
    end else if (clear_i) begin
      prm_v_q  <= 1'b0;
      rq_v_q   <= 1'b0;
      vec_v_q  <= 1'b0;
      lane_v_q <= '0;
    end else begin
      prm_v_q  <= rq_now && r_prm;
      rq_v_q   <= rq_now && !r_prm;
      vec_v_q  <= vec_now;
      lane_v_q <= {lane_v_q[LaneLatency-2:0], rq_v_q || vec_v_q};
    end
  end

  always_ff @(posedge clk_i) begin
    prm_sel_q <= r_prm_sel;
    if (prm_v_q) begin
      unique case (prm_sel_q)
        2'd0:    bias_q <= acc_rdata_i;
        2'd1:    mult_q <= acc_rdata_i;
        default: begin
          for (int unsigned j = 0; j < D; j++) begin
            shift_q[6*j +: 6] <= acc_rdata_i[32*j +: 6];
          end
        end
      endcase
    end
    if (acc_rq) begin
      waddr_q <= AbufAw'(r_dstrow);
    end else if (acc_vec) begin
      waddr_q <= AbufAw'(v_dstrow);
    end else if (abuf_we_o) begin
      waddr_q <= waddr_q + 1'b1;
    end
  end

  // Lane parameters come from the copy of the instruction (valid from T + 1).
  logic [8*D-1:0] rq_data, vec_data;

  for (genvar j = 0; j < D; j++) begin : g_lane
    systole_requant u_requant (
      .clk_i  (clk_i),
      .acc_i  (acc_rdata_i[32*j +: 32]),
      .bias_i (bias_q[32*j +: 32]),
      .mult_i (mult_q[32*j +: 32]),
      .shift_i(shift_q[6*j +: 6]),
      .zp_i   (instr_q[systole_pkg::RequantZeroPointLsb +: systole_pkg::RequantZeroPointWidth]),
      .relu_i (instr_q[systole_pkg::RequantReluLsb]),
      .q_o    (rq_data[8*j +: 8])
    );

    systole_vec_lane u_vec (
      .clk_i     (clk_i),
      .max_i     (vmax_q),
      .a_i       (abuf_a_rdata_i[8*j +: 8]),
      .b_i       (abuf_b_rdata_i[8*j +: 8]),
      .a_zero_i  (instr_q[systole_pkg::VaddAZeroLsb +: systole_pkg::VaddAZeroWidth]),
      .b_zero_i  (instr_q[systole_pkg::VaddBZeroLsb +: systole_pkg::VaddBZeroWidth]),
      .out_zero_i(instr_q[systole_pkg::VaddOutZeroLsb +: systole_pkg::VaddOutZeroWidth]),
      .a_mult_i  (instr_q[systole_pkg::VaddAMultLsb +: systole_pkg::VaddAMultWidth]),
      .b_mult_i  (instr_q[systole_pkg::VaddBMultLsb +: systole_pkg::VaddBMultWidth]),
      .shift_i   (instr_q[systole_pkg::VaddShiftLsb +: systole_pkg::VaddShiftWidth]),
      .relu_i    (instr_q[systole_pkg::VaddReluLsb]),
      .q_o       (vec_data[8*j +: 8])
    );
  end

  assign abuf_we_o    = lane_v_q[LaneLatency-1];
  assign abuf_waddr_o = waddr_q;
  assign abuf_wdata_o = rq_q ? rq_data : vec_data;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // One instruction at a time: a new one only once the last is done.
  OneAtATime: assert property (@(posedge clk_i) disable iff (!chk_q)
      acc_rq || acc_vec |-> done_q)
    else $error("systole_lanes: opcode 0x%0h taken before the last instruction was done", op);
  // Every buffer access on a row of its buffer (it bites when the rows are not a power of two).
  AbufInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      (abuf_a_re_o -> 32'(abuf_a_addr_o) < AbufRows)
      && (abuf_b_re_o -> 32'(abuf_b_addr_o) < AbufRows)
      && (abuf_we_o -> 32'(abuf_waddr_o) < AbufRows))
    else $error("systole_lanes: ABUF access past its %0d rows", AbufRows);
  AccInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      acc_re_o |-> 32'(acc_raddr_o) < AccRows)
    else $error("systole_lanes: ACC read of row %0d of %0d", acc_raddr_o, AccRows);
`endif

endmodule
