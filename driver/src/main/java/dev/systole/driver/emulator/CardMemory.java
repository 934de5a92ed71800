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

  /** Throws unless {@code [address, address + length)} lies within the memory. */
  default void checkRange(String op, long address, long length) {
    if (address < 0 || length < 0 || address > size() - length) {
      throw new IndexOutOfBoundsException(String.format(
          "%s of %d bytes at card address 0x%x (expected 0 <= address, address + length <= 0x%x,"
              + " the card memory size)", op, length, address, size()));
    }
  }
}
