package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.ScaleLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * Per-channel affine maps of a float value, the contract's VSCALE: a BatchNormalization that no
 * layer before it absorbs (DenseNet's, after a concatenation), a PRelu with per-channel slopes,
 * and a Mul or Add of a per-channel constant (ConvNeXt's layer scale, a bias after a view). The
 * channels are axis 1 of a feature map or the last axis of rows.
 */
final class ScaleOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("BatchNormalization", "PRelu");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (n.opType().equals("BatchNormalization") && (n.outputs().size() > 1
        && n.hasOutput(1) || !p.constantInputs(n, 1))) {
      return Verdict.refuse("a BatchNormalization that computes statistics (training mode)");
    }
    return lowerAffine(this, n, p);
  }

  /** The scale layer {@code n} would be, or why not; for {@code owner}'s ops. */
  static Verdict lowerAffine(DeviceOp owner, Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a per-channel scale needs the vector unit (this device has"
          + " VECTOR_UNIT = 0)");
    }
    String x = input(n, p);
    if (x == null || !p.isFloat(x) || !p.isFloat(n.output(0))) {
      return Verdict.refuse("not a per-channel affine map of one float value");
    }
    if (affine(n, p, x) == null) {
      return Verdict.refuse("a constant that is not one value per channel");
    }
    if (!p.producedOnDevice(x)) {
      return Verdict.refuse("its input does not come from a device layer (alone, it would"
          + " only add a trip to the device)");
    }
    return Verdict.accept(new Op(owner, Op.Kind.MAP, n, List.of(x)));
  }

  /** The one non-constant input of {@code n}. */
  private static String input(Node n, Partitioner p) {
    String x = null;
    for (int i = 0; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && !p.isConstant(n.input(i))) {
        if (x != null) {
          return null;
        }
        x = n.input(i);
      }
    }
    return x;
  }

  /**
   * The real map {@code y = x >= 0 ? pos * x + off : neg * x + off} of {@code n} per channel,
   * as {@code {pos, neg, off}}, or null if it is not one of {@code x}'s channels.
   */
  static double[][] affine(Node n, Partitioner p, String x) {
    long[] shape = p.shape(x);
    if (shape == null || shape.length < 2) {
      return null;
    }
    int channelAxis = shape.length == 4 ? 1 : shape.length - 1;
    int c = (int) shape[channelAxis];
    double[] pos = new double[c];
    double[] neg = new double[c];
    double[] off = new double[c];
    switch (n.opType()) {
      case "BatchNormalization" -> {
        if (channelAxis != 1 && shape.length != 2) {
          return null;
        }
        double[] g = vector(p.constant(n.input(1)), c);
        double[] b = vector(p.constant(n.input(2)), c);
        double[] m = vector(p.constant(n.input(3)), c);
        double[] v = vector(p.constant(n.input(4)), c);
        if (g == null || b == null || m == null || v == null) {
          return null;
        }
        double eps = n.attribute("epsilon").map(a -> (double) a.asFloat()).orElse(1e-5);
        for (int j = 0; j < c; j++) {
          pos[j] = g[j] / Math.sqrt(v[j] + eps);
          neg[j] = pos[j];
          off[j] = b[j] - m[j] * pos[j];
        }
      }
      case "PRelu" -> {
        double[] slope = perChannel(p.constant(n.input(1)), shape, channelAxis);
        if (slope == null) {
          return null;
        }
        for (int j = 0; j < c; j++) {
          pos[j] = 1;
          neg[j] = slope[j];
        }
      }
      case "Mul", "Add" -> {
        String k = n.input(0).equals(x) ? n.input(1) : n.input(0);
        double[] v = perChannel(p.constant(k), shape, channelAxis);
        if (v == null) {
          return null;
        }
        boolean mul = n.opType().equals("Mul");
        for (int j = 0; j < c; j++) {
          pos[j] = mul ? v[j] : 1;
          neg[j] = pos[j];
          off[j] = mul ? 0 : v[j];
        }
      }
      case "Sub" -> {
        boolean xFirst = n.input(0).equals(x);
        double[] v = perChannel(p.constant(xFirst ? n.input(1) : n.input(0)), shape,
            channelAxis);
        if (v == null) {
          return null;
        }
        for (int j = 0; j < c; j++) {
          pos[j] = xFirst ? 1 : -1;
          neg[j] = pos[j];
          off[j] = xFirst ? -v[j] : v[j];
        }
      }
      default -> {
        return null;
      }
    }
    return new double[][] {pos, neg, off};
  }

  /**
   * The values of float constant {@code t} per channel of a value of {@code shape} along
   * {@code axis} (a scalar for every channel, or one value per channel that broadcasts, aligned
   * from the last axis as ONNX broadcasts, along that axis only), or null.
   */
  static double[] perChannel(Tensor t, long[] shape, int axis) {
    if (t == null || t.dtype() != DType.FLOAT32) {
      return null;
    }
    int c = (int) shape[axis];
    double[] v = new double[c];
    if (t.numel() == 1) {
      java.util.Arrays.fill(v, t.getFloat32(0));
      return v;
    }
    long[] ts = t.shape();
    if (t.numel() != c) {
      return null;
    }
    int fromEnd = shape.length - axis;
    for (int i = 0; i < ts.length; i++) {
      if (ts.length - i != fromEnd && ts[i] != 1) {
        return null;
      }
    }
    for (int j = 0; j < c; j++) {
      v[j] = t.getFloat32(j);
    }
    return v;
  }

  /** The {@code c} values of a float constant of that many, or null. */
  private static double[] vector(Tensor t, int c) {
    if (t == null || t.dtype() != DType.FLOAT32 || t.numel() != c) {
      return null;
    }
    double[] v = new double[c];
    for (int j = 0; j < c; j++) {
      v[j] = t.getFloat32(j);
    }
    return v;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    return buildAffine(op, s);
  }

  static DeviceGraph.Node buildAffine(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    double[][] a = affine(op.anchor, s.partitioner(), x);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    int c = a[0].length;
    double[] pos = new double[c];
    double[] neg = new double[c];
    double[] off = new double[c];
    double ratio = (double) qx.scale() / qy.scale();
    for (int j = 0; j < c; j++) {
      pos[j] = a[0][j] * ratio;
      neg[j] = a[1][j] * ratio;
      off[j] = a[2][j] / qy.scale();
    }
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().scale(op.anchor.name(), s.input(op, x), ScaleLayer.of(pos, neg, off,
        qy.zeroPoint()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.output(0)) == DType.FLOAT32;
  }
}
