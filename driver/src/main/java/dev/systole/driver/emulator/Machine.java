package dev.systole.driver.emulator;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.RowAccess;
import dev.systole.driver.timing.IssueClock;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * The accelerator executing one program at a time: its {@link Datapath} (the buffers, the array's
 * weight registers and the instruction semantics of the contract) and its timing model, on the
 * plain path or the fast one.
 *
 * <p>Instructions take effect in program order. The hardware overlaps units, and a program that
 * orders its conflicting accesses with {@code wait} bits (as the contract requires) cannot tell
 * the difference; cycle counts come from the timing model, computed alongside, not from the order
 * the emulator happens to do the work in. That split keeps the functional path simple and fast
 * and makes the timing model a formula that can be read, documented and matched by the RTL.
 */
final class Machine {
  private static final int FETCH_CHUNK = 256;

  /** How one run ended. {@code errorPc} is meaningful only when {@code error} is not NONE. */
  record Outcome(ErrorCode error, long errorPc, long cycles, boolean aborted) {}

  private final DeviceParams params;
  private final CardMemory memory;
  private final int lanes;
  /** The buffers, tiles and instruction semantics this machine runs programs on. */
  private final Datapath core;

  /** The counts of the last run, zeroed at its start; the owner adds them to its totals. */
  private RunCounts counts = new RunCounts();
  /** Whether runs may take the fast path ({@link DecodedProgram}); false for the plain one. */
  private final boolean fast;
  /** Programs decoded for the fast path, the most recently run last. */
  private final LinkedHashMap<Long, DecodedProgram> decoded =
      new LinkedHashMap<>(16, 0.75f, true);
  /** Instructions held by {@link #decoded}, kept at most {@link DecodedProgram#MAX_INSTRUCTIONS}. */
  private long decodedInstructions;
  private boolean lastRunDecoded;
  private long stepsOnSecondThread;
  /** Steps of two chains run, since the machine was made. */
  private final AtomicLong pairs = new AtomicLong();
  /** The second thread of the fast path, or null with one thread. */
  private final ChainWorker worker;

  /**
   * Threads the fast path uses, 1 or 2: the {@code systole.emulator.threads} system property, or
   * 2 on a machine with two cores or more. A second thread computes some of the rows of each long
   * MATMUL chain ({@link #runDecodedParallel}); more threads would each get fewer rows for the
   * same cost of handing them out.
   */
  static int defaultThreads() {
    String v = System.getProperty("systole.emulator.threads");
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = cores;
    if (v != null) {
      try {
        threads = Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("systole.emulator.threads: \"" + v
            + "\" is not a number (expected 1 or 2)");
      }
    }
    return Math.max(1, Math.min(2, threads));
  }

  Machine(DeviceParams params, CardMemory memory) {
    this(params, memory, true, defaultThreads());
  }

  Machine(DeviceParams params, CardMemory memory, int threads) {
    this(params, memory, true, threads);
  }

  private Machine(DeviceParams params, CardMemory memory, boolean fast, int threads) {
    this.params = params;
    this.memory = memory;
    this.lanes = params.lanes();
    this.fast = fast;
    MatmulKernel kernel = fast ? MatmulKernel.create(lanes) : MatmulKernel.scalar(lanes);
    // A step is a chain, or a pair of chains, of at most MAX_CHAIN MATMULs each.
    int chain = fast ? 2 * DecodedProgram.MAX_CHAIN : 0;
    this.core = new Datapath(params, memory, kernel, chain, pairs);
    this.worker = fast && threads > 1 ? new ChainWorker(kernel.sibling()) : null;
  }

  /** Stops the second thread, if there is one. */
  void close() {
    if (worker != null) {
      worker.close();
    }
  }

  /**
   * A machine that runs every program through the plain interpreter with the plain Java kernel:
   * the reference the fast path is tested against.
   */
  static Machine plain(DeviceParams params, CardMemory memory) {
    return new Machine(params, memory, false, 1);
  }

  /** The counts of the last run. */
  RunCounts counts() {
    return counts;
  }

  /**
   * Everything a program can leave in the machine, as bytes: the buffers, the array's tiles and
   * whether they hold weights. Two machines that ran the same programs from the same state must
   * give equal snapshots.
   */
  byte[] snapshot() {
    return core.snapshot();
  }

  /** Forgets the weight tiles held in the array (SOFT_RESET). */
  void resetArray() {
    core.resetArray();
  }

  /**
   * Runs the program of {@code length} instructions at card address {@code address}.
   *
   * @param aborted polled between instructions; true ends the run at once (SOFT_RESET)
   * @param pcListener told the index of each instruction as it reaches the issue stage
   */
  Outcome run(long address, long length, BooleanSupplier aborted, IntConsumer pcListener) {
    counts = new RunCounts();
    long bytes = length * Contract.INSTRUCTION_BYTES;
    if (length == 0 || address % Contract.PROGRAM_ALIGNMENT != 0 || address < 0
        || address > params.hbmBytes() - bytes) {
      counts.busyCycles = 1;
      return new Outcome(ErrorCode.PROG_RANGE, 0, 1, false);
    }
    DecodedProgram program = decoded(address, length);
    lastRunDecoded = program != null && program.noWeights(core.activeValid, core.shadowValid) < 0;
    if (!lastRunDecoded) {
      return interpret(address, length, aborted, pcListener);
    }
    return worker != null && program.outcome.cycles() >= parallelCycles
        ? runDecodedParallel(program, aborted, pcListener)
        : runDecoded(program, aborted, pcListener, null);
  }

  /** Chain steps whose first rows the second thread computed, since the machine was made. */
  long stepsOnSecondThread() {
    return stepsOnSecondThread;
  }

  /** Steps of two chains over the same activation rows run ({@code DecodedProgram.Step#pair}), since the machine was made. */
  long pairs() {
    return pairs.get();
  }

  /** Whether the last run took the fast path. */
  boolean lastRunDecoded() {
    return lastRunDecoded;
  }

  /**
   * The decoded program at {@code address}, decoding it if it is not kept or its bytes changed;
   * null when the fast path cannot run it: a plain machine, a card memory that can fail an access
   * or does not count writes, a program too long to keep.
   */
  private DecodedProgram decoded(long address, long length) {
    if (!fast || memory.canFault() || length > DecodedProgram.MAX_INSTRUCTIONS) {
      return null;
    }
    long stamp = memory.writeStamp(address, length * Contract.INSTRUCTION_BYTES);
    if (stamp < 0) {
      return null;
    }
    DecodedProgram p = decoded.get(address);
    if (p != null && p.length == length && p.stamp == stamp) {
      return p;
    }
    if (p != null) {
      decoded.remove(address);
      decodedInstructions -= p.code.length;
    }
    p = DecodedProgram.decode(memory, address, length, params);
    decoded.put(address, p);
    decodedInstructions += p.code.length;
    Iterator<DecodedProgram> oldest = decoded.values().iterator();
    while (decodedInstructions > DecodedProgram.MAX_INSTRUCTIONS && decoded.size() > 1) {
      decodedInstructions -= oldest.next().code.length;
      oldest.remove();
    }
    return p;
  }

  /**
   * The fast path: the steps of a decoded program, which cannot fail on this machine; with
   * {@code halves} not null, a second thread computes the first rows of each long chain.
   */
  private Outcome runDecoded(DecodedProgram program, BooleanSupplier aborted,
      IntConsumer pcListener, Halves halves) {
    Instruction[] code = program.code;
    for (int j = 0; j < program.steps.length; j++) {
      DecodedProgram.Step step = program.steps[j];
      if (aborted.getAsBoolean()) {
        return new Outcome(ErrorCode.NONE, 0, 0, true);
      }
      pcListener.accept(step.first());
      if (step.chain()) {
        chain(code, step, program.tileMoves[j], halves);
      } else {
        core.executeFast(code[step.first()]);
        if (step.abufRows() > 0) {
          abufWritten(step.abufRow(), step.abufRows());
        }
      }
    }
    counts.copyFrom(program.counts);
    return program.outcome;
  }

  /**
   * Tells the kernels of ABUF rows written: each thread's kernel keeps its own float copy of ABUF
   * (a copy shared by both would pass its rows between the cores' caches).
   */
  private void abufWritten(int first, int count) {
    core.kernel.abufWritten(first, count);
    if (worker != null) {
      worker.kernel.abufWritten(first, count);
    }
  }


  /**
   * Programs shorter than this many device cycles run on one thread: their steps are too few and
   * too small for two threads to gain more than the hand-offs cost (a small CNN on one image runs
   * in about 14,000 cycles and is slower on two threads; ResNet-18 on one 224×224 image, 7.7
   * million cycles, was about 1.5 times faster on a Zen 4 machine and is about as fast as on one
   * thread on a Zen 5 one, whose cores pass cache lines between them more slowly).
   */
  private static final long PARALLEL_CYCLES = 50_000;
  private long parallelCycles = PARALLEL_CYCLES;

  /**
   * Runs programs of at least {@code cycles} device cycles on two threads, if there are two,
   * splitting chain steps of at least {@code rows} rows between them: the tests' small programs
   * take the two-thread path with these lowered.
   */
  void parallelFrom(long cycles, int rows) {
    parallelCycles = cycles;
    splitRows = rows;
  }

  /** Spins of a waiting thread before it yields its core instead. */
  private static final int SPINS = 200;

  /**
   * Rows a chain step needs for the second thread to compute part of them: below, the hand-off
   * and the second thread's own packing of the weights cost more than its rows save. A chain
   * step of ResNet-18 takes about 8 µs on one thread, most of them 28 or 49 rows; on two threads
   * (AMD EPYC, Zen 5) the run took 60.2 ms with steps of 96 rows or more split, against 67.8 ms
   * with steps of 16 or more (medians of five rounds side by side, load average 2.1).
   */
  private static final int SPLIT_ROWS = 96;
  private int splitRows = SPLIT_ROWS;

  /**
   * Sixteenths of a chain step's rows the second thread computes: fewer than half, because its
   * rows cost it more (the tiles, the activations it converts and the accumulators it writes
   * pass between the cores). On ResNet-18 on two threads (AMD EPYC, Zen 5), with steps of 16 rows
   * or more split, 6/16 took 59.5 ms and 8/16 66 ms (medians of eight and four rounds side by
   * side); with steps of {@link #SPLIT_ROWS} or more, both took about 49 ms.
   */
  private static final int SHARE = 6;

  /**
   * The fast path on two threads: the machine's thread runs the steps in order, as on one, and
   * hands the first rows ({@link #SHARE}) of each chain step of {@link #splitRows} rows or more
   * to the second thread, computes the others, and waits for the second thread's before it goes
   * on. Each thread packs the chain's weights into its own kernel and keeps its own float copy of
   * ABUF, so all that passes between the cores is the chain's tiles and the second thread's
   * activation rows and accumulators.
   *
   * <p>Why not more: on the 2-core machine this was measured on (AMD EPYC, Zen 5), a cache line
   * passed from one core to the other and back took 440 ns, so a design gains only where each
   * core works on data in its own cache. The design before this one let both threads take any
   * step that did not conflict with one not yet done, under one lock, and shared a chain's rows
   * block by block from weights packed once: ResNet-18 on two threads took 87.7 ms against this
   * one's 79.1 ms (medians of eight rounds side by side; both designs took 69 to 70 ms on one
   * thread, so on that machine neither gains from the second core). Running the loads, stores
   * and vector steps on one thread and the chains on the other, or sharing all the steps out by
   * where their data was, did no better: the activations, weights and accumulators crossed
   * between the cores at almost every step.
   */
  private Outcome runDecodedParallel(DecodedProgram program, BooleanSupplier aborted,
      IntConsumer pcListener) {
    Halves halves = new Halves();
    // A chain of none: the second thread's kernel sets up its float ABUF here, before this thread
    // tells it of rows written.
    worker.kernel.prepare(core.abuf, core.chainOffsets, 0, 0, 0);
    worker.post(() -> halves.serve(worker.kernel));
    try {
      return runDecoded(program, aborted, pcListener, halves);
    } finally {
      halves.end();
      worker.await();
    }
  }

  /**
   * The hand-off of the first rows of chains to the second thread, one at a time: the machine's
   * thread writes the chain, then the volatile count of chains posted; the second thread computes
   * the rows, then writes the count done. What each wrote before its count the other sees after
   * reading it.
   */
  private final class Halves {
    private int[] offsets;
    private byte[][] tiles;
    private int[] tileAt;
    private int n;
    private int c;
    private int c2;
    private int rows;
    private boolean accumulate;
    private volatile int posted;
    private volatile int done;
    private volatile boolean over;
    private volatile RuntimeException failure;

    void post(int[] offsets, byte[][] tiles, int[] tileAt, int n, int c, int c2, int rows,
        boolean accumulate) {
      this.offsets = offsets;
      this.tiles = tiles;
      this.tileAt = tileAt;
      this.n = n;
      this.c = c;
      this.c2 = c2;
      this.rows = rows;
      this.accumulate = accumulate;
      posted = posted + 1;
    }

    /** Waits for the rows posted last; rethrows what computing them threw. */
    void await() {
      for (int spins = 0; done != posted; spins++) {
        pause(spins);
      }
      RuntimeException e = failure;
      if (e != null) {
        throw e;
      }
    }

    void end() {
      over = true;
    }

    /** The second thread: computes the rows of each chain posted until the run is over. */
    void serve(MatmulKernel k) {
      int seen = 0;
      while (true) {
        for (int spins = 0; posted == seen; spins++) {
          if (over) {
            return;
          }
          pause(spins);
        }
        seen++;
        try {
          k.chainRows(core.abuf, offsets, tiles, tileAt, n, core.acc, c, c2, 0, rows, accumulate);
          stepsOnSecondThread++;
        } catch (RuntimeException e) {
          failure = e;
        }
        done = seen;
      }
    }

    private void pause(int spins) {
      if (spins < SPINS) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
  }

  /** The plain path: fetch, check, time and execute one instruction at a time. */
  private Outcome interpret(long address, long length, BooleanSupplier aborted,
      IntConsumer pcListener) {
    IssueClock clock = new IssueClock(params);
    byte[] fetch = new byte[FETCH_CHUNK * Contract.INSTRUCTION_BYTES];
    try {
      for (long pc = 0; pc < length; pc++) {
        if (aborted.getAsBoolean()) {
          return new Outcome(ErrorCode.NONE, 0, 0, true);
        }
        int slot = (int) (pc % FETCH_CHUNK);
        long ready = clock.ready(pc);
        pcListener.accept((int) pc);
        Instruction in;
        try {
          if (slot == 0) {
            int n = (int) Math.min(FETCH_CHUNK, length - pc);
            memory.read(address + pc * Contract.INSTRUCTION_BYTES, fetch, 0,
                n * Contract.INSTRUCTION_BYTES);
          }
          in = Instruction.read(fetch, slot * Contract.INSTRUCTION_BYTES);
        } catch (MemoryFault e) {
          return end(clock, ErrorCode.MEM_FAULT, pc, ready);
        }
        InstructionCheck.Violation v = InstructionCheck.check(in, params);
        ErrorCode error = v != null ? v.code() : core.dynamicCheck(in);
        if (error != ErrorCode.NONE) {
          return end(clock, error, pc, ready);
        }
        long issue = clock.issue(in, ready);
        try {
          core.execute(in);
        } catch (MemoryFault e) {
          return end(clock, ErrorCode.MEM_FAULT, pc, ready);
        } finally {
          RowAccess written = core.kernel.mirrorsAbuf()
              ? DecodedProgram.abufWrite(RowAccess.of(in, params)) : null;
          if (written != null) {
            abufWritten((int) written.first(), (int) written.count());
          }
        }
        counts.executed(in, lanes,
            in.opcode().requires() != null ? clock.completion() - issue : 0);
        if (in.opcode() == Opcode.HALT) {
          long cycles = issue + 1;
          counts.busyCycles = cycles;
          return new Outcome(ErrorCode.NONE, 0, cycles, false);
        }
      }
      return end(clock, ErrorCode.PROG_END, length, clock.ready(length));
    } finally {
      counts.stallCycles = clock.stallCycles();
    }
  }

  private Outcome end(IssueClock clock, ErrorCode error, long pc, long ready) {
    long cycles = clock.drained(ready) + 1;
    counts.busyCycles = cycles;
    return new Outcome(error, pc, cycles, false);
  }

  /**
   * The MATMULs of a chain step, which share their accumulator rows and row count (or of a pair
   * of chains, which share their activation rows), in one pass of the kernel; each takes the tile
   * its flags give it, in order. With {@code halves} not null and {@link #splitRows} rows or
   * more, the second thread computes the first {@link #SHARE} sixteenths of the rows meanwhile.
   */
  private void chain(Instruction[] code, DecodedProgram.Step step, int[] moves, Halves halves) {
    int[] chainOffsets = core.chainOffsets;
    byte[][] chainTiles = core.chainTiles;
    int[] chainTileAt = core.chainTileAt;
    core.takeTiles(moves, chainOffsets, chainTiles, chainTileAt);
    Instruction first = code[step.first()];
    int n = step.tilesPerChain();
    int c = (int) first.get(Isa.Matmul.ACC_ROW) * lanes;
    int c2 = core.secondAccumulators(code, step);
    int rows = (int) first.get(Isa.Matmul.ROWS);
    boolean accumulate = first.flag(Isa.Matmul.ACCUMULATE);
    int at = halves == null || rows < splitRows ? 0 : rows * SHARE / 16 / 8 * 8;
    if (at > 0) {
      halves.post(chainOffsets, chainTiles, chainTileAt, n, c, c2, at, accumulate);
    }
    core.kernel.chainRows(core.abuf, chainOffsets, chainTiles, chainTileAt, n, core.acc, c, c2,
        at, rows,
        accumulate);
    if (at > 0) {
      halves.await();
    }
  }

}
