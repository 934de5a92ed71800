package dev.systole.driver.emulator;

import io.netty.buffer.ByteBuf;

/**
 * The card memory (HBM) behind an emulated accelerator: byte-addressed, {@link #size()} bytes.
 * Callers check ranges before calling; implementations check again and throw rather than touch
 * memory outside their size. A memory that cannot complete an access (a backing file that fails)
 * throws {@link MemoryFault}, which the accelerator reports as the MEM_FAULT error status.
 */
public interface CardMemory {
  long size();

  void read(long address, byte[] dst, int offset, int length);

  void write(long address, byte[] src, int offset, int length);

  /** Copies {@code length} bytes at card {@code address} into {@code dst} at absolute index. */
  void read(long address, ByteBuf dst, int index, int length);

  /** Copies {@code length} bytes of {@code src} at absolute index to card {@code address}. */
  void write(long address, ByteBuf src, int index, int length);

  /**
   * Reads {@code count} elements of {@code elem} bytes, element i at card {@code address + i ·
   * stride}, into {@code dst} at {@code offset + i · step}.
   */
  default void gather(long address, long stride, int elem, int count, byte[] dst, int offset,
      int step) {
    for (int i = 0; i < count; i++) {
      read(address + i * stride, dst, offset + i * step, elem);
    }
  }

  /**
   * {@link #gather} of {@code parts} neighbouring runs at once: element i of part k, the {@code
   * elem} bytes at card {@code address + k · elem + i · stride}, into {@code dst} at {@code offset
   * + k · partStep + i · step}. A memory may read each element's {@code parts · elem} bytes in
   * one go.
   */
  default void gatherParts(long address, long stride, int elem, int parts, int count,
      byte[] dst, int offset, int step, int partStep) {
    for (int k = 0; k < parts; k++) {
      gather(address + (long) k * elem, stride, elem, count, dst, offset + k * partStep, step);
    }
  }

  /**
   * Writes {@code count} elements of {@code elem} bytes, element i from {@code src} at {@code
   * offset + i · step} to card {@code address + i · stride}, in order.
   */
  default void scatter(long address, long stride, int elem, int count, byte[] src, int offset,
      int step) {
    for (int i = 0; i < count; i++) {
      write(address + i * stride, src, offset + i * step, elem);
    }
  }

  /**
   * Whether an access inside the memory's size can fail ({@link MemoryFault}): true for a memory
   * behind a file or one that injects faults.
   */
  default boolean canFault() {
    return true;
  }

  /**
   * A number that changes whenever a byte of {@code [address, address + length)} is written, so
   * that what was read from there can be kept while it stays the same; -1 for a memory that does
   * not count its writes.
   */
  default long writeStamp(long address, long length) {
    return -1;
  }

  /** Throws unless {@code [address, address + length)} lies within the memory. */
  default void checkRange(String op, long address, long length) {
    if (address < 0 || length < 0 || address > size() - length) {
      throw new IndexOutOfBoundsException(String.format(
          "%s of %d bytes at card address 0x%x (expected 0 <= address, address + length <= 0x%x,"
              + " the card memory size)", op, length, address, size()));
    }
  }
}
