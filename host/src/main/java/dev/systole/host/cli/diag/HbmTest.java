package dev.systole.host.cli.diag;

import dev.systole.driver.Device;
import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The HBM memory test: for each pattern, the host writes the tested ranges by DMA, the accelerator
 * copies them in place through its memory ports (LOAD into ABUF, STORE back), and the host reads
 * them back by DMA and compares. So each byte crosses both paths into HBM, the XDMA one and the
 * accelerator's, and a bit that either path cannot hold shows up at its address.
 *
 * <p>The copy goes through ACC, whose rows are the widest (4·D bytes), so that a sim board, which
 * serves each element with a file access, spends the least on it.
 *
 * <p>The patterns are the classic ones, each a pure function of the card address so that nothing
 * is kept between writing and checking: walking ones (bit {@code (a + k) mod 8} of the byte at
 * address a, for k = 0 to 7, so every bit of every byte is written 1 once and its neighbours
 * differ) and walking zeros (their complements) find stuck bits; address-in-address (each 8-byte
 * word holds its own address) and its complement find address lines that alias; two random
 * patterns find what the regular ones miss. A stuck bit is reported with the address, the pattern
 * and which value it is stuck at.
 */
final class HbmTest {
  /** A range of card memory and the HBM channel it lies in. */
  record Range(long start, long length, int channel) {}

  /** Bytes checked per DMA transfer: large enough for bandwidth, small enough for memory. */
  private static final int BLOCK = 4 << 20;
  private static final int MAX_INSTRUCTIONS = 2000;
  static final int PATTERNS = 20;

  private final Device device;
  private final DeviceParams params;
  private final long programAddress;
  private final Duration timeout;
  private final long seed;
  private final Consumer<String> progress;

  HbmTest(Device device, long programAddress, Duration timeout, long seed,
      Consumer<String> progress) {
    this.device = device;
    this.params = device.info().params();
    this.programAddress = programAddress;
    this.timeout = timeout;
    this.seed = seed;
    this.progress = progress;
  }

  static String patternName(int p) {
    if (p < 8) {
      return "walking ones (bit k+" + p + " of byte k)";
    }
    if (p < 16) {
      return "walking zeros (bit k+" + (p - 8) + " of byte k clear)";
    }
    return switch (p) {
      case 16 -> "address-in-address";
      case 17 -> "inverted address-in-address";
      default -> "random #" + (p - 17);
    };
  }

  /** The 8 bytes of pattern {@code p} at the 8-aligned card address {@code a}, little-endian. */
  long word(int p, long a) {
    if (p < 16) {
      long w = 0;
      for (int i = 0; i < 8; i++) {
        long bit = 1L << ((a + i + p) & 7);
        w |= (p < 8 ? bit : ~bit & 0xFF) << (8 * i);
      }
      return w;
    }
    return switch (p) {
      case 16 -> a;
      case 17 -> ~a;
      default -> splitmix(seed ^ (p * 0x9E3779B97F4A7C15L) ^ a);
    };
  }

  static long splitmix(long z) {
    z += 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** What was found: bytes wrong, the first wrong one, and per address the bits stuck each way. */
  static final class Findings {
    long bytesChecked;
    long wrongBytes;
    long firstAddress = -1;
    int firstPattern;
    int firstWrote;
    int firstRead;
    int firstChannel;
    /** Per wrong address (the first 64): bits read 0 where 1 was written, and 1 where 0. */
    final Map<Long, int[]> stuck = new TreeMap<>();
  }

  Findings run(List<Range> ranges) {
    List<Range> blocks = new ArrayList<>();
    for (Range r : ranges) {
      for (long off = 0; off < r.length(); off += BLOCK) {
        blocks.add(new Range(r.start() + off, Math.min(BLOCK, r.length() - off), r.channel()));
      }
    }
    int chunk = (int) Math.min(65535, params.accRows()) * rowBytes();
    long batchBytes = Math.min(16L << 20, (long) chunk * (MAX_INSTRUCTIONS / 2));
    Findings f = new Findings();
    ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(BLOCK);
    ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(BLOCK);
    try {
      for (int p = 0; p < PATTERNS; p++) {
        progress.accept(String.format("pattern %d/%d, %s", p + 1, PATTERNS, patternName(p)));
        int from = 0;
        while (from < blocks.size()) {
          int to = from;
          long bytes = 0;
          while (to < blocks.size() && (to == from || bytes + blocks.get(to).length()
              <= batchBytes)) {
            bytes += blocks.get(to++).length();
          }
          List<Range> batch = blocks.subList(from, to);
          for (Range b : batch) {
            fill(out, p, b);
            device.dmaWrite(b.start(), out, 0, (int) b.length());
          }
          copyInPlace(batch, chunk);
          for (Range b : batch) {
            device.dmaRead(b.start(), in, 0, (int) b.length());
            fill(out, p, b);
            compare(f, p, b, out, in);
          }
          from = to;
        }
      }
    } finally {
      out.release();
      in.release();
    }
    return f;
  }

  /**
   * Views of a buffer's bytes for the loops over every word: a buffer's own accessors are tracked
   * one by one when leak detection is paranoid, as in the tests, which would make them the cost.
   */
  static ByteBuffer view(ByteBuf buf, int index, int length) {
    return buf.nioBuffer(index, length).order(ByteOrder.LITTLE_ENDIAN);
  }

  private void fill(ByteBuf buf, int p, Range b) {
    ByteBuffer v = view(buf, 0, (int) b.length());
    for (int i = 0; i < b.length(); i += 8) {
      v.putLong(i, word(p, b.start() + i));
    }
  }

  private void compare(Findings f, int p, Range b, ByteBuf wantBuf, ByteBuf haveBuf) {
    f.bytesChecked += b.length();
    ByteBuffer want = view(wantBuf, 0, (int) b.length());
    ByteBuffer have = view(haveBuf, 0, (int) b.length());
    for (int i = 0; i < b.length(); i += 8) {
      if (want.getLong(i) == have.getLong(i)) {
        continue;
      }
      for (int j = i; j < i + 8; j++) {
        int w = want.get(j) & 0xFF;
        int h = have.get(j) & 0xFF;
        if (w == h) {
          continue;
        }
        long address = b.start() + j;
        f.wrongBytes++;
        if (f.firstAddress < 0) {
          f.firstAddress = address;
          f.firstPattern = p;
          f.firstWrote = w;
          f.firstRead = h;
          f.firstChannel = b.channel();
        }
        if (f.stuck.containsKey(address) || f.stuck.size() < 64) {
          int[] s = f.stuck.computeIfAbsent(address, k -> new int[2]);
          s[0] |= w & ~h;
          s[1] |= ~w & h & 0xFF;
        }
      }
    }
  }

  /** Bytes of an ACC row: what each LOAD and STORE element moves. */
  int rowBytes() {
    return params.lanes() * 4;
  }

  /** Runs a program that LOADs each chunk of the batch into ACC and STOREs it back in place. */
  private void copyInPlace(List<Range> batch, int chunk) {
    List<Instruction> program = new ArrayList<>();
    int lanes = rowBytes();
    for (Range b : batch) {
      for (long off = 0; off < b.length(); off += chunk) {
        long rows = Math.min(chunk, b.length() - off) / lanes;
        long at = b.start() + off;
        program.add(Assembler.parse(String.format("LOAD buf=ACC elem_bytes=%d hbm_addr=%d"
            + " x_size=%d y_size=1 x_stride=%d%s", lanes, at, rows, lanes, program.isEmpty() ? ""
            : " wait=STORE")));
        program.add(Assembler.parse(String.format("STORE buf=ACC elem_bytes=%d hbm_addr=%d"
            + " x_size=%d y_size=1 x_stride=%d wait=LOAD", lanes, at, rows, lanes)));
      }
    }
    program.add(Assembler.parse("HALT"));
    Programs.load(device, programAddress, program);
    device.run(programAddress, program.size(), timeout);
  }
}
