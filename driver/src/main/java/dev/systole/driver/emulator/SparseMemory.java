package dev.systole.driver.emulator;

import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Card memory that costs heap only for the pages written: a 16 GiB HBM is a table of page
 * references (2 MiB of them at 64 KiB pages) and unwritten pages read as zero without being
 * allocated. A flat table beats a hash map here because every LOAD and STORE element looks a page
 * up, and the table's size is bounded by the contract's largest HBM.
 */
public final class SparseMemory implements CardMemory {
  static final int PAGE_BITS = 16;
  static final int PAGE_SIZE = 1 << PAGE_BITS;
  private static final int PAGE_MASK = PAGE_SIZE - 1;

  private final long size;
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final AtomicReferenceArray<byte[]> pages;
  /** Per page, how many writes touched it: the sum over a range is its {@link #writeStamp}. */
  private final int[] writes;

  public SparseMemory(long size) {
    if (size <= 0 || (size >>> PAGE_BITS) >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException("card memory size " + size
          + " out of range (expected 1 to " + ((long) Integer.MAX_VALUE << PAGE_BITS) + ")");
    }
    this.size = size;
    this.pages = new AtomicReferenceArray<>((int) ((size + PAGE_MASK) >>> PAGE_BITS));
    this.writes = new int[pages.length()];
  }

  @Override
  public long size() {
    return size;
  }

  /** Pages that hold data: the heap this memory costs is this times 64 KiB. */
  public int pagesAllocated() {
    int n = 0;
    for (int i = 0; i < pages.length(); i++) {
      if (pages.get(i) != null) {
        n++;
      }
    }
    return n;
  }

  private byte[] pageForWrite(int index) {
    writes[index]++;
    byte[] p = pages.get(index);
    if (p == null) {
      byte[] fresh = new byte[PAGE_SIZE];
      p = pages.compareAndExchange(index, null, fresh);
      if (p == null) {
        p = fresh;
      }
    }
    return p;
  }

  @Override
  public boolean canFault() {
    return false;
  }

  @Override
  public long writeStamp(long address, long length) {
    checkRange("stamp", address, length);
    long stamp = 0;
    if (length > 0) {
      for (long page = address >>> PAGE_BITS; page <= (address + length - 1) >>> PAGE_BITS;
          page++) {
        stamp += writes[(int) page] & 0xFFFFFFFFL;
      }
    }
    return stamp;
  }

  /**
   * {@inheritDoc} The elements that lie whole in one page are moved as a run: the page looked up
   * once, a contiguous run copied at once, a row of 16 bytes as two 8-byte moves.
   */
  @Override
  public void gather(long address, long stride, int elem, int count, byte[] dst, int offset,
      int step) {
    if (count <= 0) {
      return;
    }
    checkRange("read", address, (count - 1) * stride + elem);
    for (int i = 0; i < count; ) {
      long a = address + i * stride;
      int in = (int) (a & PAGE_MASK);
      int o = offset + i * step;
      if (in + elem > PAGE_SIZE) {
        read(a, dst, o, elem);
        i++;
        continue;
      }
      int run = run(in, stride, elem, count - i);
      byte[] p = pages.get((int) (a >>> PAGE_BITS));
      if (p == null) {
        for (int r = 0; r < run; r++) {
          Arrays.fill(dst, o + r * step, o + r * step + elem, (byte) 0);
        }
      } else if (stride == elem && step == elem) {
        System.arraycopy(p, in, dst, o, run * elem);
      } else if (elem == 16) {
        int s = (int) stride;
        for (int r = 0; r < run; r++) {
          LONGS.set(dst, o + r * step, (long) LONGS.get(p, in + r * s));
          LONGS.set(dst, o + r * step + 8, (long) LONGS.get(p, in + r * s + 8));
        }
      } else {
        for (int r = 0; r < run; r++) {
          System.arraycopy(p, in + (int) (r * stride), dst, o + r * step, elem);
        }
      }
      i += run;
    }
  }

  /**
   * {@inheritDoc} The elements whose bytes of every part lie whole in one page are moved as a
   * run, as {@link #gather} does, each element's parts read together.
   */
  @Override
  public void gatherParts(long address, long stride, int elem, int parts, int count,
      byte[] dst, int offset, int step, int partStep) {
    if (parts == 1) {
      gather(address, stride, elem, count, dst, offset, step);
      return;
    }
    if (count <= 0 || parts <= 0) {
      return;
    }
    int span = parts * elem;
    checkRange("read", address, (count - 1) * stride + span);
    for (int i = 0; i < count; ) {
      long a = address + i * stride;
      int in = (int) (a & PAGE_MASK);
      int o = offset + i * step;
      if (in + span > PAGE_SIZE) {
        for (int k = 0; k < parts; k++) {
          read(a + (long) k * elem, dst, o + k * partStep, elem);
        }
        i++;
        continue;
      }
      int run = run(in, stride, span, count - i);
      byte[] p = pages.get((int) (a >>> PAGE_BITS));
      for (int r = 0; r < run; r++) {
        int from = in + (int) (r * stride);
        int to = o + r * step;
        for (int k = 0; k < parts; k++, from += elem, to += partStep) {
          if (p == null) {
            Arrays.fill(dst, to, to + elem, (byte) 0);
          } else if (elem == 16) {
            LONGS.set(dst, to, (long) LONGS.get(p, from));
            LONGS.set(dst, to + 8, (long) LONGS.get(p, from + 8));
          } else {
            System.arraycopy(p, from, dst, to, elem);
          }
        }
      }
      i += run;
    }
  }

  /**
   * {@inheritDoc} The elements that lie whole in one page are moved as a run, as {@link
   * #gather} does.
   */
  @Override
  public void scatter(long address, long stride, int elem, int count, byte[] src, int offset,
      int step) {
    if (count <= 0) {
      return;
    }
    checkRange("write", address, (count - 1) * stride + elem);
    for (int i = 0; i < count; ) {
      long a = address + i * stride;
      int in = (int) (a & PAGE_MASK);
      int o = offset + i * step;
      if (in + elem > PAGE_SIZE) {
        write(a, src, o, elem);
        i++;
        continue;
      }
      int run = run(in, stride, elem, count - i);
      byte[] p = pageForWrite((int) (a >>> PAGE_BITS));
      if (stride == elem && step == elem) {
        System.arraycopy(src, o, p, in, run * elem);
      } else if (elem == 16) {
        int s = (int) stride;
        for (int r = 0; r < run; r++) {
          LONGS.set(p, in + r * s, (long) LONGS.get(src, o + r * step));
          LONGS.set(p, in + r * s + 8, (long) LONGS.get(src, o + r * step + 8));
        }
      } else {
        for (int r = 0; r < run; r++) {
          System.arraycopy(src, o + r * step, p, in + (int) (r * stride), elem);
        }
      }
      i += run;
    }
  }

  /**
   * How many of {@code left} elements {@code stride} apart, the first at {@code in} in a page and
   * lying whole in it, lie whole in that page (at least 1).
   */
  private static int run(int in, long stride, int elem, int left) {
    if (stride <= 0) {
      return stride == 0 ? left : 1;
    }
    return (int) Math.min(left, (PAGE_SIZE - elem - in) / stride + 1);
  }

  @Override
  public void read(long address, byte[] dst, int offset, int length) {
    checkRange("read", address, length);
    while (length > 0) {
      int in = (int) (address & PAGE_MASK);
      int n = Math.min(length, PAGE_SIZE - in);
      byte[] p = pages.get((int) (address >>> PAGE_BITS));
      if (p == null) {
        Arrays.fill(dst, offset, offset + n, (byte) 0);
      } else {
        System.arraycopy(p, in, dst, offset, n);
      }
      address += n;
      offset += n;
      length -= n;
    }
  }

  @Override
  public void write(long address, byte[] src, int offset, int length) {
    checkRange("write", address, length);
    while (length > 0) {
      int in = (int) (address & PAGE_MASK);
      int n = Math.min(length, PAGE_SIZE - in);
      System.arraycopy(src, offset, pageForWrite((int) (address >>> PAGE_BITS)), in, n);
      address += n;
      offset += n;
      length -= n;
    }
  }

  @Override
  public void read(long address, ByteBuf dst, int index, int length) {
    checkRange("read", address, length);
    while (length > 0) {
      int in = (int) (address & PAGE_MASK);
      int n = Math.min(length, PAGE_SIZE - in);
      byte[] p = pages.get((int) (address >>> PAGE_BITS));
      if (p == null) {
        dst.setZero(index, n);
      } else {
        dst.setBytes(index, p, in, n);
      }
      address += n;
      index += n;
      length -= n;
    }
  }

  @Override
  public void write(long address, ByteBuf src, int index, int length) {
    checkRange("write", address, length);
    while (length > 0) {
      int in = (int) (address & PAGE_MASK);
      int n = Math.min(length, PAGE_SIZE - in);
      src.getBytes(index, pageForWrite((int) (address >>> PAGE_BITS)), in, n);
      address += n;
      index += n;
      length -= n;
    }
  }
}
