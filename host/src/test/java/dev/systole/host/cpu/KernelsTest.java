package dev.systole.host.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Kernels against plain definitions written out differently: broadcasting through explicit
 * multi-indices, convolution as the seven-loop sum with padding by bounds checks, the quantized
 * ops as dequantize, compute in double, quantize.
 */
class KernelsTest {
  private final Random r = new Random(42);

  private static Tensor run1(Graph g, Map<String, Tensor> inputs) {
    return Interpreter.create(g).run(inputs).values().iterator().next();
  }

  private float[] randomFloats(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 4 - 2;
    }
    return v;
  }

  private long[] randomShape(int rank) {
    long[] s = new long[rank];
    for (int i = 0; i < rank; i++) {
      s[i] = 1 + r.nextInt(4);
    }
    return s;
  }

  /** The index into a tensor of shape {@code in} that output multi-index {@code idx} reads. */
  private static int broadcastIndex(long[] idx, long[] in) {
    int flat = 0;
    for (int d = 0; d < in.length; d++) {
      long i = in[d] == 1 ? 0 : idx[idx.length - in.length + d];
      flat = (int) (flat * in[d] + i);
    }
    return flat;
  }

  private static long[] unflatten(int flat, long[] shape) {
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = flat % shape[d];
      flat /= (int) shape[d];
    }
    return idx;
  }

  @Test
  void binaryOpsBroadcastLikeNumpyForFloatsAndWrapForIntegers() {
    for (int trial = 0; trial < 60; trial++) {
      long[] out = randomShape(1 + r.nextInt(4));
      long[] a = out.clone();
      long[] b = java.util.Arrays.copyOfRange(out, r.nextInt(out.length + 1), out.length);
      for (int d = 0; d < a.length; d++) {
        a[d] = r.nextInt(3) == 0 ? 1 : a[d];
      }
      for (int d = 0; d < b.length; d++) {
        b[d] = r.nextInt(3) == 0 ? 1 : b[d];
      }
      String op = List.of("Add", "Sub", "Mul", "Div").get(trial % 4);
      boolean integer = trial % 3 == 0;
      DType t = integer ? DType.UINT8 : DType.FLOAT32;
      Graph g = Graph.builder().input("a", t, (Object[]) boxed(a)).input("b", t, (Object[]) boxed(b))
          .node(op, List.of("a", "b"), List.of("y")).output("y").build();
      int na = (int) numel(a);
      int nb = (int) numel(b);
      long[] outShape = broadcastShape(a, b);
      Tensor y;
      if (integer) {
        byte[] va = new byte[na];
        byte[] vb = new byte[nb];
        r.nextBytes(va);
        r.nextBytes(vb);
        for (int i = 0; i < nb; i++) {
          vb[i] = vb[i] == 0 ? 1 : vb[i];
        }
        y = run1(g, Map.of("a", Tensor.ofUint8(va, a), "b", Tensor.ofUint8(vb, b)));
        for (int i = 0; i < numel(outShape); i++) {
          long[] idx = unflatten(i, outShape);
          int p = va[broadcastIndex(idx, a)] & 0xFF;
          int q = vb[broadcastIndex(idx, b)] & 0xFF;
          int e = switch (op) {
            case "Add" -> p + q;
            case "Sub" -> p - q;
            case "Mul" -> p * q;
            default -> p / q;
          };
          assertEquals(e & 0xFF, y.getUint8(i), op + " element " + i);
        }
      } else {
        float[] va = randomFloats(na);
        float[] vb = randomFloats(nb);
        y = run1(g, Map.of("a", Tensor.ofFloat32(va, a), "b", Tensor.ofFloat32(vb, b)));
        for (int i = 0; i < numel(outShape); i++) {
          long[] idx = unflatten(i, outShape);
          float p = va[broadcastIndex(idx, a)];
          float q = vb[broadcastIndex(idx, b)];
          float e = switch (op) {
            case "Add" -> p + q;
            case "Sub" -> p - q;
            case "Mul" -> p * q;
            default -> p / q;
          };
          assertEquals(e, y.getFloat32(i), op + " element " + i);
        }
      }
      assertArrayEquals(outShape, y.shape());
    }
  }

  private static long[] broadcastShape(long[] a, long[] b) {
    int rank = Math.max(a.length, b.length);
    long[] s = new long[rank];
    for (int i = 0; i < rank; i++) {
      long da = i < rank - a.length ? 1 : a[i - rank + a.length];
      long db = i < rank - b.length ? 1 : b[i - rank + b.length];
      s[i] = Math.max(da, db);
    }
    return s;
  }

  private static Object[] boxed(long[] s) {
    Object[] o = new Object[s.length];
    for (int i = 0; i < s.length; i++) {
      o[i] = s[i];
    }
    return o;
  }

  private static long numel(long[] s) {
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    return n;
  }

  /** The convolution as defined: every output position sums every tap inside the input. */
  private static double[] naiveConv(double[] x, double[] w, double[] bias, int n, int c, int h,
      int wd, int m, int kh, int kw, int group, int[] s, int[] d, int[] pb, int oh, int ow) {
    double[] y = new double[n * m * oh * ow];
    int cg = c / group;
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < m; oc++) {
        int g = oc / (m / group);
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double sum = bias == null ? 0 : bias[oc];
            for (int cc = 0; cc < cg; cc++) {
              for (int a = 0; a < kh; a++) {
                for (int e = 0; e < kw; e++) {
                  int yi = i * s[0] + a * d[0] - pb[0];
                  int xi = j * s[1] + e * d[1] - pb[1];
                  if (yi >= 0 && yi < h && xi >= 0 && xi < wd) {
                    sum += x[((b * c + g * cg + cc) * h + yi) * wd + xi]
                        * w[((oc * cg + cc) * kh + a) * kw + e];
                  }
                }
              }
            }
            y[((b * m + oc) * oh + i) * ow + j] = sum;
          }
        }
      }
    }
    return y;
  }

  /** A random 2-D convolution's parameters, with its output size per the ONNX formula. */
  private record ConvCase(int n, int c, int h, int w, int m, int kh, int kw, int group, int[] s,
      int[] d, int[] pads, int oh, int ow) {
    Map<String, Attribute> attributes() {
      return Map.of("group", Attribute.of((long) group),
          "strides", Attribute.ofInts(s[0], s[1]), "dilations", Attribute.ofInts(d[0], d[1]),
          "pads", Attribute.ofInts(pads[0], pads[1], pads[2], pads[3]));
    }
  }

  private ConvCase randomConv() {
    int group = List.of(1, 1, 2, 3).get(r.nextInt(4));
    boolean depthwise = r.nextInt(4) == 0;
    int c = depthwise ? 1 + r.nextInt(5) : group * (1 + r.nextInt(3));
    group = depthwise ? c : group;
    int m = group * (1 + r.nextInt(3));
    int kh = 1 + r.nextInt(3);
    int kw = 1 + r.nextInt(3);
    int[] s = {1 + r.nextInt(2), 1 + r.nextInt(3)};
    int[] d = {1 + r.nextInt(2), 1 + r.nextInt(2)};
    int[] pads = {r.nextInt(3), r.nextInt(2), r.nextInt(3), r.nextInt(2)};
    int h = Math.max(1, d[0] * (kh - 1) + 1 - pads[0] - pads[2] + r.nextInt(7));
    int w = Math.max(1, d[1] * (kw - 1) + 1 - pads[1] - pads[3] + r.nextInt(7));
    int oh = (h + pads[0] + pads[2] - d[0] * (kh - 1) - 1) / s[0] + 1;
    int ow = (w + pads[1] + pads[3] - d[1] * (kw - 1) - 1) / s[1] + 1;
    return new ConvCase(1 + r.nextInt(2), c, h, w, m, kh, kw, group, s, d, pads, oh, ow);
  }

  @Test
  void convWithGroupsStridesDilationsAndPadsMatchesTheDefinition() {
    for (int trial = 0; trial < 80; trial++) {
      ConvCase k = randomConv();
      float[] x = randomFloats(k.n * k.c * k.h * k.w);
      float[] w = randomFloats(k.m * (k.c / k.group) * k.kh * k.kw);
      float[] b = randomFloats(k.m);
      Graph g = Graph.builder().input("x", DType.FLOAT32, k.n, k.c, k.h, k.w)
          .initializer("w", Tensor.ofFloat32(w, k.m, k.c / k.group, k.kh, k.kw))
          .initializer("b", Tensor.ofFloat32(b, k.m))
          .node("Conv", "conv", List.of("x", "w", "b"), List.of("y"), k.attributes())
          .output("y").build();
      Tensor y = run1(g, Map.of("x", Tensor.ofFloat32(x, k.n, k.c, k.h, k.w)));
      assertArrayEquals(new long[] {k.n, k.m, k.oh, k.ow}, y.shape(), k.toString());
      double[] e = naiveConv(doubles(x), doubles(w), doubles(b), k.n, k.c, k.h, k.w, k.m, k.kh,
          k.kw, k.group, k.s, k.d, new int[] {k.pads[0], k.pads[1]}, k.oh, k.ow);
      float[] got = y.toFloatArray();
      for (int i = 0; i < e.length; i++) {
        assertEquals(e[i], got[i], 1e-4 * (1 + Math.abs(e[i])), k + " element " + i);
      }
    }
  }

  private static double[] doubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /**
   * QLinearConv against dequantize, convolve in double, quantize. With power-of-two scales every
   * step is exact in both, so they must agree exactly; with arbitrary scales the float32
   * requantization may round a value the other way, by one step, rarely.
   */
  @Test
  void qlinearConvMatchesDequantizeConvolveQuantize() {
    for (boolean powersOfTwo : new boolean[] {true, false}) {
      int off = 0;
      int total = 0;
      for (int trial = 0; trial < 40; trial++) {
        ConvCase k = randomConv();
        DType xt = trial % 2 == 0 ? DType.UINT8 : DType.INT8;
        byte[] x = new byte[k.n * k.c * k.h * k.w];
        byte[] w = new byte[k.m * (k.c / k.group) * k.kh * k.kw];
        r.nextBytes(x);
        r.nextBytes(w);
        int[] bias = new int[k.m];
        for (int i = 0; i < k.m; i++) {
          bias[i] = r.nextInt(2001) - 1000;
        }
        float xs = powersOfTwo ? 1f / 16 : 0.013f + r.nextFloat() * 0.02f;
        float[] ws = new float[k.m];
        byte[] wz = new byte[k.m];
        for (int i = 0; i < k.m; i++) {
          ws[i] = powersOfTwo ? 1f / (1 << r.nextInt(5)) : 0.002f + r.nextFloat() * 0.01f;
        }
        float ys = powersOfTwo ? 0.5f : 0.05f + r.nextFloat() * 0.1f;
        int xz = xt == DType.UINT8 ? 128 : 3;
        int yz = xt == DType.UINT8 ? 120 : -5;
        Tensor xq = xt == DType.UINT8 ? Tensor.ofUint8(x, k.n, k.c, k.h, k.w)
            : Tensor.ofInt8(x, k.n, k.c, k.h, k.w);
        Graph g = Graph.builder().input("x", xt, k.n, k.c, k.h, k.w)
            .initializer("xs", Tensor.ofFloat32(new float[] {xs}))
            .initializer("xz", scalar(xt, xz))
            .initializer("w", Tensor.ofInt8(w, k.m, k.c / k.group, k.kh, k.kw))
            .initializer("ws", Tensor.ofFloat32(ws, k.m))
            .initializer("wz", Tensor.ofInt8(wz, k.m))
            .initializer("ys", Tensor.ofFloat32(new float[] {ys}))
            .initializer("yz", scalar(xt, yz))
            .initializer("b", Tensor.ofInt32(bias, k.m))
            .node("QLinearConv", "qc", List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
                List.of("y"), k.attributes())
            .output("y").build();
        Tensor y = run1(g, Map.of("x", xq));

        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
          xd[i] = ((xt == DType.UINT8 ? x[i] & 0xFF : x[i]) - xz) * (double) xs;
        }
        int per = w.length / k.m;
        double[] wd = new double[w.length];
        for (int i = 0; i < w.length; i++) {
          wd[i] = w[i] * (double) ws[i / per];
        }
        double[] bd = new double[k.m];
        for (int i = 0; i < k.m; i++) {
          bd[i] = bias[i] * (double) xs * ws[i];
        }
        double[] e = naiveConv(xd, wd, bd, k.n, k.c, k.h, k.w, k.m, k.kh, k.kw, k.group, k.s,
            k.d, new int[] {k.pads[0], k.pads[1]}, k.oh, k.ow);
        int lo = xt == DType.UINT8 ? 0 : -128;
        int hi = xt == DType.UINT8 ? 255 : 127;
        for (int i = 0; i < e.length; i++) {
          int expected = (int) Math.max(lo, Math.min(hi, Math.rint(e[i] / ys) + yz));
          int got = xt == DType.UINT8 ? y.getUint8(i) : y.getInt8(i);
          int diff = Math.abs(expected - got);
          assertTrue(diff <= (powersOfTwo ? 0 : 1), k + " element " + i + ": " + got + " vs "
              + expected);
          off += diff;
          total++;
        }
      }
      assertTrue(off * 1000 <= total, off + " of " + total + " values off by one");
    }
  }

  private static Tensor scalar(DType t, int v) {
    return t == DType.UINT8 ? Tensor.ofUint8(new byte[] {(byte) v})
        : Tensor.ofInt8(new byte[] {(byte) v});
  }

  @Test
  void integerMatMulsBroadcastBatchesAndApplyZeroPointsPerRowAndColumn() {
    int m = 3;
    int k = 5;
    int n = 4;
    byte[] a = new byte[2 * 1 * m * k];
    byte[] b = new byte[3 * k * n];
    r.nextBytes(a);
    r.nextBytes(b);
    byte[] az = {3, (byte) 200, 0};
    byte[] bz = {-1, 2, 0, 7};
    Graph g = Graph.builder()
        .input("a", DType.UINT8, 2, 1, m, k).input("b", DType.INT8, 3, k, n)
        .initializer("az", Tensor.ofUint8(az, m)).initializer("bz", Tensor.ofInt8(bz, n))
        .node("MatMulInteger", List.of("a", "b", "az", "bz"), List.of("y"))
        .output("y").build();
    Tensor y = run1(g, Map.of("a", Tensor.ofUint8(a, 2, 1, m, k),
        "b", Tensor.ofInt8(b, 3, k, n)));
    assertArrayEquals(new long[] {2, 3, m, n}, y.shape());
    for (int p = 0; p < 2; p++) {
      for (int q = 0; q < 3; q++) {
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            int sum = 0;
            for (int kk = 0; kk < k; kk++) {
              sum += ((a[(p * m + i) * k + kk] & 0xFF) - (az[i] & 0xFF))
                  * (b[(q * k + kk) * n + j] - bz[j]);
            }
            assertEquals(sum, y.getInt32(((p * 3 + q) * m + i) * n + j));
          }
        }
      }
    }
  }

  @Test
  void quantizeRoundsHalfToEvenAndSaturatesPerAxis() {
    Graph g = Graph.builder().opset(13)
        .input("x", DType.FLOAT32, 2, 4)
        .initializer("s", Tensor.ofFloat32(new float[] {1f, 0.5f}, 2))
        .initializer("z", Tensor.ofInt8(new byte[] {0, 10}, 2))
        .node("QuantizeLinear", "q", List.of("x", "s", "z"), List.of("y"),
            Map.of("axis", Attribute.of(0L)))
        .node("DequantizeLinear", "dq", List.of("y", "s", "z"), List.of("back"),
            Map.of("axis", Attribute.of(0L)))
        .output("y").output("back").build();
    Map<String, Tensor> out = Interpreter.create(g).run(Map.of("x", Tensor.ofFloat32(
        new float[] {2.5f, 3.5f, -2.5f, 500f, 1.25f, 1.75f, -0.25f, -100f}, 2, 4)));
    assertArrayEquals(new byte[] {2, 4, -2, 127, 12, 14, 10, -128}, out.get("y").toByteArray());
    assertArrayEquals(new float[] {2, 4, -2, 127, 1, 2, 0, -69}, out.get("back").toFloatArray());
  }

  @Test
  void softmaxCoercesTo2dBeforeOpset13AndUsesOneAxisFrom13() {
    float[] x = randomFloats(2 * 3 * 4);
    for (int opset : new int[] {11, 13}) {
      Graph g = Graph.builder().opset(opset).input("x", DType.FLOAT32, 2, 3, 4)
          .node("Softmax", "sm", List.of("x"), List.of("y"), Map.of("axis", Attribute.of(1L)))
          .output("y").build();
      float[] y = run1(g, Map.of("x", Tensor.ofFloat32(x, 2, 3, 4))).toFloatArray();
      for (int b = 0; b < 2; b++) {
        for (int j = 0; j < (opset < 13 ? 1 : 4); j++) {
          int len = opset < 13 ? 12 : 3;
          int stride = opset < 13 ? 1 : 4;
          double sum = 0;
          for (int i = 0; i < len; i++) {
            sum += Math.exp(x[b * 12 + j + i * stride]);
          }
          for (int i = 0; i < len; i++) {
            int at = b * 12 + j + i * stride;
            assertEquals(Math.exp(x[at]) / sum, y[at], 1e-6, "opset " + opset);
          }
        }
      }
    }
  }

  @Test
  void aRangeOfNodesRunsOverAnEnvironmentAndKernelsCanBeReplaced() {
    Graph g = Graph.builder().input("x", DType.FLOAT32, 3)
        .node("Relu", "a", List.of("x"), List.of("r"), Map.of())
        .node("Sigmoid", "b", List.of("r"), List.of("s"), Map.of())
        .node("Add", "c", List.of("s", "x"), List.of("y"), Map.of())
        .output("y").build();
    int[] calls = {0};
    KernelRegistry device = KernelRegistry.standard().with("Relu", (node, in) -> {
      calls[0]++;
      return KernelRegistry.standard().get("Relu").orElseThrow().run(node, in);
    });
    Interpreter interp = Interpreter.create(g, device);
    Map<String, Tensor> env = new HashMap<>();
    env.put("x", Tensor.ofFloat32(new float[] {-1, 0, 2}, 3));
    interp.run(0, 1, env);
    assertEquals(1, calls[0]);
    assertArrayEquals(new float[] {0, 0, 2}, env.get("r").toFloatArray());
    interp.run(1, 3, env);
    float[] y = env.get("y").toFloatArray();
    assertEquals(0.5f - 1, y[0], 1e-6);
    assertEquals(1 / (1 + Math.exp(-2)) + 2, y[2], 1e-6);
    assertEquals(1, calls[0]);
  }
}
