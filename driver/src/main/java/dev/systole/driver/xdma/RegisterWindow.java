package dev.systole.driver.xdma;

import com.sun.jna.Pointer;
import java.nio.file.Path;

/**
 * A register window mapped shared into this process ({@code xdmaN_user}, or a sim board's file
 * standing for it), read and written as aligned 32-bit words. A load or store to the mapping is
 * an AXI4-Lite read or write on the board, so three things matter, and this is what they rely on:
 *
 * <ul>
 *   <li>Each access is exactly one 32-bit load or store: {@link Pointer#getInt} and
 *       {@link Pointer#setInt} copy 4 bytes with a fixed-size copy that JNA's native library
 *       compiles to a single 32-bit {@code mov} (x86_64) or {@code ldr}/{@code str} (aarch64),
 *       as the disassembly of JNA 5.17's {@code libjnidispatch} shows, at an address this class
 *       has checked to be 4-byte aligned.
 *   <li>Accesses happen, and in program order: each is a JNI call, which the JIT can neither elide,
 *       merge nor move other memory accesses across; the XDMA driver maps the BAR uncached, where
 *       the CPU keeps device accesses in order. Every access and {@link #close} also hold this
 *       object's lock, so accesses from different threads are ordered as well.
 *   <li>Nothing touches the mapping after it is gone: bounds and alignment are checked, and the
 *       window checked open, before the access, under the lock that {@link #close} takes to
 *       unmap. A stray access is an exception, never a fault that kills the JVM. The lock is
 *       uncontended in normal use, a few nanoseconds against the microsecond of a PCIe read.
 * </ul>
 *
 * <p>Words are in host byte order, which on both architectures is the little-endian order of the
 * registers. The window does not own its {@link DeviceFile}: a mapping outlives the descriptor it
 * was made from.
 */
public final class RegisterWindow implements AutoCloseable {
  /**
   * Where the register window starts in the user node, which is the XDMA core's AXI4-Lite BAR:
   * at its first byte. A bitstream's block design maps the accelerator's AXI4-Lite slave at this
   * offset of that BAR (bitstreams/, whose address map a test checks against this constant).
   */
  public static final long BAR_OFFSET = 0;

  private final NativeIo io;
  private final Path path;
  private final int length;
  private final long address;
  private Pointer base;

  private RegisterWindow(NativeIo io, Path path, int length, long address) {
    this.io = io;
    this.path = path;
    this.length = length;
    this.address = address;
    this.base = new Pointer(address);
  }

  /**
   * Maps the first {@code length} bytes of {@code file}, which must be open read-write, shared
   * for reading and writing.
   *
   * @throws NativeIoException if mmap fails
   */
  public static RegisterWindow map(DeviceFile file, int length) {
    if (length < 4 || length % 4 != 0) {
      throw new IllegalArgumentException(String.format("mmap %s: window length %d (expected a"
          + " positive multiple of 4)", file.path(), length));
    }
    NativeIo io = file.io();
    long address = io.mmap(length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, file.fd(),
        BAR_OFFSET);
    if (address < 0) {
      int errno = (int) -address;
      throw new NativeIoException(String.format("mmap %s, %d bytes at offset 0x%x: %s",
          file.path(), length, BAR_OFFSET, NativeIoException.describe(io, errno)), errno, "mmap",
          file.path(), BAR_OFFSET, length);
    }
    return new RegisterWindow(io, file.path(), length, address);
  }

  public Path path() {
    return path;
  }

  /** The size of the window in bytes. */
  public int length() {
    return length;
  }

  /** Loads the 32-bit word at byte {@code offset}. */
  public synchronized int read32(int offset) {
    return open(offset).getInt(offset);
  }

  /** Stores {@code value} in the 32-bit word at byte {@code offset}. */
  public synchronized void write32(int offset, int value) {
    open(offset).setInt(offset, value);
  }

  private Pointer open(int offset) {
    if (offset < 0 || offset > length - 4 || (offset & 3) != 0) {
      throw new IndexOutOfBoundsException(String.format("%s: register offset %s0x%x (expected a"
          + " multiple of 4 in 0x0..0x%x)", path, offset < 0 ? "-" : "", Math.abs((long) offset),
          length - 4));
    }
    if (base == null) {
      throw new IllegalStateException(path + ": the register window is closed");
    }
    return base;
  }

  /**
   * Unmaps the window; closing again does nothing.
   *
   * @throws NativeIoException if munmap fails; the window counts as closed all the same
   */
  @Override
  public synchronized void close() {
    if (base == null) {
      return;
    }
    base = null;
    int r = io.munmap(address, length);
    if (r < 0) {
      throw new NativeIoException(String.format("munmap %s, %d bytes at 0x%x: %s", path, length,
          address, NativeIoException.describe(io, -r)), -r, "munmap", path, 0, length);
    }
  }

  @Override
  public String toString() {
    return path + " mapped at 0x" + Long.toHexString(address) + ", " + length + " bytes";
  }
}
