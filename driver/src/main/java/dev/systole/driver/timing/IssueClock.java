package dev.systole.driver.timing;

import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;

/**
 * The contract's timing model (CONTRACT.md 9), once: when each instruction of a program issues,
 * from its fields and the instructions before it. Instructions leave the fetch stage in order;
 * each issues when its unit can take it and the units its wait field names are done; a unit is
 * busy (for the next instruction of its kind) and done (for waits) at times that follow from
 * the instruction alone, transfers through {@link TransferTiming}.
 *
 * <p>The emulator runs a program through it as it executes the program, and the compiler
 * through it without running anything, to estimate a program's cycles; so the two cannot
 * disagree, and the RTL is held to the same numbers. A clock is for one run of one program.
 */
public final class IssueClock {
  private static final int LOAD = 0;
  private static final int EXEC = 1;
  private static final int STORE = 2;
  private static final int VECTOR = 3;

  private final int arrayRows;
  /** The unit REQUANT, VMAX, VADD and the vector instructions go to: VECTOR, or EXEC. */
  private final int vector;
  private final long[] free = new long[4];
  private final long[] done = new long[4];
  private long previous = Timing.FETCH_LATENCY - 1;
  private long stallCycles;
  private long readsEnd;
  private long completion;

  /** A clock for a run on a device of {@code params}. */
  public IssueClock(DeviceParams params) {
    this.arrayRows = params.arrayRows();
    this.vector = params.unit(Unit.VECTOR) == Unit.VECTOR ? VECTOR : EXEC;
  }

  /**
   * The earliest cycle instruction {@code pc} can issue: one after the one before it, and not
   * before it is fetched.
   */
  public long ready(long pc) {
    return Math.max(previous + 1, Timing.FETCH_LATENCY + pc);
  }

  /**
   * The cycle {@code in}, ready at {@code ready} ({@link #ready}), issues: when its unit can
   * take it and its waits are satisfied. Records the instruction as issued then.
   */
  public long issue(Instruction in, long ready) {
    Opcode op = in.opcode();
    long mem = 0;
    long other = ready;
    switch (op.unit()) {
      case LOAD -> mem = free[LOAD];
      case STORE -> mem = free[STORE];
      case EXEC -> other = Math.max(other, free[EXEC]);
      case VECTOR -> other = Math.max(other, done[vector]);
      case CONTROL -> {
        mem = Math.max(done[LOAD], done[STORE]);
        other = Math.max(other, Math.max(done[EXEC], done[VECTOR]));
      }
    }
    int wait = in.waitMask();
    if ((wait & Unit.LOAD.waitMask()) != 0) {
      mem = Math.max(mem, done[LOAD]);
    }
    if ((wait & Unit.STORE.waitMask()) != 0) {
      mem = Math.max(mem, done[STORE]);
    }
    if ((wait & Unit.EXEC.waitMask()) != 0) {
      other = Math.max(other, done[EXEC]);
    }
    if ((wait & Unit.VECTOR.waitMask()) != 0) {
      other = Math.max(other, done[vector]);
    }
    long t = other;
    if (mem > other) {
      stallCycles += mem - other;
      t = mem;
    }
    issued(in, t);
    return t;
  }

  private void issued(Instruction in, long t) {
    previous = t;
    switch (in.opcode()) {
      case LOAD -> {
        free[LOAD] = t + TransferTiming.loadCycles(in.get(Isa.Load.HBM_ADDR),
            (int) in.get(Isa.Load.ELEM_BYTES), (int) in.get(Isa.Load.X_SIZE),
            (int) in.get(Isa.Load.Y_SIZE), in.get(Isa.Load.X_STRIDE),
            in.get(Isa.Load.Y_STRIDE), (int) in.get(Isa.Load.X_PAD0),
            (int) in.get(Isa.Load.X_PAD1), (int) in.get(Isa.Load.Y_PAD0),
            (int) in.get(Isa.Load.Y_PAD1), Timing.READ_LATENCY);
        done[LOAD] = free[LOAD];
        completion = free[LOAD];
      }
      case STORE -> {
        free[STORE] = t + TransferTiming.storeCycles(in.get(Isa.Store.HBM_ADDR),
            (int) in.get(Isa.Store.ELEM_BYTES), (int) in.get(Isa.Store.X_SIZE),
            (int) in.get(Isa.Store.Y_SIZE), in.get(Isa.Store.X_STRIDE),
            in.get(Isa.Store.Y_STRIDE), Timing.WRITE_LATENCY);
        done[STORE] = free[STORE];
        completion = free[STORE];
      }
      case MATMUL -> {
        long rows = in.get(Isa.Matmul.ROWS);
        long load = in.flag(Isa.Matmul.W_LOAD) ? arrayRows : 0;
        free[EXEC] = t + load + Math.max(rows, in.flag(Isa.Matmul.W_PRELOAD) ? arrayRows : 0);
        // The last row's result reaches ACC 2D + ARRAY_LATENCY cycles after it entered the
        // array; a preload that outlasts the rows does not delay it.
        completion = t + load + rows + 2L * arrayRows + Timing.ARRAY_LATENCY;
        done[EXEC] = Math.max(done[EXEC], completion);
        readsEnd = free[EXEC];
        return;
      }
      case REQUANT -> lanesUntil(t + Timing.REQUANT_SETUP + in.get(Isa.Requant.ROWS)
          + Timing.REQUANT_LATENCY);
      case VMAX -> vector(t, in.get(Isa.Vmax.ROWS));
      case VADD -> vector(t, in.get(Isa.Vadd.ROWS));
      case FENCE, HALT -> completion = t;
      case VLUT -> vector(t, in.get(Isa.Vlut.ROWS));
      case VSCALE -> vector(t, Timing.SCALE_SETUP + in.get(Isa.Vscale.ROWS));
      case VMUL -> vector(t, in.get(Isa.Vmul.ROWS));
      case VREDUCE -> vector(t, in.get(Isa.Vreduce.ROWS));
      case VMAC -> vector(t, in.get(Isa.Vmac.ROWS));
      case VSOFTMAX -> vector(t, in.get(Isa.Vsoftmax.GROUPS)
          * (3 * in.get(Isa.Vsoftmax.GROUP_ROWS) + Timing.SOFTMAX_LATENCY));
      case VNORM -> vector(t, in.get(Isa.Vnorm.GROUPS)
          * (4 * in.get(Isa.Vnorm.GROUP_ROWS) + Timing.NORM_LATENCY));
      case VTRANS -> vector(t, (in.get(Isa.Vtrans.BLOCKS) + 1) * arrayRows);
    }
    readsEnd = completion;
  }

  /**
   * An instruction of the vector lanes (on the VECTOR unit, or on EXEC on a build without it)
   * busy for {@code cycles} before its pipeline drains.
   */
  private void vector(long t, long cycles) {
    lanesUntil(t + cycles + Timing.VECTOR_LATENCY);
  }

  /** The vector lanes are busy, and the instruction on them completes, at {@code end}. */
  private void lanesUntil(long end) {
    free[vector] = end;
    done[vector] = end;
    completion = end;
  }

  /**
   * When the instruction issued last has finished reading its sources (CONTRACT.md 5.2): a
   * MATMUL's ABUF rows and WBUF tiles when the array can take the next MATMUL, any other
   * instruction's at its completion.
   */
  public long readsEnd() {
    return readsEnd;
  }

  /** When the instruction issued last has completed, its last write included. */
  public long completion() {
    return completion;
  }

  /** The last cycle any unit is busy, or {@code ready} if that is later. */
  public long drained(long ready) {
    long last = ready;
    for (long d : done) {
      last = Math.max(last, d);
    }
    return last;
  }

  /** Cycles instructions waited at issue for a memory unit while the rest was ready. */
  public long stallCycles() {
    return stallCycles;
  }
}
