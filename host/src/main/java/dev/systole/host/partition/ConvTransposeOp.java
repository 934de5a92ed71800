package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.SpreadLayer;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * A float 2-D ConvTranspose (constant weights and bias, any group), lowered to the array: its
 * input's pixels are spread {@code stride} apart with zeros between ({@link SpreadLayer}), and
 * a stride-1 convolution with the kernel flipped and the in and out channels swapped runs over
 * that, padded by {@code dilation * (kernel - 1) - pad} on each side (plus the output padding
 * at the end). Groups become block-diagonal weights, as for a grouped convolution. Pads larger than that reach, or an output the attributes do not give as ONNX
 * computes it, stay on the CPU.
 */
final class ConvTransposeOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("ConvTranspose");
  }

  /** It reads its attributes and constant inputs; shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String x = n.input(0);
    if (!p.isFloat(x) || p.rank(x) != 4) {
      return Verdict.refuse("not a 2-D transposed convolution of a float feature map");
    }
    if (!p.isConstant(n.input(1)) || n.hasInput(2) && !p.isConstant(n.input(2))) {
      return Verdict.refuse("weights or bias are not constants");
    }
    long groups = n.attribute("group").map(a -> a.asInt()).orElse(1L);
    long[] ws = p.constant(n.input(1)).shape();
    if (groups < 1 || ws.length != 4 || ws[0] % groups != 0) {
      return Verdict.refuse("a group of " + groups + " that does not divide the " + (ws.length
          > 0 ? ws[0] : 0) + " input channels");
    }
    Geometry g = geometry(n, p);
    if (g == null) {
      return Verdict.refuse("pads larger than the kernel's reach, or an output shape the"
          + " attributes do not give (output_shape, auto_pad)");
    }
    long w = p.shape(x)[3];
    int sw = g.spread.strideW();
    long ow = (w - 1) * sw + 1;
    long zeroBlocks = g.spread.strideH() > 1 ? (ow + sw - 1) / sw : 0;
    if ((w + zeroBlocks) * sw > p.deviceParams().abufRows() / 2 || zeroBlocks > 255) {
      return Verdict.refuse("rows of " + w + " pixels spread by " + sw + " need more ABUF rows"
          + " than half of the device's " + p.deviceParams().abufRows());
    }
    return Verdict.accept(new Op(this, Op.Kind.CONV, n, List.of(x)));
  }

  /** The spread and the convolution window, or null if the device cannot run {@code n}. */
  private record Geometry(SpreadLayer spread, Window window) {}

  private static Geometry geometry(Node n, Partitioner p) {
    long[] x = p.shape(n.input(0));
    long[] y = p.shape(n.output(0));
    Tensor wt = p.constant(n.input(1));
    if (x == null || y == null || y.length != 4 || wt.rank() != 4 || wt.dim(0) != x[1]) {
      return null;
    }
    String autoPad = n.attribute("auto_pad").map(a -> a.asString()).orElse("NOTSET");
    if (!autoPad.equals("NOTSET") || n.attribute("output_shape").isPresent()) {
      return null;
    }
    long[] k = {wt.dim(2), wt.dim(3)};
    long[] s = ints(n, "strides", 2, 1);
    long[] d = ints(n, "dilations", 2, 1);
    long[] pads = ints(n, "pads", 4, 0);
    long[] op = ints(n, "output_padding", 2, 0);
    if (s == null || d == null || pads == null || op == null) {
      return null;
    }
    long[] begin = new long[2];
    long[] end = new long[2];
    for (int a = 0; a < 2; a++) {
      long reach = d[a] * (k[a] - 1);
      begin[a] = reach - pads[a];
      end[a] = reach - pads[a + 2] + op[a];
      long out = (x[2 + a] - 1) * s[a] + 1 + begin[a] + end[a] - reach;
      if (begin[a] < 0 || end[a] < 0 || begin[a] > Window.MAX_PAD || end[a] > Window.MAX_PAD
          || s[a] > 256 || out != y[2 + a]) {
        return null;
      }
    }
    try {
      return new Geometry(new SpreadLayer((int) s[0], (int) s[1]), new Window((int) k[0],
          (int) k[1], 1, 1, (int) begin[0], (int) begin[1], (int) end[0], (int) end[1],
          (int) d[0], (int) d[1]));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static long[] ints(Node n, String name, int count, long dflt) {
    long[] v = n.attribute(name).map(a -> a.asInts()).orElse(null);
    if (v == null) {
      v = new long[count];
      java.util.Arrays.fill(v, dflt);
    }
    return v.length == count ? v : null;
  }

  /** As a convolution's: a BatchNormalization and an activation fold into it. */
  @Override
  public java.util.Set<Epilogues.Part> epilogue() {
    return java.util.EnumSet.of(Epilogues.Part.BATCH_NORM, Epilogues.Part.ACTIVATION);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Geometry g = geometry(n, p);
    DeviceGraph.Node in = s.input(op, op.inputs.get(0));
    DeviceGraph.Node spread = in;
    if (g.spread.strideH() > 1 || g.spread.strideW() > 1) {
      spread = s.helper(s.builder().spread(n.name() + ":spread", in, g.spread));
    }
    return s.builder().conv(n.name(), spread, FloatLayers.transposed(op, s, g.window));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
