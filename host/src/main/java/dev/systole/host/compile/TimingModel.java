package dev.systole.host.compile;

import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import dev.systole.driver.emulator.TransferTiming;
import java.util.List;

/**
 * The contract's timing model (CONTRACT.md 9) over a program that is not run: the issue cycle of
 * every instruction from its fields alone. It is what the emulator and the RTL with fixed-latency
 * memory report, so a compiler can say what a layer will cost before anything runs; on real HBM
 * it is an estimate. Transfers use the emulator's own {@link TransferTiming}, and a test holds the
 * rest to the emulator's CYCLES for every program the compilers make.
 */
final class TimingModel {
  private TimingModel() {}

  /** The issue cycle of each instruction of a program that runs without an error. */
  static long[] issueTimes(List<Instruction> program, DeviceParams p) {
    int d = p.arrayRows();
    long[] free = new long[3];
    long[] done = new long[3];
    int load = 0;
    int exec = 1;
    int store = 2;
    long[] issue = new long[program.size()];
    long prev = Timing.FETCH_LATENCY - 1;
    for (int i = 0; i < program.size(); i++) {
      Instruction in = program.get(i);
      Opcode op = in.opcode();
      long mem = 0;
      long other = Math.max(prev + 1, Timing.FETCH_LATENCY + (long) i);
      switch (op.unit()) {
        case LOAD -> mem = free[load];
        case STORE -> mem = free[store];
        case EXEC -> other = Math.max(other, op == Opcode.MATMUL ? free[exec] : done[exec]);
        case CONTROL -> {
          mem = Math.max(done[load], done[store]);
          other = Math.max(other, done[exec]);
        }
      }
      int wait = in.waitMask();
      if ((wait & Unit.LOAD.waitMask()) != 0) {
        mem = Math.max(mem, done[load]);
      }
      if ((wait & Unit.STORE.waitMask()) != 0) {
        mem = Math.max(mem, done[store]);
      }
      if ((wait & Unit.EXEC.waitMask()) != 0) {
        other = Math.max(other, done[exec]);
      }
      long t = Math.max(mem, other);
      issue[i] = t;
      prev = t;
      switch (op) {
        case LOAD -> {
          free[load] = t + TransferTiming.loadCycles(in.get(Isa.Load.HBM_ADDR),
              (int) in.get(Isa.Load.ELEM_BYTES), (int) in.get(Isa.Load.X_SIZE),
              (int) in.get(Isa.Load.Y_SIZE), in.get(Isa.Load.X_STRIDE),
              in.get(Isa.Load.Y_STRIDE), (int) in.get(Isa.Load.X_PAD0),
              (int) in.get(Isa.Load.X_PAD1), (int) in.get(Isa.Load.Y_PAD0),
              (int) in.get(Isa.Load.Y_PAD1), Timing.READ_LATENCY);
          done[load] = free[load];
        }
        case STORE -> {
          free[store] = t + TransferTiming.storeCycles(in.get(Isa.Store.HBM_ADDR),
              (int) in.get(Isa.Store.ELEM_BYTES), (int) in.get(Isa.Store.X_SIZE),
              (int) in.get(Isa.Store.Y_SIZE), in.get(Isa.Store.X_STRIDE),
              in.get(Isa.Store.Y_STRIDE), Timing.WRITE_LATENCY);
          done[store] = free[store];
        }
        case MATMUL -> {
          long rows = in.get(Isa.Matmul.ROWS);
          long l0 = in.flag(Isa.Matmul.W_LOAD) ? d : 0;
          free[exec] = t + l0 + Math.max(rows, in.flag(Isa.Matmul.W_PRELOAD) ? d : 0);
          done[exec] = Math.max(done[exec], t + l0 + rows + 2L * d + Timing.ARRAY_LATENCY);
        }
        case REQUANT -> {
          free[exec] = t + Timing.REQUANT_SETUP + in.get(Isa.Requant.ROWS)
              + Timing.REQUANT_LATENCY;
          done[exec] = free[exec];
        }
        case VMAX -> {
          free[exec] = t + in.get(Isa.Vmax.ROWS) + Timing.VECTOR_LATENCY;
          done[exec] = free[exec];
        }
        case VADD -> {
          free[exec] = t + in.get(Isa.Vadd.ROWS) + Timing.VECTOR_LATENCY;
          done[exec] = free[exec];
        }
        case FENCE, HALT -> { }
      }
    }
    return issue;
  }
}
