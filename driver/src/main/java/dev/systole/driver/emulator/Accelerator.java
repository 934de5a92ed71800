package dev.systole.driver.emulator;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The emulated accelerator as the host sees it: the register window of the contract in front of
 * a {@link Machine}, with programs run on a worker thread of its own so that STATUS reads BUSY
 * while a program runs, completion is an event the host waits for, and a SOFT_RESET can abort a
 * run. The same engine serves {@code EmulatorDevice} in process and a sim board's device nodes
 * from another process.
 *
 * <p>The emulator has no clock of its own: TOTAL_CYCLES is the host's elapsed time at CLOCK_KHZ,
 * and never less than BUSY_CYCLES, the modelled cycles of the programs run.
 *
 * <p>Every register access takes the one lock; a run touches the datapath only on the worker, and
 * its results (status, the run's counts added to the counters) are published under the lock when
 * it ends, so counters read during a run show the totals of the runs before it.
 */
public final class Accelerator implements AutoCloseable {
  private final DeviceParams params;
  private final CardMemory memory;
  private final int buildId;
  private final Machine machine;
  private final Object lock = new Object();

  private int progAddrLo;
  private int progAddrHi;
  private int progLen;
  private int intEnable;
  private int intStatus;
  private int scratch;
  private int status;
  private int errorCode;
  private int errorPc;
  /**
   * The PC register. The worker writes it at every step with a release store ({@link
   * #PC_HANDLE}): ordered after the step's writes, without the full fence of a volatile store,
   * which waits for every store the step left in flight. Reads acquire it.
   */
  private int pc;
  private static final VarHandle PC_HANDLE;

  static {
    try {
      PC_HANDLE = MethodHandles.lookup().findVarHandle(Accelerator.class, "pc", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
  private long cycles;
  private long epochNanos = System.nanoTime();
  private final Map<Counter, Long> totals = new EnumMap<>(Counter.class);

  /**
   * Runs programs one at a time; created once, so a START costs a hand-off, not a thread. A
   * thread that waits for the run ({@link #awaitIdle}) before the worker has taken it runs it
   * itself, which saves both hand-offs (the worker waking up, then the waiter): on the machine
   * this was measured on, about half a millisecond a run, one to two percent of a ResNet-18.
   */
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "systole-emulator");
    t.setDaemon(true);
    return t;
  });
  private boolean running;
  /** The run started and not yet taken by the worker or a waiting thread (under the lock). */
  private Runnable pending;
  private volatile boolean abort;
  private boolean closed;
  private Runnable interruptListener = () -> { };

  public Accelerator(DeviceParams params, CardMemory memory, int buildId) {
    if (memory.size() < params.hbmBytes()) {
      throw new IllegalArgumentException(String.format(
          "card memory of %d bytes is smaller than HBM_MB=%d (expected at least %d bytes)",
          memory.size(), params.hbmMb(), params.hbmBytes()));
    }
    this.params = params;
    this.memory = memory;
    this.buildId = buildId;
    this.machine = new Machine(params, memory);
    clearTotals();
  }

  public DeviceParams params() {
    return params;
  }

  public CardMemory memory() {
    return memory;
  }

  /** Called (on the worker thread) each time the interrupt line rises. */
  public void setInterruptListener(Runnable listener) {
    synchronized (lock) {
      interruptListener = listener;
    }
  }

  /** Whether the interrupt line is high: {@code (INT_STATUS & INT_ENABLE) != 0}. */
  public boolean interruptLine() {
    synchronized (lock) {
      return (intStatus & intEnable) != 0;
    }
  }

  /**
   * Reads the register at byte {@code offset}. Offsets that name no register read 0.
   *
   * @throws IndexOutOfBoundsException if the offset is outside the window or not aligned
   */
  public int readRegister(int offset) {
    checkOffset(offset);
    Reg reg = Reg.atOffset(offset);
    if (reg == null) {
      return 0;
    }
    synchronized (lock) {
      return switch (reg) {
        case MAGIC -> Contract.MAGIC;
        case VERSION -> Contract.VERSION;
        case BUILD_ID -> buildId;
        case ARRAY_ROWS, ARRAY_COLS, ABUF_ROWS, WBUF_ROWS, ACC_ROWS, HBM_MB, HBM_CHANNELS,
            CLOCK_KHZ, VECTOR_UNIT, LUT_ROWS -> (int) params.get(Param.valueOf(reg.name()));
        case CTRL -> 0;
        case STATUS -> status;
        case ERROR_CODE -> errorCode;
        case ERROR_PC -> errorPc;
        case PC -> (int) PC_HANDLE.getAcquire(this);
        case PROG_ADDR_LO -> progAddrLo;
        case PROG_ADDR_HI -> progAddrHi;
        case PROG_LEN -> progLen;
        case INT_ENABLE -> intEnable;
        case INT_STATUS -> intStatus;
        case SCRATCH -> scratch;
        default -> counterHalf(reg);
      };
    }
  }

  private int counterHalf(Reg reg) {
    for (Counter c : Counter.values()) {
      if (c.lo() == reg) {
        return (int) counterValue(c);
      }
      if (c.hi() == reg) {
        return (int) (counterValue(c) >>> 32);
      }
    }
    throw new IllegalStateException("register " + reg + " has no value in the emulator");
  }

  private long counterValue(Counter c) {
    return switch (c) {
      case CYCLES -> cycles;
      case TOTAL_CYCLES -> Math.max(totals.get(Counter.BUSY_CYCLES),
          (System.nanoTime() - epochNanos) / 1000 * params.clockKhz() / 1000);
      default -> totals.get(c);
    };
  }

  /**
   * Writes the register at byte {@code offset}; writes to read-only or unnamed offsets are
   * ignored, as on the hardware.
   *
   * @throws IndexOutOfBoundsException if the offset is outside the window or not aligned
   */
  public void writeRegister(int offset, int value) {
    checkOffset(offset);
    Reg reg = Reg.atOffset(offset);
    if (reg == null) {
      return;
    }
    Runnable rose = null;
    synchronized (lock) {
      boolean lineBefore = (intStatus & intEnable) != 0;
      switch (reg) {
        case CTRL -> control(value);
        case PROG_ADDR_LO -> progAddrLo = value;
        case PROG_ADDR_HI -> progAddrHi = value;
        case PROG_LEN -> progLen = value;
        case INT_ENABLE -> intEnable = value & (RegField.INT_ENABLE_DONE.mask()
            | RegField.INT_ENABLE_ERROR.mask());
        case INT_STATUS -> intStatus &= ~value;
        case SCRATCH -> scratch = value;
        default -> { }
      }
      if (!lineBefore && (intStatus & intEnable) != 0) {
        rose = interruptListener;
      }
    }
    if (rose != null) {
      rose.run();
    }
  }

  private static void checkOffset(int offset) {
    if (offset < 0 || offset > Contract.REGISTER_WINDOW_BYTES - 4 || (offset & 3) != 0) {
      throw new IndexOutOfBoundsException(String.format(
          "register offset 0x%x (expected a multiple of 4 in 0x000..0x%03x)", offset,
          Contract.REGISTER_WINDOW_BYTES - 4));
    }
  }

  private void control(int value) {
    if (RegField.CTRL_SOFT_RESET.isSet(value)) {
      softReset();
      return;
    }
    if (RegField.CTRL_CLEAR_COUNTERS.isSet(value)) {
      cycles = 0;
      clearTotals();
    }
    if (RegField.CTRL_START.isSet(value) && !RegField.STATUS_BUSY.isSet(status)) {
      start();
    }
  }

  private void start() {
    if (closed) {
      return;
    }
    status = RegField.STATUS_BUSY.mask();
    errorCode = 0;
    errorPc = 0;
    cycles = 0;
    PC_HANDLE.setVolatile(this, 0);
    abort = false;
    long address = (progAddrHi & 0xFFFFFFFFL) << 32 | (progAddrLo & 0xFFFFFFFFL);
    long length = progLen & 0xFFFFFFFFL;
    running = true;
    Runnable run = () -> runProgram(address, length);
    pending = run;
    worker.execute(() -> {
      if (take(run)) {
        run.run();
      }
    });
  }

  /** Whether {@code run} was still pending: the caller has taken it and must run it. */
  private boolean take(Runnable run) {
    synchronized (lock) {
      if (pending != run) {
        return false;
      }
      pending = null;
      return true;
    }
  }

  private void runProgram(long address, long length) {
    Machine.Outcome outcome = null;
    Runnable rose = null;
    try {
      outcome = machine.run(address, length, () -> abort, i -> PC_HANDLE.setRelease(this, i));
    } finally {
      // An emulator defect leaves STATUS BUSY (the host's deadline resets it), but the run is
      // always marked over so that SOFT_RESET never waits for a run that is gone.
      synchronized (lock) {
        if (outcome != null && !outcome.aborted()) {
          rose = finish(outcome);
        }
        running = false;
        lock.notifyAll();
      }
    }
    if (rose != null) {
      rose.run();
    }
  }

  /** Publishes a run's end under the lock; returns the listener to call if the line rose. */
  private Runnable finish(Machine.Outcome outcome) {
    boolean lineBefore = (intStatus & intEnable) != 0;
    cycles = outcome.cycles();
    boolean failed = outcome.error() != ErrorCode.NONE;
    status = RegField.STATUS_DONE.mask() | (failed ? RegField.STATUS_ERROR.mask() : 0);
    errorCode = outcome.error().code();
    errorPc = (int) outcome.errorPc();
    intStatus |= RegField.INT_STATUS_DONE.mask() | (failed ? RegField.INT_STATUS_ERROR.mask() : 0);
    addRun();
    return !lineBefore && (intStatus & intEnable) != 0 ? interruptListener : null;
  }

  private void softReset() {
    abort = true;
    if (pending != null) {
      pending = null;
      running = false;
    }
    while (running) {
      try {
        lock.wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    progAddrLo = 0;
    progAddrHi = 0;
    progLen = 0;
    intEnable = 0;
    intStatus = 0;
    scratch = 0;
    status = 0;
    errorCode = 0;
    errorPc = 0;
    PC_HANDLE.setVolatile(this, 0);
    cycles = 0;
    machine.resetArray();
    clearTotals();
  }

  private void clearTotals() {
    epochNanos = System.nanoTime();
    for (Counter c : Counter.values()) {
      totals.put(c, 0L);
    }
  }

  /** Adds the counts of the run that just ended (read from the machine after its thread ran). */
  private void addRun() {
    RunCounts run = machine.counts();
    totals.merge(Counter.BUSY_CYCLES, run.busyCycles, Long::sum);
    totals.merge(Counter.ARRAY_CYCLES, run.arrayCycles, Long::sum);
    totals.merge(Counter.VECTOR_CYCLES, run.vectorCycles, Long::sum);
    totals.merge(Counter.STALL_CYCLES, run.stallCycles, Long::sum);
    totals.merge(Counter.INSTRET, run.instret, Long::sum);
    totals.merge(Counter.MACS, run.macs, Long::sum);
    totals.merge(Counter.BYTES_READ, run.bytesRead, Long::sum);
    totals.merge(Counter.BYTES_WRITTEN, run.bytesWritten, Long::sum);
  }

  /**
   * Waits until no program is running; a run the worker has not taken yet, this thread runs
   * itself, to its end whatever the timeout. An emulator defect there leaves STATUS BUSY, as it
   * does on the worker.
   *
   * @return true if idle, false if the timeout passed first
   */
  public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    Runnable run;
    synchronized (lock) {
      run = pending;
      pending = null;
    }
    if (run != null) {
      try {
        run.run();
      } catch (RuntimeException e) {
        // As on the worker: the run is marked over, STATUS stays BUSY, the host's deadline
        // resets the device.
      }
    }
    synchronized (lock) {
      while (running) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return true;
    }
  }

  /** Aborts any running program and stops accepting new ones. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      softReset();
    }
    worker.shutdown();
    machine.close();
  }
}
