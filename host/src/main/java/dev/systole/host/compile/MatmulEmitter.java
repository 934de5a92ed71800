package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import dev.systole.host.compile.MatmulPlan.Order;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits one matrix layer {@code Y (m x N) = X (m x K) * W}, tiled to the parameters the device
 * reported (never assumed). What the rows of X are is up to its {@link Activations}: rows of a
 * matrix for a GEMM, output pixels whose K chunks are windows of an image for a convolution.
 * Everything else (weight tiles, constants, the int8 or int32 output stored row-major) is the same
 * for both, so a convolution is compiled by the same code as a GEMM and gets the same overlap.
 *
 * <p><b>Tiling.</b> The layer is cut into m-blocks of {@code mt} rows and n-tiles of D columns; K
 * is cut into chunks of D. When every K chunk of an m-block fits in half of the activation region
 * ({@code mt * KC} rows), the block is loaded once and stays in ABUF while every n-tile streams
 * through it (weights are reloaded, activations reused); otherwise K is also split into steps of
 * up to a third of WBUF, and each step loads its own slice of X. When ACC can hold the partial
 * sums of every n-tile of an m-block, a step's slice of X can instead stay while every n-tile's
 * weights for its chunks stream past; with fewer chunks per step the m-blocks grow, and each
 * weight tile serves more rows. That is what keeps the array busy on the deep layers of a CNN,
 * whose small images give short rows and whose many channels give long K; the emitter picks it
 * when its estimate of the busier unit is clearly lower. X and Y stay row-major in card memory,
 * the layout the user gave, and strided LOADs and STOREs do the re-layout, so the host copies
 * each input once into staging and nothing more.
 *
 * <p><b>Overlap.</b> Instructions issue in order and each unit takes one at a time, so a buffer
 * region can be reused without a wait once the instruction after its last reader has issued. The
 * program exploits that: the array's weights are double-buffered (each MATMUL swaps in the tile
 * the previous one preloaded and preloads the next), WBUF rotates through three regions so the
 * weights two steps ahead load while the current step computes, the next m-block's activations
 * load piecewise while the current block computes, and ACC, requantized rows and requant
 * parameters alternate between two halves so one n-tile's epilogue overlaps the next n-tile's
 * MATMULs. Only the instructions that consume freshly loaded data carry a wait.
 */
final class MatmulEmitter {
  /**
   * A residual add fused into the epilogue (CONTRACT.md 11.4): each requantized tile is added to
   * the same rows and columns of {@code address}, a row-major tensor of the output's shape, by a
   * VADD, and the sum is stored instead. The sum is the add's, byte for byte: VADD reads the
   * int8 tile the REQUANT wrote, as the add layer would have read it from card memory.
   *
   * @param layerIsA whether the layer's output is the add's first input (else its second)
   * @param otherZero the zero point of the tensor at {@code address}
   */
  record Residual(long address, AddLayer add, boolean layerIsA, int otherZero) {}


  /**
   * One step: K chunks {@code [c0, c1)} for one n-tile of one m-block. Consecutive steps that use
   * the same activations share an A slice (loaded once into one ABUF half), and likewise the same
   * weights a W slice (loaded once into one WBUF third).
   */
  private record Step(int m0, int rows, int tile, int nt, int c0, int c1, boolean firstOfTile,
      boolean lastOfTile, int aSlice, int wSlice) {}

  private final List<Instruction> out;
  private final GemmLayer layer;
  private final int d;
  private final int m;
  private final int usefulK;
  private final Activations source;
  private final long y;
  private final long w;
  private final long constants;
  private final int kc;
  private final int nc;
  private final int aHalf;
  private final int oBase;
  private final int oHalf;
  private final Residual residual;
  /** The first of two ABUF regions of {@code oHalf} rows for residual tiles. */
  private final int rBase;
  private final int wThird;
  private final int accHalf;
  private final int paramBase;
  private final Order order;
  private final int chunksPerStep;
  private final int mt;
  private final List<Activations.Block> blocks;
  private final List<Step> steps = new ArrayList<>();
  /**
   * Whether REQUANT runs on a VECTOR unit beside the array: then an n-tile's epilogue overlaps
   * the next n-tile's MATMULs, its STORE placed once the REQUANT should have finished.
   */
  private final boolean overlapEpilogue;

  /** The cycles a LOAD costs beyond its rows: the memory's latency and the unit's overhead. */
  private static final long PER_LOAD = Timing.READ_LATENCY + Timing.LOAD_OVERHEAD;

  /**
   * @param layer the weights (K = {@code source.chunks()} chunks of D rows), bias and requant
   * @param source how the m rows of activations are cut into blocks and loaded
   * @param usefulK the reduction length the layer means, for its count of useful MACs
   * @param y the output, row-major {@code [m][N]}
   */
  MatmulEmitter(List<Instruction> out, DeviceParams p, GemmLayer layer, Activations source,
      int usefulK, long y, long w, long constants, Residual residual) {
    this.out = out;
    this.layer = layer;
    this.d = p.lanes();
    this.source = source;
    this.m = source.rows();
    this.usefulK = usefulK;
    this.y = y;
    this.w = w;
    this.constants = constants;
    this.overlapEpilogue = p.unit(Unit.VECTOR) == Unit.VECTOR;
    this.kc = source.chunks();
    this.nc = WeightLayout.chunks(layer.outFeatures(), d);
    this.aHalf = p.abufRows() * 3 / 8;
    this.oBase = 2 * aHalf;
    this.residual = residual;
    if (residual != null && !layer.int8Output()) {
      throw new IllegalArgumentException("a residual add needs an int8 output to add to");
    }
    this.oHalf = (p.abufRows() - oBase) / (residual == null ? 2 : 4);
    this.rBase = oBase + 2 * oHalf;
    this.wThird = p.wbufRows() / 3 / d * d;
    this.accHalf = (p.accRows() - 6) / 2;
    this.paramBase = 2 * accHalf;
    int maxChunks = wThird / d;
    if (maxChunks < 1) {
      throw new IllegalArgumentException("WBUF of " + p.wbufRows() + " rows is too small to"
          + " double-buffer weight tiles (expected at least " + 3 * d + " rows)");
    }
    boolean whole = kc <= maxChunks && aHalf / kc >= 1;
    int cps = whole ? kc : Math.min(maxChunks, aHalf);
    int maxRows = Math.min(m, Math.min(aHalf / cps, Math.min(accHalf, oHalf)));
    if (maxRows < 1) {
      throw new IllegalArgumentException("buffers of " + p + " are too small for one row");
    }
    List<Activations.Block> cut = source.blocks(maxRows);
    Order chosen;
    if (!whole) {
      chosen = Order.K_SPLIT;
    } else {
      // Rows the LOADs write either way: activations once plus weights once per m-block, or
      // weights once plus activations once per n-tile. The cheaper order wins.
      // What the LOADs cost either way, in cycles of the LOAD unit: a row each, and the latency
      // of each LOAD, which counts when every chunk of a slice is a LOAD of its own (windows).
      long nb = cut.size();
      long weightRows = (long) nc * kc * d;
      long slice = (long) m * kc + nb * (source.loadPerChunk() ? kc : 1) * PER_LOAD;
      long aResident = slice + nb * weightRows + nb * nc * PER_LOAD;
      long wResident = weightRows + nc * PER_LOAD + nc * slice;
      long allResident = weightRows + PER_LOAD + slice;
      // Every weight tile in WBUF at once loads each row once, the least there is; it pays
      // only when the other orders reload something.
      boolean allFit = weightRows <= p.wbufRows();
      if (allFit && allResident < Math.min(aResident, wResident)) {
        chosen = Order.ALL_RESIDENT;
      } else {
        chosen = aResident <= wResident ? Order.ACTIVATIONS_RESIDENT : Order.WEIGHTS_RESIDENT;
      }
    }
    // Keeping the partial sums of every n-tile in ACC lets an m-block's activations load once
    // per K step however many n-tiles stream past, and lets the block be as large as ABUF holds
    // for a step of fewer chunks: the weights, reloaded per block, then serve more rows. The
    // steps are chosen by the estimate, and replace the order above only when clearly faster.
    if (accHalf / nc >= 1) {
      long best = Long.MAX_VALUE;
      int bestChunks = 0;
      List<Activations.Block> bestCut = null;
      int lastRows = 0;
      for (int c = Math.min(maxChunks, kc); c >= 1; c--) {
        int rows = Math.min(m, Math.min(aHalf / c, Math.min(accHalf / nc, oHalf)));
        if (rows < 1 || rows == lastRows) {
          continue;
        }
        lastRows = rows;
        List<Activations.Block> candidate = source.blocks(rows);
        long cycles = estimate(Order.ACTIVATION_STEPS, c, candidate);
        if (cycles < best) {
          best = cycles;
          bestChunks = c;
          bestCut = candidate;
        }
      }
      if (bestCut != null && best * 10 < estimate(chosen, cps, cut) * 9) {
        chosen = Order.ACTIVATION_STEPS;
        cps = bestChunks;
        cut = bestCut;
      }
    }
    this.order = chosen;
    this.chunksPerStep = cps;
    // The same number of blocks, of equal sizes: no last block of a few rows.
    if (source instanceof RowMajorActivations rows && cut.size() > 1) {
      cut = rows.evenBlocks(cut.size());
    }
    this.blocks = cut;
    this.mt = blocks.stream().mapToInt(Activations.Block::rows).max().orElseThrow();
    buildSteps();
  }

  /**
   * The cycles a plan should take, roughly: the busier of the LOAD unit (a cycle per buffer row
   * and a latency per LOAD) and the array (a cycle per row, at least D per MATMUL for its
   * preload, and a drain per n-tile of each block, and its REQUANT unless that overlaps).
   */
  private long estimate(Order o, int chunks, List<Activations.Block> cut) {
    long steps = (kc + chunks - 1) / chunks;
    long weights = (long) kc * d + (o.splitsK() ? steps : 1) * PER_LOAD;
    long load = o == Order.WEIGHTS_RESIDENT ? nc * weights
        : o == Order.ALL_RESIDENT ? (long) nc * kc * d + PER_LOAD : 0;
    long exec = 0;
    for (Activations.Block b : cut) {
      long slice = (long) b.rows() * kc + (source.loadPerChunk() ? kc
          : o.splitsK() ? steps : 1) * PER_LOAD;
      boolean aOnce = o == Order.ACTIVATIONS_RESIDENT || o == Order.ALL_RESIDENT
          || o == Order.ACTIVATION_STEPS;
      load += aOnce ? slice : nc * slice;
      if (o != Order.WEIGHTS_RESIDENT && o != Order.ALL_RESIDENT) {
        load += nc * weights;
      }
      exec += nc * ((long) kc * Math.max(b.rows(), d) + 2L * d + Timing.ARRAY_LATENCY
          + (overlapEpilogue ? 0 : requantCycles(b.rows())));
    }
    return Math.max(load, exec);
  }

  private void buildSteps() {
    if (order == Order.ACTIVATION_STEPS) {
      int slice = 0;
      for (int b = 0; b < blocks.size(); b++) {
        Activations.Block block = blocks.get(b);
        for (int c0 = 0; c0 < kc; c0 += chunksPerStep, slice++) {
          int c1 = Math.min(kc, c0 + chunksPerStep);
          for (int nt = 0; nt < nc; nt++) {
            steps.add(new Step(block.m0(), block.rows(), b * nc + nt, nt, c0, c1, c0 == 0,
                c1 == kc, slice, steps.size()));
          }
        }
      }
      return;
    }
    int outer = order == Order.WEIGHTS_RESIDENT ? nc : blocks.size();
    int inner = order == Order.WEIGHTS_RESIDENT ? blocks.size() : nc;
    int aSlice = -1;
    int wSlice = -1;
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int block = order == Order.WEIGHTS_RESIDENT ? i : o;
        int nt = order == Order.WEIGHTS_RESIDENT ? o : i;
        int m0 = blocks.get(block).m0();
        int rows = blocks.get(block).rows();
        int tile = o * inner + i;
        for (int c0 = 0; c0 < kc; c0 += chunksPerStep) {
          int c1 = Math.min(kc, c0 + chunksPerStep);
          boolean newA = order != Order.ACTIVATIONS_RESIDENT && order != Order.ALL_RESIDENT
              || i == 0;
          boolean newW = order == Order.ALL_RESIDENT ? o == 0 && i == 0
              : order != Order.WEIGHTS_RESIDENT || i == 0;
          aSlice += newA && c0 == 0 || order == Order.K_SPLIT && c0 > 0 ? 1 : 0;
          wSlice += newW && c0 == 0 || order == Order.K_SPLIT && c0 > 0 ? 1 : 0;
          steps.add(new Step(m0, rows, tile, nt, c0, c1, c0 == 0, c1 == kc, aSlice, wSlice));
        }
      }
    }
  }

  /** An instruction of an epilogue that can issue without a stall {@code after} cycles in. */
  private record Deferred(Instruction instruction, long after) {}

  /** The cycles a REQUANT of {@code rows} rows holds its unit. */
  private static long requantCycles(int rows) {
    return Timing.REQUANT_SETUP + rows + Timing.REQUANT_LATENCY;
  }

  /** Work for the EXEC unit in program order, with the loads it releases and needs. */
  private static final class Event {
    final List<Instruction> instructions = new ArrayList<>();
    final List<PendingLoad> needs = new ArrayList<>();
    final List<PendingLoad> releases = new ArrayList<>();
    long cycles;
    boolean sync;
    long start;
    /** An n-tile's epilogue. */
    boolean epilogue;
    /**
     * The epilogue's instructions after its REQUANT, placed later ({@link #placeDeferred}):
     * each when the vector lanes should be done with the ones before it.
     */
    final List<Deferred> deferred = new ArrayList<>();
    /** LOADs of the next tile's parameters and residual rows, which its epilogue needs. */
    final List<PendingLoad> forNext = new ArrayList<>();
  }

  /** LOADs not yet placed: they may go anywhere after their release and before their need. */
  private static final class PendingLoad {
    final List<Instruction> instructions;
    final long rows;
    final long cycles;
    int neededAt = Integer.MAX_VALUE;
    boolean emitted;

    PendingLoad(List<Instruction> instructions, long rows) {
      this.instructions = instructions;
      this.rows = rows;
      this.cycles = 34L * instructions.size() + rows;
    }
  }

  MatmulPlan emit() {
    boolean requant = layer.int8Output();
    boolean bias = !requant && layer.bias() != null;
    long drain = 2L * d + 3;
    List<Event> events = new ArrayList<>();
    // The prologue's loads (first activations, two weight slices, first constants) are placed
    // before everything; the first MATMUL waits for them.
    Step first = steps.get(0);
    List<Instruction> prologue = new ArrayList<>();
    loadActivations(first, first.c0(), first.c1(), prologue);
    int[] wFirst = firstStepOfEachSlice(false);
    int[] aFirst = firstStepOfEachSlice(true);
    loadWeights(steps.get(wFirst[0]), prologue);
    if (wFirst.length > 1) {
      loadWeights(steps.get(wFirst[1]), prologue);
    }
    if (requant || bias) {
      loadConstants(first, 0, prologue);
    }
    if (residual != null) {
      loadResidual(first, prologue);
    }
    out.addAll(prologue);
    long loaded = rows(prologue);
    Event[] firstEvent = new Event[steps.size()];
    Event[] lastEvent = new Event[steps.size()];
    List<List<Event>> matmulEvents = new ArrayList<>();
    int matmuls = 0;
    for (int s = 0; s < steps.size(); s++) {
      Step st = steps.get(s);
      Step next = s + 1 < steps.size() ? steps.get(s + 1) : null;
      int aBase = aRegion(st.aSlice());
      int accRow = accRow(st);
      boolean newA = s == 0 || steps.get(s - 1).aSlice() != st.aSlice();
      matmulEvents.add(new ArrayList<>());
      for (int c = st.c0(); c < st.c1(); c++) {
        boolean firstOfStep = c == st.c0();
        boolean lastOfStep = c + 1 == st.c1();
        Instruction mm = Instruction.of(Opcode.MATMUL)
            .with(Isa.Matmul.A_ROW, aBase + (long) (c - aOrigin(st)) * st.rows())
            .with(Isa.Matmul.ACC_ROW, accRow)
            .with(Isa.Matmul.ROWS, st.rows())
            .with(Isa.Matmul.ACCUMULATE, !(st.firstOfTile() && firstOfStep) || bias);
        long wRow = wRow(st, c);
        mm = matmuls == 0 ? mm.with(Isa.Matmul.W_LOAD, true).with(Isa.Matmul.W_ROW, wRow)
            : mm.with(Isa.Matmul.W_SWAP, true);
        long preload = lastOfStep ? (next == null ? -1 : wRow(next, next.c0())) : wRow(st, c + 1);
        if (preload >= 0) {
          mm = mm.with(Isa.Matmul.W_PRELOAD, true).with(Isa.Matmul.PRE_ROW, preload);
        }
        // Freshly loaded inputs: a new A slice, the bias rows of a new tile, the first
        // weights; and a new W slice when this MATMUL preloads from it.
        boolean fresh = firstOfStep && (matmuls == 0 || newA
            || bias && st.firstOfTile() && order != Order.ACTIVATION_STEPS);
        boolean crossing = lastOfStep && next != null && next.wSlice() != st.wSlice();
        Event e = new Event();
        if (fresh || crossing) {
          mm = mm.waitFor(Unit.LOAD);
          e.sync = true;
        }
        e.instructions.add(mm);
        e.cycles = Math.max(st.rows(), preload >= 0 ? d : 0) + (matmuls == 0 ? d : 0);
        events.add(e);
        matmulEvents.get(s).add(e);
        matmuls++;
        if (firstOfStep) {
          firstEvent[s] = e;
        }
        if (lastOfStep) {
          lastEvent[s] = e;
        }
      }
      if (st.lastOfTile()) {
        Event e = epilogue(st, accRow, next, requant, bias, drain);
        loaded += rows(e.instructions);
        events.add(e);
      }
    }
    // W slice j + 2 loads once the first step of slice j has started (the third it overwrites
    // held slice j - 1, whose last reader has then finished) and must be there for the last
    // MATMUL of slice j + 1, which preloads its first tile.
    for (int j = 0; j + 2 < wFirst.length; j++) {
      List<Instruction> w = new ArrayList<>();
      loadWeights(steps.get(wFirst[j + 2]), w);
      PendingLoad load = new PendingLoad(w, rows(w));
      loaded += load.rows;
      firstEvent[wFirst[j]].releases.add(load);
      lastEvent[wFirst[j + 2] - 1].needs.add(load);
    }
    // A slice j + 1 loads in pieces, one per step of slice j, each once that step has started
    // (the half it overwrites held slice j - 1); all of it before the first MATMUL of j + 1.
    // When every chunk is a LOAD of its own, the pieces are single chunks spread over the
    // MATMULs of slice j instead: consecutive LOADs hold up issue while each waits for the one
    // before, and a long run of them would starve the array.
    for (int j = 0; j + 1 < aFirst.length; j++) {
      int from = aFirst[j];
      int to = aFirst[j + 1];
      Step n = steps.get(to);
      int chunks = n.c1() - n.c0();
      List<Event> starts = new ArrayList<>();
      for (int i = from; i < to; i++) {
        if (source.loadPerChunk()) {
          starts.addAll(matmulEvents.get(i));
        } else {
          starts.add(firstEvent[i]);
        }
      }
      int pieces = source.loadPerChunk() ? Math.min(chunks, starts.size()) : starts.size();
      for (int i = 0; i < pieces; i++) {
        int c0 = n.c0() + (int) ((long) i * chunks / pieces);
        int c1 = n.c0() + (int) ((long) (i + 1) * chunks / pieces);
        if (c1 > c0) {
          List<Instruction> a = new ArrayList<>();
          loadActivations(n, c0, c1, a);
          PendingLoad piece = new PendingLoad(a, rows(a));
          loaded += piece.rows;
          starts.get((int) ((long) i * starts.size() / pieces)).releases.add(piece);
          firstEvent[to].needs.add(piece);
        }
      }
    }
    Event previousEpilogue = null;
    for (Event e : events) {
      if (e.epilogue) {
        if (previousEpilogue != null) {
          for (PendingLoad l : previousEpilogue.forNext) {
            e.needs.add(l);
            loaded += l.rows;
          }
        }
        previousEpilogue = e;
      }
    }
    placeDeferred(events);
    schedule(events);
    long macs = (long) m * kc * nc * d * d;
    return new MatmulPlan(m, usefulK, layer.outFeatures(), mt, chunksPerStep, order,
        steps.size(), loaded, macs);
  }

  /**
   * Places what each overlapping epilogue does after its REQUANT (the residual VADD, the STORE,
   * which waits for the VECTOR unit) among the next n-tile's MATMULs, each where the lanes
   * should be done with the instructions before it: a VECTOR instruction issues only once the
   * one before has finished, and issue is in order, so placed right after the REQUANT it would
   * hold up the MATMULs behind it while the REQUANT runs. Everything is placed at the latest
   * before the next epilogue, whose REQUANT overwrites the ABUF half of the one before and
   * whose STORE must follow this one.
   */
  private static void placeDeferred(List<Event> events) {
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      long covered = 0;
      int k = i + 1;
      List<Instruction> before = new ArrayList<>();
      for (Deferred x : e.deferred) {
        while (k < events.size() && !events.get(k).epilogue && covered < x.after()) {
          events.get(k - 1).instructions.addAll(before);
          before.clear();
          covered += events.get(k).cycles;
          k++;
        }
        before.add(x.instruction());
      }
      events.get(k - 1).instructions.addAll(before);
    }
  }

  /** The index of the first step of each A slice (or W slice). */
  private int[] firstStepOfEachSlice(boolean activations) {
    List<Integer> firsts = new ArrayList<>();
    int last = -1;
    for (int s = 0; s < steps.size(); s++) {
      int slice = activations ? steps.get(s).aSlice() : steps.get(s).wSlice();
      if (slice != last) {
        firsts.add(s);
        last = slice;
      }
    }
    return firsts.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Buffer rows the LOADs among {@code instructions} write. */
  private static long rows(List<Instruction> instructions) {
    long rows = 0;
    for (Instruction in : instructions) {
      if (in.opcode() == Opcode.LOAD) {
        rows += InstructionCheck.rowsTouched(in, true);
      }
    }
    return rows;
  }

  /**
   * Places the pending loads between the EXEC events. Issue is in order and the LOAD unit takes
   * one instruction at a time, so a LOAD placed while the unit is still busy stops the issue of
   * everything behind it and starves the array. A released load is therefore placed only where
   * the LOAD unit should be idle (by the cycle estimates) and where it can finish before the
   * next instruction that waits on LOAD, or, if that instruction is its own consumer, as early
   * as possible, since that wait is paid either way; a load whose consumer comes next is placed
   * regardless.
   */
  private void schedule(List<Event> events) {
    long t = 0;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      e.start = t;
      t += e.cycles;
      for (PendingLoad p : e.needs) {
        p.neededAt = Math.min(p.neededAt, i);
      }
    }
    long[] nextSync = new long[events.size() + 1];
    int[] nextSyncIndex = new int[events.size() + 1];
    nextSync[events.size()] = Long.MAX_VALUE;
    nextSyncIndex[events.size()] = Integer.MAX_VALUE;
    for (int i = events.size() - 1; i >= 0; i--) {
      boolean sync = events.get(i).sync;
      nextSync[i] = sync ? events.get(i).start : nextSync[i + 1];
      nextSyncIndex[i] = sync ? i : nextSyncIndex[i + 1];
    }
    List<PendingLoad> released = new ArrayList<>();
    long loadFree = 0;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      long now = e.start;
      for (PendingLoad p : e.needs) {
        if (!p.emitted) {
          loadFree = place(p, now, loadFree);
          released.remove(p);
        }
      }
      while (!released.isEmpty() && loadFree <= now
          && (now + released.get(0).cycles <= nextSync[i]
              || released.get(0).neededAt <= nextSyncIndex[i])) {
        loadFree = place(released.remove(0), now, loadFree);
      }
      out.addAll(e.instructions);
      released.addAll(e.releases);
    }
    for (PendingLoad p : released) {
      if (!p.emitted) {
        place(p, t, loadFree);
      }
    }
  }

  private long place(PendingLoad p, long now, long loadFree) {
    out.addAll(p.instructions);
    p.emitted = true;
    return Math.max(loadFree, now) + p.cycles;
  }

  private Event epilogue(Step st, int accRow, Step next, boolean requant, boolean bias,
      long drain) {
    Event e = new Event();
    e.epilogue = true;
    int cols = Math.min(d, layer.outFeatures() - st.nt() * d);
    if (requant) {
      int oRow = oBase + (st.tile() % 2) * oHalf;
      // The REQUANT reads what the MATMULs accumulated (EXEC) with the parameters just loaded.
      e.instructions.add(Instruction.of(Opcode.REQUANT).waitFor(Unit.LOAD, Unit.EXEC)
          .with(Isa.Requant.ACC_ROW, accRow)
          .with(Isa.Requant.DST_ROW, oRow)
          .with(Isa.Requant.ROWS, st.rows())
          .with(Isa.Requant.PARAM_ROW, paramBase + (st.tile() % 2) * 3)
          .with(Isa.Requant.ZERO_POINT, layer.requant().zeroPoint())
          .with(Isa.Requant.RELU, layer.requant().relu()));
      long lanes = requantCycles(st.rows());
      List<Deferred> after = new ArrayList<>();
      if (residual != null) {
        AddLayer add = residual.add();
        after.add(new Deferred(Instruction.of(Opcode.VADD)
            .with(Isa.Vadd.A_ROW, oRow)
            .with(Isa.Vadd.B_ROW, rBase + (st.tile() % 2) * oHalf)
            .with(Isa.Vadd.DST_ROW, oRow)
            .with(Isa.Vadd.ROWS, st.rows())
            .with(Isa.Vadd.A_ZERO, layer.requant().zeroPoint())
            .with(Isa.Vadd.B_ZERO, residual.otherZero())
            .with(Isa.Vadd.OUT_ZERO, add.zeroPoint())
            .with(Isa.Vadd.A_MULT, residual.layerIsA() ? add.aMultiplier() : add.bMultiplier())
            .with(Isa.Vadd.B_MULT, residual.layerIsA() ? add.bMultiplier() : add.aMultiplier())
            .with(Isa.Vadd.SHIFT, add.shift())
            .with(Isa.Vadd.RELU, add.relu()), lanes));
        lanes += st.rows() + Timing.VECTOR_LATENCY;
      }
      after.add(new Deferred(store(Buffer.ABUF, oRow, cols, y + (long) st.m0()
          * layer.outFeatures() + (long) st.nt() * d, st.rows(), layer.outFeatures())
          .waitFor(Unit.VECTOR), lanes));
      if (overlapEpilogue && next != null) {
        e.deferred.addAll(after);
        e.cycles = drain;
      } else {
        after.forEach(x -> e.instructions.add(x.instruction()));
        e.cycles = drain + lanes;
      }
      // The next tile's parameters and residual rows go to the halves the epilogue before this
      // one read: its REQUANT and VADD finished before this REQUANT issued. Without a residual
      // the parameters (three rows) load right away. With one, its rows (a LOAD as long as the
      // tile) and the parameters are each placed where the LOAD unit should be free
      // ({@link #schedule}), since a LOAD issued while another runs holds up the MATMULs
      // behind it.
      if (next != null) {
        List<Instruction> c = new ArrayList<>();
        loadConstants(next, next.tile(), c);
        if (residual == null) {
          e.instructions.addAll(c);
        } else {
          List<Instruction> r = new ArrayList<>();
          loadResidual(next, r);
          e.forNext.add(new PendingLoad(c, rows(c)));
          e.forNext.add(new PendingLoad(r, rows(r)));
          e.releases.addAll(e.forNext);
        }
      }
      e.sync = true;
    } else {
      e.instructions.add(store(Buffer.ACC, accRow, cols * 4, y + ((long) st.m0()
          * layer.outFeatures() + (long) st.nt() * d) * 4, st.rows(), layer.outFeatures() * 4L));
      if (bias && next != null
          && (order != Order.ACTIVATION_STEPS || next.tile() / nc != st.tile() / nc)) {
        loadConstants(next, next.tile(), e.instructions);
      }
      e.cycles = drain;
    }
    return e;
  }

  private static Instruction store(Buffer buf, int row, int elem, long addr, int rows,
      long stride) {
    return Instruction.of(Opcode.STORE).waitFor(Unit.EXEC)
        .with(Isa.Store.BUF, buf.id())
        .with(Isa.Store.SRC_ROW, row)
        .with(Isa.Store.ELEM_BYTES, elem)
        .with(Isa.Store.HBM_ADDR, addr)
        .with(Isa.Store.X_SIZE, rows)
        .with(Isa.Store.Y_SIZE, 1)
        .with(Isa.Store.X_STRIDE, stride);
  }

  /**
   * The first ACC row of a step's n-tile: ACC halves alternate between tiles, or, when every
   * n-tile of a block accumulates at once, between blocks, with a run of rows per n-tile.
   */
  private int accRow(Step st) {
    if (order == Order.ACTIVATION_STEPS) {
      return (st.tile() / nc % 2) * accHalf + st.nt() * st.rows();
    }
    return (st.tile() % 2) * accHalf;
  }

  private int aRegion(int slice) {
    return (slice % 2) * aHalf;
  }

  /** The K chunk at the start of the step's A slice in ABUF. */
  private int aOrigin(Step st) {
    return order.splitsK() ? st.c0() : 0;
  }

  /** The WBUF row of chunk {@code c}'s tile in step {@code st}. */
  private long wRow(Step st, int c) {
    if (order == Order.ALL_RESIDENT) {
      return ((long) st.nt() * kc + c) * d;
    }
    return (long) (st.wSlice() % 3) * wThird + (long) (c - st.c0()) * d;
  }

  /** Loads the residual rows of step {@code st}'s tile into its half of the residual region. */
  private void loadResidual(Step st, List<Instruction> into) {
    int cols = Math.min(d, layer.outFeatures() - st.nt() * d);
    into.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.ABUF.id())
        .with(Isa.Load.DST_ROW, rBase + (st.tile() % 2) * oHalf)
        .with(Isa.Load.ELEM_BYTES, cols)
        .with(Isa.Load.HBM_ADDR, residual.address() + (long) st.m0() * layer.outFeatures()
            + (long) st.nt() * d)
        .with(Isa.Load.X_SIZE, st.rows())
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, layer.outFeatures()));
  }

  /** Loads the weight tiles of step {@code st} into its W slice's WBUF third. */
  private void loadWeights(Step st, List<Instruction> into) {
    if (order == Order.ALL_RESIDENT) {
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.WBUF.id())
          .with(Isa.Load.ELEM_BYTES, d)
          .with(Isa.Load.HBM_ADDR, w)
          .with(Isa.Load.X_SIZE, (long) nc * kc * d)
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, d));
      return;
    }
    int tiles = st.c1() - st.c0();
    into.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.WBUF.id())
        .with(Isa.Load.DST_ROW, (long) (st.wSlice() % 3) * wThird)
        .with(Isa.Load.ELEM_BYTES, d)
        .with(Isa.Load.HBM_ADDR, w + ((long) st.nt() * kc + st.c0()) * d * d)
        .with(Isa.Load.X_SIZE, (long) tiles * d)
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, d));
  }

  /** Loads K chunks {@code [from, to)} of the rows of {@code st} into its A slice's ABUF half. */
  private void loadActivations(Step st, int from, int to, List<Instruction> into) {
    int dst = aRegion(st.aSlice()) + (from - aOrigin(st)) * st.rows();
    source.load(new Activations.Block(st.m0(), st.rows()), from, to, dst, into);
  }

  /**
   * Requant parameters (3 rows) or bias rows (broadcast to every row) for a tile; when every
   * n-tile of a block accumulates at once, the bias rows of all of them, one run per n-tile.
   */
  private void loadConstants(Step st, int tile, List<Instruction> into) {
    if (layer.int8Output()) {
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ACC.id())
          .with(Isa.Load.DST_ROW, paramBase + (tile % 2) * 3)
          .with(Isa.Load.ELEM_BYTES, 4L * d)
          .with(Isa.Load.HBM_ADDR, constants + (long) st.nt() * 3 * d * 4)
          .with(Isa.Load.X_SIZE, 3)
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, 4L * d));
    } else if (layer.bias() != null) {
      boolean block = order == Order.ACTIVATION_STEPS;
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ACC.id())
          .with(Isa.Load.DST_ROW, accRow(st))
          .with(Isa.Load.ELEM_BYTES, 4L * d)
          .with(Isa.Load.HBM_ADDR, constants + (long) st.nt() * d * 4)
          .with(Isa.Load.X_SIZE, st.rows())
          .with(Isa.Load.Y_SIZE, block ? nc : 1)
          .with(Isa.Load.Y_STRIDE, block ? 4L * d : 0)
          .with(Isa.Load.X_STRIDE, 0));
    }
  }
}
