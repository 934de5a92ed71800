package dev.systole.driver.emulator;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.InstrField;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.RowAccess;
import dev.systole.driver.timing.IssueClock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A program as the fast path runs it: fetched, decoded and checked once, its cycles and counters
 * computed once from the timing model (they follow from the instructions alone), and its
 * instructions grouped into {@link Step steps}. A program that runs again unchanged (a session
 * runs the same program for every inference) costs none of this again: the machine keeps it while
 * the card memory says that its bytes were not written ({@link CardMemory#writeStamp}).
 *
 * <p>Steps run in order. A step is one instruction, or a chain of MATMULs into the same
 * accumulator rows (a dot product longer than the array, split by the compiler into one MATMUL
 * per tile), which the kernel computes in one pass ({@link MatmulKernel#chain}). A chain runs
 * where it ends, after the instructions between its MATMULs; it ends before any instruction that
 * touches its accumulator rows or writes rows its MATMULs read (from {@link RowAccess}), so no
 * instruction can tell that it ran later than in program order, and the bytes are those of
 * running every instruction in turn. Two chains over the same activation rows may be one step
 * ({@link Step#pair}, see {@link #pairs}), and so may a run of LOADs that read neighbouring
 * elements ({@link Step#run}, see {@link #loadRuns}).
 *
 * <p>The weight tiles a chain's MATMULs use follow from each MATMUL's flags (load, swap,
 * preload), in order; they are resolved once, to the WBUF rows each was loaded from ({@link
 * #resolveTiles}), where those rows are not written while the array holds the tile, and otherwise
 * followed as the chains run. Whether a MATMUL finds no tile (NO_WEIGHTS) depends on what the run
 * before left in the array, so it is precomputed for each of the four states the array can start
 * in ({@link #noWeights}); a run that would fail that way is left to the interpreter.
 */
final class DecodedProgram {
  /**
   * One step: instruction {@code first}, or the MATMULs at {@code members} (first included); an
   * instruction that writes ABUF writes {@code abufRows} rows from {@code abufRow}; {@code access}
   * is all it touches. A step of two chains (a {@link #pair}) holds the first chain's MATMULs and
   * then the second's, the second's from {@code second} on. A LOAD step with {@code run} above 1
   * is that LOAD and the {@code run - 1} LOAD steps after it ({@link #loadRuns}), which read the
   * elements next to it and write the rows after it; every other step has {@code run} 1.
   */
  record Step(int first, int[] members, int second, int abufRow, int abufRows,
      StepAccess access, int run) {
    boolean chain() {
      return members != null;
    }

    /** Whether this step is two chains over the same activation rows. */
    boolean pair() {
      return second > 0;
    }

    /** MATMULs of each chain of the step. */
    int tilesPerChain() {
      return second > 0 ? second : members.length;
    }
  }

  final long address;
  final long length;
  /** The card memory's write stamp of the program's bytes when they were decoded. */
  final long stamp;
  final Instruction[] code;
  final Step[] steps;
  /**
   * Per chain step, what each of its MATMULs does to the array's tiles and where its rows start,
   * {@link #MOVE_FIELDS} ints each: the flags ({@link #SWAP}, {@link #LOAD}, {@link #PRELOAD}),
   * the WBUF row of a load, the ABUF row, the WBUF row of a preload; null for other steps. Read
   * once here, so that neither resolving the tiles nor following them as the chains run reads
   * the instructions' fields again.
   */
  final int[][] tileMoves;

  /**
   * Per chain step, where each MATMUL's tile is, resolved once ({@link #resolveTiles}): the lane
   * offset of its first WBUF row, or {@link #START_ACTIVE} or {@link #START_SHADOW} for a tile the
   * array held when the run began; null for other steps, and for every step of a program in which
   * a tile's WBUF rows are written while the array holds it (its steps take their tiles from the
   * array as it goes, {@code Datapath#takeTiles}).
   */
  private int[][] tileAt;
  /** Per chain step, the lane offset of each MATMUL's first ABUF row. */
  final int[][] abufAt;
  /**
   * Per LOAD step, its fields, read once here (a LOAD's dozen fields cost about as much to read
   * as a short LOAD takes to move its bytes); null for other steps.
   */
  final Datapath.LoadFields[] loads;
  /** Per chain step, whether one of its MATMULs takes a tile held when the run began. */
  private boolean[] fromStart;
  /**
   * Where the tiles the array holds at the end come from, active then shadow: a lane offset in
   * WBUF, {@link #START_ACTIVE} or {@link #START_SHADOW}; null when the tiles are not resolved.
   */
  private int[] finalTiles;
  /** Per start state of the array's valid bits (active | 2 shadow), the bits at the end. */
  final int[] finalValid = new int[4];

  static final int START_ACTIVE = -1;
  static final int START_SHADOW = -2;

  static final int MOVE_FIELDS = 4;
  static final int SWAP = 1;
  static final int LOAD = 2;
  static final int PRELOAD = 4;
  /** The run's outcome when no MATMUL finds the array empty. */
  final Machine.Outcome outcome;
  /** The run's counts when no MATMUL finds the array empty. */
  final RunCounts counts;
  /** The index of the first MATMUL that finds no weights, or -1, per start state (active | 2 shadow). */
  private final int[] noWeights = new int[4];

  private DecodedProgram(long address, long length, long stamp, Instruction[] code,
      Step[] steps, Machine.Outcome outcome, RunCounts counts, int lanes) {
    this.address = address;
    this.length = length;
    this.stamp = stamp;
    this.code = code;
    this.steps = steps;
    this.tileMoves = new int[steps.length][];
    this.abufAt = new int[steps.length][];
    this.loads = new Datapath.LoadFields[steps.length];
    for (int j = 0; j < steps.length; j++) {
      int[] members = steps[j].members();
      if (members == null) {
        Instruction in = code[steps[j].first()];
        if (in.opcode() == Opcode.LOAD) {
          loads[j] = new Datapath.LoadFields(in);
        }
        continue;
      }
      int[] moves = new int[MOVE_FIELDS * members.length];
      for (int m = 0; m < members.length; m++) {
        Instruction in = code[members[m]];
        moves[MOVE_FIELDS * m] = (in.flag(Isa.Matmul.W_SWAP) ? SWAP : 0)
            | (in.flag(Isa.Matmul.W_LOAD) ? LOAD : 0) | (in.flag(Isa.Matmul.W_PRELOAD) ? PRELOAD : 0);
        moves[MOVE_FIELDS * m + 1] = (int) in.get(Isa.Matmul.W_ROW);
        moves[MOVE_FIELDS * m + 2] = (int) in.get(Isa.Matmul.A_ROW);
        moves[MOVE_FIELDS * m + 3] = (int) in.get(Isa.Matmul.PRE_ROW);
      }
      tileMoves[j] = moves;
      abufAt[j] = new int[members.length];
      for (int m = 0; m < members.length; m++) {
        abufAt[j][m] = moves[MOVE_FIELDS * m + 2] * lanes;
      }
    }
    this.outcome = outcome;
    this.counts = counts;
  }

  private SplitPlan split;
  private boolean splitPlanned;

  /** How two threads share this program's steps, planned on first use; null if they cannot. */
  SplitPlan split(DeviceParams p) {
    if (!splitPlanned) {
      split = SplitPlan.of(this, p);
      splitPlanned = true;
    }
    return split;
  }

  /** MATMULs of one step at most; the kernel cuts a chain into exact segments itself. */
  static final int MAX_CHAIN = 1024;

  /** Instructions decoded for one program at most: beyond this the interpreter runs it. */
  static final int MAX_INSTRUCTIONS = 1 << 21;

  /**
   * Decodes the {@code length} instructions at card {@code address}, whose range the caller has
   * checked, on a device of {@code p}.
   */
  static DecodedProgram decode(CardMemory memory, long address, long length, DeviceParams p) {
    long stamp = memory.writeStamp(address, length * Contract.INSTRUCTION_BYTES);
    int n = (int) length;
    byte[] bytes = new byte[n * Contract.INSTRUCTION_BYTES];
    memory.read(address, bytes, 0, bytes.length);
    List<Instruction> code = new ArrayList<>();
    IssueClock clock = new IssueClock(p);
    RunCounts counts = new RunCounts();
    int lanes = p.lanes();
    Machine.Outcome outcome = null;
    for (int pc = 0; pc < n && outcome == null; pc++) {
      long ready = clock.ready(pc);
      Instruction in = Instruction.read(bytes, pc * Contract.INSTRUCTION_BYTES);
      InstructionCheck.Violation v = InstructionCheck.check(in, p);
      if (v != null) {
        outcome = new Machine.Outcome(v.code(), pc, clock.drained(ready) + 1, false);
        break;
      }
      long issue = clock.issue(in, ready);
      counts.executed(in, lanes,
          in.opcode().requires() != null ? clock.completion() - issue : 0);
      code.add(in);
      if (in.opcode() == Opcode.HALT) {
        outcome = new Machine.Outcome(ErrorCode.NONE, 0, issue + 1, false);
      }
    }
    if (outcome == null) {
      outcome = new Machine.Outcome(ErrorCode.PROG_END, length,
          clock.drained(clock.ready(length)) + 1, false);
    }
    counts.busyCycles = outcome.cycles();
    counts.stallCycles = clock.stallCycles();
    Instruction[] decoded = code.toArray(new Instruction[0]);
    DecodedProgram program = new DecodedProgram(address, length, stamp, decoded,
        steps(decoded, p), outcome, counts, p.lanes());
    program.resolveTiles(p);
    for (int state = 0; state < 4; state++) {
      program.walkValid(state);
    }
    return program;
  }

  /**
   * The buffer rows step {@code j}, not a chain, touches ({@link RowAccess#of}); for a run of
   * LOADs ({@link Step#run}), the rows of all of them.
   */
  List<RowAccess> rows(int j, DeviceParams p) {
    Step step = steps[j];
    Instruction in = code[step.first()];
    if (step.run() == 1) {
      return RowAccess.of(in, p);
    }
    return List.of(new RowAccess(Buffer.fromId(in.get(Isa.Load.BUF)), in.get(Isa.Load.DST_ROW),
        step.run() * InstructionCheck.rowsTouched(in, true), false, true, false));
  }

  /** Whether every chain's tiles are resolved ({@link #tileAt}). */
  boolean tilesResolved() {
    return finalTiles != null;
  }

  /** Step {@code j}'s tiles as {@link #tileAt} holds them (the tiles must be resolved). */
  int[] tileAt(int j) {
    return tileAt[j];
  }

  /** Whether chain step {@code j} takes a tile the array held when the run began. */
  boolean fromStart(int j) {
    return fromStart[j];
  }

  /** {@link #finalTiles}, for a run whose tiles are resolved. */
  int[] finalTiles() {
    return finalTiles;
  }

  /**
   * Resolves each chain's tiles, in the order the steps run, to the WBUF rows they were loaded
   * or preloaded from ({@link #tileAt}), and where the tiles held at the end come from ({@link
   * #finalTiles}). A tile stays its WBUF rows while no step writes them; when one does before
   * the tile is used, or before the run ends while the array still holds the tile, the rows no
   * longer say what the tile is, and nothing is resolved.
   */
  private void resolveTiles(DeviceParams p) {
    int lanes = p.lanes();
    int[] lastWriter = new int[p.wbufRows()];
    Arrays.fill(lastWriter, -1);
    // Kind (a lane offset or START_*), version (the last writer of its rows), active then shadow.
    int[] held = {START_ACTIVE, 0, START_SHADOW, 0};
    int[][] at = new int[steps.length][];
    boolean[] start = new boolean[steps.length];
    for (int j = 0; j < steps.length; j++) {
      int[] moves = tileMoves[j];
      if (moves == null) {
        for (RowAccess a : rows(j, p)) {
          if (a.write() && a.buffer() == Buffer.WBUF) {
            Arrays.fill(lastWriter, (int) a.first(), (int) (a.first() + a.count()), j);
          }
        }
        continue;
      }
      int members = moves.length / MOVE_FIELDS;
      at[j] = new int[members];
      for (int m = 0; m < members; m++) {
        int flags = moves[MOVE_FIELDS * m];
        if ((flags & SWAP) != 0) {
          held[0] = held[2];
          held[1] = held[3];
        }
        if ((flags & LOAD) != 0) {
          held[0] = moves[MOVE_FIELDS * m + 1] * lanes;
          held[1] = version(lastWriter, moves[MOVE_FIELDS * m + 1], lanes);
        }
        if (held[0] >= 0 && version(lastWriter, held[0] / lanes, lanes) != held[1]) {
          return;
        }
        at[j][m] = held[0];
        start[j] |= held[0] < 0;
        if ((flags & PRELOAD) != 0) {
          held[2] = moves[MOVE_FIELDS * m + 3] * lanes;
          held[3] = version(lastWriter, moves[MOVE_FIELDS * m + 3], lanes);
        }
      }
    }
    for (int t = 0; t < 4; t += 2) {
      if (held[t] >= 0 && version(lastWriter, held[t] / lanes, lanes) != held[t + 1]) {
        return;
      }
    }
    tileAt = at;
    fromStart = start;
    finalTiles = new int[] {held[0], held[2]};
  }

  /** The last step to write any of the {@code lanes} WBUF rows from {@code row}, or -1. */
  private static int version(int[] lastWriter, int row, int lanes) {
    int v = -1;
    for (int r = row; r < row + lanes; r++) {
      v = Math.max(v, lastWriter[r]);
    }
    return v;
  }

  /**
   * The index of the first MATMUL that would find no weights in a run that starts with the
   * array as given, or -1 if none would.
   */
  int noWeights(boolean activeValid, boolean shadowValid) {
    return noWeights[(activeValid ? 1 : 0) | (shadowValid ? 2 : 0)];
  }

  /**
   * Follows the array's valid bits through the MATMULs from start state {@code state} (active |
   * 2 shadow): the first that would find no weights goes to {@link #noWeights}, the bits at the
   * end to {@link #finalValid} (meaningful when none would).
   */
  private void walkValid(int state) {
    boolean active = (state & 1) != 0;
    boolean shadow = (state & 2) != 0;
    int first = -1;
    for (int pc = 0; pc < code.length; pc++) {
      Instruction in = code[pc];
      if (in.opcode() != Opcode.MATMUL) {
        continue;
      }
      boolean swap = in.flag(Isa.Matmul.W_SWAP);
      if (first < 0 && (swap ? !shadow : !in.flag(Isa.Matmul.W_LOAD) && !active)) {
        first = pc;
      }
      if (swap || in.flag(Isa.Matmul.W_LOAD)) {
        shadow = false;
      }
      active = true;
      if (in.flag(Isa.Matmul.W_PRELOAD)) {
        shadow = true;
      }
    }
    noWeights[state] = first;
    finalValid[state] = (active ? 1 : 0) | (shadow ? 2 : 0);
  }

  /** Groups the instructions into steps, chaining MATMULs as the class comment says. */
  private static Step[] steps(Instruction[] code, DeviceParams p) {
    List<Step> steps = new ArrayList<>(code.length);
    Chain open = null;
    for (int pc = 0; pc < code.length; pc++) {
      Instruction in = code[pc];
      if (in.opcode() == Opcode.MATMUL) {
        if (open == null || !open.takes(in)) {
          close(open, steps);
          open = new Chain(in, p);
        }
        open.add(pc, in, p);
        continue;
      }
      List<RowAccess> accesses = RowAccess.of(in, p);
      if (open != null && open.conflicts(accesses)) {
        close(open, steps);
        open = null;
      }
      if (in.opcode() != Opcode.HALT && in.opcode() != Opcode.FENCE) {
        steps.add(one(pc, in, p));
      }
    }
    close(open, steps);
    return loadRuns(pairs(steps, code), code, p).toArray(new Step[0]);
  }

  /** LOADs one step runs at most ({@link #loadRuns}). */
  static final int MAX_RUN = 16;

  /**
   * The steps with each run of consecutive LOAD steps that read neighbouring elements made one
   * step ({@link Step#run}): LOADs of whole rows (ELEM_BYTES = D) into ABUF or WBUF, equal in
   * every field but HBM_ADDR, which each starts ELEM_BYTES after the one before's, and DST_ROW,
   * which each starts after the rows the one before writes. A compiler emits such runs for the
   * blocks of D channels of a convolution's input; the step reads each element's bytes for all of
   * its LOADs at once. They are consecutive steps, touch no row in common and only read card
   * memory, so running them together gives the bytes of running them in turn.
   */
  private static List<Step> loadRuns(List<Step> steps, Instruction[] code, DeviceParams p) {
    List<Step> out = new ArrayList<>(steps.size());
    for (int i = 0; i < steps.size(); ) {
      Step a = steps.get(i);
      int k = 1;
      if (runnable(a, code, p)) {
        Instruction head = code[a.first()];
        long rows = InstructionCheck.rowsTouched(head, true);
        long elem = head.get(Isa.Load.ELEM_BYTES);
        while (i + k < steps.size() && k < MAX_RUN && runnable(steps.get(i + k), code, p)) {
          Instruction in = code[steps.get(i + k).first()];
          if (!sameButPlace(head, in)
              || in.get(Isa.Load.HBM_ADDR) != head.get(Isa.Load.HBM_ADDR) + k * elem
              || in.get(Isa.Load.DST_ROW) != head.get(Isa.Load.DST_ROW) + k * rows) {
            break;
          }
          k++;
        }
      }
      if (k == 1) {
        out.add(a);
      } else {
        StepAccess access = a.access();
        for (int m = 1; m < k; m++) {
          access = StepAccess.union(access, steps.get(i + m).access());
        }
        boolean abuf = code[a.first()].get(Isa.Load.BUF) == Buffer.ABUF.id();
        Step last = steps.get(i + k - 1);
        out.add(new Step(a.first(), null, 0, a.abufRow(),
            abuf ? last.abufRow() + last.abufRows() - a.abufRow() : 0, access, k));
      }
      i += k;
    }
    return out;
  }

  /** Whether {@code s} is a LOAD that can be part of a run ({@link #loadRuns}). */
  private static boolean runnable(Step s, Instruction[] code, DeviceParams p) {
    if (s.chain()) {
      return false;
    }
    Instruction in = code[s.first()];
    return in.opcode() == Opcode.LOAD && in.get(Isa.Load.ELEM_BYTES) == p.lanes()
        && (in.get(Isa.Load.BUF) == Buffer.ABUF.id() || in.get(Isa.Load.BUF) == Buffer.WBUF.id());
  }

  /** Whether two LOADs are equal in every field but where they read and write. */
  private static boolean sameButPlace(Instruction a, Instruction b) {
    for (InstrField f : new InstrField[] {Isa.Load.BUF, Isa.Load.ELEM_BYTES, Isa.Load.PAD_VALUE,
        Isa.Load.X_SIZE, Isa.Load.Y_SIZE, Isa.Load.X_STRIDE, Isa.Load.Y_STRIDE, Isa.Load.X_PAD0,
        Isa.Load.X_PAD1, Isa.Load.Y_PAD0, Isa.Load.Y_PAD1}) {
      if (a.get(f) != b.get(f)) {
        return false;
      }
    }
    return true;
  }

  /** Steps a chain looks ahead for the next chain, to pair with it. */
  private static final int PAIR_LOOKAHEAD = 32;

  /**
   * The steps with each chain that the next chain can join made a {@link Step#pair}: the next
   * chain reads the same activation rows through as many tiles, into other accumulator rows, and
   * touches nothing that the steps between them touch (it conflicts with none of them, as
   * {@link StepAccess} says), so that running it at once after the first gives the same bytes as
   * running it in its place. No MATMUL lies between two chains, so the tiles are taken in program
   * order still. The kernel computes a pair in one pass, each activation read once for both
   * chains' tiles: a convolution or matrix product computes each block of output columns as a
   * chain over the same rows, one after another.
   */
  private static List<Step> pairs(List<Step> steps, Instruction[] code) {
    List<Step> out = new ArrayList<>(steps.size());
    boolean[] moved = new boolean[steps.size()];
    for (int i = 0; i < steps.size(); i++) {
      if (moved[i]) {
        continue;
      }
      Step a = steps.get(i);
      int j = a.chain() ? partner(steps, moved, i, code) : -1;
      if (j < 0) {
        out.add(a);
        continue;
      }
      Step b = steps.get(j);
      moved[j] = true;
      int[] members = new int[2 * a.members().length];
      System.arraycopy(a.members(), 0, members, 0, a.members().length);
      System.arraycopy(b.members(), 0, members, a.members().length, b.members().length);
      out.add(new Step(a.first(), members, a.members().length, 0, 0,
          StepAccess.union(a.access(), b.access()), 1));
    }
    return out;
  }

  /** The index of the chain that can join chain step {@code i} as a pair, or -1. */
  private static int partner(List<Step> steps, boolean[] moved, int i, Instruction[] code) {
    Step a = steps.get(i);
    int end = Math.min(steps.size(), i + 1 + PAIR_LOOKAHEAD);
    for (int j = i + 1; j < end; j++) {
      Step b = steps.get(j);
      if (moved[j] || !b.chain()) {
        continue;
      }
      if (!sameRows(a, b, code) || a.access().conflicts(b.access())) {
        return -1;
      }
      for (int t = i + 1; t < j; t++) {
        if (!moved[t] && steps.get(t).access().conflicts(b.access())) {
          return -1;
        }
      }
      return j;
    }
    return -1;
  }

  /**
   * Whether chains {@code a} and {@code b} stream the same ABUF rows through the same number of
   * tiles, both starting on or both adding to their accumulators.
   */
  private static boolean sameRows(Step a, Step b, Instruction[] code) {
    int[] x = a.members();
    int[] y = b.members();
    if (x.length != y.length) {
      return false;
    }
    Instruction fx = code[x[0]];
    Instruction fy = code[y[0]];
    if (fx.get(Isa.Matmul.ROWS) != fy.get(Isa.Matmul.ROWS)
        || fx.flag(Isa.Matmul.ACCUMULATE) != fy.flag(Isa.Matmul.ACCUMULATE)) {
      return false;
    }
    for (int m = 0; m < x.length; m++) {
      if (code[x[m]].get(Isa.Matmul.A_ROW) != code[y[m]].get(Isa.Matmul.A_ROW)) {
        return false;
      }
    }
    return true;
  }

  private static void close(Chain chain, List<Step> steps) {
    if (chain != null) {
      int[] members = chain.members.stream().mapToInt(Integer::intValue).toArray();
      List<RowAccess> rows = new ArrayList<>(chain.reads);
      rows.add(chain.accumulators);
      steps.add(new Step(members[0], members, 0, 0, 0, StepAccess.ofChain(rows), 1));
    }
  }

  /** The step of instruction {@code pc}, which is not a MATMUL, with the ABUF rows it writes. */
  private static Step one(int pc, Instruction in, DeviceParams p) {
    List<RowAccess> rows = RowAccess.of(in, p);
    RowAccess written = abufWrite(rows);
    StepAccess access = StepAccess.of(in, rows);
    return written == null ? new Step(pc, null, 0, 0, 0, access, 1)
        : new Step(pc, null, 0, (int) written.first(), (int) written.count(), access, 1);
  }

  /** The ABUF rows among {@code rows} that are written, or null (an instruction writes one range). */
  static RowAccess abufWrite(List<RowAccess> rows) {
    for (RowAccess a : rows) {
      if (a.write() && a.buffer() == Buffer.ABUF) {
        return a;
      }
    }
    return null;
  }

  /** MATMULs being gathered into one step, with the rows they read and write. */
  private static final class Chain {
    final long accRow;
    final long rows;
    final List<Integer> members = new ArrayList<>();
    final List<RowAccess> reads = new ArrayList<>();
    final RowAccess accumulators;

    Chain(Instruction first, DeviceParams p) {
      accRow = first.get(Isa.Matmul.ACC_ROW);
      rows = first.get(Isa.Matmul.ROWS);
      accumulators = new RowAccess(Buffer.ACC, accRow, rows, true, true, false);
    }

    boolean takes(Instruction in) {
      return in.flag(Isa.Matmul.ACCUMULATE) && in.get(Isa.Matmul.ACC_ROW) == accRow
          && in.get(Isa.Matmul.ROWS) == rows && members.size() < MAX_CHAIN;
    }

    void add(int pc, Instruction in, DeviceParams p) {
      members.add(pc);
      for (RowAccess a : RowAccess.of(in, p)) {
        if (a.buffer() != Buffer.ACC) {
          reads.add(a);
        }
      }
    }

    /** Whether an instruction with {@code accesses} must run after this chain. */
    boolean conflicts(List<RowAccess> accesses) {
      for (RowAccess a : accesses) {
        if (a.overlaps(accumulators)) {
          return true;
        }
        if (a.write()) {
          for (RowAccess r : reads) {
            if (a.overlaps(r)) {
              return true;
            }
          }
        }
      }
      return false;
    }
  }
}
