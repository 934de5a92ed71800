package dev.systole.driver.simboard;

import dev.systole.driver.emulator.CardMemory;
import io.netty.buffer.ByteBuf;

/**
 * Card memory with one bit that can be held at 0, as a failed HBM cell holds it: while stuck,
 * every read returns the bit as 0 and every write leaves it 0. It sits between a sim board's
 * engine and the memory file, so the accelerator's memory ports see the fault; the DMA nodes are
 * the file itself, and the board clears the bit there once when the fault is injected.
 */
final class StuckBitMemory implements CardMemory {
  private final CardMemory memory;
  private final long address;
  private final byte mask;
  private volatile boolean stuck;

  StuckBitMemory(CardMemory memory, long address, int mask) {
    this.memory = memory;
    this.address = address;
    this.mask = (byte) mask;
  }

  void setStuck(boolean stuck) {
    this.stuck = stuck;
  }

  @Override
  public long size() {
    return memory.size();
  }

  /** The index of the stuck byte in an access of {@code length} bytes at {@code at}, or -1. */
  private int hit(long at, int length) {
    return stuck && address >= at && address - at < length ? (int) (address - at) : -1;
  }

  @Override
  public void read(long at, byte[] dst, int offset, int length) {
    memory.read(at, dst, offset, length);
    int i = hit(at, length);
    if (i >= 0) {
      dst[offset + i] &= (byte) ~mask;
    }
  }

  @Override
  public void write(long at, byte[] src, int offset, int length) {
    memory.write(at, src, offset, length);
    int i = hit(at, length);
    if (i >= 0) {
      memory.write(address, new byte[] {(byte) (src[offset + i] & ~mask)}, 0, 1);
    }
  }

  @Override
  public void read(long at, ByteBuf dst, int index, int length) {
    memory.read(at, dst, index, length);
    int i = hit(at, length);
    if (i >= 0) {
      dst.setByte(index + i, dst.getByte(index + i) & ~mask);
    }
  }

  @Override
  public void write(long at, ByteBuf src, int index, int length) {
    memory.write(at, src, index, length);
    int i = hit(at, length);
    if (i >= 0) {
      memory.write(address, new byte[] {(byte) (src.getByte(index + i) & ~mask)}, 0, 1);
    }
  }
}
