package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.junit.jupiter.api.Test;

/**
 * How the two-thread fast path shares a program out ({@link SplitPlan}): on programs shaped like
 * two layers of a network, and on the card memory accesses that decide where a phase ends. Each
 * program also runs on a plain machine and on a two-thread one, which must leave the same buffers,
 * tiles and card memory.
 */
class SplitPlanTest {
  private static final int D = 16;
  private static final long PROGRAM = 0x1000;
  private static final long WEIGHTS = 0x10_0000;
  private static final long PARAMS = 0x11_0000;
  private static final long INPUT = 0x12_0000;
  private static final long OUTPUT = 0x14_0000;
  private static final long OUTPUT2 = 0x16_0000;
  private static final int STRIPS = 8;

  private final DeviceParams p = DeviceParams.defaults().with(Map.of(Param.ARRAY_ROWS, (long) D,
      Param.ARRAY_COLS, (long) D, Param.HBM_MB, 4L, Param.ABUF_ROWS, 512L, Param.WBUF_ROWS,
      512L, Param.ACC_ROWS, 256L));

  @Test
  void gridsOfElementsAreDisjointOnlyWhereTheirBytesAre() {
    // Two output tiles of 16 bytes interleaved in rows of 64: disjoint; a third 8 bytes off: not.
    SplitPlan.Span a = SplitPlan.Span.of(0x1000, 16, 100, 64, 1, 0);
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1010, 16, 100, 64, 1, 0)));
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1030, 16, 100, 64, 1, 0)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1008, 16, 100, 64, 1, 0)));
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1010, 48, 100, 64, 1, 0)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1010, 56, 100, 64, 1, 0)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1040, 16, 100, 64, 1, 0)));
    // A stride of 128 lies on the grid of 64; so do rows of elements whose row stride is on it.
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1020, 16, 50, 128, 1, 0)));
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1020, 16, 10, 64, 5, 640)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1020, 16, 10, 64, 5, 648)));
    // One element: on every grid; spans that do not meet; strides with no common grid.
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1090, 16, 1, 0, 1, 0)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1080, 1, 1, 0, 1, 0)));
    assertTrue(a.disjoint(SplitPlan.Span.of(0x1000 + 6400, 16, 4, 16, 1, 0)));
    assertFalse(a.disjoint(SplitPlan.Span.of(0x1010, 16, 10, 48, 1, 0)));
    assertFalse(SplitPlan.Span.of(0x2000, 4, 1, 0, 1, 0)
        .disjoint(SplitPlan.Span.of(0x2002, 4, 1, 0, 1, 0)));
  }

  @Test
  void aLayerOfStripsIsSharedOutAndTheNextLayerWaitsForIt() {
    List<Instruction> code = new ArrayList<>();
    layer(code, INPUT, 16, OUTPUT);
    int firstLayer = code.size();
    layer(code, OUTPUT, 32, OUTPUT2);
    code.add(Instruction.of(Opcode.HALT));
    SparseMemory memory = memory(code);
    DecodedProgram program = DecodedProgram.decode(memory, PROGRAM, code.size(), p);
    SplitPlan plan = SplitPlan.of(program, p);
    assertNotNull(plan, "a program of two layers splits");
    assertEquals(2, plan.phaseCount, "phases: the second layer reads what the first wrote");
    for (int t = 0; t < 2; t++) {
      int chains = 0;
      for (int j : plan.steps[t]) {
        chains += program.steps[j].chain() ? 1 : 0;
      }
      assertTrue(chains >= STRIPS, "thread " + t + " runs chains of both layers: " + chains);
    }
    assertTrue(plan.balance() > 0.4, "each thread's share of the work: " + plan.balance());
    // The second layer's first LOAD of the first one's output (after its weights and
    // parameters) starts the second phase.
    int secondPhase = firstLayer + 2;
    for (int t = 0; t < 2; t++) {
      for (int i = 0; i < plan.steps[t].length; i++) {
        int pc = program.steps[plan.steps[t][i]].first();
        assertEquals(pc < secondPhase ? 0 : 1, plan.phases[t][i], "phase of instruction " + pc);
      }
    }
    runBoth(code, memory, true, false);
  }

  @Test
  void aTileWhoseRowsAreRewrittenWhileHeldLeavesTheProgramToOneThread() {
    List<Instruction> code = new ArrayList<>();
    layer(code, INPUT, 16, OUTPUT);
    // Preload the tile at WBUF row 0, write its rows, then swap it in: the tile is the rows as
    // they were, which only the array holds.
    code.add(matmul(0, 200, 16, false).with(Isa.Matmul.W_LOAD, true)
        .with(Isa.Matmul.W_ROW, 32).with(Isa.Matmul.W_PRELOAD, true)
        .with(Isa.Matmul.PRE_ROW, 0));
    code.add(load(Buffer.WBUF, 0, WEIGHTS + 4096, D, D));
    code.add(matmul(0, 216, 16, false).with(Isa.Matmul.W_SWAP, true));
    code.add(Instruction.of(Opcode.HALT));
    SparseMemory memory = memory(code);
    DecodedProgram program = DecodedProgram.decode(memory, PROGRAM, code.size(), p);
    assertNull(SplitPlan.of(program, p));
    runBoth(code, memory, false, false);
  }

  @Test
  void aSplitRunStoppedHalfWayLeavesBothThreadsReadyForTheNextRun() {
    List<Instruction> code = new ArrayList<>();
    layer(code, INPUT, 16, OUTPUT);
    layer(code, OUTPUT, 32, OUTPUT2);
    code.add(Instruction.of(Opcode.HALT));
    // The program writes every row it reads, so the runs after the stopped one end as runs from
    // a fresh start.
    runBoth(code, memory(code), true, true);
  }

  /**
   * A layer of {@link #STRIPS} strips: each loads its 32 activation rows (two tiles of input
   * channels) into one of two halves of ABUF, computes two blocks of output channels as chains
   * that load, preload and swap tiles, requantizes them, and stores them interleaved into the
   * rows of {@code out}, 32 bytes a pixel.
   */
  private void layer(List<Instruction> code, long in, int inStride, long out) {
    code.add(load(Buffer.WBUF, 0, WEIGHTS, 4 * D, D));
    code.add(load(Buffer.ACC, 250, PARAMS, 3, 4 * D));
    for (int s = 0; s < STRIPS; s++) {
      int a = (s % 2) * 64;
      int acc = (s % 2) * 64;
      code.add(load(Buffer.ABUF, a, in + (long) s * 16 * inStride, 16, inStride)
          .with(Isa.Load.ELEM_BYTES, Math.min(D, inStride)));
      code.add(load(Buffer.ABUF, a + 16, in + 8 + (long) s * 16 * inStride, 16, inStride)
          .with(Isa.Load.ELEM_BYTES, 8));
      for (int block = 0; block < 2; block++) {
        code.add(matmul(a, acc + 16 * block, 16, false).with(Isa.Matmul.W_LOAD, true)
            .with(Isa.Matmul.W_ROW, 32 * block).with(Isa.Matmul.W_PRELOAD, true)
            .with(Isa.Matmul.PRE_ROW, 32 * block + 16));
        code.add(matmul(a + 16, acc + 16 * block, 16, true).with(Isa.Matmul.W_SWAP, true));
      }
      for (int block = 0; block < 2; block++) {
        int dst = 256 + (s % 2) * 64 + 16 * block;
        code.add(Instruction.of(Opcode.REQUANT).with(Isa.Requant.ACC_ROW, acc + 16 * block)
            .with(Isa.Requant.DST_ROW, dst).with(Isa.Requant.ROWS, 16)
            .with(Isa.Requant.PARAM_ROW, 250).with(Isa.Requant.RELU, block == 0));
        code.add(Instruction.of(Opcode.STORE).with(Isa.Store.BUF, Buffer.ABUF.id())
            .with(Isa.Store.SRC_ROW, dst).with(Isa.Store.ELEM_BYTES, D)
            .with(Isa.Store.HBM_ADDR, out + (long) s * 16 * 32 + 16 * block)
            .with(Isa.Store.X_SIZE, 16).with(Isa.Store.Y_SIZE, 1)
            .with(Isa.Store.X_STRIDE, 32));
      }
    }
  }

  private static Instruction load(Buffer buf, int row, long addr, int count, long stride) {
    return Instruction.of(Opcode.LOAD).with(Isa.Load.BUF, buf.id()).with(Isa.Load.DST_ROW, row)
        .with(Isa.Load.ELEM_BYTES, D * buf.laneBytes()).with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, count).with(Isa.Load.Y_SIZE, 1).with(Isa.Load.X_STRIDE, stride);
  }

  private static Instruction matmul(int aRow, int accRow, int rows, boolean accumulate) {
    return Instruction.of(Opcode.MATMUL).with(Isa.Matmul.A_ROW, aRow)
        .with(Isa.Matmul.ACC_ROW, accRow).with(Isa.Matmul.ROWS, rows)
        .with(Isa.Matmul.ACCUMULATE, accumulate);
  }

  /** Card memory holding the program and random weights, parameters and inputs. */
  private SparseMemory memory(List<Instruction> code) {
    SparseMemory m = new SparseMemory(p.hbmBytes());
    byte[] bytes = Instruction.encode(code);
    m.write(PROGRAM, bytes, 0, bytes.length);
    Random r = new Random(7);
    byte[] data = new byte[(int) (OUTPUT - WEIGHTS)];
    r.nextBytes(data);
    m.write(WEIGHTS, data, 0, data.length);
    // Parameters a REQUANT can use: any bias, a multiplier below 2^30, a shift of 20 to 35.
    byte[] prm = new byte[3 * 4 * D];
    for (int l = 0; l < D; l++) {
      putInt(prm, 4 * l, r.nextInt(1 << 16) - (1 << 15));
      putInt(prm, 4 * (D + l), r.nextInt(1 << 30));
      putInt(prm, 4 * (2 * D + l), 20 + r.nextInt(16));
    }
    m.write(PARAMS, prm, 0, prm.length);
    return m;
  }

  private static void putInt(byte[] b, int i, int v) {
    for (int k = 0; k < 4; k++) {
      b[i + k] = (byte) (v >>> (8 * k));
    }
  }

  /**
   * Runs the program in {@code memory} three times on a two-thread machine and on a plain one
   * from the same memory; both must leave the same state and card memory each time. With {@code
   * stopFirst}, the two-thread machine first runs it once stopped half way (SOFT_RESET).
   */
  private void runBoth(List<Instruction> code, SparseMemory memory, boolean split,
      boolean stopFirst) {
    SparseMemory plainMemory = new SparseMemory(p.hbmBytes());
    byte[] all = new byte[(int) (OUTPUT2 + 0x2_0000)];
    memory.read(0, all, 0, all.length);
    plainMemory.write(0, all, 0, all.length);
    Machine fast = new Machine(p, memory, 2);
    fast.parallelFrom(0);
    Machine plain = Machine.plain(p, plainMemory);
    try {
      if (stopFirst) {
        int[] polls = {0};
        Machine.Outcome stopped = fast.run(PROGRAM, code.size(), () -> ++polls[0] > 40,
            pc -> { });
        assertTrue(stopped.aborted(), "the run stopped when asked");
      }
      for (int run = 0; run < 3; run++) {
        Machine.Outcome expected = plain.run(PROGRAM, code.size(), () -> false, pc -> { });
        Machine.Outcome actual = fast.run(PROGRAM, code.size(), () -> false, pc -> { });
        assertEquals(expected, actual, "run " + run);
        assertArrayEquals(plain.snapshot(), fast.snapshot(), "run " + run + ": machine state");
        byte[] a = new byte[all.length];
        byte[] b = new byte[all.length];
        plainMemory.read(0, a, 0, a.length);
        memory.read(0, b, 0, b.length);
        assertArrayEquals(a, b, "run " + run + ": card memory");
      }
      assertEquals(split ? 3 : 0, fast.splitRuns(), "split runs that went to the end");
    } finally {
      fast.close();
    }
  }
}
