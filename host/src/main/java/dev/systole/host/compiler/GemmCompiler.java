package dev.systole.host.compiler;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a {@link LayerGraph} for a batch of M rows into one device program, tiled to the
 * parameters the device reported (never assumed).
 *
 * <p><b>Tiling.</b> A layer {@code Y (M x N) = X (M x K) * W} is cut into m-blocks of {@code mt}
 * rows and n-tiles of D columns; K is cut into chunks of D. When every K chunk of an m-block fits
 * in half of the activation region ({@code mt * KC} rows), the block is loaded once and stays in
 * ABUF while every n-tile streams through it (weights are reloaded, activations reused); otherwise
 * K is also split into steps of up to a third of WBUF, and each step loads its own slice of X.
 * X and Y stay row-major in card memory, the layout the user gave, and strided LOADs and STOREs
 * do the re-layout, so the host copies each input once into staging and nothing more.
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
public final class GemmCompiler {
  private GemmCompiler() {}

  /** Card addresses of the program's operands, one entry per layer where per layer. */
  public record Addresses(long input, List<Long> weights, List<Long> constants,
      List<Long> outputs) {}

  /** How one layer was tiled. */
  public record LayerPlan(int m, int k, int n, int mTile, int chunksPerStep, boolean resident,
      int steps, long macs) {}

  /** A compiled program: its instructions and how each layer was tiled. */
  public record Program(List<Instruction> instructions, List<LayerPlan> layers) {
    /** Multiply-accumulates the array does, padding included. */
    public long arrayMacs() {
      return layers.stream().mapToLong(LayerPlan::macs).sum();
    }

    /** Multiply-accumulates the layers mean: M * K * N summed. */
    public long usefulMacs() {
      return layers.stream().mapToLong(l -> (long) l.m() * l.k() * l.n()).sum();
    }
  }

  public static Program compile(LayerGraph graph, int m, DeviceParams p, Addresses at) {
    if (m < 1) {
      throw new IllegalArgumentException("batch of " + m + " rows (expected at least 1)");
    }
    List<Instruction> out = new ArrayList<>();
    List<LayerPlan> plans = new ArrayList<>();
    long input = at.input();
    for (int i = 0; i < graph.layers().size(); i++) {
      if (i > 0) {
        out.add(Instruction.of(Opcode.FENCE));
      }
      LayerEmitter e = new LayerEmitter(out, p, graph.layers().get(i), m, input,
          at.outputs().get(i), at.weights().get(i), at.constants().get(i));
      plans.add(e.emit());
      input = at.outputs().get(i);
    }
    out.add(Instruction.of(Opcode.HALT));
    return new Program(List.copyOf(out), List.copyOf(plans));
  }

  /** One step: a slice of K chunks for one n-tile of one m-block. */
  private record Step(int block, int m0, int rows, int tile, int nt, int c0, int c1,
      boolean firstOfTile, boolean lastOfTile, boolean firstOfBlock) {}

  private static final class LayerEmitter {
    private final List<Instruction> out;
    private final GemmLayer layer;
    private final int d;
    private final int m;
    private final long x;
    private final long y;
    private final long w;
    private final long constants;
    private final int kc;
    private final int nc;
    private final int aHalf;
    private final int oBase;
    private final int oHalf;
    private final int wThird;
    private final int accHalf;
    private final int paramBase;
    private final boolean resident;
    private final int chunksPerStep;
    private final int mt;
    private final List<Step> steps = new ArrayList<>();

    LayerEmitter(List<Instruction> out, DeviceParams p, GemmLayer layer, int m, long x, long y,
        long w, long constants) {
      this.out = out;
      this.layer = layer;
      this.d = p.lanes();
      this.m = m;
      this.x = x;
      this.y = y;
      this.w = w;
      this.constants = constants;
      this.kc = WeightLayout.chunks(layer.inFeatures(), d);
      this.nc = WeightLayout.chunks(layer.outFeatures(), d);
      this.aHalf = p.abufRows() * 3 / 8;
      this.oBase = 2 * aHalf;
      this.oHalf = (p.abufRows() - oBase) / 2;
      this.wThird = p.wbufRows() / 3 / d * d;
      this.accHalf = (p.accRows() - 6) / 2;
      this.paramBase = 2 * accHalf;
      int maxChunks = wThird / d;
      if (maxChunks < 1) {
        throw new IllegalArgumentException("WBUF of " + p.wbufRows() + " rows is too small to"
            + " double-buffer weight tiles (expected at least " + 3 * d + " rows)");
      }
      this.resident = kc <= maxChunks && aHalf / kc >= 1;
      this.chunksPerStep = resident ? kc : Math.min(maxChunks, aHalf);
      this.mt = Math.min(m, Math.min(aHalf / chunksPerStep, Math.min(accHalf, oHalf)));
      if (mt < 1) {
        throw new IllegalArgumentException("buffers of " + p + " are too small for one row");
      }
      int tile = 0;
      int block = 0;
      for (int m0 = 0; m0 < m; m0 += mt, block++) {
        int rows = Math.min(mt, m - m0);
        for (int nt = 0; nt < nc; nt++, tile++) {
          for (int c0 = 0; c0 < kc; c0 += chunksPerStep) {
            int c1 = Math.min(kc, c0 + chunksPerStep);
            steps.add(new Step(block, m0, rows, tile, nt, c0, c1, c0 == 0, c1 == kc,
                nt == 0 && c0 == 0));
          }
        }
      }
    }

    /** Work for the EXEC unit in program order, with the loads it releases and needs. */
    private static final class Event {
      final List<Instruction> instructions = new ArrayList<>();
      final List<PendingLoad> needs = new ArrayList<>();
      final List<PendingLoad> releases = new ArrayList<>();
      long cycles;
      boolean sync;
      long start;
    }

    /** LOADs not yet placed: they may go anywhere after their release and before their need. */
    private static final class PendingLoad {
      final List<Instruction> instructions;
      final long cycles;
      boolean emitted;

      PendingLoad(List<Instruction> instructions, long rows) {
        this.instructions = instructions;
        this.cycles = 34 + rows;
      }
    }

    LayerPlan emit() {
      boolean requant = layer.int8Output();
      boolean bias = !requant && layer.bias() != null;
      long drain = 2L * d + 3;
      List<Event> events = new ArrayList<>();
      // The prologue's loads (first activations, two weight slices, first constants) are placed
      // before everything; the first MATMUL waits for them.
      Step first = steps.get(0);
      List<Instruction> prologue = new ArrayList<>();
      loadActivations(first, first.c0(), first.c1(), aRegion(0), prologue);
      loadWeights(0, prologue);
      loadWeights(1, prologue);
      if (requant || bias) {
        loadConstants(first, 0, prologue);
      }
      out.addAll(prologue);
      PendingLoad[] weightsOf = new PendingLoad[steps.size()];
      PendingLoad[] activationsOf = new PendingLoad[steps.size()];
      Event[] firstEvent = new Event[steps.size()];
      Event[] lastEvent = new Event[steps.size()];
      int matmuls = 0;
      for (int s = 0; s < steps.size(); s++) {
        Step st = steps.get(s);
        Step next = s + 1 < steps.size() ? steps.get(s + 1) : null;
        int aBase = aRegion(resident ? st.block() : s);
        int accRow = (st.tile() % 2) * accHalf;
        for (int c = st.c0(); c < st.c1(); c++) {
          boolean firstOfStep = c == st.c0();
          boolean lastOfStep = c + 1 == st.c1();
          Instruction mm = Instruction.of(Opcode.MATMUL)
              .with(Isa.Matmul.A_ROW, aBase + (long) (c - (resident ? 0 : st.c0())) * st.rows())
              .with(Isa.Matmul.ACC_ROW, accRow)
              .with(Isa.Matmul.ROWS, st.rows())
              .with(Isa.Matmul.ACCUMULATE, !(st.firstOfTile() && firstOfStep) || bias);
          long wRow = wRow(s, c);
          mm = matmuls == 0 ? mm.with(Isa.Matmul.W_LOAD, true).with(Isa.Matmul.W_ROW, wRow)
              : mm.with(Isa.Matmul.W_SWAP, true);
          long preload = lastOfStep ? (next == null ? -1 : wRow(s + 1, next.c0())) : wRow(s, c + 1);
          if (preload >= 0) {
            mm = mm.with(Isa.Matmul.W_PRELOAD, true).with(Isa.Matmul.PRE_ROW, preload);
          }
          // Freshly loaded inputs: this step's activations (a new block, or every step when
          // K is split), the bias rows of a new tile, the first weights; and the next step's
          // weights when this MATMUL preloads from them.
          boolean fresh = firstOfStep && (matmuls == 0 || !resident || st.firstOfBlock()
              || bias && st.firstOfTile());
          boolean crossing = lastOfStep && next != null;
          Event e = new Event();
          if (fresh || crossing) {
            mm = mm.waitFor(Unit.LOAD);
            e.sync = true;
          }
          e.instructions.add(mm);
          e.cycles = Math.max(st.rows(), preload >= 0 ? d : 0) + (matmuls == 0 ? d : 0);
          events.add(e);
          matmuls++;
          if (firstOfStep) {
            firstEvent[s] = e;
          }
          if (lastOfStep) {
            lastEvent[s] = e;
          }
        }
        if (st.lastOfTile()) {
          events.add(epilogue(st, accRow, next, requant, bias, drain));
        }
      }
      // Loads released by the first MATMUL of a step, needed by a later MATMUL.
      for (int s = 0; s < steps.size(); s++) {
        Step st = steps.get(s);
        if (s + 2 < steps.size()) {
          List<Instruction> w = new ArrayList<>();
          loadWeights(s + 2, w);
          Step ws = steps.get(s + 2);
          weightsOf[s + 2] = new PendingLoad(w, (long) (ws.c1() - ws.c0()) * d);
          firstEvent[s].releases.add(weightsOf[s + 2]);
          lastEvent[s + 1].needs.add(weightsOf[s + 2]);
        }
        if (!resident && s + 1 < steps.size()) {
          Step n = steps.get(s + 1);
          List<Instruction> a = new ArrayList<>();
          loadActivations(n, n.c0(), n.c1(), aRegion(s + 1), a);
          activationsOf[s + 1] = new PendingLoad(a, (long) (n.c1() - n.c0()) * n.rows());
          firstEvent[s].releases.add(activationsOf[s + 1]);
          firstEvent[s + 1].needs.add(activationsOf[s + 1]);
        } else if (resident) {
          int nb = firstStepOfBlock(st.block() + 1);
          int from = (int) ((long) st.nt() * kc / nc);
          int to = (int) ((long) (st.nt() + 1) * kc / nc);
          if (nb >= 0 && to > from) {
            Step n = steps.get(nb);
            List<Instruction> a = new ArrayList<>();
            loadActivations(n, from, to, aRegion(n.block()), a);
            PendingLoad piece = new PendingLoad(a, (long) (to - from) * n.rows());
            firstEvent[s].releases.add(piece);
            firstEvent[nb].needs.add(piece);
          }
        }
      }
      schedule(events);
      long macs = (long) m * kc * nc * d * d;
      return new LayerPlan(m, layer.inFeatures(), layer.outFeatures(), mt, chunksPerStep,
          resident, steps.size(), macs);
    }

    /**
     * Places the pending loads between the EXEC events. Issue is in order and the LOAD unit takes
     * one instruction at a time, so a LOAD placed while the unit is still busy stops the issue of
     * everything behind it and starves the array. A released load is therefore placed only where
     * the LOAD unit should be idle (by the cycle estimates) and where it can finish before the
     * next instruction that waits on LOAD; a load whose consumer comes next is placed regardless.
     */
    private void schedule(List<Event> events) {
      long t = 0;
      for (Event e : events) {
        e.start = t;
        t += e.cycles;
      }
      long[] nextSync = new long[events.size() + 1];
      nextSync[events.size()] = Long.MAX_VALUE;
      for (int i = events.size() - 1; i >= 0; i--) {
        nextSync[i] = events.get(i).sync ? events.get(i).start : nextSync[i + 1];
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
            && now + released.get(0).cycles <= nextSync[i]) {
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
      int cols = Math.min(d, layer.outFeatures() - st.nt() * d);
      if (requant) {
        int oRow = oBase + (st.tile() % 2) * oHalf;
        e.instructions.add(Instruction.of(Opcode.REQUANT).waitFor(Unit.LOAD)
            .with(Isa.Requant.ACC_ROW, accRow)
            .with(Isa.Requant.DST_ROW, oRow)
            .with(Isa.Requant.ROWS, st.rows())
            .with(Isa.Requant.PARAM_ROW, paramBase + (st.tile() % 2) * 3)
            .with(Isa.Requant.ZERO_POINT, layer.requant().zeroPoint())
            .with(Isa.Requant.RELU, layer.requant().relu()));
        e.instructions.add(store(Buffer.ABUF, oRow, cols, y + (long) st.m0() * layer.outFeatures()
            + (long) st.nt() * d, st.rows(), layer.outFeatures()));
        if (next != null) {
          loadConstants(next, next.tile(), e.instructions);
        }
        e.sync = true;
        e.cycles = drain + 7 + st.rows();
      } else {
        e.instructions.add(store(Buffer.ACC, accRow, cols * 4, y + ((long) st.m0()
            * layer.outFeatures() + (long) st.nt() * d) * 4, st.rows(), layer.outFeatures() * 4L));
        if (bias && next != null) {
          loadConstants(next, next.tile(), e.instructions);
        }
        e.cycles = drain;
      }
      return e;
    }

    private int firstStepOfBlock(int block) {
      int index = block * nc * WeightLayout.chunks(kc, chunksPerStep);
      return index < steps.size() ? index : -1;
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

    private int aRegion(int index) {
      return (index % 2) * aHalf;
    }

    /** The WBUF row of chunk {@code c}'s tile in step {@code s}. */
    private long wRow(int s, int c) {
      return (long) (s % 3) * wThird + (long) (c - steps.get(s).c0()) * d;
    }

    /** Loads step {@code s}'s weight tiles into its WBUF third, if the step exists. */
    private void loadWeights(int s, List<Instruction> into) {
      if (s >= steps.size()) {
        return;
      }
      Step st = steps.get(s);
      int tiles = st.c1() - st.c0();
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.WBUF.id())
          .with(Isa.Load.DST_ROW, (long) (s % 3) * wThird)
          .with(Isa.Load.ELEM_BYTES, d)
          .with(Isa.Load.HBM_ADDR, w + ((long) st.nt() * kc + st.c0()) * d * d)
          .with(Isa.Load.X_SIZE, (long) tiles * d)
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, d));
    }

    /**
     * Loads K chunks {@code [from, to)} of the rows of {@code st} into ABUF at {@code base}, chunk
     * c at {@code base + (c - first) * rows}, where first is the step's own first chunk when K is
     * split and 0 when the block is resident. A partial last chunk is padded with zeros.
     */
    private void loadActivations(Step st, int from, int to, int base, List<Instruction> into) {
      int k = layer.inFeatures();
      int origin = resident ? 0 : st.c0();
      int full = Math.min(to, k / d);
      long rowAddr = x + (long) st.m0() * k;
      if (full > from) {
        into.add(Instruction.of(Opcode.LOAD)
            .with(Isa.Load.BUF, Buffer.ABUF.id())
            .with(Isa.Load.DST_ROW, base + (long) (from - origin) * st.rows())
            .with(Isa.Load.ELEM_BYTES, d)
            .with(Isa.Load.HBM_ADDR, rowAddr + (long) from * d)
            .with(Isa.Load.X_SIZE, st.rows())
            .with(Isa.Load.X_STRIDE, k)
            .with(Isa.Load.Y_SIZE, full - from)
            .with(Isa.Load.Y_STRIDE, d));
      }
      if (to > full && k % d != 0) {
        into.add(Instruction.of(Opcode.LOAD)
            .with(Isa.Load.BUF, Buffer.ABUF.id())
            .with(Isa.Load.DST_ROW, base + (long) (full - origin) * st.rows())
            .with(Isa.Load.ELEM_BYTES, k % d)
            .with(Isa.Load.HBM_ADDR, rowAddr + (long) full * d)
            .with(Isa.Load.X_SIZE, st.rows())
            .with(Isa.Load.X_STRIDE, k)
            .with(Isa.Load.Y_SIZE, 1));
      }
    }

    /** Requant parameters (3 rows) or bias rows (broadcast to every row) for a tile. */
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
        into.add(Instruction.of(Opcode.LOAD)
            .with(Isa.Load.BUF, Buffer.ACC.id())
            .with(Isa.Load.DST_ROW, (tile % 2) * accHalf)
            .with(Isa.Load.ELEM_BYTES, 4L * d)
            .with(Isa.Load.HBM_ADDR, constants + (long) st.nt() * d * 4)
            .with(Isa.Load.X_SIZE, st.rows())
            .with(Isa.Load.Y_SIZE, 1)
            .with(Isa.Load.X_STRIDE, 0));
      }
    }
  }
}
