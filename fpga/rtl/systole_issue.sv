// The issue stage: takes instructions from fetch in program order into a decode register (with
// their static checks done on the way in), decides each cycle whether the instruction there can
// issue (its unit, its waits, the array's weight state), hands it to its unit, and ends the run:
// on HALT, on an error (after every unit has completed), on PROG_END, or on a memory fault.
//
// An instruction is "ready" (the contract's ready(i)) in the cycle it sits in the decode register:
// the cycle after it was at the fetch FIFO's head and the previous one issued.
//
// With VectorUnit = 1, REQUANT, VMAX, VADD and VLUT to VTRANS go to the VECTOR unit, and wait bit
// 3 waits for it; with VectorUnit = 0 they go to EXEC (VLUT to VTRANS are BAD_OPCODE there) and
// bit 3 names EXEC (contract 5.1).
module systole_issue
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
  input  logic         clear_i,
  input  logic         start_i,
  input  logic [63:0]  prog_addr_i,
  input  logic [31:0]  prog_len_i,

  // From fetch.
  input  logic         instr_valid_i,
  input  logic [255:0] instr_i,
  input  logic         instr_fault_i,
  output logic         instr_pop_o,
  output logic         fetch_start_o,
  output logic         fetch_stop_o,

  // To the units.
  output logic [255:0] unit_instr_o,
  output logic         load_issue_o,
  input  logic         load_free_i,
  input  logic         load_fault_i,
  output logic         store_issue_o,
  input  logic         store_free_i,
  input  logic         store_fault_i,
  output logic         exec_issue_o,
  input  logic         exec_free_i,
  input  logic         exec_done_i,
  output logic         vector_issue_o,
  input  logic         vector_done_i,

  // Run state and counter events.
  output logic         running_o,
  output logic         run_end_o,
  output logic [7:0]   run_error_o,
  output logic [31:0]  run_error_pc_o,
  output logic [31:0]  pc_o,
  output logic         instret_o,
  output logic [16:0]  array_rows_o,
  output logic         stall_o,
  output logic [47:0]  bytes_read_o,
  output logic [47:0]  bytes_written_o
);

  localparam logic [64:0] HbmBytes = 65'(HbmMb) << 20;

  typedef enum logic [1:0] {
    Idle,
    Running,
    Ending
  } state_e;

  state_e      state_q;
  logic        d_valid_q;
  logic [255:0] d_instr_q;
  logic [7:0]  d_error_q;
  logic [31:0] d_pc_q;
  logic [31:0] next_pc_q;     // index of the next instruction to enter the decode register
  logic [31:0] prog_len_q;
  logic [31:0] pc_q;
  logic [7:0]  end_error_q;
  logic [31:0] end_pc_q;
  logic        active_valid_q, pre_valid_q;
  logic [31:0] load_pc_q, store_pc_q;

  // The instruction entering the decode register, with its static checks.
  logic [7:0] head_error;
  systole_check #(
    .ArrayDim(ArrayDim),
    .AbufRows(AbufRows),
    .WbufRows(WbufRows),
    .AccRows (AccRows),
    .HbmMb   (HbmMb),
    .VectorUnit(VectorUnit),
    .LutRows (LutRows)
  ) u_check (
    .instr_i (instr_i),
    .error_o (head_error)
  );

  // PROG_RANGE, at START.
  logic prog_range_bad;
  assign prog_range_bad = prog_len_i == 0 || prog_addr_i[4:0] != 5'd0
      || 65'(prog_addr_i) + 65'({prog_len_i, 5'd0}) > HbmBytes;

  // The instruction in the decode register.
  logic [7:0] opcode;
  logic [systole_pkg::WaitWidth-1:0] wait_bits;
  logic       w_load, w_swap, w_preload;
  logic       no_weights;
  logic [7:0] error_now;
  assign opcode     = d_instr_q[7:0];
  assign wait_bits  = d_instr_q[systole_pkg::WaitLsb +: systole_pkg::WaitWidth];
  assign w_load     = d_instr_q[systole_pkg::MatmulWLoadLsb];
  assign w_swap     = d_instr_q[systole_pkg::MatmulWSwapLsb];
  assign w_preload  = d_instr_q[systole_pkg::MatmulWPreloadLsb];
  assign no_weights = opcode == systole_pkg::OpMatmul && (w_swap ? !pre_valid_q : (!w_load && !active_valid_q));
  assign error_now  = d_error_q != systole_pkg::ErrNone ? d_error_q : (no_weights ? systole_pkg::ErrNoWeights : systole_pkg::ErrNone);

  // The unit of the lanes' instructions, and what wait bit 3 names: VECTOR, or EXEC in a build
  // without it.
  logic lanes_op, vector_op, lanes_done;
  assign lanes_op   = opcode == systole_pkg::OpRequant || opcode == systole_pkg::OpVmax
      || opcode == systole_pkg::OpVadd
      || (opcode >= systole_pkg::OpVlut && opcode <= systole_pkg::OpVtrans);
  assign vector_op  = VectorUnit != 0 && lanes_op;
  assign lanes_done = VectorUnit != 0 ? vector_done_i : exec_done_i;

  // The issue rules of the contract's 9.2: a memory part (LOAD/STORE units) and the rest.
  logic mem_ok, other_ok, can_issue;
  always_comb begin
    mem_ok   = 1'b1;
    other_ok = 1'b1;
    if (opcode == systole_pkg::OpLoad) begin
      mem_ok = load_free_i;
    end else if (opcode == systole_pkg::OpStore) begin
      mem_ok = store_free_i;
    end else if (opcode == systole_pkg::OpMatmul) begin
      other_ok = exec_free_i;
    end else if (lanes_op) begin
      other_ok = lanes_done;
    end else begin  // FENCE, HALT
      mem_ok   = load_free_i && store_free_i;
      other_ok = exec_done_i && vector_done_i;
    end
    if (wait_bits[systole_pkg::WaitLoadBit] && !load_free_i) begin
      mem_ok = 1'b0;
    end
    if (wait_bits[systole_pkg::WaitStoreBit] && !store_free_i) begin
      mem_ok = 1'b0;
    end
    if (wait_bits[systole_pkg::WaitExecBit] && !exec_done_i) begin
      other_ok = 1'b0;
    end
    if (wait_bits[systole_pkg::WaitVectorBit] && !lanes_done) begin
      other_ok = 1'b0;
    end
  end

  logic units_idle;
  logic unit_fault;
  logic [31:0] fault_pc;
  logic decoding;     // an instruction is in the decode register and the run goes on
  logic bad;          // it fails a check: the run ends
  logic issuing;
  logic halting;
  logic prog_end;
  assign units_idle = load_free_i && store_free_i && exec_done_i && vector_done_i;
  assign unit_fault = load_fault_i || store_fault_i;
  assign fault_pc   = load_fault_i ? load_pc_q : store_pc_q;
  assign decoding   = state_q == Running && d_valid_q && !unit_fault;
  assign bad        = decoding && error_now != systole_pkg::ErrNone;
  assign can_issue  = mem_ok && other_ok;
  assign issuing    = decoding && !bad && can_issue;
  assign halting    = issuing && opcode == systole_pkg::OpHalt;
  assign prog_end   = state_q == Running && !d_valid_q && !unit_fault && next_pc_q == prog_len_q;

  // Errors found now end the run once every unit has completed (maybe in this very cycle).
  logic       fail_now;
  logic [7:0] fail_error;
  logic [31:0] fail_pc;
  always_comb begin
    fail_now   = 1'b0;
    fail_error = systole_pkg::ErrNone;
    fail_pc    = '0;
    if (state_q == Running) begin
      if (unit_fault) begin
        fail_now   = 1'b1;
        fail_error = systole_pkg::ErrMemFault;
        fail_pc    = fault_pc;
      end else if (bad) begin
        fail_now   = 1'b1;
        fail_error = error_now;
        fail_pc    = d_pc_q;
      end else if (prog_end) begin
        fail_now   = 1'b1;
        fail_error = systole_pkg::ErrProgEnd;
        fail_pc    = prog_len_q;
      end
    end
  end

  // Take the next instruction into the decode register when it is empty or issues now.
  logic take;
  assign take = state_q == Running && !fail_now && !halting && instr_valid_i
      && next_pc_q != prog_len_q && (!d_valid_q || issuing);
  assign instr_pop_o = take;

  logic start_ok;
  assign start_ok = start_i && state_q == Idle && !prog_range_bad;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q        <= Idle;
      d_valid_q      <= 1'b0;
      d_instr_q      <= '0;
      d_error_q      <= '0;
      d_pc_q         <= '0;
      next_pc_q      <= '0;
      prog_len_q     <= '0;
      pc_q           <= '0;
      end_error_q    <= '0;
      end_pc_q       <= '0;
      active_valid_q <= 1'b0;
      pre_valid_q    <= 1'b0;
      load_pc_q      <= '0;
      store_pc_q     <= '0;
    end else if (clear_i) begin
      state_q        <= Idle;
      d_valid_q      <= 1'b0;
      next_pc_q      <= '0;
      pc_q           <= '0;
      active_valid_q <= 1'b0;
      pre_valid_q    <= 1'b0;
    end else begin
      if (start_ok) begin
        state_q    <= Running;
        d_valid_q  <= 1'b0;
        next_pc_q  <= '0;
        prog_len_q <= prog_len_i;
        pc_q       <= '0;
      end else if (start_i && state_q == Idle) begin
        pc_q <= '0;  // PROG_RANGE: the run ends in this cycle
      end

      if (state_q == Running) begin
        if (fail_now) begin
          state_q     <= units_idle ? Idle : Ending;
          end_error_q <= fail_error;
          end_pc_q    <= fail_pc;
          d_valid_q   <= 1'b0;
        end else if (halting) begin
          state_q   <= Idle;
          d_valid_q <= 1'b0;
        end else begin
          if (take) begin
            d_valid_q <= 1'b1;
            d_instr_q <= instr_i;
            d_error_q <= instr_fault_i ? systole_pkg::ErrMemFault : head_error;
            d_pc_q    <= next_pc_q;
            pc_q      <= next_pc_q;
            next_pc_q <= next_pc_q + 1;
          end else if (issuing) begin
            d_valid_q <= 1'b0;
          end
        end
      end else if (state_q == Ending && units_idle) begin
        state_q <= Idle;
      end

      if (issuing && opcode == systole_pkg::OpMatmul) begin
        active_valid_q <= 1'b1;
        pre_valid_q    <= w_preload ? 1'b1 : ((w_swap || w_load) ? 1'b0 : pre_valid_q);
      end
      if (load_issue_o) begin
        load_pc_q <= d_pc_q;
      end
      if (store_issue_o) begin
        store_pc_q <= d_pc_q;
      end
    end
  end

  // Outputs.
  assign unit_instr_o  = d_instr_q;
  assign load_issue_o  = issuing && opcode == systole_pkg::OpLoad;
  assign store_issue_o = issuing && opcode == systole_pkg::OpStore;
  assign exec_issue_o   = issuing && (opcode == systole_pkg::OpMatmul || (lanes_op && !vector_op));
  assign vector_issue_o = issuing && vector_op;
  assign fetch_start_o = start_ok;
  assign fetch_stop_o  = run_end_o || clear_i;
  assign running_o     = state_q != Idle;

  always_comb begin
    run_end_o      = 1'b0;
    run_error_o    = systole_pkg::ErrNone;
    run_error_pc_o = '0;
    if (!clear_i) begin
      if (start_i && state_q == Idle && prog_range_bad) begin
        run_end_o   = 1'b1;
        run_error_o = systole_pkg::ErrProgRange;
      end else if (state_q == Running && fail_now && units_idle) begin
        run_end_o      = 1'b1;
        run_error_o    = fail_error;
        run_error_pc_o = fail_pc;
      end else if (halting) begin
        run_end_o = 1'b1;
      end else if (state_q == Ending && units_idle) begin
        run_end_o      = 1'b1;
        run_error_o    = end_error_q;
        run_error_pc_o = end_pc_q;
      end
    end
  end

  // PC: the instruction at the issue stage; after PROG_END the last one.
  assign pc_o = pc_q;

  // Counter events.
  logic [47:0] xfer_bytes;  // at most 65535 * 65535 * 4095 < 2^44
  assign xfer_bytes = 48'(d_instr_q[systole_pkg::LoadXSizeLsb +: systole_pkg::LoadXSizeWidth])
      * 48'(d_instr_q[systole_pkg::LoadYSizeLsb +: systole_pkg::LoadYSizeWidth])
      * 48'(d_instr_q[systole_pkg::LoadElemBytesLsb +: systole_pkg::LoadElemBytesWidth]);
  assign instret_o       = issuing;
  assign array_rows_o    = (issuing && opcode == systole_pkg::OpMatmul)
      ? 17'(d_instr_q[systole_pkg::MatmulRowsLsb +: systole_pkg::MatmulRowsWidth]) : '0;
  assign stall_o         = decoding && !bad && other_ok && !mem_ok;
  assign bytes_read_o    = load_issue_o ? xfer_bytes : '0;
  assign bytes_written_o = store_issue_o ? xfer_bytes : '0;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // One instruction a cycle, to one unit, and only to a unit that can take it (contract 9.2).
  OneUnit: assert property (@(posedge clk_i) disable iff (!chk_q)
      $onehot0({load_issue_o, store_issue_o, exec_issue_o, vector_issue_o}))
    else $error("systole_issue: one instruction issued to two units");
  LoadFree: assert property (@(posedge clk_i) disable iff (!chk_q)
      load_issue_o |-> load_free_i)
    else $error("systole_issue: LOAD issued to a busy LOAD unit");
  StoreFree: assert property (@(posedge clk_i) disable iff (!chk_q)
      store_issue_o |-> store_free_i)
    else $error("systole_issue: STORE issued to a busy STORE unit");
  ExecReady: assert property (@(posedge clk_i) disable iff (!chk_q)
      exec_issue_o |-> (opcode == systole_pkg::OpMatmul ? exec_free_i : exec_done_i))
    else $error("systole_issue: opcode 0x%0h issued to EXEC before it could take it", opcode);
  VectorReady: assert property (@(posedge clk_i) disable iff (!chk_q)
      vector_issue_o |-> vector_done_i)
    else $error("systole_issue: opcode 0x%0h issued to VECTOR before it was done", opcode);
  // A build without the VECTOR unit never uses it, and its done stays 1.
  NoVectorUnit: assert property (@(posedge clk_i) disable iff (!chk_q)
      VectorUnit == 0 |-> !vector_issue_o && vector_done_i)
    else $error("systole_issue: VECTOR unit used in a build without it");
  // A waiting instruction issues only once the units it names are done; FENCE and HALT wait for
  // all of them.
  WaitsKept: assert property (@(posedge clk_i) disable iff (!chk_q)
      issuing |-> (!wait_bits[systole_pkg::WaitLoadBit] || load_free_i)
                  && (!wait_bits[systole_pkg::WaitStoreBit] || store_free_i)
                  && (!wait_bits[systole_pkg::WaitExecBit] || exec_done_i)
                  && (!wait_bits[systole_pkg::WaitVectorBit] || lanes_done)
                  && (!(opcode == systole_pkg::OpFence || opcode == systole_pkg::OpHalt)
                      || units_idle))
    else $error("systole_issue: instruction %0d issued before the units it waits for", d_pc_q);
  // Run states: a legal state; the run ends only with every unit idle (but PROG_RANGE, at START).
  StateLegal: assert property (@(posedge clk_i) disable iff (!chk_q)
      state_q == Idle || state_q == Running || state_q == Ending)
    else $error("systole_issue: state %0d", state_q);
  EndIdle: assert property (@(posedge clk_i) disable iff (!chk_q)
      run_end_o && state_q != Idle |-> units_idle)
    else $error("systole_issue: run ended with a unit still busy");
  // No instruction enters the decode register past the program's end.
  PcInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      state_q == Running |-> next_pc_q <= prog_len_q)
    else $error("systole_issue: next instruction %0d of a program of %0d", next_pc_q,
                prog_len_q);
`endif

endmodule
