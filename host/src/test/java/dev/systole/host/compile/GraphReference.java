package dev.systole.host.compile;

import dev.systole.driver.contract.Arithmetic;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * A device graph evaluated from the definitions of its layers, in plain loops over NHWC arrays:
 * a convolution as {@code sum (x - zx) * w + bias} with out-of-image pixels equal to zx, a GEMM
 * likewise, max pooling over the in-image pixels of each window, and the contract's VADD per
 * element. Nothing here knows how the device lowers a layer.
 */
public final class GraphReference {
  private GraphReference() {}

  /** Every node's output for {@code batch} items, given each input's NHWC bytes by name. */
  public static Map<String, int[]> run(DeviceGraph g, int batch, Map<String, byte[]> inputs) {
    Map<String, int[]> values = new HashMap<>();
    for (Node n : g.nodes()) {
      int[] v;
      switch (n.kind()) {
        case INPUT -> {
          byte[] b = inputs.get(n.name());
          v = new int[b.length];
          for (int i = 0; i < b.length; i++) {
            v[i] = b[i];
          }
        }
        case CONV -> v = conv(n, batch, values.get(n.inputs().get(0).name()));
        case GEMM -> v = gemm(n, batch, values.get(n.inputs().get(0).name()));
        case MAX_POOL -> v = maxPool(n, batch, values.get(n.inputs().get(0).name()));
        case ADD -> v = add(n, values.get(n.inputs().get(0).name()),
            values.get(n.inputs().get(1).name()));
        case DEPTHWISE -> v = depthwise(n, batch, values.get(n.inputs().get(0).name()));
        case MEAN -> v = mean(n, batch, values.get(n.inputs().get(0).name()));
        case MUL -> v = mul(n, values.get(n.inputs().get(0).name()),
            values.get(n.inputs().get(1).name()));
        case CONCAT -> v = concat(n, batch, values);
        case SCALE -> v = scale(n, values.get(n.inputs().get(0).name()));
        case NORM -> v = norm(n, values.get(n.inputs().get(0).name()));
        case SOFTMAX -> v = softmax(n, values.get(n.inputs().get(0).name()));
        case COPY -> v = copy(n, values.get(n.inputs().get(0).name()));
        case RESIZE -> v = resize(n, batch, values.get(n.inputs().get(0).name()));
        case SPREAD -> v = spread(n, batch, values.get(n.inputs().get(0).name()));
        case CHANNEL_REDUCE -> v = channelReduce(n, values.get(n.inputs().get(0).name()));
        case PRODUCT -> v = product(n, values.get(n.inputs().get(0).name()),
            values.get(n.inputs().get(1).name()));
        case SLICE -> v = slice(n, batch, values.get(n.inputs().get(0).name()));
        case TABLE -> {
          int[] in = values.get(n.inputs().get(0).name());
          TableLayer t = (TableLayer) n.layer();
          v = new int[in.length];
          for (int i = 0; i < in.length; i++) {
            v[i] = t.apply(in[i]);
          }
        }
        default -> throw new IllegalStateException();
      }
      values.put(n.name(), v);
    }
    return values;
  }

  private static int finish(long acc, Requant q, int column) {
    if (q == null) {
      return (int) acc;
    }
    return Arithmetic.requantize(Arithmetic.saturate32(acc), 0, q.multiplier(column),
        q.shift(column), q.zeroPoint(), q.relu());
  }

  static int[] conv(Node n, int batch, int[] x) {
    ConvLayer l = (ConvLayer) n.layer();
    Shape in = n.inputs().get(0).shape();
    Shape out = n.shape();
    int zx = n.inputs().get(0).zeroPoint();
    Window w = l.window();
    int[] y = new int[(int) (batch * out.size())];
    for (int b = 0; b < batch; b++) {
      for (int oy = 0; oy < out.height(); oy++) {
        for (int ox = 0; ox < out.width(); ox++) {
          for (int o = 0; o < l.outChannels(); o++) {
            long acc = l.bias() == null ? 0 : l.bias()[o];
            for (int ky = 0; ky < w.kernelH(); ky++) {
              for (int kx = 0; kx < w.kernelW(); kx++) {
                int iy = oy * w.strideH() - w.padTop() + ky * w.dilationH();
                int ix = ox * w.strideW() - w.padLeft() + kx * w.dilationW();
                boolean inside = iy >= 0 && iy < in.height() && ix >= 0 && ix < in.width();
                for (int c = 0; c < l.inChannels(); c++) {
                  int v = inside ? x[(int) (b * in.size()) + (iy * in.width() + ix)
                      * in.channels() + c] : zx;
                  acc += (long) (v - zx) * l.weight(o, c, ky, kx);
                }
              }
            }
            y[(int) (b * out.size()) + (oy * out.width() + ox) * out.channels() + o] =
                finish(acc, l.requant(), o);
          }
        }
      }
    }
    return y;
  }

  static int[] gemm(Node n, int batch, int[] x) {
    GemmLayer l = (GemmLayer) n.layer();
    int zx = n.inputs().get(0).zeroPoint();
    int k = l.inFeatures();
    int[] y = new int[batch * l.outFeatures()];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < l.outFeatures(); j++) {
        long acc = l.bias() == null ? 0 : l.bias()[j];
        for (int i = 0; i < k; i++) {
          acc += (long) (x[b * k + i] - zx) * l.weights()[i * l.outFeatures() + j];
        }
        y[b * l.outFeatures() + j] = finish(acc, l.requant(), j);
      }
    }
    return y;
  }

  static int[] maxPool(Node n, int batch, int[] x) {
    Window w = ((MaxPoolLayer) n.layer()).window();
    Shape in = n.inputs().get(0).shape();
    Shape out = n.shape();
    int[] y = new int[(int) (batch * out.size())];
    for (int b = 0; b < batch; b++) {
      for (int oy = 0; oy < out.height(); oy++) {
        for (int ox = 0; ox < out.width(); ox++) {
          for (int c = 0; c < out.channels(); c++) {
            int max = Integer.MIN_VALUE;
            for (int ky = 0; ky < w.kernelH(); ky++) {
              for (int kx = 0; kx < w.kernelW(); kx++) {
                int iy = oy * w.strideH() - w.padTop() + ky * w.dilationH();
                int ix = ox * w.strideW() - w.padLeft() + kx * w.dilationW();
                if (iy >= 0 && iy < in.height() && ix >= 0 && ix < in.width()) {
                  max = Math.max(max, x[(int) (b * in.size()) + (iy * in.width() + ix)
                      * in.channels() + c]);
                }
              }
            }
            y[(int) (b * out.size()) + (oy * out.width() + ox) * out.channels() + c] = max;
          }
        }
      }
    }
    return y;
  }

  static int[] add(Node n, int[] a, int[] b) {
    AddLayer l = (AddLayer) n.layer();
    int za = n.inputs().get(0).zeroPoint();
    int zb = n.inputs().get(1).zeroPoint();
    int[] y = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      y[i] = Arithmetic.vadd(a[i], b[i], za, zb, l.zeroPoint(), l.aMultiplier(),
          l.bMultiplier(), l.shift(), l.relu());
    }
    return y;
  }

  static int[] depthwise(Node n, int batch, int[] x) {
    DepthwiseLayer l = (DepthwiseLayer) n.layer();
    Shape in = n.inputs().get(0).shape();
    Shape out = n.shape();
    int zx = n.inputs().get(0).zeroPoint();
    Window w = l.window();
    int[] y = new int[(int) (batch * out.size())];
    for (int b = 0; b < batch; b++) {
      for (int oy = 0; oy < out.height(); oy++) {
        for (int ox = 0; ox < out.width(); ox++) {
          for (int c = 0; c < l.channels(); c++) {
            long acc = l.bias() == null ? 0 : l.bias()[c];
            for (int ky = 0; ky < w.kernelH(); ky++) {
              for (int kx = 0; kx < w.kernelW(); kx++) {
                int iy = oy * w.strideH() - w.padTop() + ky * w.dilationH();
                int ix = ox * w.strideW() - w.padLeft() + kx * w.dilationW();
                boolean inside = iy >= 0 && iy < in.height() && ix >= 0 && ix < in.width();
                int v = inside ? x[(int) (b * in.size()) + (iy * in.width() + ix)
                    * in.channels() + c] : zx;
                acc += (long) (v - zx) * l.weight(c, ky * w.kernelW() + kx);
              }
            }
            y[(int) (b * out.size()) + (oy * out.width() + ox) * out.channels() + c] =
                finish(acc, l.requant(), c);
          }
        }
      }
    }
    return y;
  }

  /** The mean as the device defines it: the sum of {@code x - zx}, then the requantization. */
  static int[] mean(Node n, int batch, int[] x) {
    MeanLayer l = (MeanLayer) n.layer();
    Shape in = n.inputs().get(0).shape();
    int zx = n.inputs().get(0).zeroPoint();
    int c = in.channels();
    int pixels = in.height() * in.width();
    int[] y = new int[batch * c];
    for (int b = 0; b < batch; b++) {
      for (int ch = 0; ch < c; ch++) {
        long acc = 0;
        for (int i = 0; i < pixels; i++) {
          acc += x[(int) (b * in.size()) + i * c + ch] - zx;
        }
        y[b * c + ch] = finish(acc, l.requant(), 0);
      }
    }
    return y;
  }

  static int[] mul(Node n, int[] a, int[] b) {
    MulLayer l = (MulLayer) n.layer();
    int za = n.inputs().get(0).zeroPoint();
    int zb = n.inputs().get(1).zeroPoint();
    Shape s = n.shape();
    int[] y = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      int bi = l.perChannel() ? (int) (i / s.size()) * s.channels() + i % s.channels() : i;
      long p = (long) (a[i] - za) * (b[bi] - zb) * l.multiplier();
      y[i] = Arithmetic.saturate8(Arithmetic.roundShift(p, l.shift()) + l.zeroPoint());
    }
    return y;
  }

  private static int mapped(byte[] table, int v) {
    return table == null ? v : table[v + 128];
  }

  static int[] concat(Node n, int batch, Map<String, int[]> values) {
    ConcatLayer l = (ConcatLayer) n.layer();
    int c = n.shape().channels();
    int pixels = (int) (batch * n.shape().size() / c);
    int[] y = new int[pixels * c];
    int c0 = 0;
    for (int i = 0; i < n.inputs().size(); i++) {
      Node in = n.inputs().get(i);
      int ci = in.shape().channels();
      int[] x = values.get(in.name());
      for (int px = 0; px < pixels; px++) {
        for (int ch = 0; ch < ci; ch++) {
          y[px * c + c0 + ch] = mapped(l.tables().get(i), x[px * ci + ch]);
        }
      }
      c0 += ci;
    }
    return y;
  }

  static int[] slice(Node n, int batch, int[] x) {
    SliceLayer l = (SliceLayer) n.layer();
    int c = n.inputs().get(0).shape().channels();
    int pixels = (int) (batch * n.shape().size() / l.count());
    int[] y = new int[pixels * l.count()];
    for (int px = 0; px < pixels; px++) {
      for (int ch = 0; ch < l.count(); ch++) {
        y[px * l.count() + ch] = mapped(l.table(), x[px * c + l.first() + ch]);
      }
    }
    return y;
  }

  static int[] scale(Node n, int[] x) {
    ScaleLayer l = (ScaleLayer) n.layer();
    int zx = n.inputs().get(0).zeroPoint();
    int c = l.channels();
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      int ch = i % c;
      long d = x[i] - zx;
      long p = d * (d >= 0 ? l.multPos()[ch] : l.multNeg()[ch]) + l.bias()[ch];
      y[i] = Arithmetic.saturate8(Arithmetic.roundShift(p, l.shift()[ch]) + l.zeroPoint());
    }
    return y;
  }

  /** Each vector of C features through the contract's layer normalization. */
  static int[] norm(Node n, int[] x) {
    NormLayer l = (NormLayer) n.layer();
    int c = l.features();
    int[] y = new int[x.length];
    int[] in = new int[c];
    int[] out = new int[c];
    for (int v = 0; v < x.length / c; v++) {
      System.arraycopy(x, v * c, in, 0, c);
      Arithmetic.layerNorm(in, c, l.eps(), l.scale(), l.bias(), l.shift(), l.zeroPoint(), out);
      System.arraycopy(out, 0, y, v * c, c);
    }
    return y;
  }

  /** CONTRACT.md 7.7 over each run of the layer's width, in float-free integer steps. */
  static int[] softmax(Node n, int[] x) {
    SoftmaxLayer l = (SoftmaxLayer) n.layer();
    int w = l.width();
    short[] table = l.table();
    int[] y = new int[x.length];
    for (int v = 0; v < x.length / w; v++) {
      int kept = l.valid(v);
      java.util.Arrays.fill(y, v * w, (v + 1) * w, l.zeroPoint());
      int m = -128;
      for (int i = 0; i < kept; i++) {
        m = Math.max(m, x[v * w + i]);
      }
      java.math.BigInteger sum = java.math.BigInteger.ZERO;
      for (int i = 0; i < kept; i++) {
        sum = sum.add(java.math.BigInteger.valueOf(Math.max(table[m - x[v * w + i]], 0)));
      }
      java.math.BigInteger recip = sum.signum() > 0
          ? java.math.BigInteger.ONE.shiftLeft(44).divide(sum) : java.math.BigInteger.ZERO;
      for (int i = 0; i < kept; i++) {
        long e = Math.max(table[m - x[v * w + i]], 0);
        long p = recip.multiply(java.math.BigInteger.valueOf(e * l.mult())).longValueExact();
        y[v * w + i] = (int) Math.max(-128, Math.min(127, Arithmetic.roundShift(p, l.shift())
            + l.zeroPoint()));
      }
    }
    return y;
  }

  /** Each matrix of the batch multiplied from where the layer's offsets put it, requantized. */
  static int[] product(Node n, int[] a, int[] b) {
    ProductLayer l = (ProductLayer) n.layer();
    long[] ab = l.aBase();
    long[] bb = l.bBase();
    long[] cb = l.cBase();
    int[] c = new int[l.rows() * l.outFeatures()];
    for (int g = 0; g < l.batches(); g++) {
      for (int i = 0; i < l.m(); i++) {
        for (int j = 0; j < l.n(); j++) {
          long acc = 0;
          for (int k = 0; k < l.k(); k++) {
            acc += (long) a[(int) (ab[g] + i * l.aRow() + k)]
                * b[(int) (bb[g] + k * l.bK() + j * l.bN())];
          }
          long r = Arithmetic.roundShift(acc * l.multiplier(), l.shift()) + l.zeroPoint();
          c[(int) (cb[g] + i * l.cRow() + j)] = (int) Math.max(-128, Math.min(127, r));
        }
      }
    }
    return c;
  }

  /** Element i of the output is the input's byte at the view's offset of index i. */
  static int[] copy(Node n, int[] x) {
    CopyLayer l = (CopyLayer) n.layer();
    long[] sh = l.shape();
    long[] st = l.strides();
    int[] y = new int[(int) l.numel()];
    for (int i = 0; i < y.length; i++) {
      long rem = i;
      long at = 0;
      for (int a = sh.length - 1; a >= 0; a--) {
        at += rem % sh[a] * st[a];
        rem /= sh[a];
      }
      y[i] = x[(int) at];
    }
    return y;
  }

  /** Output pixel (y, x) of each image is input pixel (y / factorH, x / factorW). */
  static int[] resize(Node n, int batch, int[] x) {
    ResizeLayer l = (ResizeLayer) n.layer();
    Shape in = n.inputs().get(0).shape();
    Shape o = n.shape();
    int c = in.channels();
    int[] y = new int[(int) (batch * o.size())];
    for (int b = 0; b < batch; b++) {
      for (int oy = 0; oy < o.height(); oy++) {
        for (int ox = 0; ox < o.width(); ox++) {
          int src = ((b * in.height() + oy / l.factorH()) * in.width() + ox / l.factorW()) * c;
          int dst = ((b * o.height() + oy) * o.width() + ox) * c;
          System.arraycopy(x, src, y, dst, c);
        }
      }
    }
    return y;
  }

  /** Input pixel (y, x) at output (y * strideH, x * strideW), the zero point elsewhere. */
  static int[] spread(Node n, int batch, int[] x) {
    SpreadLayer l = (SpreadLayer) n.layer();
    Shape in = n.inputs().get(0).shape();
    Shape o = n.shape();
    int c = in.channels();
    int[] y = new int[(int) (batch * o.size())];
    java.util.Arrays.fill(y, n.inputs().get(0).zeroPoint());
    for (int b = 0; b < batch; b++) {
      for (int iy = 0; iy < in.height(); iy++) {
        for (int ix = 0; ix < in.width(); ix++) {
          int src = ((b * in.height() + iy) * in.width() + ix) * c;
          int dst = ((b * o.height() + iy * l.strideH()) * o.width() + ix * l.strideW()) * c;
          System.arraycopy(x, src, y, dst, c);
        }
      }
    }
    return y;
  }

  /** Per pixel, the largest code, or the requantized sum of (code - zero point). */
  static int[] channelReduce(Node n, int[] x) {
    ChannelReduceLayer l = (ChannelReduceLayer) n.layer();
    int c = n.inputs().get(0).shape().channels();
    int zx = n.inputs().get(0).zeroPoint();
    int[] y = new int[x.length / c];
    for (int px = 0; px < y.length; px++) {
      long sum = 0;
      int max = -128;
      for (int ch = 0; ch < c; ch++) {
        sum += x[px * c + ch] - zx;
        max = Math.max(max, x[px * c + ch]);
      }
      y[px] = l.max() ? max : finish(sum, l.requant(), 0);
    }
    return y;
  }
}
