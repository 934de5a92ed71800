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
 * chain of VMAX), residual adds (two LOADs, one VADD), depthwise convolutions (window LOADs
 * padded with the input zero point, a VMAC per window position, REQUANT) and means (VREDUCE down
 * the pixels, REQUANT), CONTRACT.md 11.3, 11.4, 11.7 and 11.8.
 *
 * <p>Both are cut into jobs that each fill half of ABUF and end in STOREs. Jobs alternate halves,
 * and the LOADs of job j + 1 are placed right after the first instruction that consumes job j's
 * LOADs (the only one that waits for LOAD), so they fill the other half while job j computes and
 * stores. The half they overwrite was last read by the STORE of job j - 1, so the first of them
 * waits for STORE; nothing else waits. The array is not used: these layers are bound by LOAD.
 */
final class VectorEmitter {
  private VectorEmitter() {}

  /** One job: LOADs into its half, work on the vector lanes over them, STOREs of the result. */
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
      if (!job.ops().isEmpty() && !stores.isEmpty()) {
        stores.set(0, alsoWait(stores.get(0), Unit.VECTOR));
      }
      rest.addAll(stores);
      out.add(alsoWait(rest.get(0), Unit.LOAD));
      if (next != null) {
        List<Instruction> loads = new ArrayList<>(next.loads());
        if (j + 1 >= 2) {
          loads.set(0, alsoWait(loads.get(0), Unit.STORE));
        }
        out.addAll(loads);
      }
      out.addAll(rest.subList(1, rest.size()));
      job = next;
    }
  }

  /** {@code in} waiting for {@code unit} as well as for what it already waits for. */
  private static Instruction alsoWait(Instruction in, Unit unit) {
    return in.with(Isa.WAIT, in.waitMask() | unit.waitMask());
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
    int pixels = rows(node, batch, c);
    RowMajorActivations ra = new RowMajorActivations(a, pixels, c, d);
    RowMajorActivations rb = new RowMajorActivations(b, pixels, c, d);
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
      return new Job(loads, List.of(vadd), rowStores(base, y + (long) blk.m0() * c, rows, c,
          d));
    });
  }

  /** WBUF rows of a depthwise layer: {@code [cb][position][D]}, lanes past C zero. */
  static byte[] depthwiseWeights(DepthwiseLayer l, int d) {
    int cbs = WeightLayout.chunks(l.channels(), d);
    int positions = l.positions();
    byte[] out = new byte[cbs * positions * d];
    for (int c = 0; c < l.channels(); c++) {
      for (int pos = 0; pos < positions; pos++) {
        out[((c / d) * positions + pos) * d + c % d] = (byte) l.weight(c, pos);
      }
    }
    return out;
  }

  /**
   * Card bytes of a depthwise layer's, a mean's or a table's constants: REQUANT rows (bias,
   * multiplier, shift) of D little-endian int32, per channel block for a depthwise layer (then a
   * row of D input zero points, for window positions that see only padding), one set for a
   * mean; the 256 entries as little-endian int16 LUT rows for a table.
   */
  static byte[] constants(DeviceGraph.Node n, int d) {
    int zx = n.inputs().get(0).zeroPoint();
    if (n.layer() instanceof TableLayer t) {
      return lutBytes(t.entries(), d);
    }
    if (n.layer() instanceof ChannelReduceLayer r) {
      if (r.max()) {
        return new byte[0];
      }
      int[] rows = new int[3 * d];
      long bias = -(long) n.inputs().get(0).shape().channels() * zx;
      for (int j = 0; j < d; j++) {
        rows[j] = (int) bias;
        rows[d + j] = r.requant().multiplier()[0];
        rows[2 * d + j] = r.requant().shift()[0];
      }
      return ints(rows);
    }
    if (n.layer() instanceof SoftmaxLayer s) {
      short[] t = s.table();
      byte[] b = new byte[2 * DeviceParams.tableRows(d) * d];
      for (int e = 0; e < 256; e++) {
        b[2 * e] = (byte) t[e];
        b[2 * e + 1] = (byte) (t[e] >> 8);
      }
      return b;
    }
    if (n.layer() instanceof ScaleLayer s) {
      int cbs = WeightLayout.chunks(s.channels(), d);
      int[] rows = new int[cbs * 4 * d];
      int[][] parts = {s.multPos(), s.multNeg(), s.bias(), s.shift()};
      for (int c = 0; c < s.channels(); c++) {
        for (int k = 0; k < 4; k++) {
          rows[((c / d) * 4 + k) * d + c % d] = parts[k][c];
        }
      }
      return ints(rows);
    }
    if (n.layer() instanceof NormLayer l) {
      int cbs = WeightLayout.chunks(l.features(), d);
      int[] rows = new int[cbs * 3 * d];
      int[][] parts = {l.scale(), l.bias(), l.shift()};
      for (int c = 0; c < l.features(); c++) {
        for (int k = 0; k < 3; k++) {
          rows[((c / d) * 3 + k) * d + c % d] = parts[k][c];
        }
      }
      return ints(rows);
    }
    if (n.layer() instanceof SliceLayer s) {
      return s.table() == null ? new byte[0] : lutBytes(s.table(), d);
    }
    if (n.layer() instanceof ConcatLayer c) {
      int size = 2 * DeviceParams.tableRows(d) * d;
      byte[] b = new byte[size * c.tables().size()];
      for (int i = 0; i < c.tables().size(); i++) {
        if (c.tables().get(i) != null) {
          System.arraycopy(lutBytes(c.tables().get(i), d), 0, b, i * size, size);
        }
      }
      return b;
    }
    if (n.layer() instanceof MeanLayer mean) {
      DeviceGraph.Shape in = n.inputs().get(0).shape();
      long bias = -(long) in.height() * in.width() * zx;
      int[] rows = new int[3 * d];
      for (int j = 0; j < d; j++) {
        rows[j] = (int) bias;
        rows[d + j] = mean.requant().multiplier()[0];
        rows[2 * d + j] = mean.requant().shift()[0];
      }
      return ints(rows);
    }
    DepthwiseLayer l = (DepthwiseLayer) n.layer();
    int cbs = WeightLayout.chunks(l.channels(), d);
    int[] rows = new int[cbs * 3 * d];
    int[] mult = l.requant().multiplier();
    int[] shift = l.requant().shift();
    for (int c = 0; c < l.channels(); c++) {
      int base = (c / d) * 3 * d + c % d;
      rows[base] = l.foldedBias(c, zx);
      rows[base + d] = mult[c];
      rows[base + 2 * d] = shift[c];
    }
    byte[] b = ints(rows);
    byte[] out = java.util.Arrays.copyOf(b, b.length + d);
    java.util.Arrays.fill(out, b.length, out.length, (byte) zx);
    return out;
  }

  /** A table's 256 entries as LUT rows of little-endian int16 (entry e is code e - 128's). */
  private static byte[] lutBytes(byte[] entries, int d) {
    byte[] b = new byte[2 * DeviceParams.tableRows(d) * d];
    for (int e = 0; e < 256; e++) {
      b[2 * e] = entries[e];
      b[2 * e + 1] = (byte) (entries[e] >> 7);
    }
    return b;
  }

  private static byte[] ints(int[] v) {
    byte[] b = new byte[4 * v.length];
    for (int i = 0; i < v.length; i++) {
      b[4 * i] = (byte) v[i];
      b[4 * i + 1] = (byte) (v[i] >>> 8);
      b[4 * i + 2] = (byte) (v[i] >>> 16);
      b[4 * i + 3] = (byte) (v[i] >>> 24);
    }
    return b;
  }

  /**
   * A depthwise convolution of an NHWC batch {@code x} into {@code y}: its weight rows and
   * requant rows are loaded once (WBUF rows from 0, ACC rows from 0), then per tile of output
   * pixels and channel block the window LOADs, a VMAC per position into one of two ACC runs,
   * REQUANT into the job's ABUF half, and the STORE.
   */
  static void depthwise(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long weights, long constants) {
    DepthwiseLayer dw = (DepthwiseLayer) node.layer();
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    DeviceGraph.Shape o = node.shape();
    Window win = dw.window();
    int d = p.lanes();
    int c = in.channels();
    int cbs = WeightLayout.chunks(c, d);
    int positions = dw.positions();
    int half = p.abufRows() / 2;
    int accBase = 3 * cbs;
    int accHalf = (p.accRows() - accBase) / 2;
    int maxPixels = Math.min(half / positions, accHalf);
    if (maxPixels < 1 || cbs * positions > p.wbufRows()) {
      throw new IllegalArgumentException("depthwise '" + node.name() + "': a " + win.kernelH()
          + "x" + win.kernelW() + " window over " + c + " channels needs " + 2 * positions
          + " ABUF rows, " + (accBase + 2) + " ACC rows and " + cbs * positions
          + " WBUF rows but the device has " + p.abufRows() + ", " + p.accRows() + " and "
          + p.wbufRows() + " (expected a smaller kernel or fewer channels)");
    }
    int zx = node.inputs().get(0).zeroPoint();
    long zeroRow = constants + 3L * cbs * d * 4;
    out.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.WBUF.id())
        .with(Isa.Load.ELEM_BYTES, d)
        .with(Isa.Load.HBM_ADDR, weights)
        .with(Isa.Load.X_SIZE, cbs * positions)
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, d));
    out.add(accRows(constants, 0, 3 * cbs, d));
    int wp = win.padLeft() + in.width() + win.padRight();
    int reachH = (win.kernelH() - 1) * win.dilationH();
    int rowsFit = Math.min(half / wp - reachH, accHalf / wp);
    if (win.strideH() == 1 && win.strideW() == 1 && rowsFit >= 1 && win.padTop() <= reachH
        && win.padBottom() <= reachH) {
      paddedRows(out, p, node, batch, x, y, Math.min(rowsFit, o.height()), accBase, accHalf);
      return;
    }
    List<Windows.Tile> tiles = Windows.tiles(batch, o.height(), o.width(), maxPixels);
    emit(out, tiles.size() * cbs, half, (j, base) -> {
      Windows.Tile t = tiles.get(j / cbs);
      int cb = j % cbs;
      int rows = t.pixels();
      int elem = Math.min(d, c - cb * d);
      long image = x + (long) t.image() * in.size() + (long) cb * d;
      int acc = accBase + (j % 2) * accHalf;
      List<Instruction> loads = new ArrayList<>();
      List<Instruction> ops = new ArrayList<>();
      for (int ky = 0; ky < win.kernelH(); ky++) {
        for (int kx = 0; kx < win.kernelW(); kx++) {
          int pos = ky * win.kernelW() + kx;
          int row = base + pos * rows;
          Instruction l = Windows.load(image, in.height(), in.width(), c, elem, win, ky, kx, t,
              row, zx);
          loads.add(l != null ? l : Instruction.of(Opcode.LOAD)
              .with(Isa.Load.BUF, Buffer.ABUF.id())
              .with(Isa.Load.DST_ROW, row)
              .with(Isa.Load.ELEM_BYTES, d)
              .with(Isa.Load.HBM_ADDR, zeroRow)
              .with(Isa.Load.X_SIZE, rows)
              .with(Isa.Load.Y_SIZE, 1)
              .with(Isa.Load.X_STRIDE, 0));
          ops.add(Instruction.of(Opcode.VMAC)
              .with(Isa.Vmac.ACCUMULATE, pos > 0)
              .with(Isa.Vmac.A_ROW, row)
              .with(Isa.Vmac.ACC_ROW, acc)
              .with(Isa.Vmac.ROWS, rows)
              .with(Isa.Vmac.W_ROW, cb * positions + pos));
        }
      }
      ops.add(Instruction.of(Opcode.REQUANT)
          .with(Isa.Requant.RELU, dw.requant().relu())
          .with(Isa.Requant.ACC_ROW, acc)
          .with(Isa.Requant.DST_ROW, base)
          .with(Isa.Requant.ROWS, rows)
          .with(Isa.Requant.PARAM_ROW, 3 * cb)
          .with(Isa.Requant.ZERO_POINT, dw.requant().zeroPoint()));
      long addr = y + (long) t.firstPixel(o.height(), o.width()) * c + (long) cb * d;
      return new Job(loads, ops, List.of(store(base, elem, addr, rows, c, 1, 0)));
    });
  }

  /**
   * A depthwise convolution of stride 1, a run of output rows at a time: one LOAD brings the
   * input rows the run reads, padded on every side, so that for each window position (ky, kx)
   * the inputs of the run's output pixels are one run of ABUF rows, shifted by ky rows of the
   * padded width and kx pixels. One VMAC per position then covers the whole run (the padded
   * width's extra columns are computed and never stored), and each output row is one STORE.
   * The input is read once instead of once per window position. Pads no larger than the
   * kernel's reach keep a real input row in every run, which the one LOAD needs.
   */
  private static void paddedRows(List<Instruction> out, DeviceParams p, DeviceGraph.Node node,
      int batch, long x, long y, int tileRows, int accBase, int accHalf) {
    DepthwiseLayer dw = (DepthwiseLayer) node.layer();
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    DeviceGraph.Shape o = node.shape();
    Window win = dw.window();
    int d = p.lanes();
    int c = in.channels();
    int cbs = WeightLayout.chunks(c, d);
    int half = p.abufRows() / 2;
    int wp = win.padLeft() + in.width() + win.padRight();
    int reachH = (win.kernelH() - 1) * win.dilationH();
    int zx = node.inputs().get(0).zeroPoint();
    int runs = Windows.ceilDiv(o.height(), tileRows);
    emit(out, batch * runs * cbs, half, (j, base) -> {
      int image = j / (runs * cbs);
      int oy0 = (j / cbs) % runs * tileRows;
      int cb = j % cbs;
      int rows = Math.min(tileRows, o.height() - oy0);
      int elem = Math.min(d, c - cb * d);
      int iy0 = oy0 - win.padTop();
      int iy1 = oy0 + rows - 1 - win.padTop() + reachH;
      int first = Math.max(0, iy0);
      int last = Math.min(in.height() - 1, iy1);
      List<Instruction> loads = List.of(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.PAD_VALUE, zx)
          .with(Isa.Load.HBM_ADDR, x + (long) image * in.size()
              + (long) first * in.width() * c + (long) cb * d)
          .with(Isa.Load.X_SIZE, in.width())
          .with(Isa.Load.Y_SIZE, last - first + 1)
          .with(Isa.Load.X_STRIDE, c)
          .with(Isa.Load.Y_STRIDE, (long) in.width() * c)
          .with(Isa.Load.X_PAD0, win.padLeft())
          .with(Isa.Load.X_PAD1, win.padRight())
          .with(Isa.Load.Y_PAD0, first - iy0)
          .with(Isa.Load.Y_PAD1, iy1 - last));
      int span = (rows - 1) * wp + o.width();
      int acc = accBase + (j % 2) * accHalf;
      List<Instruction> ops = new ArrayList<>();
      for (int ky = 0; ky < win.kernelH(); ky++) {
        for (int kx = 0; kx < win.kernelW(); kx++) {
          int pos = ky * win.kernelW() + kx;
          ops.add(Instruction.of(Opcode.VMAC)
              .with(Isa.Vmac.ACCUMULATE, pos > 0)
              .with(Isa.Vmac.A_ROW, base + ky * win.dilationH() * wp + kx * win.dilationW())
              .with(Isa.Vmac.ACC_ROW, acc)
              .with(Isa.Vmac.ROWS, span)
              .with(Isa.Vmac.W_ROW, cb * dw.positions() + pos));
        }
      }
      ops.add(Instruction.of(Opcode.REQUANT)
          .with(Isa.Requant.RELU, dw.requant().relu())
          .with(Isa.Requant.ACC_ROW, acc)
          .with(Isa.Requant.DST_ROW, base)
          .with(Isa.Requant.ROWS, span)
          .with(Isa.Requant.PARAM_ROW, 3 * cb)
          .with(Isa.Requant.ZERO_POINT, dw.requant().zeroPoint()));
      List<Instruction> stores = new ArrayList<>();
      for (int r = 0; r < rows; r++) {
        long addr = y + ((long) (image * o.height() + oy0 + r) * o.width()) * c + (long) cb * d;
        stores.add(store(base + r * wp, elem, addr, o.width(), c, 1, 0));
      }
      return new Job(loads, ops, stores);
    });
  }

  /**
   * The mean over the pixels of each image and channel block of an NHWC batch {@code x} into
   * {@code y} ({@code [N][C]}): the pixels in chunks of half of ABUF, each summed by VREDUCE into
   * one of two ACC rows (adding to it after the first chunk), and after the last chunk a REQUANT
   * of that row and a one-row STORE.
   */
  static void mean(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    MeanLayer mean = (MeanLayer) node.layer();
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    int d = p.lanes();
    int c = in.channels();
    int cbs = WeightLayout.chunks(c, d);
    int half = p.abufRows() / 2;
    int pixels = in.height() * in.width();
    int chunks = Windows.ceilDiv(pixels, half);
    out.add(accRows(constants, 0, 3, d));
    emit(out, batch * cbs * chunks, half, (j, base) -> {
      int g = j / chunks;
      int k = j % chunks;
      int image = g / cbs;
      int cb = g % cbs;
      int first = k * half;
      int rows = Math.min(half, pixels - first);
      int elem = Math.min(d, c - cb * d);
      int acc = 3 + g % 2;
      Instruction load = Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.HBM_ADDR, x + (long) image * in.size() + (long) first * c
              + (long) cb * d)
          .with(Isa.Load.X_SIZE, rows)
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, c);
      List<Instruction> ops = new ArrayList<>();
      ops.add(Instruction.of(Opcode.VREDUCE)
          .with(Isa.Vreduce.ACCUMULATE, k > 0)
          .with(Isa.Vreduce.A_ROW, base)
          .with(Isa.Vreduce.DST_ROW, acc)
          .with(Isa.Vreduce.ROWS, rows));
      List<Instruction> stores = new ArrayList<>();
      if (k == chunks - 1) {
        ops.add(Instruction.of(Opcode.REQUANT)
            .with(Isa.Requant.ACC_ROW, acc)
            .with(Isa.Requant.DST_ROW, base)
            .with(Isa.Requant.ROWS, 1)
            .with(Isa.Requant.PARAM_ROW, 0)
            .with(Isa.Requant.ZERO_POINT, mean.requant().zeroPoint())
            .with(Isa.Requant.RELU, mean.requant().relu()));
        stores.add(store(base, elem, y + (long) image * c + (long) cb * d, 1, c, 1, 0));
      }
      return new Job(List.of(load), ops, stores);
    });
  }

  /**
   * A function by table of an NHWC batch or rows of features {@code x} into {@code y}: the table
   * into LUT table 0 once, then per run of rows a LOAD of each channel block, a VLUT in place and
   * the STOREs (the rows of C features of both layouts are the same bytes).
   */
  static void table(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int c = node.shape().channels();
    int cbs = WeightLayout.chunks(c, d);
    int maxRows = half / cbs;
    if (maxRows < 1) {
      throw new IllegalArgumentException("table '" + node.name() + "': " + c + " channels need "
          + 2 * cbs + " ABUF rows but the device has " + p.abufRows() + " (expected at most "
          + half * d + " channels)");
    }
    int pixels = rows(node, batch, c);
    out.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.LUT.id())
        .with(Isa.Load.ELEM_BYTES, 2 * d)
        .with(Isa.Load.HBM_ADDR, constants)
        .with(Isa.Load.X_SIZE, p.tableRows())
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, 2 * d));
    RowMajorActivations ra = new RowMajorActivations(x, pixels, c, d);
    List<Activations.Block> blocks = ra.blocks(maxRows);
    emit(out, blocks.size(), half, (j, base) -> {
      Activations.Block blk = blocks.get(j);
      int rows = blk.rows();
      List<Instruction> loads = new ArrayList<>();
      ra.load(blk, 0, cbs, base, loads);
      Instruction lut = Instruction.of(Opcode.VLUT)
          .with(Isa.Vlut.A_ROW, base)
          .with(Isa.Vlut.DST_ROW, base)
          .with(Isa.Vlut.ROWS, cbs * rows)
          .with(Isa.Vlut.TABLE, 0);
      return new Job(loads, List.of(lut), rowStores(base, y + (long) blk.m0() * c, rows, c, d));
    });
  }

  /**
   * The product of NHWC batches {@code a} and {@code b} into {@code y}: as an add for two of the
   * same shape; with one b value per channel, per image, its b row of each channel block loaded
   * once a job beside the job's rows of a and broadcast by VMUL.
   */
  static void mul(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long a, long b, long y) {
    MulLayer mul = (MulLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int c = node.shape().channels();
    int cbs = WeightLayout.chunks(c, d);
    int maxRows = mul.perChannel() ? (half - cbs) / cbs : half / (2 * cbs);
    if (maxRows < 1) {
      throw new IllegalArgumentException("mul '" + node.name() + "': " + c + " channels need "
          + 4 * cbs + " ABUF rows but the device has " + p.abufRows() + " (expected at most "
          + half / 2 * d + " channels)");
    }
    int pixels = rows(node, batch, c);
    int perImage = mul.perChannel() ? (int) (node.shape().size() / c) : pixels;
    int images = mul.perChannel() ? batch : 1;
    record Part(int image, RowMajorActivations ra, Activations.Block blk) {}
    List<Part> parts = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      RowMajorActivations ra = new RowMajorActivations(a + (long) i * perImage * c, perImage, c,
          d);
      for (Activations.Block blk : ra.blocks(maxRows)) {
        parts.add(new Part(i, ra, blk));
      }
    }
    int za = node.inputs().get(0).zeroPoint();
    int zb = node.inputs().get(1).zeroPoint();
    emit(out, parts.size(), half, (j, base) -> {
      Part part = parts.get(j);
      int rows = part.blk().rows();
      List<Instruction> loads = new ArrayList<>();
      part.ra().load(part.blk(), 0, cbs, base, loads);
      int bBase = base + cbs * rows;
      if (mul.perChannel()) {
        RowMajorActivations rb = new RowMajorActivations(b + (long) part.image() * c, 1, c, d);
        rb.load(rb.blocks(1).get(0), 0, cbs, bBase, loads);
      } else {
        RowMajorActivations rb = new RowMajorActivations(b, perImage, c, d);
        rb.load(part.blk(), 0, cbs, bBase, loads);
      }
      List<Instruction> ops = new ArrayList<>();
      for (int cb = 0; cb < (mul.perChannel() ? cbs : 1); cb++) {
        ops.add(Instruction.of(Opcode.VMUL)
            .with(Isa.Vmul.B_BCAST, mul.perChannel())
            .with(Isa.Vmul.A_ROW, base + (mul.perChannel() ? cb * rows : 0))
            .with(Isa.Vmul.B_ROW, bBase + (mul.perChannel() ? cb : 0))
            .with(Isa.Vmul.DST_ROW, base + (mul.perChannel() ? cb * rows : 0))
            .with(Isa.Vmul.ROWS, mul.perChannel() ? rows : cbs * rows)
            .with(Isa.Vmul.A_ZERO, za)
            .with(Isa.Vmul.B_ZERO, zb)
            .with(Isa.Vmul.OUT_ZERO, mul.zeroPoint())
            .with(Isa.Vmul.MULT, mul.multiplier())
            .with(Isa.Vmul.SHIFT, mul.shift()));
      }
      long addr = y + ((long) part.image() * perImage + part.blk().m0()) * c;
      return new Job(loads, ops, rowStores(base, addr, rows, c, d));
    });
  }

  /** One input of a channel copy: channels {@code [c0, c0 + count)} of a map of {@code c}. */
  private record Channels(long addr, int c, int c0, int count) {
    int blocks(int d) {
      return WeightLayout.chunks(count, d);
    }
  }

  /**
   * Copies channels of {@code from} to channels of {@code to} for {@code pixels} pixels, through
   * LUT table {@code table} if it is not negative, after loading it from {@code tableAddr}:
   * jobs of up to half of ABUF, each LOADs of the channel blocks, a VLUT in place, STOREs.
   */
  private static List<Job> copyJobs(DeviceParams p, Channels from, Channels to, int pixels,
      int table, long tableAddr) {
    int d = p.lanes();
    int cbs = from.blocks(d);
    int maxRows = (p.abufRows() / 2) / cbs;
    if (maxRows < 1) {
      throw new IllegalArgumentException(from.count() + " channels need " + 2 * cbs
          + " ABUF rows but the device has " + p.abufRows());
    }
    List<Job> jobs = new ArrayList<>();
    for (int m0 = 0; m0 < pixels; m0 += maxRows) {
      jobs.add(copyJob(p, from, to, m0, Math.min(maxRows, pixels - m0), table, tableAddr,
          m0 == 0));
    }
    return jobs;
  }

  /** One job of {@link #copyJobs}, its rows from ABUF row 0 (moved to its half by the caller). */
  private static Job copyJob(DeviceParams p, Channels from, Channels to, int m0, int rows,
      int table, long tableAddr, boolean loadTable) {
    int d = p.lanes();
    int cbs = from.blocks(d);
    List<Instruction> loads = new ArrayList<>();
    if (loadTable && table >= 0) {
      loads.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.LUT.id())
          .with(Isa.Load.DST_ROW, table * p.tableRows())
          .with(Isa.Load.ELEM_BYTES, 2 * d)
          .with(Isa.Load.HBM_ADDR, tableAddr)
          .with(Isa.Load.X_SIZE, p.tableRows())
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, 2 * d)
          .waitFor(Unit.VECTOR));
    }
    List<Instruction> stores = new ArrayList<>();
    for (int cb = 0; cb < cbs; cb++) {
      int elem = Math.min(d, from.count() - cb * d);
      loads.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, cb * rows)
          .with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.HBM_ADDR, from.addr() + (long) m0 * from.c() + from.c0() + cb * d)
          .with(Isa.Load.X_SIZE, rows)
          .with(Isa.Load.Y_SIZE, 1)
          .with(Isa.Load.X_STRIDE, from.c()));
      stores.add(store(cb * rows, elem, to.addr() + (long) m0 * to.c() + to.c0() + cb * d, rows,
          to.c(), 1, 0));
    }
    List<Instruction> ops = table < 0 ? List.of() : List.of(Instruction.of(Opcode.VLUT)
        .with(Isa.Vlut.A_ROW, 0)
        .with(Isa.Vlut.DST_ROW, 0)
        .with(Isa.Vlut.ROWS, cbs * rows)
        .with(Isa.Vlut.TABLE, table));
    return new Job(loads, ops, stores);
  }

  /** {@code job} with every buffer row it names moved down by {@code base} ABUF rows. */
  private static Job shifted(Job job, int base) {
    java.util.function.UnaryOperator<Instruction> move = in -> switch (in.opcode()) {
      case LOAD -> in.get(Isa.Load.BUF) == Buffer.ABUF.id()
          ? in.with(Isa.Load.DST_ROW, in.get(Isa.Load.DST_ROW) + base) : in;
      case STORE -> in.with(Isa.Store.SRC_ROW, in.get(Isa.Store.SRC_ROW) + base);
      case VLUT -> in.with(Isa.Vlut.A_ROW, in.get(Isa.Vlut.A_ROW) + base)
          .with(Isa.Vlut.DST_ROW, in.get(Isa.Vlut.DST_ROW) + base);
      default -> in;
    };
    return new Job(job.loads().stream().map(move).toList(), job.ops().stream().map(move)
        .toList(), job.stores().stream().map(move).toList());
  }

  /** The channels of every input, one after the other, into {@code y}. */
  static void concat(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      GraphCompiler.Placement at, long constants) {
    ConcatLayer concat = (ConcatLayer) node.layer();
    int c = node.shape().channels();
    int pixels = rows(node, batch, c);
    int slots = p.lutRows() / p.tableRows();
    long tableBytes = 2L * p.tableRows() * p.lanes();
    List<Job> jobs = new ArrayList<>();
    int c0 = 0;
    for (int i = 0; i < node.inputs().size(); i++) {
      DeviceGraph.Node in = node.inputs().get(i);
      int ci = in.shape().channels();
      int table = concat.tables().get(i) == null ? -1 : i % slots;
      jobs.addAll(copyJobs(p, new Channels(at.output(in), ci, 0, ci),
          new Channels(at.output(node), c, c0, ci), pixels, table, constants + i * tableBytes));
      c0 += ci;
    }
    int half = p.abufRows() / 2;
    emit(out, jobs.size(), half, (j, base) -> shifted(jobs.get(j), base));
  }

  /** Channels of {@code x} into their own map {@code y}. */
  static void slice(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    SliceLayer slice = (SliceLayer) node.layer();
    int c = node.inputs().get(0).shape().channels();
    int pixels = rows(node, batch, slice.count());
    List<Job> jobs = copyJobs(p, new Channels(x, c, slice.first(), slice.count()),
        new Channels(y, slice.count(), 0, slice.count()), pixels, slice.table() == null ? -1 : 0,
        constants);
    emit(out, jobs.size(), p.abufRows() / 2, (j, base) -> shifted(jobs.get(j), base));
  }

  /**
   * A per-channel affine map of an NHWC batch or rows {@code x} into {@code y}: the parameter
   * rows of every channel block into ACC once (four a block), then per run of rows the LOADs of
   * each block, a VSCALE per block in place with its parameters, and the STOREs.
   */
  static void scale(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    ScaleLayer scale = (ScaleLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int c = node.shape().channels();
    int cbs = WeightLayout.chunks(c, d);
    int maxRows = half / cbs;
    if (maxRows < 1 || 4 * cbs > p.accRows()) {
      throw new IllegalArgumentException("scale '" + node.name() + "': " + c + " channels need "
          + 2 * cbs + " ABUF rows and " + 4 * cbs + " ACC rows but the device has "
          + p.abufRows() + " and " + p.accRows());
    }
    int pixels = rows(node, batch, c);
    int zx = node.inputs().get(0).zeroPoint();
    out.add(accRows(constants, 0, 4 * cbs, d));
    RowMajorActivations ra = new RowMajorActivations(x, pixels, c, d);
    List<Activations.Block> blocks = ra.blocks(maxRows);
    emit(out, blocks.size(), half, (j, base) -> {
      Activations.Block blk = blocks.get(j);
      int rows = blk.rows();
      List<Instruction> loads = new ArrayList<>();
      ra.load(blk, 0, cbs, base, loads);
      List<Instruction> ops = new ArrayList<>();
      for (int cb = 0; cb < cbs; cb++) {
        ops.add(Instruction.of(Opcode.VSCALE)
            .with(Isa.Vscale.A_ROW, base + cb * rows)
            .with(Isa.Vscale.DST_ROW, base + cb * rows)
            .with(Isa.Vscale.ROWS, rows)
            .with(Isa.Vscale.PARAM_ROW, 4 * cb)
            .with(Isa.Vscale.A_ZERO, zx)
            .with(Isa.Vscale.OUT_ZERO, scale.zeroPoint()));
      }
      return new Job(loads, ops, rowStores(base, y + (long) blk.m0() * c, rows, c, d));
    });
  }

  /**
   * Layer normalization of every pixel (or row) of {@code x} into {@code y}: the parameter rows
   * into ACC once (three a channel block), then per run of vectors one LOAD that puts each
   * vector's channel blocks in consecutive rows (a group), one VNORM over the groups in place,
   * one STORE. C must be a whole number of channel blocks.
   */
  static void norm(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    NormLayer norm = (NormLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int c = node.shape().channels();
    int cbs = WeightLayout.chunks(c, d);
    int maxRows = half / cbs;
    if (c % d != 0 || maxRows < 1 || 3 * cbs > p.accRows()) {
      throw new IllegalArgumentException("norm '" + node.name() + "' of " + c + " features"
          + " (expected a multiple of " + d + ", at most " + half / 1 * d + ")");
    }
    int vectors = rows(node, batch, c);
    out.add(accRows(constants, 0, 3 * cbs, d));
    int jobs = Windows.ceilDiv(vectors, maxRows);
    emit(out, jobs, half, (j, base) -> {
      int v0 = j * maxRows;
      int rows = Math.min(maxRows, vectors - v0);
      Instruction load = Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, d)
          .with(Isa.Load.HBM_ADDR, x + (long) v0 * c)
          .with(Isa.Load.X_SIZE, cbs)
          .with(Isa.Load.Y_SIZE, rows)
          .with(Isa.Load.X_STRIDE, d)
          .with(Isa.Load.Y_STRIDE, c);
      Instruction vnorm = Instruction.of(Opcode.VNORM)
          .with(Isa.Vnorm.A_ROW, base)
          .with(Isa.Vnorm.DST_ROW, base)
          .with(Isa.Vnorm.GROUPS, rows)
          .with(Isa.Vnorm.GROUP_ROWS, cbs)
          .with(Isa.Vnorm.VALID, c)
          .with(Isa.Vnorm.PARAM_ROW, 0)
          .with(Isa.Vnorm.OUT_ZERO, norm.zeroPoint())
          .with(Isa.Vnorm.EPS, norm.eps());
      Instruction store = Instruction.of(Opcode.STORE)
          .with(Isa.Store.BUF, Buffer.ABUF.id())
          .with(Isa.Store.SRC_ROW, base)
          .with(Isa.Store.ELEM_BYTES, d)
          .with(Isa.Store.HBM_ADDR, y + (long) v0 * c)
          .with(Isa.Store.X_SIZE, cbs)
          .with(Isa.Store.Y_SIZE, rows)
          .with(Isa.Store.X_STRIDE, d)
          .with(Isa.Store.Y_STRIDE, c);
      return new Job(List.of(load), List.of(vnorm), List.of(store));
    });
  }

  /**
   * Softmax of every run of {@code width} values of {@code x} into {@code y} (runs one after the
   * other in both): the exponential table into LUT table 0 once, then per job a LOAD that puts
   * each run in its own group of rows, one VSOFTMAX over the groups in place, and a STORE. When
   * the width is not a multiple of D, the last chunk of each run is loaded and stored whole (its
   * lanes past the run belong to the next run, which is loaded and stored after it), except for
   * the tensor's last run, whose chunks are moved exactly.
   */
  static void softmax(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y, long constants) {
    SoftmaxLayer l = (SoftmaxLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    int width = l.width();
    int gr = WeightLayout.chunks(width, d);
    int maxRuns = half / gr;
    if (maxRuns < 1 || gr > 65535) {
      throw new IllegalArgumentException("softmax '" + node.name() + "' of runs of " + width
          + " (expected at most " + half * d + " values)");
    }
    int runs = rows(node, batch, width);
    if (l.valid() != null && l.valid().length != runs) {
      throw new IllegalArgumentException("softmax '" + node.name() + "' masks "
          + l.valid().length + " runs but a batch of " + batch + " has " + runs
          + " (expected the batch it was made for)");
    }
    boolean tail = width % d != 0;
    out.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.LUT.id())
        .with(Isa.Load.ELEM_BYTES, 2 * d)
        .with(Isa.Load.HBM_ADDR, constants)
        .with(Isa.Load.X_SIZE, p.tableRows())
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, 2 * d));
    int jobs = Windows.ceilDiv(runs, maxRuns);
    emit(out, jobs, half, (j, base) -> {
      int v0 = j * maxRuns;
      int count = Math.min(maxRuns, runs - v0);
      boolean exactLast = tail && v0 + count == runs;
      int whole = exactLast ? count - 1 : count;
      List<Instruction> loads = new ArrayList<>();
      List<Instruction> stores = new ArrayList<>();
      if (whole > 0) {
        loads.add(load(base, d, x + (long) v0 * width, gr, d, whole, width));
        stores.add(store(base, d, y + (long) v0 * width, gr, d, whole, width));
      }
      if (exactLast) {
        int row = base + whole * gr;
        long at = (long) (runs - 1) * width;
        int full = width / d;
        if (full > 0) {
          loads.add(load(row, d, x + at, full, d, 1, 0));
          stores.add(store(row, d, y + at, full, d, 1, 0));
        }
        long rest = x + at + (long) full * d;
        loads.add(load(row + full, width % d, rest, 1, d, 1, 0));
        stores.add(store(row + full, width % d, y + at + (long) full * d, 1, d,
            1, 0));
      }
      // One VSOFTMAX per stretch of runs that keep the same number of values.
      List<Instruction> ops = new ArrayList<>();
      for (int r = 0; r < count; ) {
        int valid = l.valid(v0 + r);
        int end = r + 1;
        while (end < count && l.valid(v0 + end) == valid) {
          end++;
        }
        ops.add(Instruction.of(Opcode.VSOFTMAX)
            .with(Isa.Vsoftmax.A_ROW, base + r * gr)
            .with(Isa.Vsoftmax.DST_ROW, base + r * gr)
            .with(Isa.Vsoftmax.GROUPS, end - r)
            .with(Isa.Vsoftmax.GROUP_ROWS, gr)
            .with(Isa.Vsoftmax.VALID, valid)
            .with(Isa.Vsoftmax.TABLE, 0)
            .with(Isa.Vsoftmax.OUT_ZERO, l.zeroPoint())
            .with(Isa.Vsoftmax.MULT, l.mult())
            .with(Isa.Vsoftmax.SHIFT, l.shift()));
        r = end;
      }
      return new Job(loads, ops, stores);
    });
  }

  /**
   * {@code x} gathered into {@code y} in the order of the layer's view: its elements are the
   * runs of its last axis (split into D-byte runs when longer), and each job LOADs a block of
   * them with the view's strides over its two innermost axes and STOREs them one after the
   * other. The axes outside those two are looped over here.
   */
  static void copy(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y) {
    CopyLayer l = (CopyLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    if (l.numel() != batch * node.shape().size()) {
      throw new IllegalArgumentException("copy '" + node.name() + "' of " + l.numel()
          + " bytes was made for " + l.numel() / node.shape().size() + " rows, not " + batch
          + " (expected the same)");
    }
    long[] sh = l.shape();
    long[] st = l.strides();
    long last = sh[sh.length - 1];
    if (!CopyLayer.fits(last, d)) {
      throw new IllegalArgumentException("copy '" + node.name() + "' of runs of " + last
          + " bytes (expected at most " + d + " or a multiple of it)");
    }
    int e = (int) Math.min(last, d);
    // Element axes: every axis but the last, then the D-byte runs of a longer last axis.
    List<long[]> axes = new ArrayList<>();
    for (int i = 0; i < sh.length - 1; i++) {
      if (sh[i] > 1) {
        axes.add(new long[] {sh[i], st[i]});
      }
    }
    if (last > d) {
      axes.add(new long[] {last / d, d});
    }
    if (axes.isEmpty()) {
      axes.add(new long[] {1, 0});
    }
    long[] xa = axes.get(axes.size() - 1);
    long[] ya = axes.size() > 1 ? axes.get(axes.size() - 2) : new long[] {1, 0};
    List<long[]> outer = axes.subList(0, Math.max(0, axes.size() - 2));
    int xChunk = (int) Math.min(xa[0], Math.min(half, 65535));
    int yChunk = (int) Math.max(1, Math.min(ya[0], Math.min(half / xChunk, 65535)));
    long outerCount = 1;
    for (long[] a : outer) {
      outerCount *= a[0];
    }
    long xBlocks = (xa[0] + xChunk - 1) / xChunk;
    long yBlocks = (ya[0] + yChunk - 1) / yChunk;
    long jobsLong = outerCount * yBlocks * xBlocks;
    if (jobsLong > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("copy '" + node.name() + "' of " + jobsLong
          + " blocks (expected fewer)");
    }
    emit(out, (int) jobsLong, half, (j, base) -> {
      long xb = j % xBlocks;
      long rest = j / xBlocks;
      long yb = rest % yBlocks;
      long o = rest / yBlocks;
      long src = 0;
      long elem = 0;
      for (int i = outer.size() - 1; i >= 0; i--) {
        long idx = o % outer.get(i)[0];
        o /= outer.get(i)[0];
        src += idx * outer.get(i)[1];
      }
      // The dense index of this block's first element: outer index, then y, then x.
      long outerIndex = rest / yBlocks;
      elem = (outerIndex * ya[0] + yb * yChunk) * xa[0] + xb * xChunk;
      src += yb * yChunk * ya[1] + xb * xChunk * xa[1];
      int xs = (int) Math.min(xChunk, xa[0] - xb * xChunk);
      int ys = (int) Math.min(yChunk, ya[0] - yb * yChunk);
      if (xs < xa[0]) {
        ys = 1;
      }
      Instruction load = Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, e)
          .with(Isa.Load.HBM_ADDR, x + src)
          .with(Isa.Load.X_SIZE, xs)
          .with(Isa.Load.Y_SIZE, ys)
          .with(Isa.Load.X_STRIDE, xa[1])
          .with(Isa.Load.Y_STRIDE, ya[1]);
      Instruction store = store(base, e, y + elem * e, xs * ys, e, 1, 0);
      return new Job(List.of(load), List.of(), List.of(store));
    });
  }

  /**
   * Nearest upsampling of an NHWC batch {@code x} into {@code y} by whole factors: per image,
   * input row and channel block (and run of columns that fits half of ABUF), one LOAD that
   * repeats each pixel factorW times (x stride 0), then factorH STOREs of those rows, one per
   * output row they make.
   */
  static void resize(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y) {
    ResizeLayer l = (ResizeLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    int h = in.height();
    int w = in.width();
    int c = in.channels();
    int sh = l.factorH();
    int sw = l.factorW();
    int cbs = WeightLayout.chunks(c, d);
    int cols = half / sw;
    if (cols < 1) {
      throw new IllegalArgumentException("resize '" + node.name() + "' by " + sw + " across"
          + " needs " + sw + " ABUF rows per pixel but half of ABUF is " + half);
    }
    int colRuns = Windows.ceilDiv(w, cols);
    long jobs = (long) batch * h * cbs * colRuns;
    if (jobs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("resize '" + node.name() + "' of " + jobs + " runs"
          + " (expected fewer)");
    }
    long ow = (long) w * sw;
    long oh = (long) h * sh;
    emit(out, (int) jobs, half, (j, base) -> {
      int run = j % colRuns;
      int rest = j / colRuns;
      int cb = rest % cbs;
      rest /= cbs;
      int row = rest % h;
      int b = rest / h;
      int x0 = run * cols;
      int n = Math.min(cols, w - x0);
      int elem = Math.min(d, c - cb * d);
      Instruction load = Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.HBM_ADDR, x + (((long) b * h + row) * w + x0) * c + (long) cb * d)
          .with(Isa.Load.X_SIZE, sw)
          .with(Isa.Load.Y_SIZE, n)
          .with(Isa.Load.X_STRIDE, 0)
          .with(Isa.Load.Y_STRIDE, c);
      List<Instruction> stores = new ArrayList<>();
      for (int r = 0; r < sh; r++) {
        long at = y + (((long) b * oh + (long) row * sh + r) * ow + (long) x0 * sw) * c
            + (long) cb * d;
        stores.add(store(base, elem, at, n * sw, c, 1, 0));
      }
      return new Job(List.of(load), List.of(), stores);
    });
  }

  /**
   * {@code x}'s pixels spread apart into {@code y} ({@link SpreadLayer}): per image, input row
   * and channel block, one LOAD whose block is the row's pixels, each followed by strideW - 1
   * padding rows (the zero point), then enough padding rows for one output row of zeros; one
   * STORE writes the output row of the input row, and strideH - 1 STOREs write the zero rows
   * after it (none after the last input row).
   */
  static void spread(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long x, long y) {
    SpreadLayer l = (SpreadLayer) node.layer();
    int d = p.lanes();
    int half = p.abufRows() / 2;
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    DeviceGraph.Shape o = node.shape();
    int h = in.height();
    int w = in.width();
    int c = in.channels();
    int sh = l.strideH();
    int sw = l.strideW();
    int ow = o.width();
    int zeroBlocks = sh > 1 ? Windows.ceilDiv(ow, sw) : 0;
    int rows = (w + zeroBlocks) * sw;
    if (rows > half || zeroBlocks > 255 || sw - 1 > 255) {
      throw new IllegalArgumentException("spread '" + node.name() + "' of rows of " + w
          + " pixels by " + sw + " needs " + rows + " ABUF rows (expected at most " + half
          + ")");
    }
    int cbs = WeightLayout.chunks(c, d);
    int zp = node.inputs().get(0).zeroPoint();
    long jobs = (long) batch * h * cbs;
    if (jobs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("spread '" + node.name() + "' of " + jobs + " rows"
          + " (expected fewer)");
    }
    emit(out, (int) jobs, half, (j, base) -> {
      int cb = j % cbs;
      int row = (j / cbs) % h;
      int b = j / cbs / h;
      int elem = Math.min(d, c - cb * d);
      boolean last = row == h - 1;
      Instruction load = Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, base)
          .with(Isa.Load.ELEM_BYTES, elem)
          .with(Isa.Load.HBM_ADDR, x + (((long) b * h + row) * w) * c + (long) cb * d)
          .with(Isa.Load.X_SIZE, 1)
          .with(Isa.Load.Y_SIZE, w)
          .with(Isa.Load.X_STRIDE, c)
          .with(Isa.Load.Y_STRIDE, c)
          .with(Isa.Load.X_PAD1, sw - 1)
          .with(Isa.Load.Y_PAD1, last ? 0 : zeroBlocks)
          .with(Isa.Load.PAD_VALUE, zp);
      List<Instruction> stores = new ArrayList<>();
      long outRow = (long) b * o.height() + (long) row * sh;
      stores.add(store(base, elem, y + outRow * ow * c + (long) cb * d, ow, c, 1, 0));
      for (int r = 1; r < sh && !last; r++) {
        stores.add(store(base + w * sw, elem, y + (outRow + r) * ow * c + (long) cb * d, ow, c,
            1, 0));
      }
      return new Job(List.of(load), List.of(), stores);
    });
  }

  /**
   * The maximum or mean of each pixel's channels of an NHWC batch {@code x} into {@code y} (one
   * channel): per job of pixels, each channel block's lanes of those pixels loaded into rows of
   * their own, one VREDUCE across the lanes per block (the first writes, the others combine),
   * into ABUF for a maximum or ACC for a sum, which REQUANT brings to int8; one STORE of a byte
   * per pixel.
   */
  static void channelReduce(List<Instruction> out, DeviceParams p, DeviceGraph.Node node,
      int batch, long x, long y, long constants) {
    ChannelReduceLayer l = (ChannelReduceLayer) node.layer();
    DeviceGraph.Shape in = node.inputs().get(0).shape();
    int d = p.lanes();
    int c = in.channels();
    int cbs = WeightLayout.chunks(c, d);
    int half = p.abufRows() / 2;
    int maxPixels = Math.min(half / (cbs + 1), (p.accRows() - 3) / 2);
    if (maxPixels < 1) {
      throw new IllegalArgumentException("channel reduce '" + node.name() + "' of " + c
          + " channels needs " + 2 * (cbs + 1) + " ABUF rows (the device has "
          + p.abufRows() + ")");
    }
    int pixels = rows(node, batch, 1);
    if (!l.max()) {
      out.add(accRows(constants, 0, 3, d));
    }
    RowMajorActivations source = new RowMajorActivations(x, pixels, c, d);
    emit(out, Windows.ceilDiv(pixels, maxPixels), half, (j, base) -> {
      int p0 = j * maxPixels;
      int n = Math.min(maxPixels, pixels - p0);
      List<Instruction> loads = new ArrayList<>();
      source.load(new Activations.Block(p0, n), 0, cbs, base, loads);
      int result = base + cbs * n;
      int acc = 3 + (j % 2) * maxPixels;
      List<Instruction> ops = new ArrayList<>();
      for (int cb = 0; cb < cbs; cb++) {
        ops.add(Instruction.of(Opcode.VREDUCE)
            .with(Isa.Vreduce.MAX, l.max())
            .with(Isa.Vreduce.LANES, true)
            .with(Isa.Vreduce.ACCUMULATE, cb > 0)
            .with(Isa.Vreduce.A_ROW, base + cb * n)
            .with(Isa.Vreduce.DST_ROW, l.max() ? result : acc)
            .with(Isa.Vreduce.ROWS, n)
            .with(Isa.Vreduce.VALID, Math.min(d, c - cb * d)));
      }
      if (!l.max()) {
        ops.add(Instruction.of(Opcode.REQUANT)
            .with(Isa.Requant.ACC_ROW, acc)
            .with(Isa.Requant.DST_ROW, result)
            .with(Isa.Requant.ROWS, n)
            .with(Isa.Requant.PARAM_ROW, 0)
            .with(Isa.Requant.ZERO_POINT, l.requant().zeroPoint()));
      }
      return new Job(loads, ops, List.of(store(result, 1, y + p0, n, 1, 1, 0)));
    });
  }

  /**
   * A LOAD of ABUF rows from {@code row}: {@code chunks} elements of {@code elem} bytes
   * {@code chunkStride} apart, for each of {@code count} runs {@code runStride} apart, row after
   * row (the LOAD that {@link #store} undoes).
   */
  private static Instruction load(int row, int elem, long addr, int chunks, long chunkStride,
      int count, long runStride) {
    return Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.ABUF.id())
        .with(Isa.Load.DST_ROW, row)
        .with(Isa.Load.ELEM_BYTES, elem)
        .with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, chunks)
        .with(Isa.Load.Y_SIZE, count)
        .with(Isa.Load.X_STRIDE, chunkStride)
        .with(Isa.Load.Y_STRIDE, runStride);
  }

  /**
   * The rows of {@code width} features {@code node}'s output has for a batch (its pixels, for a
   * feature map of {@code width} channels).
   *
   * @throws IllegalArgumentException if there are more than one run can address
   */
  private static int rows(DeviceGraph.Node node, int batch, int width) {
    long rows = batch * node.shape().size() / width;
    if (rows > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(node.kind().name().toLowerCase(java.util.Locale.ROOT)
          + " '" + node.name() + "' of " + rows + " rows of " + width + " (expected at most "
          + Integer.MAX_VALUE + " per run)");
    }
    return (int) rows;
  }

  /** STOREs of the {@code rows} rows of every channel block from {@code base}, row-major. */
  private static List<Instruction> rowStores(int base, long addr, int rows, int c, int d) {
    List<Instruction> stores = new ArrayList<>();
    int full = c / d;
    if (full > 0) {
      stores.add(store(base, d, addr, rows, c, full, d));
    }
    if (c % d != 0) {
      stores.add(store(base + full * rows, c % d, addr + (long) full * d, rows, c, 1, 0));
    }
    return stores;
  }

  /** A LOAD of {@code rows} consecutive ACC rows of constants at {@code addr} into {@code row}. */
  private static Instruction accRows(long addr, int row, int rows, int d) {
    return Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.ACC.id())
        .with(Isa.Load.DST_ROW, row)
        .with(Isa.Load.ELEM_BYTES, 4 * d)
        .with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, rows)
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, 4 * d);
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
