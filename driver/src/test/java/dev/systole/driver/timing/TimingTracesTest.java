package dev.systole.driver.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The traces the RTL testbenches replay, read the way the testbenches read them
 * ({@code fpga/tb/timing_trace.h}): the records and their tokens, instructions that assemble back
 * to the same text, cycles that are the model's, and the coverage the testbenches rely on.
 */
class TimingTracesTest {
  private static final DeviceParams P = DeviceParams.defaults();

  private static List<String> records(String kind) {
    StringBuilder out = new StringBuilder();
    TimingTraces.write(kind, P, out);
    String text = out.toString();
    assertTrue(text.startsWith("# "), "a trace starts with comments saying what it holds");
    assertTrue(text.endsWith("\n"));
    List<String> records = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        assertEquals(line.strip(), line, "no stray spaces: " + line);
        assertTrue(!line.contains("  "), "single spaces: " + line);
        records.add(line);
      }
    }
    assertEquals("array_dim " + P.arrayRows(), records.get(0));
    return records.subList(1, records.size());
  }

  /** The tokens before the instruction, and the instruction, of a record. */
  private record Rec(String[] head, Instruction in) {}

  private static Rec parse(String record, int headTokens) {
    String[] t = record.split(" ", headTokens + 1);
    assertEquals(headTokens + 1, t.length, record);
    Instruction in = Assembler.parse(t[headTokens]);
    assertEquals(t[headTokens], in.toString(), "the instruction reads back to the same text");
    return new Rec(Arrays.copyOf(t, headTokens), in);
  }

  @Test
  void loadTraceGivesEachLoadTheCyclesOfTransferTiming() {
    Map<String, Integer> phases = new TreeMap<>();
    Set<Integer> latencies = new HashSet<>();
    Set<Long> bufs = new HashSet<>();
    int across4k = 0;
    int longRanges = 0;
    int padded = 0;
    int zeroStride = 0;
    int elementRanges = 0;
    for (String r : records("load")) {
      Rec rec = parse(r, 3);
      Instruction in = rec.in();
      assertEquals(Opcode.LOAD, in.opcode());
      phases.merge(rec.head()[0], 1, Integer::sum);
      int lr = Integer.parseInt(rec.head()[1]);
      latencies.add(lr);
      long addr = in.get(Isa.Load.HBM_ADDR);
      int elem = (int) in.get(Isa.Load.ELEM_BYTES);
      int xs = (int) in.get(Isa.Load.X_SIZE);
      int ys = (int) in.get(Isa.Load.Y_SIZE);
      long xst = in.get(Isa.Load.X_STRIDE);
      long yst = in.get(Isa.Load.Y_STRIDE);
      int[] pad = {(int) in.get(Isa.Load.X_PAD0), (int) in.get(Isa.Load.X_PAD1),
          (int) in.get(Isa.Load.Y_PAD0), (int) in.get(Isa.Load.Y_PAD1)};
      assertEquals(TransferTiming.loadCycles(addr, elem, xs, ys, xst, yst, pad[0], pad[1], pad[2],
          pad[3], lr), Long.parseLong(rec.head()[2]), r);
      Buffer buf = Buffer.fromId(in.get(Isa.Load.BUF));
      bufs.add(in.get(Isa.Load.BUF));
      long rows = (long) (pad[0] + xs + pad[1]) * (pad[2] + ys + pad[3]);
      assertTrue(in.get(Isa.Load.DST_ROW) + rows <= P.rows(buf), r);
      assertTrue(elem <= P.rowBytes(buf), r);
      long end = addr + (ys - 1) * yst + (xs - 1) * xst + elem;
      assertTrue(end <= TimingTraces.BENCH_MEMORY_BYTES, r);
      long rangeBytes = xst == elem ? (long) xs * elem : elem;
      across4k += (addr >>> 12) != ((addr + rangeBytes - 1) >>> 12) ? 1 : 0;
      longRanges += TransferTiming.beats(addr, rangeBytes) > 16 ? 1 : 0;
      padded += pad[0] + pad[1] + pad[2] + pad[3] > 0 ? 1 : 0;
      zeroStride += xst == 0 || yst == 0 ? 1 : 0;
      elementRanges += xst != elem ? 1 : 0;
    }
    assertEquals(Map.of("back-to-back", 300, "clear", 57, "fault", 2, "random", 10100,
        "shape", 7, "stall", 500), phases);
    assertEquals(Set.of(1, 3, 16, 20, 32, 100, TransferTiming.MAX_READ_LATENCY), latencies);
    assertEquals(Set.of(0L, 1L, 2L), bufs, "every buffer");
    assertTrue(across4k > 1000, "first ranges across a 4 KiB boundary: " + across4k);
    assertTrue(longRanges > 500, "first ranges of more than one 16-beat burst: " + longRanges);
    assertTrue(padded > 3000, "padded: " + padded);
    assertTrue(zeroStride > 1000, "a zero stride: " + zeroStride);
    assertTrue(elementRanges > 3000, "one range per element: " + elementRanges);
  }

  @Test
  void storeTraceGivesEachStoreTheCyclesOfTransferTiming() {
    Map<String, Integer> phases = new TreeMap<>();
    Set<Integer> latencies = new HashSet<>();
    int across4k = 0;
    int longRanges = 0;
    for (String r : records("store")) {
      Rec rec = parse(r, 3);
      Instruction in = rec.in();
      assertEquals(Opcode.STORE, in.opcode());
      phases.merge(rec.head()[0], 1, Integer::sum);
      int lw = Integer.parseInt(rec.head()[1]);
      latencies.add(lw);
      long addr = in.get(Isa.Store.HBM_ADDR);
      int elem = (int) in.get(Isa.Store.ELEM_BYTES);
      int xs = (int) in.get(Isa.Store.X_SIZE);
      int ys = (int) in.get(Isa.Store.Y_SIZE);
      long xst = in.get(Isa.Store.X_STRIDE);
      long yst = in.get(Isa.Store.Y_STRIDE);
      assertEquals(TransferTiming.storeCycles(addr, elem, xs, ys, xst, yst, lw),
          Long.parseLong(rec.head()[2]), r);
      Buffer buf = Buffer.fromId(in.get(Isa.Store.BUF));
      assertTrue(in.get(Isa.Store.SRC_ROW) + (long) xs * ys <= P.rows(buf), r);
      assertTrue(addr + (ys - 1) * yst + (xs - 1) * xst + elem
          <= TimingTraces.BENCH_MEMORY_BYTES, r);
      long rangeBytes = xst == elem ? (long) xs * elem : elem;
      across4k += (addr >>> 12) != ((addr + rangeBytes - 1) >>> 12) ? 1 : 0;
      longRanges += TransferTiming.beats(addr, rangeBytes) > 16 ? 1 : 0;
    }
    assertEquals(Map.of("back-to-back", 300, "clear", 57, "fault", 2, "random", 5800,
        "shape", 5, "stall", 500), phases);
    assertEquals(Set.of(1, 3, 16, 32, 100), latencies);
    assertTrue(across4k > 500, "first ranges across a 4 KiB boundary: " + across4k);
    assertTrue(longRanges > 300, "first ranges of more than one 16-beat burst: " + longRanges);
  }

  @Test
  void execTraceIssuesEachInstructionWhenTheClockAllowsAndSaysWhenTheUnitIsFreeAndDone() {
    List<String> records = records("exec");
    assertEquals("param_rows 200 60", records.get(0));
    long free = 0;
    long done = 0;
    long last = -1;
    int instructions = 0;
    int clears = 0;
    int clearsInFlight = 0;
    int late = 0;
    Map<Opcode, Integer> ops = new TreeMap<>();
    for (String r : records.subList(1, records.size())) {
      if (r.endsWith(" clear")) {
        long c = Long.parseLong(r.substring(0, r.length() - " clear".length()));
        assertTrue(c > last, r);
        clearsInFlight += c < done ? 1 : 0;
        free = done = last = c;
        free++;
        done++;
        clears++;
        continue;
      }
      Rec rec = parse(r, 3);
      long t = Long.parseLong(rec.head()[0]);
      Opcode op = rec.in().opcode();
      ops.merge(op, 1, Integer::sum);
      long allowed = Math.max(last + 1, op == Opcode.MATMUL ? free : done);
      assertTrue(t >= allowed, "issued before the unit takes it: " + r);
      late += t > allowed ? 1 : 0;
      free = Long.parseLong(rec.head()[1]);
      done = Long.parseLong(rec.head()[2]);
      assertTrue(free > t && done >= free, r);
      if (op != Opcode.MATMUL) {
        assertEquals(free, done, "only a MATMUL frees the unit before it is done: " + r);
      }
      last = t;
      instructions++;
    }
    assertEquals(TimingTraces.EXEC_INSTRUCTIONS, instructions);
    assertEquals(Set.of(Opcode.MATMUL, Opcode.REQUANT, Opcode.VMAX, Opcode.VADD), ops.keySet());
    assertTrue(clears > 100 && clearsInFlight > clears / 2, clears + " clears, "
        + clearsInFlight + " in flight");
    assertTrue(late > instructions / 10 && late < instructions / 2, late + " issued late");
  }

  @Test
  void tracesAreTheSameEveryTime() {
    StringBuilder a = new StringBuilder();
    StringBuilder b = new StringBuilder();
    TimingTraces.write("store", P, a);
    TimingTraces.write("store", P, b);
    assertEquals(a.toString(), b.toString());
  }

  @Test
  void anUnknownKindIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TimingTraces.write("matmul", P, new StringBuilder()));
    assertEquals("trace kind \"matmul\" (expected load, store or exec)", e.getMessage());
  }
}
