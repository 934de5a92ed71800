package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.Tensor;

/** BatchNormalization in inference mode, and Softmax. Sums and normalizers are kept in double. */
final class NormKernels {
  private NormKernels() {}

  /** y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel (axis 1). */
  static Tensor[] batchNorm(Node node, Tensor[] in) {
    long[] shape = OpShapes.outputShapes(node, in)[0];
    float[] x = in[0].toFloatArray();
    float[] scale = in[1].toFloatArray();
    float[] bias = in[2].toFloatArray();
    float[] mean = in[3].toFloatArray();
    float[] var = in[4].toFloatArray();
    double eps = node.floatAttr("epsilon");
    int c = (int) shape[1];
    int plane = (int) Elements.product(shape, 2, shape.length);
    for (int ch = 0; ch < c; ch++) {
      double a = scale[ch] / Math.sqrt(var[ch] + eps);
      double b = bias[ch] - mean[ch] * a;
      float fa = (float) a;
      float fb = (float) b;
      for (int n = 0; n < shape[0]; n++) {
        int o = (int) ((n * c + ch) * (long) plane);
        for (int i = o; i < o + plane; i++) {
          x[i] = x[i] * fa + fb;
        }
      }
    }
    return new Tensor[] {Tensor.ofFloat32(x, shape)};
  }

  /**
   * Softmax: before opset 13 over the input coerced to 2-D at axis (every axis from axis on
   * together), from 13 over the one axis.
   */
  static Tensor[] softmax(Node node, Tensor[] in) {
    long[] shape = in[0].shape();
    int axis = OpShapes.axis(node, node.intAttr("axis"), shape.length);
    int outer = (int) Elements.product(shape, 0, axis);
    int len;
    int inner;
    if (node.version() < 13) {
      len = (int) Elements.product(shape, axis, shape.length);
      inner = 1;
    } else {
      len = (int) shape[axis];
      inner = (int) Elements.product(shape, axis + 1, shape.length);
    }
    float[] x = in[0].toFloatArray();
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < inner; j++) {
        int base = o * len * inner + j;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
          max = Math.max(max, x[base + i * inner]);
        }
        double sum = 0;
        for (int i = 0; i < len; i++) {
          double e = Math.exp(x[base + i * inner] - max);
          x[base + i * inner] = (float) e;
          sum += e;
        }
        for (int i = 0; i < len; i++) {
          x[base + i * inner] = (float) (x[base + i * inner] / sum);
        }
      }
    }
    return new Tensor[] {Tensor.ofFloat32(x, shape)};
  }
}
