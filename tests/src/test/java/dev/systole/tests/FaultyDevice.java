package dev.systole.tests;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceInfo;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.emulator.MemoryFault;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A device that passes everything to another and fails on demand, as an in-process emulator never
 * does by itself: one fault is armed at a time, and the first operation it applies to takes it.
 * The faults are the three ways a run on a healthy host can still fail: the card memory fails a
 * transfer, the program's deadline passes before it ends, and the device is reset while the
 * program runs. They are injected at the {@link Device} interface rather than inside the
 * emulator so that the runtime above sees exactly what a failing device shows it (an exception
 * from a transfer, a timed-out wait after which the device was reset) and nothing the emulator
 * would need to be changed to produce.
 */
final class FaultyDevice implements Device {
  /** A fault this device injects. */
  enum Kind {
    /** The next DMA transfer fails as a card memory that cannot be read or written. */
    MEMORY,
    /** The next wait for a program has a deadline of a millisecond, which the program misses. */
    DEADLINE,
    /**
     * The device is soft-reset just after the next program starts, and the host, waiting for
     * that program, sees it make no progress; it waits {@link #RESET_STALL} for progress rather
     * than the session's deadline, so that the soak does not spend the deadline on every reset.
     */
    RESET
  }

  /** How long the host waits for progress after a reset before it calls the program stalled. */
  static final Duration RESET_STALL = Duration.ofMillis(50);

  private final Device inner;
  private final AtomicReference<Kind> armed = new AtomicReference<>();
  /** The program started last was reset under the host, which has not waited for it yet. */
  private volatile boolean resetUnderHost;

  FaultyDevice(Device inner) {
    this.inner = inner;
  }

  /** Arms {@code kind}; false if a fault is armed already. */
  boolean inject(Kind kind) {
    return armed.compareAndSet(null, kind);
  }

  /** Disarms the fault if no operation has taken it yet; true if one was still armed. */
  boolean clear() {
    return armed.getAndSet(null) != null;
  }

  private boolean take(Kind kind) {
    return armed.compareAndSet(kind, null);
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public DeviceInfo info() {
    return inner.info();
  }

  @Override
  public int readRegister(int offset) {
    return inner.readRegister(offset);
  }

  @Override
  public void writeRegister(int offset, int value) {
    inner.writeRegister(offset, value);
  }

  @Override
  public void dmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length) {
    if (take(Kind.MEMORY)) {
      throw new MemoryFault(String.format("%s: card memory write error at 0x%x (%d bytes not"
          + " written)", name(), cardAddress, length));
    }
    inner.dmaWrite(cardAddress, src, srcIndex, length);
  }

  @Override
  public void dmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length) {
    if (take(Kind.MEMORY)) {
      throw new MemoryFault(String.format("%s: card memory read error at 0x%x (%d bytes not"
          + " read)", name(), cardAddress, length));
    }
    inner.dmaRead(cardAddress, dst, dstIndex, length);
  }

  @Override
  public void start(long programAddress, int instructions) {
    inner.start(programAddress, instructions);
    if (take(Kind.RESET)) {
      inner.reset();
      resetUnderHost = true;
    }
  }

  @Override
  public RunResult await(Duration timeout) {
    return inner.await(take(Kind.DEADLINE) ? Duration.ofMillis(1) : timeout);
  }

  @Override
  public RunResult awaitProgress(Duration stall) {
    if (take(Kind.DEADLINE)) {
      return inner.await(Duration.ofMillis(1));
    }
    if (resetUnderHost) {
      resetUnderHost = false;
      return inner.awaitProgress(RESET_STALL);
    }
    return inner.awaitProgress(stall);
  }

  @Override
  public boolean awaitInterrupt(Duration timeout) {
    return inner.awaitInterrupt(timeout);
  }

  @Override
  public Map<Counter, Long> counters() {
    return inner.counters();
  }

  @Override
  public void reset() {
    inner.reset();
  }

  @Override
  public void close() {
    inner.close();
  }
}
