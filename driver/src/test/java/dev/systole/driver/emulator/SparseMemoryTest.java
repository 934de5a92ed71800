package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class SparseMemoryTest {
  private static final long HBM = 16L << 30;

  @Test
  void sixteenGibCostsOnlyWhatIsWritten() {
    SparseMemory m = new SparseMemory(HBM);
    byte[] data = new byte[3 * SparseMemory.PAGE_SIZE];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    long addr = HBM - data.length - 5;
    m.write(addr, data, 0, data.length);
    assertEquals(4, m.pagesAllocated(), "an unaligned 3-page write touches 4 pages");
    byte[] back = new byte[data.length];
    m.read(addr, back, 0, back.length);
    assertArrayEquals(data, back);
    byte[] zeros = new byte[100];
    m.read(12345, zeros, 0, 100);
    assertArrayEquals(new byte[100], zeros);
    assertEquals(4, m.pagesAllocated(), "reads allocate nothing");
  }

  @Test
  void byteBufTransfersKeepIndices() {
    SparseMemory m = new SparseMemory(1 << 20);
    ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(200_000);
    ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(200_000);
    try {
      for (int i = 0; i < 200_000; i++) {
        src.setByte(i, i * 7);
      }
      m.write(1000, src, 10, 150_000);
      dst.setZero(0, 200_000);
      m.read(1000, dst, 5, 150_000);
      for (int i = 0; i < 150_000; i++) {
        assertEquals(src.getByte(10 + i), dst.getByte(5 + i));
      }
      assertEquals(0, src.readerIndex());
      assertEquals(0, dst.writerIndex());
    } finally {
      src.release();
      dst.release();
    }
  }

  @Test
  void outOfRangeIsRefusedBeforeAnythingIsTouched() {
    SparseMemory m = new SparseMemory(1 << 20);
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
        () -> m.write((1 << 20) - 4, new byte[8], 0, 8));
    assertTrue(e.getMessage().contains("write of 8 bytes at card address 0xffffc"),
        e.getMessage());
    assertEquals(0, m.pagesAllocated());
    assertThrows(IndexOutOfBoundsException.class, () -> m.read(-1, new byte[1], 0, 1));
  }
}
