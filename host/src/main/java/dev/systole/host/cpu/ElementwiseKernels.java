package dev.systole.host.cpu;

import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * Add, Sub, Mul and Div with NumPy broadcasting, and Relu, Sigmoid and Clip. Float32 is computed
 * in float, as ONNX Runtime does; the integer types in long and wrapped back to their width, as a
 * C cast does (uint8 200 + 100 is 44), with integer division truncating toward zero.
 */
final class ElementwiseKernels {
  private ElementwiseKernels() {}

  static Tensor[] binary(Node node, Tensor[] in) {
    long[] shape = OpShapes.outputShapes(node, in)[0];
    Tensor a = in[0];
    Tensor b = in[1];
    int[] ma = Elements.broadcastMap(a.shape(), shape);
    int[] mb = Elements.broadcastMap(b.shape(), shape);
    int n = Math.toIntExact(Elements.numel(shape));
    String op = node.opType();
    if (a.dtype() == DType.FLOAT32) {
      float[] x = a.toFloatArray();
      float[] y = b.toFloatArray();
      float[] r = new float[n];
      if (ma == null && mb == null) {
        switch (op) {
          case "Add" -> add(x, y, r);
          case "Sub" -> sub(x, y, r);
          case "Mul" -> mul(x, y, r);
          default -> div(x, y, r);
        }
      } else {
        for (int i = 0; i < n; i++) {
          float p = x[ma == null ? i : ma[i]];
          float q = y[mb == null ? i : mb[i]];
          r[i] = switch (op) {
            case "Add" -> p + q;
            case "Sub" -> p - q;
            case "Mul" -> p * q;
            default -> p / q;
          };
        }
      }
      return new Tensor[] {Tensor.ofFloat32(r, shape)};
    }
    long[] x = Elements.longs(a);
    long[] y = Elements.longs(b);
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      long p = x[ma == null ? i : ma[i]];
      long q = y[mb == null ? i : mb[i]];
      r[i] = switch (op) {
        case "Add" -> p + q;
        case "Sub" -> p - q;
        case "Mul" -> p * q;
        default -> {
          if (q == 0) {
            throw ModelException.atNode(node, "integer division by zero at output element " + i);
          }
          yield p / q;
        }
      };
    }
    return new Tensor[] {Elements.fromLongs(a.dtype(), r, shape)};
  }

  private static void add(float[] x, float[] y, float[] r) {
    for (int i = 0; i < r.length; i++) {
      r[i] = x[i] + y[i];
    }
  }

  private static void sub(float[] x, float[] y, float[] r) {
    for (int i = 0; i < r.length; i++) {
      r[i] = x[i] - y[i];
    }
  }

  private static void mul(float[] x, float[] y, float[] r) {
    for (int i = 0; i < r.length; i++) {
      r[i] = x[i] * y[i];
    }
  }

  private static void div(float[] x, float[] y, float[] r) {
    for (int i = 0; i < r.length; i++) {
      r[i] = x[i] / y[i];
    }
  }

  static Tensor[] relu(Node node, Tensor[] in) {
    Tensor x = in[0];
    if (x.dtype() == DType.FLOAT32) {
      float[] v = x.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        if (v[i] < 0) {
          v[i] = 0f;
        }
      }
      return new Tensor[] {Tensor.ofFloat32(v, x.shape())};
    }
    long[] v = Elements.longs(x);
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.max(0, v[i]);
    }
    return new Tensor[] {Elements.fromLongs(x.dtype(), v, x.shape())};
  }

  static Tensor[] sigmoid(Node node, Tensor[] in) {
    float[] v = in[0].toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (1 / (1 + Math.exp(-(double) v[i])));
    }
    return new Tensor[] {Tensor.ofFloat32(v, in[0].shape())};
  }

  /** Clip: bounds from attributes before opset 11, from optional scalar inputs after. */
  static Tensor[] clip(Node node, Tensor[] in) {
    Tensor x = in[0];
    Tensor lo = in.length > 1 ? in[1] : null;
    Tensor hi = in.length > 2 ? in[2] : null;
    if (lo != null) {
      Elements.requireScalar(node, lo, "min");
    }
    if (hi != null) {
      Elements.requireScalar(node, hi, "max");
    }
    if (x.dtype() == DType.FLOAT32) {
      float min = node.version() < 11 ? node.floatAttr("min")
          : lo != null ? lo.toFloatArray()[0] : Float.NEGATIVE_INFINITY;
      float max = node.version() < 11 ? node.floatAttr("max")
          : hi != null ? hi.toFloatArray()[0] : Float.POSITIVE_INFINITY;
      float[] v = x.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        if (v[i] < min) {
          v[i] = min;
        }
        if (v[i] > max) {
          v[i] = max;
        }
      }
      return new Tensor[] {Tensor.ofFloat32(v, x.shape())};
    }
    long min = lo != null ? Elements.longs(lo)[0] : Long.MIN_VALUE;
    long max = hi != null ? Elements.longs(hi)[0] : Long.MAX_VALUE;
    long[] v = Elements.longs(x);
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.min(max, Math.max(min, v[i]));
    }
    return new Tensor[] {Elements.fromLongs(x.dtype(), v, x.shape())};
  }
}
