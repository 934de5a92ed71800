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
  private long splitRuns;
  /** Steps of two chains run, since the machine was made. */
  private final AtomicLong pairs = new AtomicLong();
  /** The second thread of the fast path and the datapath it runs steps on, or null with one. */
  private final Worker worker;
  private final Datapath second;

  /**
   * Threads the fast path uses, 1 or 2: the {@code systole.emulator.threads} system property, or
   * 2 on a machine with two cores or more. A second thread runs a share of the steps of long
   * programs on buffers of its own ({@link #runSplit}); more threads would each get a smaller
   * share of a layer for the same cost of waiting for one another between layers.
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
    boolean two = fast && threads > 1;
    this.worker = two ? new Worker() : null;
    this.second = two ? new Datapath(params, memory, kernel.sibling(), chain, pairs) : null;
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
    if (worker != null && program.outcome.cycles() >= parallelCycles) {
      SplitPlan plan = program.split(params);
      if (plan != null) {
        return runSplit(program, plan, aborted, pcListener);
      }
    }
    return runDecoded(program, aborted, pcListener);
  }

  /** Runs split between two threads ({@link #runSplit}), since the machine was made. */
  long splitRuns() {
    return splitRuns;
  }

  /** Steps the second thread ran, since the machine was made. */
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
   * The fast path on one thread: the steps of a decoded program, which cannot fail here; the
   * chains take their tiles as {@link DecodedProgram#tilesResolved resolved} where they are.
   */
  private Outcome runDecoded(DecodedProgram program, BooleanSupplier aborted,
      IntConsumer pcListener) {
    boolean resolved = program.tilesResolved();
    byte[][] start = core.tiles();
    int[] startAt = core.tileOffsets();
    int startValid = core.validBits();
    for (int j = 0; j < program.steps.length; j++) {
      DecodedProgram.Step step = program.steps[j];
      if (aborted.getAsBoolean()) {
        return new Outcome(ErrorCode.NONE, 0, 0, true);
      }
      pcListener.accept(step.first());
      if (!step.chain()) {
        core.one(program, j);
      } else if (resolved) {
        core.chainResolved(program, j, start, startAt);
      } else {
        core.chain(program, j);
      }
    }
    if (resolved) {
      core.holdTiles(program.finalTiles(), start, startAt, program.finalValid[startValid]);
    }
    counts.copyFrom(program.counts);
    return program.outcome;
  }

  /**
   * Programs shorter than this many device cycles run on one thread: their steps are too few and
   * too small for two threads to gain more than the hand-offs cost (a small CNN on one image runs
   * in about 14,000 cycles).
   */
  private static final long PARALLEL_CYCLES = 50_000;
  private long parallelCycles = PARALLEL_CYCLES;

  /**
   * Runs programs of at least {@code cycles} device cycles on two threads, if there are two: the
   * tests' small programs take the two-thread path with this lowered.
   */
  void parallelFrom(long cycles) {
    parallelCycles = cycles;
  }

  /** Spins of a waiting thread before it yields its core instead. */
  private static final int SPINS = 200;

  /**
   * The fast path on two threads, as {@code plan} shares the steps out ({@link SplitPlan}): the
   * second thread's buffers take the rows its steps read from before the run, each thread runs
   * its steps in order on its own {@link Datapath}, starting a phase's steps once the other has
   * finished the phases before, and the machine's buffers take back the rows the second thread
   * wrote last.
   *
   * <p>Why this split and not a finer one: on the 2-core machine it was measured on (AMD EPYC,
   * Zen 5), a cache line passed from one core to the other and back took 440 ns, so a design
   * gains only where each core works on data in its own cache. Designs that shared each step out
   * (the rows of each long chain, or any step not in conflict with one not yet done, under a
   * lock), or the units between the threads (loads and stores on one, chains on the other),
   * passed the activations, weights and accumulators between the cores at almost every step of
   * about 8 µs, and on that machine gained nothing over one thread. Shared out by unit, with
   * buffers of their own, the threads meet 23 times in a run of ResNet-18, and on the same
   * machine two threads ran it 1.7 times as fast as one (30.8 against 52.8 ms, medians of five
   * rounds side by side).
   */
  private Outcome runSplit(DecodedProgram program, SplitPlan plan, BooleanSupplier aborted,
      IntConsumer pcListener) {
    byte[][] start = core.tiles();
    int[] startAt = core.tileOffsets();
    int startValid = core.validBits();
    second.copyRows(core, plan.startCopy);
    SplitRun run = new SplitRun(program, plan, start, startAt);
    worker.post(() -> {
      try {
        run.steps(second, 1, () -> false, pc -> { });
      } catch (RuntimeException | Error e) {
        run.stop = true;
        throw e;
      }
    });
    boolean done = false;
    try {
      done = run.steps(core, 0, aborted, pcListener);
    } finally {
      if (!done) {
        run.stop = true;
      }
      worker.await();
    }
    if (!done) {
      return new Outcome(ErrorCode.NONE, 0, 0, true);
    }
    splitRuns++;
    stepsOnSecondThread += plan.steps[1].length;
    core.copyRows(second, plan.endCopy);
    core.holdTiles(program.finalTiles(), start, startAt, program.finalValid[startValid]);
    counts.copyFrom(program.counts);
    return program.outcome;
  }

  /**
   * One run split between two threads: each publishes how many phases it has finished, in a
   * volatile count, after the steps; what one wrote before its count the other sees after reading
   * it.
   */
  private static final class SplitRun {
    private final DecodedProgram program;
    private final SplitPlan plan;
    private final byte[][] start;
    private final int[] startAt;
    private volatile int finished0;
    private volatile int finished1;
    volatile boolean stop;

    SplitRun(DecodedProgram program, SplitPlan plan, byte[][] start, int[] startAt) {
      this.program = program;
      this.plan = plan;
      this.start = start;
      this.startAt = startAt;
    }

    /** Runs thread {@code t}'s steps on {@code d}; false if stopped before the end. */
    boolean steps(Datapath d, int t, BooleanSupplier aborted, IntConsumer pcListener) {
      int[] steps = plan.steps[t];
      int[] phases = plan.phases[t];
      int phase = 0;
      for (int i = 0; i < steps.length; i++) {
        if (phases[i] != phase) {
          phase = phases[i];
          finish(t, phase);
          if (!waitFor(1 - t, phase)) {
            return false;
          }
        }
        if (stop || aborted.getAsBoolean()) {
          return false;
        }
        int j = steps[i];
        DecodedProgram.Step step = program.steps[j];
        pcListener.accept(step.first());
        if (step.chain()) {
          d.chainResolved(program, j, start, startAt);
        } else {
          d.one(program, j);
        }
      }
      finish(t, plan.phaseCount);
      return waitFor(1 - t, plan.phaseCount);
    }

    private void finish(int t, int phases) {
      if (t == 0) {
        finished0 = phases;
      } else {
        finished1 = phases;
      }
    }

    /** Waits until thread {@code t} has finished {@code phases} phases; false if stopped. */
    private boolean waitFor(int t, int phases) {
      for (int spins = 0; (t == 0 ? finished0 : finished1) < phases; spins++) {
        if (stop) {
          return false;
        }
        if (spins < SPINS) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
      return true;
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
            core.kernel.abufWritten((int) written.first(), (int) written.count());
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
}
