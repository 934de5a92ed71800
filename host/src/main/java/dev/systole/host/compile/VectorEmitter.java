package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits the layers that run on the vector path: max pooling (window LOADs padded with -128, a
 * chain of VMAX) and residual adds (two LOADs, one VADD), CONTRACT.md 11.3 and 11.4.
 *
 * <p>Both are cut into jobs that each fill half of ABUF and end in STOREs. Jobs alternate halves,
 * and the LOADs of job j + 1 are placed right after the first instruction that consumes job j's
 * LOADs (the only one that waits for LOAD), so they fill the other half while job j computes and
 * stores. The half they overwrite was last read by the STORE of job j - 1, so the first of them
 * waits for STORE; nothing else waits. The array is not used: these layers are bound by LOAD.
 */
final class VectorEmitter {
  private VectorEmitter() {}

  /** One job: LOADs into its half, EXEC work over them, STOREs of the result. */
  private record Job(List<Instruction> loads, List<Instruction> ops, List<Instruction> stores) {}

  /** Builds job {@code j} with its rows in the ABUF half starting at {@code base}. */
  private interface JobMaker {
    Job make(int j, int base);
  }

  private static void emit(List<Instruction> out, int jobs, int half, JobMaker maker) {
    Job job = maker.make(0, 0);
    out.addAll(job.loads());
    for (int j = 0; j < jobs; j++) {
      Job next = j + 1 < jobs ? maker.make(j + 1, ((j + 1) % 2) * half) : null;
      List<Instruction> rest = new ArrayList<>(job.ops());
      List<Instruction> stores = new ArrayList<>(job.stores());
      if (!job.ops().isEmpty()) {
        stores.set(0, stores.get(0).waitFor(Unit.EXEC));
      }
      rest.addAll(stores);
      out.add(rest.get(0).waitFor(Unit.LOAD));
      if (next != null) {
        List<Instruction> loads = new ArrayList<>(next.loads());
        if (j + 1 >= 2) {
          loads.set(0, loads.get(0).waitFor(Unit.STORE));
        }
        out.addAll(loads);
      }
      out.addAll(rest.subList(1, rest.size()));
      job = next;
    }
  }

  /** Max pooling of an NHWC batch {@code x} into {@code y}. */
  static void maxPool(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y) {
    MaxPoolLayer pool = (MaxPoolLayer) node.layer();
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    DeviceGraph.Shape o = node.shape();
    Window win = pool.window();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int positions = win.kernelH() * win.kernelW();
    int maxPixels = half / positions;
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxpool '" + node.name() + "': a " + win.kernelH()
          + "x" + win.kernelW() + " window needs " + 2 * positions + " ABUF rows but the device"
          + " has " + p.abufRows() + " (expected a kernel area of at most ABUF_ROWS / 2 = "
          + half + ")");
    }
    int c = in.channels();
    int cbs = WeightLayout.chunks(c, d);
    List<Windows.Tile> tiles = Windows.tiles(batch, o.height(), o.width(), maxPixels);
    emit(out, tiles.size() * cbs, half, (j, base) -> {
      Windows.Tile t = tiles.get(j / cbs);
      int cb = j % cbs;
      int rows = t.pixels();
      int elem = Math.min(d, c - cb * d);
      long image = x + (long) t.image() * in.size() + (long) cb * d;
      List<Instruction> loads = new ArrayList<>();
      for (int ky = 0; ky < win.kernelH(); ky++) {
        for (int kx = 0; kx < win.kernelW(); kx++) {
          Instruction l = Windows.load(image, in.height(), in.width(), c, elem, win, ky, kx, t,
              base + loads.size() * rows, -128);
          if (l != null) {
            loads.add(l);
          }
        }
      }
      List<Instruction> ops = new ArrayList<>();
      for (int i = 1; i < loads.size(); i++) {
        ops.add(Instruction.of(Opcode.VMAX)
            .with(Isa.Vmax.A_ROW, base)
            .with(Isa.Vmax.B_ROW, base + i * rows)
            .with(Isa.Vmax.DST_ROW, base)
            .with(Isa.Vmax.ROWS, rows));
      }
      long addr = y + (long) t.firstPixel(o.height(), o.width()) * c + (long) cb * d;
      return new Job(loads, ops, List.of(store(base, elem, addr, rows, c, 1, 0)));
    });
  }

  /** The residual add of NHWC batches {@code a} and {@code b} into {@code y}. */
  static void add(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long a, long b, long y) {
    AddLayer add = (AddLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int c = node.shape().channels();
    int cbs = WeightLayout.chunks(c, d);
    int maxRows = half / (2 * cbs);
    if (maxRows < 1) {
      throw new IllegalArgumentException("add '" + node.name() + "': " + c + " channels need "
          + 4 * cbs + " ABUF rows but the device has " + p.abufRows() + " (expected at most "
          + half / 2 * d + " channels)");
    }
    long pixels = batch * node.shape().size() / c;
    if (pixels > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("add '" + node.name() + "' of " + pixels
          + " pixels (expected at most " + Integer.MAX_VALUE + " per run)");
    }
    RowMajorActivations ra = new RowMajorActivations(a, (int) pixels, c, d);
    RowMajorActivations rb = new RowMajorActivations(b, (int) pixels, c, d);
    List<Activations.Block> blocks = ra.blocks(maxRows);
    int za = node.inputs().get(0).zeroPoint();
    int zb = node.inputs().get(1).zeroPoint();
    emit(out, blocks.size(), half, (j, base) -> {
      Activations.Block blk = blocks.get(j);
      int rows = blk.rows();
      List<Instruction> loads = new ArrayList<>();
      ra.load(blk, 0, cbs, base, loads);
      rb.load(blk, 0, cbs, base + cbs * rows, loads);
      Instruction vadd = Instruction.of(Opcode.VADD)
          .with(Isa.Vadd.A_ROW, base)
          .with(Isa.Vadd.B_ROW, base + cbs * rows)
          .with(Isa.Vadd.DST_ROW, base)
          .with(Isa.Vadd.ROWS, cbs * rows)
          .with(Isa.Vadd.A_ZERO, za)
          .with(Isa.Vadd.B_ZERO, zb)
          .with(Isa.Vadd.OUT_ZERO, add.zeroPoint())
          .with(Isa.Vadd.A_MULT, add.aMultiplier())
          .with(Isa.Vadd.B_MULT, add.bMultiplier())
          .with(Isa.Vadd.SHIFT, add.shift())
          .with(Isa.Vadd.RELU, add.relu());
      long addr = y + (long) blk.m0() * c;
      List<Instruction> stores = new ArrayList<>();
      int full = c / d;
      if (full > 0) {
        stores.add(store(base, d, addr, rows, c, full, d));
      }
      if (c % d != 0) {
        stores.add(store(base + full * rows, c % d, addr + (long) full * d, rows, c, 1, 0));
      }
      return new Job(loads, List.of(vadd), stores);
    });
  }

  private static Instruction store(int row, int elem, long addr, int rows, long stride,
      int chunks, long chunkStride) {
    return Instruction.of(Opcode.STORE)
        .with(Isa.Store.BUF, Buffer.ABUF.id())
        .with(Isa.Store.SRC_ROW, row)
        .with(Isa.Store.ELEM_BYTES, elem)
        .with(Isa.Store.HBM_ADDR, addr)
        .with(Isa.Store.X_SIZE, rows)
        .with(Isa.Store.Y_SIZE, chunks)
        .with(Isa.Store.X_STRIDE, stride)
        .with(Isa.Store.Y_STRIDE, chunkStride);
  }
}
