package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Unit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fast path (decoded programs kept between runs, MATMUL chains, the vector kernel, gathered
 * LOADs and scattered STOREs) against the plain interpreter with the plain Java kernel, on the
 * same random programs from the same state: every run must end with the same outcome and counts
 * and leave the same buffers, tiles and card memory. The programs are made to look like a
 * compiler's (chains of MATMULs into shared accumulator rows with loads, swaps and preloads of
 * tiles, LOADs with strides and padding into rows the chains read, masked STOREs, requantization
 * and the vector instructions between them) and to fail now and then with every error status the
 * machine can give; array sizes include ones the vector kernel covers only partly.
 */
class FastPathTest {
  private static final long PROGRAM = 0x1000;
  private static final long DATA = 0x10_0000;
  private static final int DATA_BYTES = 1 << 18;

  @ParameterizedTest
  @CsvSource({"16, 1", "16, 2", "8, 1", "8, 2", "24, 1", "24, 2"})
  void randomProgramsEndTheSameOnBothPaths(int d, int threads) {
    DeviceParams p = DeviceParams.defaults().with(Map.of(Param.ARRAY_ROWS, (long) d,
        Param.ARRAY_COLS, (long) d, Param.HBM_MB, 4L, Param.ABUF_ROWS, 512L,
        Param.WBUF_ROWS, 512L, Param.ACC_ROWS, 256L, Param.LUT_ROWS,
        (long) DeviceParams.tableRows(d) * 2));
    SparseMemory fastMemory = new SparseMemory(p.hbmBytes());
    SparseMemory plainMemory = new SparseMemory(p.hbmBytes());
    Random r = new Random(1000 + d);
    byte[] data = new byte[DATA_BYTES];
    r.nextBytes(data);
    fastMemory.write(DATA, data, 0, data.length);
    plainMemory.write(DATA, data, 0, data.length);
    Machine fast = new Machine(p, fastMemory, threads);
    fast.parallelFrom(0);
    Machine plain = Machine.plain(p, plainMemory);
    Set<ErrorCode> seen = EnumSet.noneOf(ErrorCode.class);
    int fastRuns = 0;
    int chained = 0;
    int tilesResolved = 0;
    int tilesFollowed = 0;
    byte[] code = null;
    for (int run = 0; run < 400; run++) {
      if (code == null || r.nextInt(4) != 0) {
        List<Instruction> program = new Programs(r, p).program();
        code = Instruction.encode(program);
        chained += Programs.chainLinks(program);
        fastMemory.write(PROGRAM, code, 0, code.length);
        plainMemory.write(PROGRAM, code, 0, code.length);
        boolean resolved = DecodedProgram.decode(fastMemory, PROGRAM,
            code.length / Contract.INSTRUCTION_BYTES, p).tilesResolved();
        tilesResolved += resolved ? 1 : 0;
        tilesFollowed += resolved ? 0 : 1;
      }
      if (r.nextInt(10) == 0) {
        fast.resetArray();
        plain.resetArray();
      }
      long length = code.length / Contract.INSTRUCTION_BYTES;
      if (r.nextInt(50) == 0) {
        length = r.nextBoolean() ? 0 : p.hbmBytes();
      }
      Machine.Outcome expected = plain.run(PROGRAM, length, () -> false, pc -> { });
      Machine.Outcome actual = fast.run(PROGRAM, length, () -> false, pc -> { });
      String where = "D=" + d + ", " + threads + " threads, run " + run;
      assertEquals(expected, actual, where);
      assertCountsEqual(plain.counts(), fast.counts(), where);
      assertArrayEquals(plain.snapshot(), fast.snapshot(), where + ": machine state");
      byte[] a = new byte[DATA_BYTES];
      byte[] b = new byte[DATA_BYTES];
      plainMemory.read(DATA, a, 0, a.length);
      fastMemory.read(DATA, b, 0, b.length);
      assertArrayEquals(a, b, where + ": card memory");
      seen.add(actual.error());
      fastRuns += fast.lastRunDecoded() ? 1 : 0;
    }
    assertEquals(EnumSet.complementOf(EnumSet.of(ErrorCode.MEM_FAULT)), seen,
        "every error status the machine can give on this memory");
    assertTrue(fastRuns > 100, "runs on the fast path: " + fastRuns);
    assertTrue(chained > 1000, "MATMULs that continue a chain: " + chained);
    assertTrue(tilesResolved > 50 && tilesFollowed > 20, "programs whose tiles are resolved: "
        + tilesResolved + ", not: " + tilesFollowed);
    assertTrue(fast.pairs() > 50, "steps of two chains over the same rows: " + fast.pairs());
    if (threads > 1) {
      assertTrue(fast.splitRuns() > 100, "runs split between two threads: " + fast.splitRuns());
      assertTrue(fast.stepsOnSecondThread() > 1000, "steps the second"
          + " thread ran: " + fast.stepsOnSecondThread());
    }
    fast.close();
  }

  private static void assertCountsEqual(RunCounts e, RunCounts a, String where) {
    assertEquals(List.of(e.busyCycles, e.arrayCycles, e.vectorCycles, e.stallCycles, e.instret,
        e.macs, e.bytesRead, e.bytesWritten), List.of(a.busyCycles, a.arrayCycles,
        a.vectorCycles, a.stallCycles, a.instret, a.macs, a.bytesRead, a.bytesWritten),
        where + ": busy, array, vector, stall cycles, instret, MACs, bytes read, written");
  }

  /** Random programs shaped like a compiler's, with mistakes now and then. */
  private static final class Programs {
    private final Random r;
    private final DeviceParams p;
    private final int d;
    private final List<Instruction> out = new ArrayList<>();

    Programs(Random r, DeviceParams p) {
      this.r = r;
      this.p = p;
      this.d = p.lanes();
    }

    /** MATMULs that accumulate into the rows of the MATMUL before them, with its row count. */
    static int chainLinks(List<Instruction> program) {
      int links = 0;
      Instruction last = null;
      for (Instruction in : program) {
        if (in.opcode() != Opcode.MATMUL) {
          continue;
        }
        if (last != null && in.flag(Isa.Matmul.ACCUMULATE)
            && in.get(Isa.Matmul.ACC_ROW) == last.get(Isa.Matmul.ACC_ROW)
            && in.get(Isa.Matmul.ROWS) == last.get(Isa.Matmul.ROWS)) {
          links++;
        }
        last = in;
      }
      return links;
    }

    List<Instruction> program() {
      int n = 5 + r.nextInt(60);
      out.add(load(Buffer.WBUF, 0, 64));
      for (int i = 0; i < n; i++) {
        switch (r.nextInt(12)) {
          case 0, 1, 2, 3 -> chain();
          case 4, 5 -> {
            Buffer buf = pick(Buffer.ABUF, Buffer.ABUF, Buffer.WBUF, Buffer.ACC, Buffer.LUT);
            int max = Math.min(48, p.rows(buf));
            out.add(load(buf, r.nextInt(p.rows(buf) - max + 1), max));
          }
          case 6 -> out.add(store());
          case 7 -> out.add(requant());
          case 8, 9 -> out.add(vector());
          case 10 -> out.add(Instruction.of(Opcode.FENCE));
          default -> out.add(mistake());
        }
      }
      if (r.nextInt(8) != 0) {
        out.add(Instruction.of(Opcode.HALT));
      }
      return out;
    }

    private Buffer pick(Buffer... bs) {
      return bs[r.nextInt(bs.length)];
    }

    private int row(int rows) {
      return r.nextInt(rows - 64);
    }

    private Instruction waits(Instruction in) {
      return r.nextInt(3) == 0 ? in.waitFor(Unit.values()[r.nextInt(Unit.values().length)]) : in;
    }

    /** A LOAD into {@code buf} from row {@code row}, of at most {@code maxRows} rows. */
    private Instruction load(Buffer buf, int row, int maxRows) {
      int laneBytes = buf.laneBytes();
      int elem = r.nextInt(3) == 0 ? laneBytes * (1 + r.nextInt(d)) : laneBytes * d;
      if (laneBytes == 1 && r.nextInt(4) == 0) {
        elem = 1 + r.nextInt(d);
      }
      int xPad0 = r.nextInt(4) == 0 ? r.nextInt(3) : 0;
      int xPad1 = r.nextInt(4) == 0 ? r.nextInt(3) : 0;
      int yPad0 = r.nextInt(6) == 0 ? 1 : 0;
      int yPad1 = r.nextInt(6) == 0 ? 1 : 0;
      int ySize = 1 + r.nextInt(3);
      int width = Math.max(1, maxRows / (ySize + yPad0 + yPad1) - xPad0 - xPad1);
      int xSize = 1 + r.nextInt(width);
      long xStride = switch (r.nextInt(4)) {
        case 0 -> elem;
        case 1 -> 0;
        case 2 -> elem + r.nextInt(64);
        default -> r.nextInt(3 * d);
      };
      long yStride = r.nextInt(3) == 0 ? 0 : xStride * xSize + r.nextInt(100);
      long span = (ySize - 1) * yStride + (xSize - 1) * xStride + elem;
      long addr = DATA + r.nextInt((int) (DATA_BYTES - span));
      return waits(Instruction.of(Opcode.LOAD).with(Isa.Load.BUF, buf.id())
          .with(Isa.Load.DST_ROW, row).with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.PAD_VALUE, r.nextInt(256) - 128).with(Isa.Load.HBM_ADDR, addr)
          .with(Isa.Load.X_SIZE, xSize).with(Isa.Load.Y_SIZE, ySize)
          .with(Isa.Load.X_STRIDE, xStride).with(Isa.Load.Y_STRIDE, yStride)
          .with(Isa.Load.X_PAD0, xPad0).with(Isa.Load.X_PAD1, xPad1)
          .with(Isa.Load.Y_PAD0, yPad0).with(Isa.Load.Y_PAD1, yPad1));
    }

    private Instruction store() {
      Buffer buf = pick(Buffer.ABUF, Buffer.ABUF, Buffer.WBUF, Buffer.ACC, Buffer.LUT);
      int laneBytes = buf.laneBytes();
      int elem = laneBytes * (1 + r.nextInt(d));
      int xSize = 1 + r.nextInt(Math.min(40, p.rows(buf) / 2));
      int ySize = 1 + r.nextInt(2);
      long xStride = r.nextBoolean() ? elem : elem + r.nextInt(32);
      long yStride = xStride * xSize + r.nextInt(64);
      long span = (ySize - 1) * yStride + (xSize - 1) * xStride + elem;
      long addr = DATA + r.nextInt((int) (DATA_BYTES - span));
      return waits(Instruction.of(Opcode.STORE).with(Isa.Store.BUF, buf.id())
          .with(Isa.Store.SRC_ROW, r.nextInt(p.rows(buf) - xSize * ySize + 1))
          .with(Isa.Store.ELEM_BYTES, elem).with(Isa.Store.HBM_ADDR, addr)
          .with(Isa.Store.X_SIZE, xSize).with(Isa.Store.Y_SIZE, ySize)
          .with(Isa.Store.X_STRIDE, xStride).with(Isa.Store.Y_STRIDE, yStride));
    }

    /**
     * MATMULs into one group of accumulator rows, as a compiler tiles a long dot product: the
     * first loads a tile or swaps one in, later ones swap in what the one before preloaded;
     * between them, now and then, another instruction (which may touch the chain's rows).
     */
    /** The last chain's activation rows per MATMUL, row count and first ACCUMULATE flag. */
    private int[] lastRows;
    private int lastCount;
    private boolean lastAccumulate;

    /**
     * MATMULs into the same accumulator rows, with loads, stores and requantizations among them
     * now and then; often over the same activation rows as the chain before, into other
     * accumulator rows, as a compiler computes the column blocks of a layer.
     */
    private void chain() {
      boolean again = lastRows != null && r.nextInt(3) != 0;
      int rows = again ? lastCount : 1 + r.nextInt(r.nextBoolean() ? 8 : 40);
      int accRow = r.nextInt(p.accRows() - rows - 8);
      int links = again ? lastRows.length : 1 + r.nextInt(r.nextInt(4) == 0 ? 40 : 12);
      boolean accumulate = again ? lastAccumulate : r.nextBoolean();
      int[] aRows = new int[links];
      for (int m = 0; m < links; m++) {
        aRows[m] = again ? lastRows[m] : r.nextInt(p.abufRows() - rows);
      }
      lastRows = aRows;
      lastCount = rows;
      lastAccumulate = accumulate;
      boolean preloaded = false;
      for (int m = 0; m < links; m++) {
        Instruction in = Instruction.of(Opcode.MATMUL)
            .with(Isa.Matmul.ACCUMULATE, m > 0 || accumulate)
            .with(Isa.Matmul.A_ROW, aRows[m])
            .with(Isa.Matmul.ACC_ROW, r.nextInt(20) == 0 ? accRow + 1 : accRow)
            .with(Isa.Matmul.ROWS, r.nextInt(20) == 0 ? rows + 1 : rows);
        if (preloaded && r.nextInt(5) != 0) {
          in = in.with(Isa.Matmul.W_SWAP, true);
        } else if (m == 0 || r.nextInt(4) == 0) {
          in = in.with(Isa.Matmul.W_LOAD, true)
              .with(Isa.Matmul.W_ROW, r.nextInt(p.wbufRows() - d));
        }
        preloaded = r.nextInt(4) != 0;
        if (preloaded) {
          in = in.with(Isa.Matmul.W_PRELOAD, true)
              .with(Isa.Matmul.PRE_ROW, r.nextInt(p.wbufRows() - d));
        }
        out.add(waits(in));
        if (r.nextInt(5) == 0) {
          out.add(switch (r.nextInt(4)) {
            case 0 -> load(Buffer.ABUF, row(p.abufRows()), 32);
            case 1 -> load(Buffer.WBUF, r.nextInt(p.wbufRows() - 32), 32);
            case 2 -> store();
            default -> requant();
          });
        }
      }
    }

    private Instruction requant() {
      int rows = 1 + r.nextInt(40);
      return waits(Instruction.of(Opcode.REQUANT).with(Isa.Requant.RELU, r.nextBoolean())
          .with(Isa.Requant.ACC_ROW, r.nextInt(p.accRows() - rows))
          .with(Isa.Requant.DST_ROW, row(p.abufRows()))
          .with(Isa.Requant.ROWS, rows).with(Isa.Requant.PARAM_ROW, r.nextInt(p.accRows() - 3))
          .with(Isa.Requant.ZERO_POINT, r.nextInt(256) - 128));
    }

    /** A vector instruction with in-range rows, in place or into rows of its own. */
    private Instruction vector() {
      int rows = 1 + r.nextInt(16);
      int a = r.nextInt(200);
      int dst = r.nextBoolean() ? a : 256 + r.nextInt(200);
      int b = r.nextInt(200);
      return waits(switch (r.nextInt(8)) {
        case 0 -> Instruction.of(Opcode.VMAX).with(Isa.Vmax.A_ROW, a).with(Isa.Vmax.B_ROW, b)
            .with(Isa.Vmax.DST_ROW, dst).with(Isa.Vmax.ROWS, rows);
        case 1 -> Instruction.of(Opcode.VADD).with(Isa.Vadd.A_ROW, a).with(Isa.Vadd.B_ROW, b)
            .with(Isa.Vadd.DST_ROW, dst).with(Isa.Vadd.ROWS, rows)
            .with(Isa.Vadd.A_MULT, r.nextBoolean() ? r.nextInt() : r.nextInt(1 << 16))
            .with(Isa.Vadd.B_MULT, r.nextBoolean() ? r.nextInt() : r.nextInt(1 << 16))
            .with(Isa.Vadd.A_ZERO, r.nextInt(256) - 128).with(Isa.Vadd.B_ZERO, r.nextInt(256) - 128)
            .with(Isa.Vadd.OUT_ZERO, r.nextInt(256) - 128)
            .with(Isa.Vadd.SHIFT, r.nextBoolean() ? r.nextInt(64) : r.nextInt(20)).with(Isa.Vadd.RELU, r.nextBoolean());
        case 2 -> Instruction.of(Opcode.VLUT).with(Isa.Vlut.A_ROW, a).with(Isa.Vlut.DST_ROW, dst)
            .with(Isa.Vlut.ROWS, rows).with(Isa.Vlut.TABLE, r.nextInt(2));
        case 3 -> Instruction.of(Opcode.VSCALE).with(Isa.Vscale.A_ROW, a)
            .with(Isa.Vscale.DST_ROW, dst).with(Isa.Vscale.ROWS, rows)
            .with(Isa.Vscale.PARAM_ROW, r.nextInt(p.accRows() - 4));
        case 4 -> Instruction.of(Opcode.VMUL).with(Isa.Vmul.A_ROW, a).with(Isa.Vmul.B_ROW, b)
            .with(Isa.Vmul.DST_ROW, 256 + r.nextInt(200)).with(Isa.Vmul.ROWS, rows)
            .with(Isa.Vmul.MULT, r.nextInt(1 << 20)).with(Isa.Vmul.SHIFT, r.nextInt(30));
        case 5 -> Instruction.of(Opcode.VREDUCE).with(Isa.Vreduce.A_ROW, a)
            .with(Isa.Vreduce.DST_ROW, r.nextInt(p.accRows() - 16)).with(Isa.Vreduce.ROWS, rows);
        case 6 -> Instruction.of(Opcode.VMAC).with(Isa.Vmac.A_ROW, a)
            .with(Isa.Vmac.ACC_ROW, r.nextInt(p.accRows() - 16)).with(Isa.Vmac.ROWS, rows)
            .with(Isa.Vmac.W_ROW, r.nextInt(p.wbufRows())).with(Isa.Vmac.ACCUMULATE,
                r.nextBoolean());
        default -> Instruction.of(Opcode.VTRANS).with(Isa.Vtrans.A_ROW, a)
            .with(Isa.Vtrans.DST_ROW, 256 + r.nextInt(100))
            .with(Isa.Vtrans.BLOCKS, 1 + r.nextInt(3));
      });
    }

    /** An instruction the device refuses, or one that runs off the end of a buffer or HBM. */
    private Instruction mistake() {
      return switch (r.nextInt(8)) {
        case 7 -> load(Buffer.ABUF, 0, 4).with(Isa.Load.ELEM_BYTES, d + 1);
        case 0 -> Instruction.ofWords(0xEE, 0, 0, 0);
        case 1 -> Instruction.ofWords(Opcode.FENCE.value() | 1L << 40, 0, 0, 0);
        case 2 -> load(Buffer.ABUF, p.abufRows() - 2, 48).with(Isa.Load.X_SIZE, 40)
            .with(Isa.Load.X_PAD0, 0).with(Isa.Load.Y_PAD0, 0);
        case 3 -> load(Buffer.ABUF, 0, 4).with(Isa.Load.HBM_ADDR, p.hbmBytes() - 8)
            .with(Isa.Load.ELEM_BYTES, d);
        case 4 -> Instruction.of(Opcode.MATMUL).with(Isa.Matmul.W_LOAD, true)
            .with(Isa.Matmul.W_SWAP, true).with(Isa.Matmul.ROWS, 4);
        case 5 -> Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 0);
        default -> Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 2)
            .with(Isa.Matmul.W_SWAP, true);
      };
    }
  }
}
