package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Random;
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

  /**
   * Gathers and scatters, whose runs inside a page move at once, give the bytes of reading and
   * writing element by element in order: across page ends, over unwritten pages, contiguous,
   * strided, overlapping and all at one address.
   */
  @Test
  void gatherAndScatterAreElementByElement() {
    Random r = new Random(5);
    int page = SparseMemory.PAGE_SIZE;
    long size = 8L * page;
    long[] strides = {0, 1, 3, 8, 16, 64, 3584, page - 8, page + 16};
    for (int t = 0; t < 2000; t++) {
      int elem = new int[] {1, 3, 16, 16, 32}[r.nextInt(5)];
      long stride = r.nextBoolean() ? elem : strides[r.nextInt(strides.length)];
      int count = 1 + r.nextInt(r.nextBoolean() ? 8 : 120);
      long span = (count - 1) * stride + elem;
      if (span > size) {
        continue;
      }
      long address = r.nextBoolean() ? r.nextLong(size - span + 1)
          : Math.min(size - span, (1 + r.nextInt(6)) * (long) page - r.nextInt(3 * elem + 1));
      int step = elem + (r.nextBoolean() ? 0 : r.nextInt(7));
      int offset = r.nextInt(9);
      SparseMemory fast = new SparseMemory(size);
      SparseMemory plain = new SparseMemory(size);
      byte[] init = new byte[page];
      for (int p = 0; p < 8; p++) {
        if (r.nextInt(3) != 0) {
          r.nextBytes(init);
          fast.write((long) p * page, init, 0, page);
          plain.write((long) p * page, init, 0, page);
        }
      }
      String where = "elem " + elem + ", stride " + stride + ", count " + count + ", address "
          + address + ", step " + step;
      byte[] expected = new byte[offset + count * step + 5];
      byte[] actual = expected.clone();
      fast.gather(address, stride, elem, count, actual, offset, step);
      for (int i = 0; i < count; i++) {
        plain.read(address + i * stride, expected, offset + i * step, elem);
      }
      assertArrayEquals(expected, actual, "gather, " + where);
      byte[] src = new byte[offset + count * step];
      r.nextBytes(src);
      fast.scatter(address, stride, elem, count, src, offset, step);
      for (int i = 0; i < count; i++) {
        plain.write(address + i * stride, src, offset + i * step, elem);
      }
      byte[] a = new byte[(int) size];
      byte[] b = new byte[(int) size];
      plain.read(0, a, 0, a.length);
      fast.read(0, b, 0, b.length);
      assertArrayEquals(a, b, "scatter, " + where);
    }
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
