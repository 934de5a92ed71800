package dev.systole.driver.rtl;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.simboard.SimEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The RTL under Verilator as a sim board's engine. Register accesses become AXI4-Lite
 * transactions on the Verilated top level; while a program runs, a clock thread of its own
 * advances the model in slices, so the host sees STATUS.BUSY, the interrupt and the counters as a
 * board gives them. The card memory is the sim board's memory file, which the model's HBM reads and
 * writes.
 */
public final class RtlEngine implements SimEngine {
  /**
   * Cycles clocked per slice while a program runs: a few milliseconds of simulation, so that a
   * register access waits little (the lock is fair: a waiting access goes before the next slice).
   */
  private static final long SLICE_CYCLES = 500;
  private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** Which memory model the HBM ports see. */
  public enum Memory {
    /** The fixed-latency model the timing model is exact for (fpga/rtl/MICROARCH.md). */
    FIXED,
    /** A model of HBM2 pseudo-channels: banks, rows, refresh, limited bandwidth (fpga/sim). */
    HBM;

    String config() {
      return this == FIXED
          ? "fixed,read=" + Timing.READ_LATENCY + ",write=" + Timing.WRITE_LATENCY
          : "hbm,seed=1";
    }

    public static Memory parse(String s) {
      try {
        return valueOf(s.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("memory model \"" + s + "\" (expected fixed or hbm)",
            e);
      }
    }
  }

  private final SimLibrary lib;
  private final Pointer sim;
  private final ReentrantLock lock = new ReentrantLock(true);
  private final Thread clock;
  private final int buildId;
  private final Memory memory;
  /**
   * The word a register read lands in, one for the engine (reads hold {@link #lock}): a sim
   * board polls its registers all the time, and a new one per read would leave native memory
   * and cleaner records behind faster than the collector reclaims them.
   */
  private final IntByReference word = new IntByReference();
  private volatile Runnable listener = () -> { };
  private volatile boolean closed;
  private boolean busy;
  private boolean irq;

  private RtlEngine(SimLibrary lib, Pointer sim, Memory memory) {
    this.lib = lib;
    this.sim = sim;
    this.memory = memory;
    this.buildId = read(Reg.BUILD_ID.offset());
    this.clock = new Thread(this::clockLoop, "systole-rtl-clock");
    clock.setDaemon(true);
    clock.start();
  }

  /** A factory for sim boards: the RTL for the board's parameters, with {@code memory}. */
  public static SimEngine.Factory factory(Memory memory) {
    return (params, file, mem) -> open(params, file, memory);
  }

  /**
   * Opens the RTL for {@code params} on the card memory file {@code memoryFile}, building the
   * Verilated model first if the cache has none for these parameters.
   */
  public static RtlEngine open(DeviceParams params, Path memoryFile, Memory memory) {
    Path library = RtlBuild.library(params);
    SimLibrary lib = Native.load(library.toString(), SimLibrary.class);
    byte[] err = new byte[512];
    Pointer sim = lib.systole_sim_open(memoryFile.toString(), params.hbmBytes(), memory.config(),
        err, err.length);
    if (sim == null) {
      int n = 0;
      while (n < err.length && err[n] != 0) {
        n++;
      }
      throw new RtlUnavailableException("the RTL simulation did not open: "
          + new String(err, 0, n, StandardCharsets.UTF_8));
    }
    return new RtlEngine(lib, sim, memory);
  }

  @Override
  public String name() {
    return "rtl";
  }

  public Memory memory() {
    return memory;
  }

  @Override
  public int buildId() {
    return buildId;
  }

  /** Clock cycles simulated since the model was opened. */
  public long simulatedCycles() {
    lock.lock();
    try {
      checkOpen();
      return lib.systole_sim_cycles(sim);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int readRegister(int offset) {
    return read(offset);
  }

  private int read(int offset) {
    lock.lock();
    try {
      checkOpen();
      IntByReference v = word;
      if (lib.systole_sim_read(sim, offset, v) != 0) {
        throw new IllegalStateException(String.format(
            "the RTL's register window answered a read of 0x%03X with an error", offset));
      }
      sample();
      return v.getValue();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void writeRegister(int offset, int value) {
    boolean run;
    lock.lock();
    try {
      checkOpen();
      if (lib.systole_sim_write(sim, offset, value) != 0) {
        throw new IllegalStateException(String.format(
            "the RTL's register window answered a write of 0x%08X to 0x%03X with an error",
            value, offset));
      }
      sample();
      run = busy;
    } finally {
      lock.unlock();
    }
    if (run) {
      LockSupport.unpark(clock);
    }
  }

  @Override
  public void setInterruptListener(Runnable listener) {
    this.listener = listener;
  }

  /** Reads the busy and interrupt lines; a rising interrupt line calls the listener. */
  private void sample() {
    busy = lib.systole_sim_busy(sim) != 0;
    boolean now = lib.systole_sim_irq(sim) != 0;
    if (now && !irq) {
      listener.run();
    }
    irq = now;
  }

  private void clockLoop() {
    while (!closed) {
      boolean running;
      lock.lock();
      try {
        if (closed) {
          return;
        }
        if (busy) {
          lib.systole_sim_run(sim, SLICE_CYCLES);
          sample();
        }
        running = busy;
      } finally {
        lock.unlock();
      }
      if (!running) {
        LockSupport.parkNanos(IDLE_PARK_NANOS);
      } else {
        Thread.yield();
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the RTL engine is closed");
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      lib.systole_sim_close(sim);
    } finally {
      lock.unlock();
    }
    LockSupport.unpark(clock);
  }
}
