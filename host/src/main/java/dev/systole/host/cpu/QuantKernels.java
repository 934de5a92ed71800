package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * QuantizeLinear and DequantizeLinear, per tensor (a scalar scale) or per axis (one scale per
 * slice along {@code axis}, from opset 13). Quantizing divides in float32, rounds half to even
 * and saturates, as the ONNX specification says; dequantizing is {@code (x - zero_point) *
 * scale} in float32.
 */
final class QuantKernels {
  private QuantKernels() {}

  /** For each element, which scale applies: 0 per tensor, else its index along the axis. */
  private static int[] slices(Node node, long[] shape, int scales) {
    if (scales == 1) {
      return null;
    }
    int axis = OpShapes.axis(node, node.intAttr("axis"), shape.length);
    int inner = (int) Elements.product(shape, axis + 1, shape.length);
    int n = (int) Elements.numel(shape);
    int[] which = new int[n];
    for (int i = 0; i < n; i++) {
      which[i] = (i / inner) % scales;
    }
    return which;
  }

  static Tensor[] quantize(Node node, Tensor[] in) {
    long[] shape = OpShapes.outputShapes(node, in)[0];
    float[] x = in[0].toFloatArray();
    float[] scale = in[1].toFloatArray();
    boolean hasZero = in.length > 2 && in[2] != null;
    DType type = hasZero ? in[2].dtype() : DType.UINT8;
    int[] zero = hasZero ? Elements.quantized(in[2]) : new int[] {0};
    int[] which = slices(node, shape, scale.length);
    int lo = Elements.qmin(type);
    int hi = Elements.qmax(type);
    int[] q = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      int s = which == null ? 0 : which[i];
      q[i] = Requant.quantize(x[i], scale[s], zero[zero.length == 1 ? 0 : s], lo, hi);
    }
    return new Tensor[] {Elements.fromQuantized(type, q, shape)};
  }

  static Tensor[] dequantize(Node node, Tensor[] in) {
    long[] shape = OpShapes.outputShapes(node, in)[0];
    long[] x = Elements.longs(in[0]);
    float[] scale = in[1].toFloatArray();
    long[] zero = in.length > 2 && in[2] != null ? Elements.longs(in[2]) : new long[] {0};
    int[] which = slices(node, shape, scale.length);
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int s = which == null ? 0 : which[i];
      y[i] = (float) (x[i] - zero[zero.length == 1 ? 0 : s]) * scale[s];
    }
    return new Tensor[] {Tensor.ofFloat32(y, shape)};
  }
}
