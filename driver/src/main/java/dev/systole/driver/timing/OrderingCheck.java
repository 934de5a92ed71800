package dev.systole.driver.timing;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.RowAccess;
import dev.systole.driver.contract.Unit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the conflicts a program leaves unordered, against the ordering rule of CONTRACT.md 5.2:
 * two instructions on different units touch the same buffer row or HBM byte, at least one of
 * them writes it, and nothing guarantees that the later one issues after the earlier one has
 * finished that access. The guarantees are those of the contract, not of one timing: a wait for
 * the earlier instruction's unit on the later instruction or on one between them, a FENCE, an
 * instruction between them on a unit that takes one instruction at a time (a LOAD issues only
 * once every earlier LOAD has completed), and for a MATMUL's reads of ABUF and WBUF a later
 * MATMUL. A program that is ordered only because, in the fixed-latency timing model, the earlier
 * access happens to end first would race on a board, whose HBM answers when it can; the timing
 * model ({@link IssueClock}) gives the cycles in the messages. The emulator cannot show a race,
 * because it executes each instruction whole when it issues: a racy program gives the intended
 * bytes there and may give others on the RTL or a board.
 *
 * <p>The build's parameters decide which unit runs what ({@link DeviceParams#unitOf}): REQUANT,
 * VMAX, VADD and the vector instructions run on VECTOR, or on EXEC without the vector unit. Like
 * the device, the check stops at HALT or at the first instruction the device refuses
 * ({@link InstructionCheck}); it does not model NO_WEIGHTS.
 */
public final class OrderingCheck {
  /** Races reported with a message; the rest are only counted. */
  public static final int MAX_REPORTED = 100;

  private static final int UNITS = Unit.values().length;

  private OrderingCheck() {}

  /**
   * One conflict the program does not order.
   *
   * @param earlier index of the instruction that accesses the resource first
   * @param later index of the instruction that issues before that access has ended
   * @param unit the earlier instruction's unit: a wait for it, on the later instruction or on one
   *     between the two, orders them
   * @param resource what both touch, for example {@code ABUF rows 40..47} or {@code HBM bytes
   *     0x10000..0x1001f} (the first conflicting byte range, for HBM)
   * @param message a sentence for the compiler engineer, with both instructions and the fix
   */
  public record Race(int earlier, int later, Unit unit, String resource, String message) {
    @Override
    public String toString() {
      return message;
    }
  }

  /**
   * The outcome of a check.
   *
   * @param races the first {@link #MAX_REPORTED} races, by later then earlier instruction, at
   *     most one for each pair of instructions. When several instructions of one unit conflict
   *     with a later one on the same buffer row, only the latest of them is named: the wait that
   *     orders it orders the others.
   * @param total how many races were found, reported or not
   */
  public record Report(List<Race> races, int total) {
    public Report {
      races = List.copyOf(races);
    }

    /** Whether the program follows the ordering rule. */
    public boolean ok() {
      return total == 0;
    }

    /** One line per reported race, and the number of the others. */
    @Override
    public String toString() {
      if (ok()) {
        return "no unordered conflicts";
      }
      StringBuilder sb = new StringBuilder();
      for (Race r : races) {
        sb.append(r.message()).append('\n');
      }
      if (total > races.size()) {
        sb.append("... and ").append(total - races.size()).append(" more races\n");
      }
      return sb.toString();
    }
  }

  /**
   * The unordered conflicts of {@code program} on a build of {@code p}; {@link Report#ok()} if it
   * follows the ordering rule.
   */
  public static Report check(List<Instruction> program, DeviceParams p) {
    return new Checker(program, p).run();
  }

  /**
   * The HBM bytes of a LOAD or STORE: y_size rows of x_size elements of elem_bytes bytes, element
   * (x, y) at addr + y * yStride + x * xStride. At most 65536 elements (they are buffer rows).
   */
  private static final class Block {
    final long addr;
    final long elem;
    final int xSize;
    final int ySize;
    final long xStride;
    final long yStride;
    /** Each row is one run of bytes: its elements touch or overlap, or it has one. */
    final boolean solidRows;
    /** Bytes of one row from its first to its last. */
    final long rowSpan;
    final long lo;
    final long hi;
    /** The bytes as disjoint runs in address order, from starts[i] to ends[i] (exclusive). */
    private long[] starts;
    private long[] ends;

    Block(long addr, long elem, long xSize, long ySize, long xStride, long yStride) {
      this.addr = addr;
      this.elem = elem;
      // A stride of 0 repeats an element or a row: the bytes are those of one.
      this.xSize = xStride == 0 ? 1 : (int) xSize;
      this.ySize = yStride == 0 ? 1 : (int) ySize;
      this.xStride = xStride;
      this.yStride = yStride;
      this.solidRows = this.xSize == 1 || xStride <= elem;
      this.rowSpan = (this.xSize - 1) * xStride + elem;
      this.lo = addr;
      this.hi = addr + (this.ySize - 1) * yStride + rowSpan;
    }

    static Block of(Instruction in) {
      if (in.opcode() == Opcode.LOAD) {
        return new Block(in.get(Isa.Load.HBM_ADDR), in.get(Isa.Load.ELEM_BYTES),
            in.get(Isa.Load.X_SIZE), in.get(Isa.Load.Y_SIZE), in.get(Isa.Load.X_STRIDE),
            in.get(Isa.Load.Y_STRIDE));
      }
      return new Block(in.get(Isa.Store.HBM_ADDR), in.get(Isa.Store.ELEM_BYTES),
          in.get(Isa.Store.X_SIZE), in.get(Isa.Store.Y_SIZE), in.get(Isa.Store.X_STRIDE),
          in.get(Isa.Store.Y_STRIDE));
    }

    /** Cuts the block into runs (a row, or an element of a row with gaps) and merges them. */
    private void cut() {
      int n = solidRows ? ySize : ySize * xSize;
      long[] s = new long[n];
      long[] e = new long[n];
      int k = 0;
      for (int y = 0; y < ySize; y++) {
        long base = addr + y * yStride;
        if (solidRows) {
          s[k] = base;
          e[k++] = base + rowSpan;
          continue;
        }
        for (int x = 0; x < xSize; x++) {
          s[k] = base + x * xStride;
          e[k] = s[k++] + elem;
        }
      }
      boolean sorted = true;
      for (int i = 1; i < n && sorted; i++) {
        sorted = s[i - 1] <= s[i];
      }
      if (!sorted) {
        // Rows that interleave (y_stride smaller than a row): order the runs by address.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
          order[i] = i;
        }
        long[] s0 = s;
        long[] e0 = e;
        Arrays.sort(order, Comparator.comparingLong(i -> s0[i]));
        s = new long[n];
        e = new long[n];
        for (int i = 0; i < n; i++) {
          s[i] = s0[order[i]];
          e[i] = e0[order[i]];
        }
      }
      int m = 0;
      for (int i = 0; i < n; i++) {
        if (m > 0 && s[i] <= e[m - 1]) {
          e[m - 1] = Math.max(e[m - 1], e[i]);
        } else {
          s[m] = s[i];
          e[m++] = e[i];
        }
      }
      starts = Arrays.copyOf(s, m);
      ends = Arrays.copyOf(e, m);
    }

    /** The index of the first run that ends after {@code address}. */
    private int firstEndingAfter(long address) {
      int low = 0;
      int high = ends.length;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (ends[mid] <= address) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      return low;
    }

    /** The first bytes {@code this} and {@code other} share, as {start, end}, or null. */
    long[] firstShared(Block other) {
      long from = Math.max(lo, other.lo);
      long to = Math.min(hi, other.hi);
      if (from >= to) {
        return null;
      }
      for (Block b : new Block[] {this, other}) {
        if (b.starts == null) {
          b.cut();
        }
      }
      int i = firstEndingAfter(from);
      int j = other.firstEndingAfter(from);
      while (i < starts.length && j < other.starts.length && starts[i] < to
          && other.starts[j] < to) {
        long start = Math.max(starts[i], other.starts[j]);
        long end = Math.min(ends[i], other.ends[j]);
        if (start < end) {
          return new long[] {start, end};
        }
        if (ends[i] <= other.ends[j]) {
          i++;
        } else {
          j++;
        }
      }
      return null;
    }
  }

  /**
   * A LOAD's read or a STORE's write of HBM not yet known to be over when last looked at, with
   * when it ends in the timing model (for the message).
   */
  private record HbmAccess(Block block, int index, int unit, boolean write, long end) {}

  /**
   * Per unit and row of one buffer, the latest write and read, by which instruction and until
   * when. What orders a unit's latest access of a row orders its earlier ones too, so only these
   * can be reported.
   */
  private static final class Rows {
    final int size;
    final long[][] writeEnd = new long[UNITS][];
    final int[][] writer = new int[UNITS][];
    final long[][] readEnd = new long[UNITS][];
    final int[][] reader = new int[UNITS][];
    /** Whether the read by {@code reader} is a MATMUL's, which a later MATMUL orders. */
    final boolean[][] streamed = new boolean[UNITS][];
    /** The latest instruction recorded: nothing conflicts once every unit is past it. */
    int latest = -1;

    Rows(int size) {
      this.size = size;
    }
  }

  /** What the later instruction of a pair conflicts on, growing as more rows turn up. */
  private static final class Conflict {
    final int earlier;
    final Unit unit;
    final String laterVerb;
    final String earlierVerb;
    /** The buffer, or null for HBM. */
    final Buffer buffer;
    /** The conflicting rows of the buffer. */
    final BitSet rows = new BitSet();
    /** The first HBM bytes both touch, from {@code start} to {@code end} (exclusive). */
    long start;
    long end;
    /** When the earlier instruction's access ends. */
    long until;

    Conflict(int earlier, Unit unit, String laterVerb, String earlierVerb, Buffer buffer) {
      this.earlier = earlier;
      this.unit = unit;
      this.laterVerb = laterVerb;
      this.earlierVerb = earlierVerb;
      this.buffer = buffer;
    }

    String resource() {
      if (buffer == null) {
        return single() ? String.format("HBM byte 0x%x", start)
            : String.format("HBM bytes 0x%x..0x%x", start, end - 1);
      }
      int first = rows.nextSetBit(0);
      int last = rows.length() - 1;
      int count = rows.cardinality();
      if (count == 1) {
        return buffer + " row " + first;
      }
      return (count == last - first + 1 ? "" : count + " ") + buffer + " rows " + first + ".."
          + last;
    }

    boolean single() {
      return buffer == null ? end - start == 1 : rows.cardinality() == 1;
    }
  }

  private static final class Checker {
    private final List<Instruction> program;
    private final DeviceParams p;
    private final Rows[] rows = new Rows[Buffer.values().length];
    private final List<HbmAccess> hbm = new ArrayList<>();
    private final List<Race> races = new ArrayList<>();
    private int total;
    /** Per unit, the instructions before this index are known to have completed. */
    private final int[] barrier = new int[UNITS];
    /** The MATMULs before this index have finished reading ABUF and WBUF. */
    private int streamBarrier;

    Checker(List<Instruction> program, DeviceParams p) {
      this.program = program;
      this.p = p;
    }

    Report run() {
      IssueClock clock = new IssueClock(p);
      for (int pc = 0; pc < program.size(); pc++) {
        Instruction in = program.get(pc);
        if (InstructionCheck.check(in, p) != null) {
          break;
        }
        long t = clock.issue(in, clock.ready(pc));
        Opcode op = in.opcode();
        if (op == Opcode.HALT) {
          break;
        }
        Unit unit = p.unitOf(op);
        issued(in, pc, unit);
        List<RowAccess> accesses = RowAccess.of(in, p);
        TreeMap<Integer, Conflict> found = new TreeMap<>();
        for (RowAccess a : accesses) {
          checkRows(a, unit.ordinal(), t, found);
        }
        Block block = null;
        boolean hbmWrite = op == Opcode.STORE;
        if (op == Opcode.LOAD || hbmWrite) {
          block = Block.of(in);
          checkHbm(block, unit.ordinal(), hbmWrite, t, found);
        }
        for (RowAccess a : accesses) {
          remember(a, pc, unit.ordinal(), a.streamed() ? clock.readsEnd() : clock.completion());
        }
        if (block != null) {
          hbm.add(new HbmAccess(block, pc, unit.ordinal(), hbmWrite, clock.completion()));
        }
        report(pc, t, found);
      }
      return new Report(races, total);
    }

    /** What the issue of {@code in} guarantees has finished (CONTRACT.md 5.1, 5.2). */
    private void issued(Instruction in, int pc, Unit unit) {
      for (Unit u : Unit.values()) {
        if ((in.waitMask() & u.waitMask()) != 0) {
          barrier[p.unit(u).ordinal()] = pc;
        }
      }
      Opcode op = in.opcode();
      if (op == Opcode.FENCE || op == Opcode.HALT) {
        Arrays.fill(barrier, pc);
      } else if (op == Opcode.MATMUL) {
        streamBarrier = pc;
      } else {
        // One at a time: LOAD, STORE, VECTOR; and on EXEC, without the VECTOR unit, a REQUANT,
        // VMAX or VADD issues only once every earlier EXEC instruction has completed.
        barrier[unit.ordinal()] = pc;
      }
    }

    /** Whether the access of instruction {@code j} on unit {@code u} is known to be over. */
    private boolean finished(int j, int u, boolean streamedRead) {
      return j < barrier[u] || streamedRead && j < streamBarrier;
    }

    private Rows rows(Buffer b) {
      if (rows[b.ordinal()] == null) {
        rows[b.ordinal()] = new Rows(p.rows(b));
      }
      return rows[b.ordinal()];
    }

    /** Conflicts of access {@code a} of an instruction on {@code unit} issued at {@code t}. */
    private void checkRows(RowAccess a, int unit, long t, Map<Integer, Conflict> found) {
      Rows s = rows(a.buffer());
      int first = (int) a.first();
      int last = (int) (a.first() + a.count());
      for (int v = 0; v < UNITS; v++) {
        if (v == unit || finished(s.latest, v, false)) {
          continue;
        }
        long[] writeEnd = s.writeEnd[v];
        long[] readEnd = a.write() ? s.readEnd[v] : null;
        for (int r = first; r < last && writeEnd != null; r++) {
          int w = s.writer[v][r];
          if (w >= 0 && !finished(w, v, false)) {
            note(found, w, v, a.verb(), "writes", a.buffer(), r, writeEnd[r]);
          }
        }
        for (int r = first; r < last && readEnd != null; r++) {
          int j = s.reader[v][r];
          if (j >= 0 && !finished(j, v, s.streamed[v][r])) {
            note(found, j, v, "writes", "reads", a.buffer(), r, readEnd[r]);
          }
        }
      }
    }

    /** Records access {@code a} of instruction {@code pc} on {@code unit}, lasting until end. */
    private void remember(RowAccess a, int pc, int unit, long end) {
      Rows s = rows(a.buffer());
      s.latest = pc;
      if (a.write()) {
        keepLatest(s.writeEnd, s.writer, null, s.size, unit, a, pc, end);
      }
      if (a.read()) {
        if (s.streamed[unit] == null) {
          s.streamed[unit] = new boolean[s.size];
        }
        keepLatest(s.readEnd, s.reader, s.streamed[unit], s.size, unit, a, pc, end);
      }
    }

    private static void keepLatest(long[][] ends, int[][] by, boolean[] streamed, int size,
        int unit, RowAccess a, int pc, long end) {
      if (ends[unit] == null) {
        ends[unit] = new long[size];
        by[unit] = new int[size];
        Arrays.fill(by[unit], -1);
      }
      for (int r = (int) a.first(), last = (int) (a.first() + a.count()); r < last; r++) {
        ends[unit][r] = end;
        by[unit][r] = pc;
        if (streamed != null) {
          streamed[r] = a.streamed();
        }
      }
    }

    /** Conflicts of a LOAD's read or a STORE's write of HBM with transfers still in flight. */
    private void checkHbm(Block block, int unit, boolean write, long t,
        Map<Integer, Conflict> found) {
      hbm.removeIf(h -> finished(h.index(), h.unit(), false));
      for (HbmAccess h : hbm) {
        if (h.unit() == unit || !h.write() && !write || found.containsKey(h.index())) {
          continue;
        }
        long[] shared = h.block().firstShared(block);
        if (shared != null) {
          Conflict c = new Conflict(h.index(), Unit.values()[h.unit()],
              write ? "writes" : "reads", h.write() ? "writes" : "reads", null);
          c.start = shared[0];
          c.end = shared[1];
          c.until = h.end();
          found.put(h.index(), c);
        }
      }
    }

    private void note(Map<Integer, Conflict> found, int earlier, int unit, String laterVerb,
        String earlierVerb, Buffer buffer, int row, long until) {
      Conflict c = found.get(earlier);
      if (c == null) {
        c = new Conflict(earlier, Unit.values()[unit], laterVerb, earlierVerb, buffer);
        found.put(earlier, c);
      } else if (c.buffer != buffer || !c.laterVerb.equals(laterVerb)
          || !c.earlierVerb.equals(earlierVerb)) {
        return;
      }
      c.rows.set(row);
      c.until = Math.max(c.until, until);
    }

    private void report(int later, long t, Map<Integer, Conflict> found) {
      for (Conflict c : found.values()) {
        total++;
        if (races.size() >= MAX_REPORTED) {
          continue;
        }
        String resource = c.resource();
        String message = String.format("instruction %d (%s) issues at cycle %d and %s %s, but"
            + " instruction %d (%s) on %s %s %s until cycle %d (in the timing model) and"
            + " nothing orders the two; give the later instruction (or one between) wait=%s", later, program.get(later), t, c.laterVerb, resource,
            c.earlier, program.get(c.earlier), c.unit, c.earlierVerb, c.single() ? "it" : "them",
            c.until, c.unit);
        races.add(new Race(c.earlier, later, c.unit, resource, message));
      }
    }
  }
}
