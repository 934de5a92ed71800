package dev.systole.driver.timing;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Param;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes the traces that the RTL testbenches of the LOAD, STORE and EXEC units replay
 * ({@code fpga/tb/load}, {@code store}, {@code exec}): thousands of random instructions from a
 * fixed seed, each with the cycles {@link TransferTiming} or {@link IssueClock} gives for it. A
 * testbench drives every instruction into its unit and compares the cycles the RTL takes with the
 * trace's, so the timing model exists once, here, and the RTL is held to it without a C++ copy
 * that could drift. The data a unit moves is the testbench's business (it is functional, not
 * timing), and so is how a phase is driven (idle gaps, stalls, faults, clears); the trace names
 * the phase of each case. Run through {@code scripts/rtl-tests}, which writes a trace whenever
 * the driver's sources change.
 *
 * <p>Usage: {@code TimingTraces load|store|exec FILE [PARAMS]}, PARAMS as for
 * {@link DeviceParams#with(String)} (e.g. {@code ARRAY=8} for a testbench built for another array
 * size).
 *
 * <h2>Format</h2>
 *
 * <p>Plain text, one record a line, fields separated by single spaces; lines starting with
 * {@code #} are comments (each trace begins with comments saying what it holds). INSTRUCTION is
 * an instruction in assembly syntax ({@link Instruction#toString()}, read back by
 * {@code Assembler.parse}): a mnemonic, then {@code field=value} for the fields that are not zero,
 * buffers by name, {@code hbm_addr} in {@code 0x} hex, other values in decimal (signed fields
 * signed). Every trace starts with the record {@code array_dim D}, the array size the cycles are
 * for. Then:
 *
 * <pre>
 * load:   PHASE READ_LATENCY CYCLES INSTRUCTION     CYCLES = TransferTiming.loadCycles
 * store:  PHASE WRITE_LATENCY CYCLES INSTRUCTION    CYCLES = TransferTiming.storeCycles
 * exec:   param_rows FIRST COUNT                    (once, before the instructions)
 *         CYCLE FREE DONE INSTRUCTION
 *         CYCLE clear
 * </pre>
 *
 * <p>LOAD and STORE cases are independent: CYCLES is the unit's busy time C for the case issued
 * to an idle unit under the fixed-latency memory model (free_o 0 in T + 1 .. T + C - 1, 1 again
 * in T + C). PHASE is one of {@code random} (each case alone from an idle unit),
 * {@code shape} (GEMM and convolution transfers, alone), {@code back-to-back} (each issued in
 * the first cycle the unit is free), {@code stall} (under random ready/valid stalls: CYCLES is
 * what a fixed-latency memory would give, not compared), {@code fault} (the first with an SLVERR
 * in the middle, the rest after it) and {@code clear} (each the first instruction after a clear_i
 * that cut a transfer short).
 *
 * <p>The EXEC trace is one program for the unit alone, in order: each instruction issues in
 * cycle CYCLE (counted from the end of reset), at the first cycle the unit takes it or a few
 * cycles later; FREE and DONE are the cycles from which free_o and done_o are 1 until the next
 * record, that is the cycles a MATMUL and a VMAX issued next would issue at ({@link IssueClock}:
 * a MATMUL waits for free, the other EXEC instructions for done). {@code CYCLE clear} is clear_i
 * high in that cycle: what was in flight is lost and the unit is free and done in the next cycle
 * (its reset state), so the model starts again from an idle unit. {@code param_rows} names the
 * ACC rows the testbench fills with REQUANT parameters (bias, multiplier and shift rows in turn),
 * which most REQUANTs of the trace point at.
 */
public final class TimingTraces {
  /** Bytes of the memory behind the port in the LOAD and STORE testbenches: every case fits. */
  static final long BENCH_MEMORY_BYTES = 1L << 22;

  static final int EXEC_INSTRUCTIONS = 50_000;

  private static final long LOAD_SEED = 0x5157_0A11L;
  private static final long STORE_SEED = 0x5703_E5EDL;
  private static final long EXEC_SEED = 0xE8ECL;
  private static final int CLEARS = 57;

  private TimingTraces() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3 || !List.of("load", "store", "exec").contains(args[0])) {
      System.err.println("usage: TimingTraces load|store|exec FILE [PARAMS]  (PARAMS e.g. ARRAY=8)");
      System.exit(2);
    }
    DeviceParams params = DeviceParams.defaults().with(args.length == 3 ? args[2] : "");
    try (BufferedWriter out = Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8)) {
      write(args[0], params, out);
    }
  }

  /** Writes the trace of {@code kind} ("load", "store" or "exec") for a build of {@code params}. */
  static void write(String kind, DeviceParams params, Appendable out) {
    Lines lines = new Lines(out);
    switch (kind) {
      case "load" -> load(params, lines);
      case "store" -> store(params, lines);
      case "exec" -> exec(params, lines);
      default -> throw new IllegalArgumentException("trace kind \"" + kind
          + "\" (expected load, store or exec)");
    }
  }

  // ---- LOAD and STORE ---------------------------------------------------------------------------

  private static void load(DeviceParams p, Lines out) {
    Random rng = new Random(LOAD_SEED);
    out.comment("LOAD cases for fpga/tb/load, written by dev.systole.driver.timing.TimingTraces"
        + " (seed 0x" + Long.toHexString(LOAD_SEED) + ").");
    out.comment("PHASE READ_LATENCY CYCLES INSTRUCTION; CYCLES is TransferTiming.loadCycles.");
    out.line("array_dim " + p.arrayRows());
    int lr = Timing.READ_LATENCY;
    // TransferTiming.MAX_READ_LATENCY is the largest latency the model is exact for.
    int[] latencies = {lr, 16, 3, 1, 100, TransferTiming.MAX_READ_LATENCY};
    int[] counts = {6000, 1500, 1500, 500, 300, 300};
    for (int i = 0; i < latencies.length; i++) {
      for (int n = 0; n < counts[i]; n++) {
        loadCase(out, "random", latencies[i], randomTransfer(rng, p, Opcode.LOAD));
      }
    }
    int d = p.arrayRows();
    loadCase(out, "shape", lr, load(Buffer.ABUF, d, 0x100000, 4096, 1, d, 0, 0)); // an A block
    loadCase(out, "shape", lr, load(Buffer.ABUF, d, 0x100003, 4096, 1, d, 0, 0)); // unaligned
    loadCase(out, "shape", lr, load(Buffer.ABUF, 5, 0x100000, 4096, 1, 5, 0, 0)); // 5 lanes of K
    loadCase(out, "shape", lr, load(Buffer.WBUF, d, 0x200000, 256, 1, d, 0, 0)); // weight tiles
    loadCase(out, "shape", lr, load(Buffer.ACC, 4 * d, 0x300000, 3, 1, 4 * d, 0, 0)); // REQUANT
    loadCase(out, "shape", lr, load(Buffer.ACC, 4 * d, 0x300000, 1024, 1, 4 * d, 0, 0));
    loadCase(out, "shape", lr, load(Buffer.ABUF, d, 0x140000, 32, 32, d, d * 34L, 1)); // padded map
    for (int n = 0; n < 300; n++) {
      loadCase(out, "back-to-back", lr, randomTransfer(rng, p, Opcode.LOAD));
    }
    for (int n = 0; n < 500; n++) {
      loadCase(out, "stall", 20, randomTransfer(rng, p, Opcode.LOAD));
    }
    Instruction fault = load(Buffer.ACC, 4 * d, 0x10000, 64, 1, 4 * d, 0, 0)
        .with(Isa.Load.Y_PAD1, 2);
    loadCase(out, "fault", lr, fault);
    loadCase(out, "fault", lr, fault.with(Isa.Load.DST_ROW, 1000));
    for (int n = 0; n < CLEARS; n++) {
      loadCase(out, "clear", lr, randomTransfer(rng, p, Opcode.LOAD));
    }
  }

  private static void store(DeviceParams p, Lines out) {
    Random rng = new Random(STORE_SEED);
    out.comment("STORE cases for fpga/tb/store, written by dev.systole.driver.timing.TimingTraces"
        + " (seed 0x" + Long.toHexString(STORE_SEED) + ").");
    out.comment("PHASE WRITE_LATENCY CYCLES INSTRUCTION; CYCLES is TransferTiming.storeCycles.");
    out.line("array_dim " + p.arrayRows());
    int lw = Timing.WRITE_LATENCY;
    int[] latencies = {lw, 32, 3, 1, 100};
    int[] counts = {3000, 1000, 1000, 400, 400};
    for (int i = 0; i < latencies.length; i++) {
      for (int n = 0; n < counts[i]; n++) {
        storeCase(out, "random", latencies[i], randomTransfer(rng, p, Opcode.STORE));
      }
    }
    int d = p.arrayRows();
    storeCase(out, "shape", lw, store(Buffer.ACC, 4 * d, 0x100000, 4096, 1, 4 * d, 0)); // int32
    storeCase(out, "shape", lw, store(Buffer.ACC, 20, 0x200000, 1000, 1, 20, 0)); // 5 lanes
    storeCase(out, "shape", lw, store(Buffer.ACC, 20, 0x200000, 1000, 1, 4 * d, 0)); // into D
    storeCase(out, "shape", lw, store(Buffer.ABUF, d, 0x300000, 4096, 1, d, 0)); // int8 block
    storeCase(out, "shape", lw, store(Buffer.ABUF, d, 0x300005, 64, 8, d, 4096)); // 4 KiB apart
    for (int n = 0; n < 300; n++) {
      storeCase(out, "back-to-back", lw, randomTransfer(rng, p, Opcode.STORE));
    }
    for (int n = 0; n < 500; n++) {
      storeCase(out, "stall", lw, randomTransfer(rng, p, Opcode.STORE));
    }
    Instruction fault = store(Buffer.ACC, 4 * d, 0x10000, 64, 1, 4 * d, 0);
    storeCase(out, "fault", lw, fault);
    storeCase(out, "fault", lw, fault.with(Isa.Store.SRC_ROW, 1000));
    for (int n = 0; n < CLEARS; n++) {
      storeCase(out, "clear", lw, randomTransfer(rng, p, Opcode.STORE));
    }
  }

  private static void loadCase(Lines out, String phase, int readLatency, Instruction in) {
    long c = TransferTiming.loadCycles(in.get(Isa.Load.HBM_ADDR),
        (int) in.get(Isa.Load.ELEM_BYTES), (int) in.get(Isa.Load.X_SIZE),
        (int) in.get(Isa.Load.Y_SIZE), in.get(Isa.Load.X_STRIDE), in.get(Isa.Load.Y_STRIDE),
        (int) in.get(Isa.Load.X_PAD0), (int) in.get(Isa.Load.X_PAD1),
        (int) in.get(Isa.Load.Y_PAD0), (int) in.get(Isa.Load.Y_PAD1), readLatency);
    out.line(phase + " " + readLatency + " " + c + " " + in);
  }

  private static void storeCase(Lines out, String phase, int writeLatency, Instruction in) {
    long c = TransferTiming.storeCycles(in.get(Isa.Store.HBM_ADDR),
        (int) in.get(Isa.Store.ELEM_BYTES), (int) in.get(Isa.Store.X_SIZE),
        (int) in.get(Isa.Store.Y_SIZE), in.get(Isa.Store.X_STRIDE), in.get(Isa.Store.Y_STRIDE),
        writeLatency);
    out.line(phase + " " + writeLatency + " " + c + " " + in);
  }

  private static Instruction load(Buffer buf, int elem, long addr, int xs, int ys, long xst,
      long yst, int pad) {
    return Instruction.of(Opcode.LOAD).with(Isa.Load.BUF, buf.id())
        .with(Isa.Load.ELEM_BYTES, elem).with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, xs).with(Isa.Load.Y_SIZE, ys)
        .with(Isa.Load.X_STRIDE, xst).with(Isa.Load.Y_STRIDE, yst)
        .with(Isa.Load.X_PAD0, pad).with(Isa.Load.X_PAD1, pad)
        .with(Isa.Load.Y_PAD0, pad).with(Isa.Load.Y_PAD1, pad);
  }

  private static Instruction store(Buffer buf, int elem, long addr, int xs, int ys, long xst,
      long yst) {
    return Instruction.of(Opcode.STORE).with(Isa.Store.BUF, buf.id())
        .with(Isa.Store.ELEM_BYTES, elem).with(Isa.Store.HBM_ADDR, addr)
        .with(Isa.Store.X_SIZE, xs).with(Isa.Store.Y_SIZE, ys)
        .with(Isa.Store.X_STRIDE, xst).with(Isa.Store.Y_STRIDE, yst);
  }

  /**
   * A random LOAD or STORE: any buffer and element size; mostly small blocks, sometimes a long
   * row, many rows or long dense rows; padding (LOAD) now and then; strides of 0, overlapping,
   * short, far apart (across 4 KiB pages), dense or dense with a gap; anywhere in the bench's
   * memory and often just below a 4 KiB boundary; any buffer row the block fits at.
   */
  private static Instruction randomTransfer(Random rng, DeviceParams p, Opcode op) {
    boolean load = op == Opcode.LOAD;
    int d = p.arrayRows();
    Buffer buf = Buffer.values()[pick(rng, 0, 2)];
    int elem = buf == Buffer.ACC ? 4 * pick(rng, 1, d) : pick(rng, 1, d);
    int pad = load ? pick(rng, -128, 127) : 0;
    int xs;
    int ys;
    int maxRows = 700;
    switch (pick(rng, 0, 6)) {
      case 0 -> {
        xs = pick(rng, 1, 4);
        ys = pick(rng, 1, 4);
      }
      case 1 -> {
        xs = pick(rng, 1, 300);
        ys = 1;
      }
      case 2 -> {
        xs = 1;
        ys = pick(rng, 1, 300);
      }
      case 3 -> { // long dense rows
        xs = pick(rng, 20, 200);
        ys = pick(rng, 2, 40);
        maxRows = 2500;
      }
      default -> {
        xs = pick(rng, 1, 24);
        ys = pick(rng, 1, 16);
      }
    }
    int[] pads = new int[4]; // x_pad0, x_pad1, y_pad0, y_pad1
    if (load) {
      for (int i = 0; i < 4; i++) {
        int r = pick(rng, 0, 9);
        pads[i] = r < 5 ? 0 : r < 8 ? pick(rng, 1, 3) : pick(rng, 1, 12);
      }
    }
    while ((long) (pads[0] + xs + pads[1]) * (pads[2] + ys + pads[3]) > maxRows) {
      if (ys > 1) {
        ys = (ys + 1) / 2;
      } else if (xs > 1) {
        xs = (xs + 1) / 2;
      } else {
        pads = new int[4];
      }
    }
    long xst;
    long yst;
    long span;
    do {
      xst = stride(rng, false, xs, elem);
      yst = stride(rng, true, xs, elem);
      span = (ys - 1) * yst + (xs - 1) * xst + elem;
    } while (span > BENCH_MEMORY_BYTES / 2);
    long room = BENCH_MEMORY_BYTES - span;
    long addr = Math.floorMod(rng.nextLong(), room);
    if (pick(rng, 0, 3) == 0) { // the last bytes before a 4 KiB boundary
      addr = Math.min(room - 1, (addr & ~4095L) + 4096 - pick(rng, 1, 64));
    }
    int rows = (pads[0] + xs + pads[1]) * (pads[2] + ys + pads[3]);
    int row = pick(rng, 0, p.rows(buf) - rows);
    if (load) {
      return load(buf, elem, addr, xs, ys, xst, yst, 0).with(Isa.Load.PAD_VALUE, pad)
          .with(Isa.Load.DST_ROW, row).with(Isa.Load.X_PAD0, pads[0])
          .with(Isa.Load.X_PAD1, pads[1]).with(Isa.Load.Y_PAD0, pads[2])
          .with(Isa.Load.Y_PAD1, pads[3]);
    }
    return store(buf, elem, addr, xs, ys, xst, yst).with(Isa.Store.SRC_ROW, row);
  }

  private static long stride(Random rng, boolean y, int xs, int elem) {
    return switch (pick(rng, 0, 7)) {
      case 0 -> 0;
      case 1 -> pick(rng, 1, Math.max(1, elem - 1)); // overlapping elements
      case 2 -> pick(rng, 1, 300);
      case 3 -> pick(rng, 4000, 70000); // far apart
      case 4 -> y ? (long) xs * elem : elem; // dense
      default -> y ? (long) xs * elem + pick(rng, 0, 64) : elem;
    };
  }

  private static int pick(Random rng, int lo, int hi) {
    return lo + rng.nextInt(hi - lo + 1);
  }

  // ---- EXEC -------------------------------------------------------------------------------------

  /** ABUF, WBUF and ACC rows the EXEC instructions use: small ranges, so that they collide. */
  private static final int ABUF_SPAN = 600;
  private static final int WBUF_SPAN = 300;
  private static final int ACC_SPAN = 200;
  private static final int PARAM_BASE = 200;
  private static final int PARAM_SPAN = 60;
  /** One cycle in this many has clear_i high (none before the first instruction). */
  private static final int CLEAR_ODDS = 2500;

  private record Issued(Instruction in, long cycle) {}

  /**
   * The EXEC program: instructions from {@link ExecPlan}, each issued at the first cycle the
   * clock allows or, one time in six, 1 to 4 cycles later; a clear now and then, often with work
   * in flight. The clock has no notion of a clear or of "free" and "done" as values, only of
   * when an instruction issues; so the clock of the program so far (since the last clear) is
   * replayed from a new {@link IssueClock} for each question: when can this instruction issue,
   * and when could a MATMUL (waits for free) or a VMAX (waits for done) issue after it.
   */
  private static void exec(DeviceParams build, Lines out) {
    // The EXEC testbench's unit runs MATMUL, REQUANT, VMAX and VADD, as EXEC does on a build
    // without the VECTOR unit; the trace is of such a build.
    DeviceParams p = build.with(Map.of(Param.VECTOR_UNIT, 0L, Param.LUT_ROWS, 0L));
    Random rng = new Random(EXEC_SEED);
    ExecPlan plan = new ExecPlan(rng, p.arrayRows());
    out.comment("EXEC program for fpga/tb/exec, written by dev.systole.driver.timing.TimingTraces"
        + " (seed 0x" + Long.toHexString(EXEC_SEED) + ").");
    out.comment("CYCLE FREE DONE INSTRUCTION, or CYCLE clear; FREE and DONE from IssueClock.");
    out.line("array_dim " + p.arrayRows());
    out.line("param_rows " + PARAM_BASE + " " + PARAM_SPAN);
    Instruction probeFree = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 1);
    Instruction probeDone = Instruction.of(Opcode.VMAX).with(Isa.Vmax.ROWS, 1);
    List<Issued> since = new ArrayList<>(); // issued since the last clear
    long ready = 0;
    int issued = 0;
    while (issued < EXEC_INSTRUCTIONS) {
      Instruction in = plan.next();
      long t = replay(p, since).issue(in, ready);
      if (rng.nextInt(6) == 0) {
        t += 1 + rng.nextInt(4);
      }
      long clear = -1;
      for (long c = ready; issued > 0 && c <= t && clear < 0; c++) {
        if (rng.nextInt(CLEAR_ODDS) == 0) {
          clear = c;
        }
      }
      if (clear >= 0) {
        out.line(clear + " clear");
        since.clear();
        plan.clear();
        ready = clear + 1;
        continue;
      }
      since.add(new Issued(in, t));
      plan.issued();
      long free = replay(p, since).issue(probeFree, t + 1);
      long done = replay(p, since).issue(probeDone, t + 1);
      out.line(t + " " + free + " " + done + " " + in);
      ready = t + 1;
      issued++;
    }
  }

  /** A clock that has issued {@code program}, each at its cycle (which it must allow). */
  private static IssueClock replay(DeviceParams p, List<Issued> program) {
    IssueClock clock = new IssueClock(p);
    for (Issued i : program) {
      long t = clock.issue(i.in(), i.cycle());
      if (t != i.cycle()) {
        throw new IllegalStateException("replaying " + i.in() + " at cycle " + i.cycle()
            + ": the clock issued it at " + t);
      }
    }
    return clock;
  }

  /**
   * Random EXEC instructions in patterns: the pipelined tile sequence (w_load + w_preload, then
   * w_swap + w_preload, ..., then w_swap), back-to-back MATMULs accumulating into the same ACC
   * rows, single MATMULs with random flags, REQUANT (mostly with the parameter rows, sometimes
   * any ACC rows), and VMAX and VADD (in place, dst == a_row or b_row, or disjoint; VADD with
   * usable or wild multipliers and shifts). A MATMUL is only handed out if the weights it uses
   * are there (a tile loaded, or preloaded for a w_swap); otherwise the pattern is dropped.
   */
  private static final class ExecPlan {
    private final Random rng;
    private final int d;
    private final Deque<Instruction> planned = new ArrayDeque<>();
    private boolean activeValid;
    private boolean shadowValid;

    ExecPlan(Random rng, int d) {
      this.rng = rng;
      this.d = d;
    }

    Instruction next() {
      if (planned.isEmpty()) {
        generate();
      }
      while (!weightsReady(planned.peekFirst())) {
        planned.clear();
        generate();
      }
      return planned.peekFirst();
    }

    /** The instruction {@link #next} gave has issued. */
    void issued() {
      Instruction in = planned.removeFirst();
      if (in.opcode() == Opcode.MATMUL) {
        if (in.flag(Isa.Matmul.W_SWAP) || in.flag(Isa.Matmul.W_LOAD)) {
          shadowValid = false;
        }
        activeValid = true;
        if (in.flag(Isa.Matmul.W_PRELOAD)) {
          shadowValid = true;
        }
      }
    }

    /** clear_i: the tiles in the array are lost, and the rest of the pattern with them. */
    void clear() {
      planned.clear();
      activeValid = false;
      shadowValid = false;
    }

    private boolean weightsReady(Instruction in) {
      if (in.opcode() != Opcode.MATMUL) {
        return true;
      }
      if (in.flag(Isa.Matmul.W_SWAP)) {
        return shadowValid;
      }
      return in.flag(Isa.Matmul.W_LOAD) || activeValid;
    }

    private void generate() {
      int p = rng.nextInt(100);
      if (p < 25) { // the pipelined tile sequence
        int tiles = 2 + rng.nextInt(3);
        for (int t = 0; t < tiles; t++) {
          int rows = rng.nextInt(2) == 0 ? rowsSmall() : 16 + rng.nextInt(30);
          planned.add(matmul(rows, t == 0, t > 0, t < tiles - 1, rng.nextBoolean()));
        }
      } else if (p < 40) { // back to back into the same ACC rows
        int n = 2 + rng.nextInt(3);
        Instruction in = matmul(rowsSmall(), false, false, false, false);
        for (int i = 0; i < n; i++) {
          in = in.with(Isa.Matmul.ACCUMULATE, i > 0 || rng.nextBoolean())
              .with(Isa.Matmul.A_ROW, rng.nextInt(ABUF_SPAN - (int) in.get(Isa.Matmul.ROWS)));
          planned.add(in);
        }
      } else if (p < 60) { // one MATMUL, random flags
        int rows = rowsAny();
        int f = rng.nextInt(4);
        planned.add(matmul(rows, f == 1, f == 2, rng.nextInt(3) == 0, rng.nextBoolean()));
      } else if (p < 75) {
        int rows = rowsAny();
        int param = rng.nextInt(6) == 0 ? rng.nextInt(ACC_SPAN - 3)
            : PARAM_BASE + 3 * rng.nextInt(PARAM_SPAN / 3);
        planned.add(Instruction.of(Opcode.REQUANT).with(Isa.Requant.ROWS, rows)
            .with(Isa.Requant.ACC_ROW, rng.nextInt(ACC_SPAN + PARAM_SPAN - rows))
            .with(Isa.Requant.DST_ROW, rng.nextInt(ABUF_SPAN - rows))
            .with(Isa.Requant.PARAM_ROW, param).with(Isa.Requant.ZERO_POINT, pick8())
            .with(Isa.Requant.RELU, rng.nextBoolean()));
      } else {
        planned.add(rng.nextBoolean() ? vector(Opcode.VMAX) : vector(Opcode.VADD));
      }
    }

    private Instruction matmul(int rows, boolean load, boolean swap, boolean preload,
        boolean accumulate) {
      Instruction in = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, rows)
          .with(Isa.Matmul.A_ROW, rng.nextInt(ABUF_SPAN - rows))
          .with(Isa.Matmul.ACC_ROW, rng.nextInt(ACC_SPAN - rows))
          .with(Isa.Matmul.ACCUMULATE, accumulate).with(Isa.Matmul.W_LOAD, load)
          .with(Isa.Matmul.W_SWAP, swap).with(Isa.Matmul.W_PRELOAD, preload);
      if (load) {
        in = in.with(Isa.Matmul.W_ROW, rng.nextInt(WBUF_SPAN - d));
      }
      if (preload) {
        in = in.with(Isa.Matmul.PRE_ROW, rng.nextInt(WBUF_SPAN - d));
      }
      return in;
    }

    private Instruction vector(Opcode op) {
      int rows = rowsAny();
      int a;
      int b;
      int dst;
      do {
        a = rng.nextInt(ABUF_SPAN - rows);
        b = rng.nextInt(ABUF_SPAN - rows);
        int mode = rng.nextInt(4);
        dst = mode == 0 ? a : mode == 1 ? b : rng.nextInt(ABUF_SPAN - rows);
      } while (!apartOrSame(a, dst, rows) || !apartOrSame(b, dst, rows));
      if (op == Opcode.VMAX) {
        return Instruction.of(op).with(Isa.Vmax.ROWS, rows).with(Isa.Vmax.A_ROW, a)
            .with(Isa.Vmax.B_ROW, b).with(Isa.Vmax.DST_ROW, dst);
      }
      boolean wild = rng.nextInt(6) == 0;
      return Instruction.of(op).with(Isa.Vadd.ROWS, rows).with(Isa.Vadd.A_ROW, a)
          .with(Isa.Vadd.B_ROW, b).with(Isa.Vadd.DST_ROW, dst)
          .with(Isa.Vadd.RELU, rng.nextBoolean()).with(Isa.Vadd.A_ZERO, pick8())
          .with(Isa.Vadd.B_ZERO, pick8()).with(Isa.Vadd.OUT_ZERO, pick8())
          .with(Isa.Vadd.SHIFT, wild ? rng.nextInt(64) : 12 + rng.nextInt(8))
          .with(Isa.Vadd.A_MULT, wild ? rng.nextInt() : rng.nextInt(8192) - 2048)
          .with(Isa.Vadd.B_MULT, wild ? rng.nextInt() : rng.nextInt(8192) - 2048);
    }

    private static boolean apartOrSame(int src, int dst, int rows) {
      return src == dst || src + rows <= dst || dst + rows <= src;
    }

    private int rowsSmall() {
      return 1 + rng.nextInt(4);
    }

    private int rowsAny() {
      return rng.nextInt(3) == 0 ? rowsSmall() : 1 + rng.nextInt(rng.nextInt(4) == 0 ? 90 : 40);
    }

    /** An int8 value, the extremes one time in four. */
    private int pick8() {
      int r = rng.nextInt(8);
      return r == 0 ? -128 : r == 1 ? 127 : (byte) rng.nextInt();
    }
  }

  /** Lines of a trace, each ended by a newline. */
  private record Lines(Appendable out) {
    void line(String s) {
      try {
        out.append(s).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void comment(String s) {
      line("# " + s);
    }
  }
}
