package dev.systole.driver;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.driver.xdma.DeviceFile;
import dev.systole.driver.xdma.NativeIo;
import dev.systole.driver.xdma.RegisterWindow;
import dev.systole.driver.xdma.XdmaNodes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A board, or a sim board, reached through the XDMA driver's device nodes: registers through the
 * mmap'd AXI-Lite window, DMA with pread/pwrite on the channel nodes (the file offset is the
 * card address), completion by user interrupt 0 or by polling STATUS.
 *
 * <p>Everything is checked in Java before a native call: register offsets by {@link
 * AbstractDevice}, then again by the window; DMA ranges by {@link AbstractDevice}; buffers must
 * be direct (heap buffers go through a temporary direct one), so every address passed to the
 * kernel points into memory that is alive and large enough. The user node is locked exclusively
 * for as long as the device is open, so a second process cannot drive the same board.
 *
 * <p>Two things keep one code path right for boards and sim boards alike: after every CTRL write
 * the device reads CTRL until it is 0, which a board returns at once and a sim board returns once
 * it has taken the command; and reads of registers with bit fields are masked to those fields,
 * which a board returns anyway and which hides the marker bit a sim board keeps in INT_STATUS.
 */
final class XdmaDevice extends AbstractDevice {
  /** How completion is detected. */
  enum Completion {
    INTERRUPT,
    POLL
  }

  private static final long CTRL_TAKEN_NANOS = TimeUnit.SECONDS.toNanos(2);
  /** Per word of the window: the mask of a register's fields, or -1 (all bits) if it has none. */
  private static final int[] READ_MASK = new int[Contract.REGISTER_WINDOW_BYTES / 4];
  /** Per word of the window: whether a write there can have an effect. */
  private static final boolean[] WRITABLE = new boolean[Contract.REGISTER_WINDOW_BYTES / 4];

  static {
    java.util.Arrays.fill(READ_MASK, -1);
    for (Reg reg : Reg.values()) {
      int mask = 0;
      for (RegField f : reg.fields()) {
        mask |= f.mask();
      }
      READ_MASK[reg.offset() / 4] = reg.fields().isEmpty() ? -1 : mask;
      WRITABLE[reg.offset() / 4] = reg.access() != Reg.Access.RO;
    }
  }
  private static final int BOUNCE_BYTES = 1 << 20;

  private final XdmaNodes nodes;
  private final Ticker ticker;
  private final Completion completion;
  private final DeviceFile user;
  private final RegisterWindow window;
  private final DeviceFile h2c;
  private final DeviceFile c2h;
  private final DeviceFile events;
  /** What this device brought up and takes down with it: a sim board it serves itself from. */
  private volatile AutoCloseable owned;

  XdmaDevice(String name, XdmaNodes nodes, NativeIo io, Ticker ticker, Completion completion) {
    super(name, ticker);
    this.nodes = nodes;
    this.ticker = ticker;
    this.completion = completion;
    DeviceFile u = null;
    RegisterWindow w = null;
    DeviceFile h = null;
    DeviceFile c = null;
    DeviceFile e = null;
    try {
      u = DeviceFile.open(io, nodes.user(), DeviceFile.O_RDWR);
      u.lockExclusive(nodes.name());
      w = RegisterWindow.map(u, Contract.REGISTER_WINDOW_BYTES);
      h = DeviceFile.open(io, nodes.h2c(0), DeviceFile.O_WRONLY);
      c = DeviceFile.open(io, nodes.c2h(0), DeviceFile.O_RDONLY);
      if (completion == Completion.INTERRUPT) {
        e = DeviceFile.open(io, nodes.events(0), DeviceFile.O_RDONLY | DeviceFile.O_NONBLOCK);
      }
    } catch (RuntimeException ex) {
      closeQuietly(e, c, h, w, u);
      throw ex;
    }
    this.user = u;
    this.window = w;
    this.h2c = h;
    this.c2h = c;
    this.events = e;
    try {
      handshake();
    } catch (RuntimeException ex) {
      close();
      throw ex;
    }
  }

  private static void closeQuietly(AutoCloseable... resources) {
    for (AutoCloseable r : resources) {
      if (r != null) {
        try {
          r.close();
        } catch (Exception ignored) {
          // Already failing; the first error is the one reported.
        }
      }
    }
  }

  @Override
  int rawRead(int offset) {
    int value = window.read32(offset);
    if (value == -1 && offset != Reg.MAGIC.offset() && window.read32(Reg.MAGIC.offset()) == -1) {
      throw new DeviceException(String.format("%s: link lost: registers read all ones (offset"
          + " 0x%03x, and MAGIC too); the board is gone from the bus, in reset, or not"
          + " programmed", name(), offset));
    }
    return value & READ_MASK[offset / 4];
  }

  /**
   * Writes a register. A write to a read-only register or to an offset that names none has no
   * effect on a board, so it is not issued at all: the result is the same on hardware, and a sim
   * board's shared window never shows a value the board would only restore later.
   */
  @Override
  void rawWrite(int offset, int value) {
    if (!WRITABLE[offset / 4]) {
      return;
    }
    window.write32(offset, value);
    if (offset == Reg.CTRL.offset() && value != 0) {
      long deadline = ticker.nanoTime() + CTRL_TAKEN_NANOS;
      while (window.read32(offset) != 0) {
        if (ticker.nanoTime() - deadline > 0) {
          throw new DeviceException(String.format("%s: CTRL write 0x%x was not taken within %d"
              + " ms (CTRL still reads 0x%x)", name(), value,
              TimeUnit.NANOSECONDS.toMillis(CTRL_TAKEN_NANOS), window.read32(offset)));
        }
        LockSupport.parkNanos(10_000);
      }
    }
  }

  @Override
  void rawDmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length) {
    if (src.hasMemoryAddress()) {
      h2c.writeFully(cardAddress, src.memoryAddress() + srcIndex, length);
      return;
    }
    ByteBuf bounce = PooledByteBufAllocator.DEFAULT.directBuffer(Math.min(length, BOUNCE_BYTES));
    try {
      for (int done = 0; done < length; ) {
        int n = Math.min(bounce.capacity(), length - done);
        bounce.setBytes(0, src, srcIndex + done, n);
        h2c.writeFully(cardAddress + done, bounce.memoryAddress(), n);
        done += n;
      }
    } finally {
      bounce.release();
    }
  }

  @Override
  void rawDmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length) {
    if (dst.hasMemoryAddress()) {
      c2h.readFully(cardAddress, dst.memoryAddress() + dstIndex, length);
      return;
    }
    ByteBuf bounce = PooledByteBufAllocator.DEFAULT.directBuffer(Math.min(length, BOUNCE_BYTES));
    try {
      for (int done = 0; done < length; ) {
        int n = Math.min(bounce.capacity(), length - done);
        c2h.readFully(cardAddress + done, bounce.memoryAddress(), n);
        dst.setBytes(dstIndex + done, bounce, 0, n);
        done += n;
      }
    } finally {
      bounce.release();
    }
  }

  /** SOFT_RESET clears INT_ENABLE, so interrupts are enabled again before every program. */
  @Override
  void beforeStart() {
    if (completion == Completion.INTERRUPT) {
      rawWrite(Reg.INT_ENABLE.offset(), RegField.INT_ENABLE_DONE.mask());
      while (events.pollIn(0, ticker) != 0) {
        events.readInt();
      }
    }
  }

  @Override
  public boolean awaitInterrupt(java.time.Duration timeout) {
    if (events == null) {
      throw new UnsupportedOperationException(name() + " was opened to poll STATUS"
          + " (,poll): it does not wait for the user interrupt");
    }
    int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
    if (events.pollIn(millis, ticker) == 0) {
      return false;
    }
    events.readInt();
    return true;
  }

  @Override
  void waitForEvent(long maxNanos) {
    if (completion == Completion.INTERRUPT) {
      int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
          TimeUnit.NANOSECONDS.toMillis(maxNanos)));
      if (events.pollIn(Math.min(millis, 100), ticker) != 0) {
        events.readInt();
      }
      return;
    }
    LockSupport.parkNanos(Math.min(maxNanos, 20_000));
  }

  @Override
  String backend() {
    return "xdma";
  }

  /** Makes {@link #close()} close {@code resource} too, after the device's own nodes. */
  XdmaDevice owning(AutoCloseable resource) {
    this.owned = resource;
    return this;
  }

  @Override
  public void close() {
    closeQuietly(events, c2h, h2c, window, user, owned);
  }
}
