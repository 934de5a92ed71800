package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Runs of LOADs that read neighbouring elements, which a decoded program runs as one step
 * ({@code DecodedProgram.Step#run}), against the plain interpreter running each LOAD: random runs
 * with padding, strides shorter than the run's elements, rows of elements, addresses that cross
 * a page of card memory or lie in pages never written, with chains that read the rows and STOREs
 * that write them out; and the card memory's {@link CardMemory#gatherParts} against its gathers.
 */
class LoadRunTest {
  private static final long PROGRAM = 0x1000;
  private static final long DATA = 0x10_0000;
  /** Data written, then a page left unwritten, then more data: reads cross into the hole. */
  private static final int DATA_BYTES = 3 * SparseMemory.PAGE_SIZE;
  private static final long OUT = DATA + 6L * SparseMemory.PAGE_SIZE;

  @ParameterizedTest
  @CsvSource({"16, 1", "16, 2", "8, 1", "24, 2"})
  void runsOfLoadsEndTheSameAsEachLoad(int d, int threads) {
    DeviceParams p = DeviceParams.defaults().with(Map.of(Param.ARRAY_ROWS, (long) d,
        Param.ARRAY_COLS, (long) d, Param.HBM_MB, 4L, Param.ABUF_ROWS, 1024L,
        Param.WBUF_ROWS, 512L, Param.ACC_ROWS, 256L));
    Random r = new Random(77 + d);
    SparseMemory fastMemory = new SparseMemory(p.hbmBytes());
    SparseMemory plainMemory = new SparseMemory(p.hbmBytes());
    byte[] data = new byte[SparseMemory.PAGE_SIZE];
    for (int page : new int[] {0, 1, 3}) {
      r.nextBytes(data);
      fastMemory.write(DATA + (long) page * data.length, data, 0, data.length);
      plainMemory.write(DATA + (long) page * data.length, data, 0, data.length);
    }
    Machine fast = new Machine(p, fastMemory, threads);
    fast.parallelFrom(0);
    Machine plain = Machine.plain(p, plainMemory);
    int fused = 0;
    try {
      for (int run = 0; run < 60; run++) {
        List<Instruction> code = program(r, p, run);
        byte[] bytes = Instruction.encode(code);
        fastMemory.write(PROGRAM, bytes, 0, bytes.length);
        plainMemory.write(PROGRAM, bytes, 0, bytes.length);
        for (DecodedProgram.Step s : DecodedProgram.decode(fastMemory, PROGRAM, code.size(), p)
            .steps) {
          fused += s.run() > 1 ? s.run() : 0;
        }
        String where = "D=" + d + ", " + threads + " threads, program " + run;
        Machine.Outcome expected = plain.run(PROGRAM, code.size(), () -> false, pc -> { });
        Machine.Outcome actual = fast.run(PROGRAM, code.size(), () -> false, pc -> { });
        assertEquals(expected, actual, where);
        assertTrue(fast.lastRunDecoded(), where + ": on the fast path");
        assertArrayEquals(plain.snapshot(), fast.snapshot(), where + ": machine state");
        byte[] a = new byte[8 * SparseMemory.PAGE_SIZE];
        byte[] b = new byte[a.length];
        plainMemory.read(DATA, a, 0, a.length);
        fastMemory.read(DATA, b, 0, b.length);
        assertArrayEquals(a, b, where + ": card memory");
      }
    } finally {
      fast.close();
    }
    assertTrue(fused > 200, "LOADs run as part of a run: " + fused);
  }

  /**
   * Runs of 2 to 8 LOADs of one shape into ABUF or WBUF, some broken by a LOAD of another shape
   * or place,
   * each followed by a chain over the rows and a STORE of some of them; then HALT.
   */
  private static List<Instruction> program(Random r, DeviceParams p, int seed) {
    int d = p.lanes();
    List<Instruction> out = new ArrayList<>();
    out.add(load(Buffer.WBUF, 0, DATA, d, 2 * d, d, 0, 0, 0, 0, 1, 0));
    int row = 0;
    for (int group = 0; group < 4; group++) {
      Buffer buf = r.nextInt(4) == 0 ? Buffer.WBUF : Buffer.ABUF;
      int k = 2 + r.nextInt(7);
      int xSize = 1 + r.nextInt(12);
      int ySize = 1 + r.nextInt(3);
      int xPad0 = r.nextInt(3) == 0 ? 1 : 0;
      int xPad1 = r.nextInt(3) == 0 ? 2 : 0;
      int yPad0 = r.nextInt(4) == 0 ? 1 : 0;
      int yPad1 = r.nextInt(4) == 0 ? 1 : 0;
      long xStride = switch (r.nextInt(4)) {
        case 0 -> (long) k * d;
        case 1 -> d;
        case 2 -> 0;
        default -> (long) k * d + r.nextInt(100);
      };
      long yStride = xStride * xSize + r.nextInt(64);
      long span = (ySize - 1) * yStride + (xSize - 1) * xStride + (long) k * d;
      // Near the end of the first page, across the hole, or anywhere in the data.
      long addr = switch (r.nextInt(3)) {
        case 0 -> DATA + SparseMemory.PAGE_SIZE - 1 - r.nextInt(3 * d);
        case 1 -> DATA + 2L * SparseMemory.PAGE_SIZE - r.nextInt(64);
        default -> DATA + r.nextInt((int) (DATA_BYTES - span));
      };
      int rows = (xPad0 + xSize + xPad1) * (yPad0 + ySize + yPad1);
      int limit = buf == Buffer.ABUF ? 1024 : 512;
      if (row + k * rows > limit - 64) {
        row = buf == Buffer.ABUF ? 0 : d * 2;
      }
      int first = Math.max(row, buf == Buffer.WBUF ? 2 * d : 0);
      int pad = r.nextInt(256) - 128;
      int broken = r.nextInt(3) == 0 ? 1 + r.nextInt(k - 1) : -1;
      for (int i = 0; i < k; i++) {
        Instruction in = load(buf, first + i * rows, addr + (long) i * d, d, xSize, xStride,
            xPad0, xPad1, yPad0, yPad1, ySize, yStride).with(Isa.Load.PAD_VALUE, pad);
        if (i == broken) {
          // Not part of the run: another pad value, or an element one byte further on.
          in = r.nextBoolean() ? in.with(Isa.Load.PAD_VALUE, pad ^ 1)
              : in.with(Isa.Load.HBM_ADDR, addr + (long) i * d + 1);
        }
        out.add(in);
      }
      if (buf == Buffer.ABUF) {
        int chainRows = Math.min(k * rows, 40);
        out.add(Instruction.of(Opcode.MATMUL).with(Isa.Matmul.A_ROW, first)
            .with(Isa.Matmul.ACC_ROW, 8 * group).with(Isa.Matmul.ROWS, chainRows)
            .with(Isa.Matmul.W_LOAD, true).with(Isa.Matmul.W_ROW, 0));
        out.add(Instruction.of(Opcode.STORE).with(Isa.Store.BUF, Buffer.ABUF.id())
            .with(Isa.Store.SRC_ROW, first).with(Isa.Store.ELEM_BYTES, d)
            .with(Isa.Store.HBM_ADDR, OUT + (long) group * 4096 + seed % 7)
            .with(Isa.Store.X_SIZE, Math.min(k * rows, 200)).with(Isa.Store.Y_SIZE, 1)
            .with(Isa.Store.X_STRIDE, d));
      }
      row = first + k * rows;
    }
    out.add(Instruction.of(Opcode.HALT));
    return out;
  }

  private static Instruction load(Buffer buf, int row, long addr, int elem, int xSize,
      long xStride, int xPad0, int xPad1, int yPad0, int yPad1, int ySize, long yStride) {
    return Instruction.of(Opcode.LOAD).with(Isa.Load.BUF, buf.id()).with(Isa.Load.DST_ROW, row)
        .with(Isa.Load.ELEM_BYTES, elem).with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, xSize).with(Isa.Load.Y_SIZE, ySize)
        .with(Isa.Load.X_STRIDE, xStride).with(Isa.Load.Y_STRIDE, yStride)
        .with(Isa.Load.X_PAD0, xPad0).with(Isa.Load.X_PAD1, xPad1)
        .with(Isa.Load.Y_PAD0, yPad0).with(Isa.Load.Y_PAD1, yPad1);
  }

  @ParameterizedTest
  @CsvSource({"16", "8", "3"})
  void gatheringPartsReadsWhatGatheringEachPartReads(int elem) {
    SparseMemory m = new SparseMemory(8L * SparseMemory.PAGE_SIZE);
    Random r = new Random(elem);
    byte[] page = new byte[SparseMemory.PAGE_SIZE];
    for (int k : new int[] {0, 1, 3, 4}) {
      r.nextBytes(page);
      m.write((long) k * page.length, page, 0, page.length);
    }
    for (int trial = 0; trial < 500; trial++) {
      int parts = 1 + r.nextInt(6);
      int count = 1 + r.nextInt(40);
      long stride = r.nextInt(3) == 0 ? 0 : r.nextInt(4 * parts * elem + 1);
      int step = elem + r.nextInt(8);
      int partStep = count * step + r.nextInt(8);
      long span = (count - 1) * stride + (long) parts * elem;
      long addr = r.nextBoolean()
          ? (1 + r.nextInt(4)) * (long) SparseMemory.PAGE_SIZE - r.nextInt(2 * parts * elem + 1)
          : r.nextInt((int) (m.size() - span));
      addr = Math.max(0, Math.min(addr, m.size() - span));
      byte[] expected = new byte[parts * partStep + count * step];
      byte[] actual = expected.clone();
      for (int k = 0; k < parts; k++) {
        m.gather(addr + (long) k * elem, stride, elem, count, expected, k * partStep, step);
      }
      m.gatherParts(addr, stride, elem, parts, count, actual, 0, step, partStep);
      assertArrayEquals(expected, actual, "trial " + trial + ": " + parts + " parts of " + count
          + " elements at 0x" + Long.toHexString(addr) + ", stride " + stride);
    }
  }
}
