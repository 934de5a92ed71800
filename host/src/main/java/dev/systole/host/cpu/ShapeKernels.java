package dev.systole.host.cpu;

import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * The ops that move elements without computing on them (Flatten, Reshape, Squeeze, Unsqueeze,
 * Identity and inference-mode Dropout share the input's bytes under a new shape; Transpose,
 * Concat and Gather copy bytes, whatever the element type) and the ops that make tensors
 * (Constant, Shape).
 */
final class ShapeKernels {
  private ShapeKernels() {}

  /** Flatten, Reshape, Squeeze, Unsqueeze and Identity: the same bytes, a new shape. */
  static Tensor[] view(Node node, Tensor[] in) {
    return new Tensor[] {in[0].reshape(OpShapes.outputShapes(node, in)[0])};
  }

  /**
   * Dropout at inference: the input, and a mask of all true. Training mode is refused unless the
   * ratio is 0, where it changes nothing.
   */
  static Tensor[] dropout(Node node, Tensor[] in) {
    boolean training = in.length > 2 && in[2] != null && in[2].toByteArray()[0] != 0;
    float ratio = node.version() < 12 ? node.floatAttr("ratio")
        : in.length > 1 && in[1] != null ? in[1].toFloatArray()[0] : 0.5f;
    if (training && ratio != 0f) {
      throw ModelException.atNode(node, "training_mode is true with ratio " + ratio
          + " (expected inference: training_mode false, or a ratio of 0; random dropout is"
          + " not supported)");
    }
    Tensor[] out = new Tensor[node.outputs().size()];
    out[0] = in[0];
    if (node.hasOutput(1)) {
      boolean[] mask = new boolean[(int) in[0].numel()];
      java.util.Arrays.fill(mask, true);
      out[1] = Tensor.ofBool(mask, in[0].shape());
    }
    return out;
  }

  static Tensor[] transpose(Node node, Tensor[] in) {
    Tensor x = in[0];
    long[] shape = x.shape();
    int r = shape.length;
    long[] perm = OpShapes.permutation(node, r);
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    int es = x.dtype().size();
    byte[] src = x.toByteArray();
    byte[] dst = new byte[src.length];
    long[] inStride = new long[r];
    long s = 1;
    for (int i = r - 1; i >= 0; i--) {
      inStride[i] = s;
      s *= shape[i];
    }
    long[] stride = new long[r];
    for (int i = 0; i < r; i++) {
      stride[i] = inStride[(int) perm[i]];
    }
    int n = (int) x.numel();
    long[] idx = new long[r];
    long offset = 0;
    for (int k = 0; k < n; k++) {
      System.arraycopy(src, (int) offset * es, dst, k * es, es);
      for (int d = r - 1; d >= 0; d--) {
        idx[d]++;
        offset += stride[d];
        if (idx[d] < outShape[d]) {
          break;
        }
        offset -= stride[d] * outShape[d];
        idx[d] = 0;
      }
    }
    return new Tensor[] {bytes(x.dtype(), dst, outShape)};
  }

  static Tensor[] concat(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    int axis = OpShapes.axis(node, node.intAttr("axis"), outShape.length);
    int es = in[0].dtype().size();
    long outer = Elements.product(outShape, 0, axis);
    byte[][] parts = new byte[in.length][];
    long[] chunk = new long[in.length];
    for (int i = 0; i < in.length; i++) {
      parts[i] = in[i].toByteArray();
      chunk[i] = Elements.product(in[i].shape(), axis, in[i].rank()) * es;
    }
    byte[] dst = new byte[(int) (Elements.numel(outShape) * es)];
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (int i = 0; i < in.length; i++) {
        System.arraycopy(parts[i], (int) (o * chunk[i]), dst, pos, (int) chunk[i]);
        pos += (int) chunk[i];
      }
    }
    return new Tensor[] {bytes(in[0].dtype(), dst, outShape)};
  }

  static Tensor[] gather(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Tensor data = in[0];
    long[] shape = data.shape();
    int axis = OpShapes.axis(node, node.intAttr("axis"), shape.length);
    long[] idx = Elements.longs(in[1]);
    int es = data.dtype().size();
    long outer = Elements.product(shape, 0, axis);
    long len = shape[axis];
    int inner = (int) Elements.product(shape, axis + 1, shape.length) * es;
    byte[] src = data.toByteArray();
    byte[] dst = new byte[(int) (Elements.numel(outShape) * es)];
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (int i = 0; i < idx.length; i++) {
        long j = idx[i] < 0 ? idx[i] + len : idx[i];
        if (j < 0 || j >= len) {
          throw ModelException.atNode(node, String.format(
              "index %d (element %d of the indices) is out of range for axis %d of size %d"
                  + " (expected %d to %d)", idx[i], i, axis, len, -len, len - 1));
        }
        System.arraycopy(src, (int) ((o * len + j) * inner), dst, pos, inner);
        pos += inner;
      }
    }
    return new Tensor[] {bytes(data.dtype(), dst, outShape)};
  }

  /** A copy of the node's value: a graph's constants must not be shared with callers. */
  static Tensor[] constant(Node node, Tensor[] in) {
    long[] shape = OpShapes.outputShapes(node, in)[0];
    Tensor c = OpShapes.constantValue(node);
    return new Tensor[] {bytes(c.dtype(), c.toByteArray(), shape)};
  }

  static Tensor[] shape(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    long[] dims = in[0].shape();
    long start = node.attribute("start").map(a -> a.asInt()).orElse(0L);
    int r = dims.length;
    start = Math.min(r, Math.max(0, start < 0 ? start + r : start));
    long[] v = new long[(int) outShape[0]];
    System.arraycopy(dims, (int) start, v, 0, v.length);
    return new Tensor[] {Tensor.ofInt64(v, outShape)};
  }

  private static Tensor bytes(DType dtype, byte[] b, long[] shape) {
    Tensor t = Tensor.allocate(dtype, shape);
    t.data().put(b);
    return t;
  }
}
