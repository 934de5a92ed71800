package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * MaxPool (float32, int8 and uint8, with the optional Indices output), AveragePool and
 * GlobalAveragePool over 1 to 3 spatial axes. Integer inputs are pooled as floats, which hold
 * every int8 and uint8 value exactly, so one loop nest serves all three types. Positions in the
 * padding never win a max; for an average they count only with count_include_pad, and then only
 * up to the padded input's end, as ONNX Runtime counts them when ceil_mode lets a window run
 * past it.
 */
final class PoolKernels {
  private PoolKernels() {}

  static Tensor[] maxPool(Node node, Tensor[] in) {
    long[][] shapes = OpShapes.outputShapes(node, in);
    Tensor xt = in[0];
    Geometry g = Geometry.of(node, xt.shape(), node.intsAttr("kernel_shape"));
    float[] x = floats(xt);
    int planes = g.batch() * g.channels();
    int outPlane = g.outPlane();
    float[] y = new float[planes * outPlane];
    boolean wantIndices = node.hasOutput(1);
    long[] idx = wantIndices ? new long[y.length] : null;
    boolean columnMajor = node.attribute("storage_order").map(a -> a.asInt() == 1).orElse(false);
    int[] k = g.kernel();
    int[] s = g.strides();
    int[] d = g.dilations();
    int[] p = g.padBegin();
    int[] size = g.in();
    int[] out = g.out();
    for (int pl = 0; pl < planes; pl++) {
      int xo = pl * g.inPlane();
      for (int od = 0; od < out[0]; od++) {
        for (int oh = 0; oh < out[1]; oh++) {
          for (int ow = 0; ow < out[2]; ow++) {
            float best = Float.NEGATIVE_INFINITY;
            int bestAt = -1;
            for (int kd = 0; kd < k[0]; kd++) {
              int id = od * s[0] + kd * d[0] - p[0];
              if (id < 0 || id >= size[0]) {
                continue;
              }
              for (int kh = 0; kh < k[1]; kh++) {
                int ih = oh * s[1] + kh * d[1] - p[1];
                if (ih < 0 || ih >= size[1]) {
                  continue;
                }
                for (int kw = 0; kw < k[2]; kw++) {
                  int iw = ow * s[2] + kw * d[2] - p[2];
                  if (iw < 0 || iw >= size[2]) {
                    continue;
                  }
                  int at = (id * size[1] + ih) * size[2] + iw;
                  float v = x[xo + at];
                  if (v > best || bestAt < 0 || Float.isNaN(v)) {
                    best = v;
                    bestAt = at;
                  }
                }
              }
            }
            int o = pl * outPlane + (od * out[1] + oh) * out[2] + ow;
            y[o] = best;
            if (wantIndices) {
              idx[o] = (long) pl * g.inPlane() + (columnMajor ? columnMajor(g, bestAt, xt.rank() - 2) : bestAt);
            }
          }
        }
      }
    }
    Tensor[] r = new Tensor[node.outputs().size()];
    r[0] = fromFloats(xt.dtype(), y, shapes[0]);
    if (wantIndices) {
      r[1] = Tensor.ofInt64(idx, shapes[1]);
    }
    return r;
  }

  /** A row-major position within one plane as the column-major index storage_order 1 wants. */
  private static long columnMajor(Geometry g, int at, int spatial) {
    int[] size = g.in();
    int w = at % size[2];
    int h = (at / size[2]) % size[1];
    int dd = at / (size[2] * size[1]);
    return switch (spatial) {
      case 1 -> w;
      case 2 -> h + (long) w * size[1];
      default -> dd + (long) h * size[0] + (long) w * size[0] * size[1];
    };
  }

  static Tensor[] averagePool(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Geometry g = Geometry.of(node, in[0].shape(), node.intsAttr("kernel_shape"));
    boolean includePad = node.intAttr("count_include_pad") == 1;
    float[] x = in[0].toFloatArray();
    int planes = g.batch() * g.channels();
    int outPlane = g.outPlane();
    float[] y = new float[planes * outPlane];
    int[] k = g.kernel();
    int[] s = g.strides();
    int[] p = g.padBegin();
    int[] e = g.padEnd();
    int[] size = g.in();
    int[] out = g.out();
    for (int pl = 0; pl < planes; pl++) {
      int xo = pl * g.inPlane();
      for (int od = 0; od < out[0]; od++) {
        for (int oh = 0; oh < out[1]; oh++) {
          for (int ow = 0; ow < out[2]; ow++) {
            int[] start = {od * s[0] - p[0], oh * s[1] - p[1], ow * s[2] - p[2]};
            double sum = 0;
            int valid = 0;
            int padded = 1;
            int[] lo = new int[3];
            int[] hi = new int[3];
            for (int a = 0; a < 3; a++) {
              int end = Math.min(start[a] + k[a], size[a] + e[a]);
              padded *= end - start[a];
              lo[a] = Math.max(start[a], 0);
              hi[a] = Math.min(start[a] + k[a], size[a]);
            }
            for (int id = lo[0]; id < hi[0]; id++) {
              for (int ih = lo[1]; ih < hi[1]; ih++) {
                int row = xo + (id * size[1] + ih) * size[2];
                for (int iw = lo[2]; iw < hi[2]; iw++) {
                  sum += x[row + iw];
                  valid++;
                }
              }
            }
            int count = includePad ? padded : valid;
            y[pl * outPlane + (od * out[1] + oh) * out[2] + ow] =
                count == 0 ? 0f : (float) (sum / count);
          }
        }
      }
    }
    return new Tensor[] {Tensor.ofFloat32(y, outShape)};
  }

  static Tensor[] globalAveragePool(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    long[] shape = in[0].shape();
    int planes = (int) (shape[0] * shape[1]);
    int plane = (int) Elements.product(shape, 2, shape.length);
    float[] x = in[0].toFloatArray();
    float[] y = new float[planes];
    for (int pl = 0; pl < planes; pl++) {
      double sum = 0;
      for (int i = pl * plane; i < (pl + 1) * plane; i++) {
        sum += x[i];
      }
      y[pl] = (float) (sum / plane);
    }
    return new Tensor[] {Tensor.ofFloat32(y, outShape)};
  }

  private static float[] floats(Tensor t) {
    if (t.dtype() == DType.FLOAT32) {
      return t.toFloatArray();
    }
    int[] q = Elements.quantized(t);
    float[] f = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      f[i] = q[i];
    }
    return f;
  }

  private static Tensor fromFloats(DType dtype, float[] v, long[] shape) {
    if (dtype == DType.FLOAT32) {
      return Tensor.ofFloat32(v, shape);
    }
    int[] q = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      q[i] = (int) v[i];
    }
    return Elements.fromQuantized(dtype, q, shape);
  }
}
