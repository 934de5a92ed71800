package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.ResizeLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * A nearest-neighbour Resize (opset 11 on) of a feature map the open program makes, upsampling
 * its height and width by whole factors: addressing only ({@link ResizeLayer}), the codes moved
 * as they are, so the output keeps the input's quantization. The coordinate transformation and
 * rounding the node names are evaluated for every output row and column, and the device takes
 * the node only where they pick input pixel {@code o / factor}, as they do for the usual
 * modes; any other Resize stays on the CPU.
 */
final class ResizeOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Resize");
  }

  /** It reads its attributes and constant inputs; shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String x = n.input(0);
    if (p.graph().opset() < 11) {
      return Verdict.refuse("a Resize before opset 11");
    }
    String mode = n.attribute("mode").map(a -> a.asString()).orElse("nearest");
    if (!mode.equals("nearest")) {
      return Verdict.refuse("a " + mode + " Resize (the device upsamples by nearest"
          + " neighbour)");
    }
    if (n.attribute("axes").isPresent() || n.attribute("antialias").map(a -> a.asInt() != 0)
        .orElse(false)) {
      return Verdict.refuse("a Resize with axes or antialias");
    }
    if (p.rank(x) != 4 || !(p.isFloat(x) || p.isInteger8(x))) {
      return Verdict.refuse("not a resize of a 4-D float or 8-bit feature map");
    }
    if (!p.producedAsFeatureMap(x)) {
      return Verdict.refuse("its input does not come from a device layer (alone, it would"
          + " only add a trip to the device)");
    }
    int[] f = factors(n, p);
    if (f == null) {
      return Verdict.refuse("not an upsampling of height and width by whole factors that"
          + " picks input pixel o / factor");
    }
    return Verdict.accept(new Op(this, Op.Kind.MAX_POOL, n, List.of(x)));
  }

  /** The factors of height and width, or null if {@code n} is no whole-factor upsampling. */
  static int[] factors(Node n, Partitioner p) {
    long[] in = p.shape(n.input(0));
    long[] out = p.shape(n.output(0));
    if (in == null || out == null || out.length != 4 || in[0] != out[0] || in[1] != out[1]) {
      return null;
    }
    double[] scales = null;
    if (n.hasInput(2)) {
      Tensor t = p.constant(n.input(2));
      if (t == null || t.dtype() != DType.FLOAT32) {
        return null;
      }
      if (t.numel() == 4) {
        scales = new double[] {t.getFloat32(2), t.getFloat32(3)};
      } else if (t.numel() != 0) {
        return null;
      }
    }
    if (scales == null && !(n.hasInput(3) && p.isConstant(n.input(3)))) {
      return null;
    }
    String transform = n.attribute("coordinate_transformation_mode").map(a -> a.asString())
        .orElse("half_pixel");
    String rounding = n.attribute("nearest_mode").map(a -> a.asString())
        .orElse("round_prefer_floor");
    int[] f = new int[2];
    for (int a = 0; a < 2; a++) {
      long li = in[2 + a];
      long lo = out[2 + a];
      if (lo % li != 0) {
        return null;
      }
      f[a] = (int) (lo / li);
      if (f[a] > 255) {
        return null;
      }
      double s = scales != null ? scales[a] : (double) lo / li;
      for (long o = 0; o < lo; o++) {
        Double src = source(transform, o, s, li, lo);
        if (src == null || pick(rounding, src, li) != o / f[a]) {
          return null;
        }
      }
    }
    return f;
  }

  /** ONNX's input coordinate of output coordinate {@code o}, or null for another transform. */
  private static Double source(String mode, long o, double s, long li, long lo) {
    return switch (mode) {
      case "half_pixel" -> (o + 0.5) / s - 0.5;
      case "pytorch_half_pixel" -> lo > 1 ? (o + 0.5) / s - 0.5 : 0.0;
      case "align_corners" -> lo == 1 ? 0.0 : o * (double) (li - 1) / (lo - 1);
      case "asymmetric" -> o / s;
      case "tf_half_pixel_for_nn" -> (o + 0.5) / s;
      default -> null;
    };
  }

  /** The input index nearest_mode picks for coordinate {@code x}, clamped to the input. */
  private static long pick(String mode, double x, long li) {
    double r = switch (mode) {
      case "round_prefer_floor" -> x == Math.floor(x) + 0.5 ? Math.floor(x) : Math.rint(x);
      case "round_prefer_ceil" -> x == Math.floor(x) + 0.5 ? Math.ceil(x) : Math.rint(x);
      case "floor" -> Math.floor(x);
      case "ceil" -> Math.ceil(x);
      default -> -1;
    };
    return Math.max(0, Math.min(li - 1, (long) r));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    s.keepQuant(x, op.output);
    int[] f = factors(op.anchor, s.partitioner());
    return s.builder().resize(op.anchor.name(), in, new ResizeLayer(f[0], f[1]));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return false;
  }
}
