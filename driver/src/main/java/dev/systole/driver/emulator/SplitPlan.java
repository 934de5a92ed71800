package dev.systole.driver.emulator;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.RowAccess;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How two threads share the steps of a decoded program, each on a {@link Datapath} of its own,
 * so that each works for long stretches on data in its own core's cache.
 *
 * <p>A program's steps fall into <em>units</em>: the steps that pass data to one another through
 * the buffers (a chain, the REQUANT that reads its accumulators, the STORE that writes the result
 * out). A LOAD only brings data in from card memory, so it belongs to no unit: it runs on every
 * thread whose units read what it wrote (the weights a layer's chains all read are loaded on
 * both). Each unit runs on one thread: the units that read the same activations go together, so
 * that their LOADs run once, and in each phase (below) the groups go, largest first, to the
 * thread whose work would be the least with them, counting the LOADs they would add to it.
 *
 * <p>So that what a step reads on its thread is what it would read in program order, every step
 * that read a row runs on the thread of the step that last wrote it before, or on both. Steps
 * that write the same rows on two threads do not clash: each thread has its own buffers. A chain
 * reads its tiles' WBUF rows ({@link DecodedProgram#tilesResolved}: a program whose tiles are not
 * resolved runs on one thread). What the second thread needs from the buffers as the run
 * starts is copied to it first ({@link #startCopy}); what it wrote last is copied back after
 * ({@link #endCopy}).
 *
 * <p>Card memory is shared, so the steps are cut into <em>phases</em> in order: a step that
 * reads card memory another step of the phase writes, or writes what another reads or writes,
 * starts a new phase. A thread starts a phase's steps only when the other has finished the phases
 * before it. The phases of a network are roughly its layers: a layer's strips read its input and
 * write their own parts of its output.
 */
final class SplitPlan {
  /** Per thread (0 is the machine's, 1 the second), the steps it runs, in order. */
  final int[][] steps;
  /** Per thread, the phase of each of its steps. */
  final int[][] phases;
  /** Phases of the program. */
  final int phaseCount;
  /** Rows the second thread's buffers take from the machine's before the run: (buffer, first, count). */
  final int[] startCopy;
  /** Rows the machine's buffers take from the second thread's after the run. */
  final int[] endCopy;
  /** The estimated work of each thread, in nanoseconds, for diagnostics and tests. */
  final long[] work;

  private SplitPlan(int[][] steps, int[][] phases, int phaseCount, int[] startCopy,
      int[] endCopy, long[] work) {
    this.steps = steps;
    this.phases = phases;
    this.phaseCount = phaseCount;
    this.startCopy = startCopy;
    this.endCopy = endCopy;
    this.work = work;
  }

  /**
   * The plan for {@code program} on a device of {@code p}, or null when it cannot be split: its
   * tiles are not resolved ({@link DecodedProgram#tilesResolved}), or one thread would have all
   * the work.
   */
  static SplitPlan of(DecodedProgram program, DeviceParams p) {
    return program.tilesResolved() ? new Planner(program, p).plan() : null;
  }

  /** The estimated work of the thread with less, as a share of both threads' work. */
  double balance() {
    return (double) Math.min(work[0], work[1]) / Math.max(1, work[0] + work[1]);
  }

  /**
   * One HBM access of a LOAD or STORE: a grid of elements (the strides are unsigned fields), and
   * the bytes from its first to its last, {@code lo} to {@code hi}.
   */
  record Span(long addr, long elem, long xSize, long xStride, long ySize, long yStride,
      long lo, long hi) {
    static Span of(long addr, long elem, long xSize, long xStride, long ySize, long yStride) {
      return new Span(addr, elem, xSize, xStride, ySize, yStride, addr,
          addr + (xSize - 1) * xStride + (ySize - 1) * yStride + elem);
    }

    /**
     * The HBM bytes step {@code step} reads (a LOAD, or a run of them: each element's bytes for
     * all of them) or writes (a STORE); null for any other step.
     */
    static Span of(DecodedProgram.Step step, Instruction in) {
      if (step.chain()) {
        return null;
      }
      if (in.opcode() == Opcode.LOAD) {
        return of(in.get(Isa.Load.HBM_ADDR), step.run() * in.get(Isa.Load.ELEM_BYTES),
            in.get(Isa.Load.X_SIZE), in.get(Isa.Load.X_STRIDE), in.get(Isa.Load.Y_SIZE),
            in.get(Isa.Load.Y_STRIDE));
      }
      if (in.opcode() == Opcode.STORE) {
        return of(in.get(Isa.Store.HBM_ADDR), in.get(Isa.Store.ELEM_BYTES),
            in.get(Isa.Store.X_SIZE), in.get(Isa.Store.X_STRIDE), in.get(Isa.Store.Y_SIZE),
            in.get(Isa.Store.Y_STRIDE));
      }
      return null;
    }

    /**
     * Whether the two share no byte: their spans do not meet, or every element of both lies on
     * one grid of period P (a divisor of all their strides) and the bytes they take of each
     * period do not meet.
     */
    boolean disjoint(Span o) {
      if (hi <= o.lo || o.hi <= lo) {
        return true;
      }
      long g = gcd(period(), o.period());
      if (g == 0 || elem + o.elem > g) {
        return false;
      }
      long d = Math.floorMod(o.addr - addr, g);
      return d >= elem && d + o.elem <= g;
    }

    private long period() {
      long g = 0;
      if (xSize > 1) {
        g = gcd(g, xStride);
      }
      if (ySize > 1) {
        g = gcd(g, yStride);
      }
      return g;
    }

    private static long gcd(long a, long b) {
      while (b != 0) {
        long t = a % b;
        a = b;
        b = t;
      }
      return a;
    }
  }

  /** The card memory a phase has read and written so far. */
  private static final class PhaseAccess {
    final List<Span> reads = new ArrayList<>();
    final List<Span> writes = new ArrayList<>();
    long readLo = Long.MAX_VALUE;
    long readHi = Long.MIN_VALUE;
    long writeLo = Long.MAX_VALUE;
    long writeHi = Long.MIN_VALUE;

    boolean conflicts(Span s, boolean write) {
      return meets(s, writes, writeLo, writeHi) || write && meets(s, reads, readLo, readHi);
    }

    private static boolean meets(Span s, List<Span> list, long lo, long hi) {
      if (s.hi <= lo || hi <= s.lo) {
        return false;
      }
      for (Span t : list) {
        if (!s.disjoint(t)) {
          return true;
        }
      }
      return false;
    }

    void add(Span s, boolean write) {
      if (write) {
        writes.add(s);
        writeLo = Math.min(writeLo, s.lo);
        writeHi = Math.max(writeHi, s.hi);
      } else {
        reads.add(s);
        readLo = Math.min(readLo, s.lo);
        readHi = Math.max(readHi, s.hi);
      }
    }

    void clear() {
      reads.clear();
      writes.clear();
      readLo = Long.MAX_VALUE;
      readHi = Long.MIN_VALUE;
      writeLo = Long.MAX_VALUE;
      writeHi = Long.MIN_VALUE;
    }
  }

  /** Builds a plan: the passes of the class comment, over the steps in order. */
  private static final class Planner {
    /** Estimated costs of the fast path, in nanoseconds, for sharing the work out evenly. */
    private static final long STEP_NS = 60;
    private static final long ROW_NS = 4;
    private static final long WIDE_ROW_NS = 10;
    private static final long CHAIN_NS = 300;
    private static final long MACS_PER_NS = 70;

    private final DecodedProgram program;
    private final DeviceParams p;
    private final int lanes;
    private final int n;
    /** Per buffer, per row, the step that last wrote it, or -1. */
    private final int[][] lastWriter;
    /** Per step, the steps it reads rows from (deduplicated). */
    private final int[][] deps;
    private final List<int[]> startReads = new ArrayList<>();
    private final long[] cost;
    private final boolean[] load;
    /** Per step, whether it is a LOAD into ABUF. */
    private final boolean[] activations;

    Planner(DecodedProgram program, DeviceParams p) {
      this.program = program;
      this.p = p;
      this.lanes = p.lanes();
      this.n = program.steps.length;
      this.lastWriter = new int[Buffer.values().length][];
      for (Buffer b : Buffer.values()) {
        lastWriter[b.ordinal()] = new int[Math.max(0, p.rows(b))];
        Arrays.fill(lastWriter[b.ordinal()], -1);
      }
      this.deps = new int[n][];
      this.cost = new long[n];
      this.load = new boolean[n];
      this.activations = new boolean[n];
    }

    SplitPlan plan() {
      dependencies();
      int[] phase = phases();
      int[] unit = units();
      int[] mask = assign(unit, phase);
      int[][] steps = new int[2][];
      int[][] phases = new int[2][];
      long[] work = new long[2];
      for (int t = 0; t < 2; t++) {
        int count = 0;
        for (int j = 0; j < n; j++) {
          count += (mask[j] >> t) & 1;
        }
        steps[t] = new int[count];
        phases[t] = new int[count];
        int k = 0;
        for (int j = 0; j < n; j++) {
          if (((mask[j] >> t) & 1) != 0) {
            steps[t][k] = j;
            phases[t][k++] = phase[j];
            work[t] += cost[j];
          }
        }
      }
      if (steps[1].length == 0 || steps[0].length == 0) {
        return null;
      }
      int phaseCount = n == 0 ? 0 : phase[n - 1] + 1;
      return new SplitPlan(steps, phases, phaseCount, startCopy(mask), endCopy(mask), work);
    }

    /** Walks the steps in order: each one's reads, from whom, and its cost. */
    private void dependencies() {
      Instruction[] code = program.code;
      int[] seen = new int[n];
      Arrays.fill(seen, -1);
      int[] found = new int[16];
      for (int j = 0; j < n; j++) {
        DecodedProgram.Step step = program.steps[j];
        int count = 0;
        List<int[]> reads = new ArrayList<>();
        List<int[]> writes = new ArrayList<>();
        if (step.chain()) {
          chainAccess(j, step, code, reads, writes);
        } else {
          Instruction in = code[step.first()];
          load[j] = in.opcode() == Opcode.LOAD;
          activations[j] = load[j] && in.get(Isa.Load.BUF) == Buffer.ABUF.id();
          for (RowAccess a : program.rows(j, p)) {
            int[] r = {a.buffer().ordinal(), (int) a.first(), (int) a.count()};
            if (a.read()) {
              reads.add(r);
            }
            if (a.write()) {
              writes.add(r);
            }
          }
          cost[j] = step.run() * oneCost(in);
        }
        for (int[] r : reads) {
          int[] w = lastWriter[r[0]];
          boolean fromStart = false;
          for (int row = r[1]; row < r[1] + r[2]; row++) {
            int k = w[row];
            if (k < 0) {
              fromStart = true;
              continue;
            }
            if (seen[k] != j) {
              seen[k] = j;
              if (count == found.length) {
                found = Arrays.copyOf(found, 2 * count);
              }
              found[count++] = k;
            }
          }
          if (fromStart) {
            startReads.add(new int[] {j, r[0], r[1], r[2]});
          }
        }
        deps[j] = Arrays.copyOf(found, count);
        for (int[] r : writes) {
          Arrays.fill(lastWriter[r[0]], r[1], r[1] + r[2], j);
        }
      }
    }

    /** A chain step's reads (its activations, its tiles' WBUF rows), writes and cost. */
    private void chainAccess(int j, DecodedProgram.Step step, Instruction[] code,
        List<int[]> reads, List<int[]> writes) {
      int[] at = program.tileAt(j);
      int[] abufAt = program.abufAt[j];
      Instruction first = code[step.first()];
      int rows = (int) first.get(Isa.Matmul.ROWS);
      for (int m = 0; m < at.length; m++) {
        if (at[m] >= 0) {
          reads.add(new int[] {Buffer.WBUF.ordinal(), at[m] / lanes, lanes});
        }
        reads.add(new int[] {Buffer.ABUF.ordinal(), abufAt[m] / lanes, rows});
      }
      int acc = Buffer.ACC.ordinal();
      boolean accumulate = first.flag(Isa.Matmul.ACCUMULATE);
      int chains = step.pair() ? 2 : 1;
      for (int c = 0; c < chains; c++) {
        Instruction head = code[step.members()[c * step.tilesPerChain()]];
        int[] r = {acc, (int) head.get(Isa.Matmul.ACC_ROW), rows};
        if (accumulate) {
          reads.add(r);
        }
        writes.add(r);
      }
      cost[j] = CHAIN_NS + (long) rows * at.length * lanes * lanes / MACS_PER_NS;
    }

    private long oneCost(Instruction in) {
      long rows = 0;
      boolean wide = false;
      for (RowAccess a : RowAccess.of(in, p)) {
        rows += a.count();
        wide |= a.buffer() == Buffer.ACC || a.buffer() == Buffer.LUT;
      }
      if (in.opcode() == Opcode.LOAD || in.opcode() == Opcode.STORE) {
        rows = InstructionCheck.rowsTouched(in, in.opcode() == Opcode.LOAD);
      }
      return STEP_NS + rows * (wide ? WIDE_ROW_NS : ROW_NS);
    }

    /** Per step, its phase (class comment). */
    private int[] phases() {
      int[] phase = new int[n];
      PhaseAccess now = new PhaseAccess();
      int current = 0;
      for (int j = 0; j < n; j++) {
        DecodedProgram.Step step = program.steps[j];
        Instruction in = program.code[step.first()];
        Span s = Span.of(step, in);
        boolean write = in.opcode() == Opcode.STORE;
        if (s != null && s.xSize > 0 && s.ySize > 0) {
          if (now.conflicts(s, write)) {
            current++;
            now.clear();
          }
          now.add(s, write);
        }
        phase[j] = current;
      }
      return phase;
    }

    /** Per step, its unit (the step of the unit met first); -1 for a LOAD. */
    private int[] units() {
      int[] parent = new int[n];
      for (int j = 0; j < n; j++) {
        parent[j] = load[j] ? -1 : j;
      }
      for (int j = 0; j < n; j++) {
        if (load[j]) {
          continue;
        }
        for (int k : deps[j]) {
          if (!load[k]) {
            int a = root(parent, j);
            int b = root(parent, k);
            if (a != b) {
              parent[Math.max(a, b)] = Math.min(a, b);
            }
          }
        }
      }
      for (int j = 0; j < n; j++) {
        if (!load[j]) {
          parent[j] = root(parent, j);
        }
      }
      return parent;
    }

    private static int root(int[] parent, int j) {
      while (parent[j] != j) {
        parent[j] = parent[parent[j]];
        j = parent[j];
      }
      return j;
    }

    /** Units whose work is more than this share of their phase's are shared out one by one. */
    private static final int LARGE = 8;

    /**
     * Per step, the threads that run it as bits (1 the machine's, 2 the second). The units that
     * read the same activations (a LOAD into ABUF) are kept together, so that the LOAD runs once,
     * unless that makes a group larger than 1/{@link #LARGE} of its phase. In each phase the
     * groups go, largest first, each to the thread whose work would be the least with it and the
     * LOADs it reads that the thread does not run yet (weights, mostly). Each LOAD runs on the
     * threads of its readers.
     */
    private int[] assign(int[] unit, int[] phase) {
      int[] mask = new int[n];
      int phases = n == 0 ? 0 : phase[n - 1] + 1;
      // The steps of each unit, listed from the unit's first step (its number).
      int[] next = new int[n];
      int[] tail = new int[n];
      Arrays.fill(next, -1);
      long[] unitCost = new long[n];
      for (int j = 0; j < n; j++) {
        int u = unit[j];
        if (u < 0) {
          continue;
        }
        if (u != j) {
          next[tail[u]] = j;
        }
        tail[u] = j;
        unitCost[u] += cost[j];
      }
      // Groups of units that read a LOAD into ABUF in common.
      int[] group = new int[n];
      int[] firstReader = new int[n];
      Arrays.fill(firstReader, -1);
      for (int u = 0; u < n; u++) {
        group[u] = u;
      }
      for (int u = 0; u < n; u++) {
        if (unit[u] != u) {
          continue;
        }
        for (int k = u; k >= 0; k = next[k]) {
          for (int d : deps[k]) {
            if (activations[d]) {
              if (firstReader[d] < 0) {
                firstReader[d] = u;
              } else {
                int x = root(group, u);
                int y = root(group, firstReader[d]);
                if (x != y) {
                  group[Math.max(x, y)] = Math.min(x, y);
                }
              }
            }
          }
        }
      }
      long[] groupCost = new long[n];
      long[] phaseCost = new long[phases];
      for (int u = 0; u < n; u++) {
        if (unit[u] == u) {
          groupCost[root(group, u)] += unitCost[u];
          phaseCost[phase[u]] += unitCost[u];
        }
      }
      // The items shared out: a group, or each unit of a large group; by phase.
      List<List<int[]>> items = new ArrayList<>();
      for (int q = 0; q < phases; q++) {
        items.add(new ArrayList<>());
      }
      int[] itemOf = new int[n];
      Arrays.fill(itemOf, -1);
      List<List<Integer>> members = new ArrayList<>();
      for (int u = 0; u < n; u++) {
        if (unit[u] != u) {
          continue;
        }
        int g = root(group, u);
        boolean whole = groupCost[g] * LARGE <= phaseCost[phase[g]];
        int key = whole ? g : u;
        if (itemOf[key] < 0) {
          itemOf[key] = members.size();
          members.add(new ArrayList<>());
          items.get(phase[key]).add(new int[] {itemOf[key]});
        }
        members.get(itemOf[key]).add(u);
      }
      long[] work = new long[2];
      int[] counted = new int[n];
      Arrays.fill(counted, -1);
      for (int q = 0; q < phases; q++) {
        List<int[]> list = items.get(q);
        long[] itemCost = new long[members.size()];
        for (int[] it : list) {
          for (int u : members.get(it[0])) {
            itemCost[it[0]] += unitCost[u];
          }
        }
        list.sort((x, y) -> Long.compare(itemCost[y[0]], itemCost[x[0]]));
        work[0] = 0;
        work[1] = 0;
        for (int[] it : list) {
          long[] extra = new long[2];
          for (int u : members.get(it[0])) {
            for (int k = u; k >= 0; k = next[k]) {
              for (int d : deps[k]) {
                if (load[d] && counted[d] != it[0]) {
                  counted[d] = it[0];
                  for (int t = 0; t < 2; t++) {
                    if ((mask[d] & (1 << t)) == 0) {
                      extra[t] += cost[d];
                    }
                  }
                }
              }
            }
          }
          int t = work[0] + extra[0] <= work[1] + extra[1] ? 0 : 1;
          work[t] += itemCost[it[0]] + extra[t];
          for (int u : members.get(it[0])) {
            for (int k = u; k >= 0; k = next[k]) {
              mask[k] = 1 << t;
              for (int d : deps[k]) {
                if (load[d]) {
                  mask[d] |= 1 << t;
                }
              }
            }
          }
        }
      }
      for (int j = 0; j < n; j++) {
        if (mask[j] == 0) {
          mask[j] = 1;
        }
      }
      return mask;
    }

    /** The rows the second thread's steps read that no step wrote before them. */
    private int[] startCopy(int[] mask) {
      boolean[][] rows = new boolean[lastWriter.length][];
      for (int b = 0; b < rows.length; b++) {
        rows[b] = new boolean[lastWriter[b].length];
      }
      for (int[] r : startReads) {
        if ((mask[r[0]] & 2) != 0) {
          Arrays.fill(rows[r[1]], r[2], r[2] + r[3], true);
        }
      }
      return ranges(rows);
    }

    /** The rows whose last writer runs on the second thread only. */
    private int[] endCopy(int[] mask) {
      boolean[][] rows = new boolean[lastWriter.length][];
      for (int b = 0; b < rows.length; b++) {
        rows[b] = new boolean[lastWriter[b].length];
        for (int r = 0; r < rows[b].length; r++) {
          int w = lastWriter[b][r];
          rows[b][r] = w >= 0 && mask[w] == 2;
        }
      }
      return ranges(rows);
    }

    private static int[] ranges(boolean[][] rows) {
      List<Integer> out = new ArrayList<>();
      for (int b = 0; b < rows.length; b++) {
        for (int r = 0; r < rows[b].length; ) {
          if (!rows[b][r]) {
            r++;
            continue;
          }
          int s = r;
          while (r < rows[b].length && rows[b][r]) {
            r++;
          }
          out.add(b);
          out.add(s);
          out.add(r - s);
        }
      }
      return out.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
