package dev.systole.host.partition;

import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DepthwiseLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.Requant;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.BatchNorm;
import dev.systole.host.quantize.ChannelQuantizer;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * Float convolutions and matrix products quantized into device layers, from the activation
 * ranges of the calibration: weights per output channel, symmetric; the bias at the
 * accumulator's scale; one requantization per channel to the output's scale. A layer whose
 * output leaves the device program and has no fused ReLU keeps its int32 accumulators, scaled
 * back to float on the host, so the logits of a classifier lose nothing to an output scale.
 */
final class FloatLayers {
  private FloatLayers() {}

  /** The quantized layer of a float Conv {@code op}. */
  static ConvLayer conv(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Tensor wt = p.constant(n.input(1));
    int outs = (int) wt.dim(0);
    int perGroup = (int) wt.dim(1);
    int groups = (int) n.intAttr("group");
    float[] w = p.floats(n, 1);
    int taps = w.length / (outs * perGroup);
    float[] bias = n.hasInput(2) ? p.floats(n, 2) : null;
    int ins = perGroup * groups;
    if (groups > 1) {
      w = blockDiagonal(w, outs, perGroup, groups, taps);
    }
    Quantized q = quantize(op, s, w, bias, outs, false);
    return new ConvLayer(ins, outs, p.window(n, wt.shape()), q.weights.values(), q.bias,
        q.requant);
  }

  /**
   * The quantized convolution a float ConvTranspose {@code op} (weights {@code [I][O/g][kh][kw]}
   * for g groups) is over its spread input: the kernel flipped and the channels swapped, dense
   * weights {@code [O][I][kh][kw]} with {@code w'[o][i][y][x] = w[i][o mod O/g][kh-1-y][kw-1-x]}
   * where i is in o's group and 0 elsewhere (block-diagonal, as {@link #blockDiagonal} makes a
   * grouped convolution's), over {@code window}.
   */
  static ConvLayer transposed(Op op, Segmenter.SegmentBuild s, dev.systole.host.compile.Window
      window) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Tensor wt = p.constant(n.input(1));
    int groups = (int) (long) n.attribute("group").map(a -> a.asInt()).orElse(1L);
    int ins = (int) wt.dim(0);
    int perGroup = (int) wt.dim(1);
    int outs = perGroup * groups;
    int insPerGroup = ins / groups;
    int kh = (int) wt.dim(2);
    int kw = (int) wt.dim(3);
    float[] raw = p.floats(n, 1);
    float[] w = new float[outs * ins * kh * kw];
    for (int i = 0; i < ins; i++) {
      int g = i / insPerGroup;
      for (int og = 0; og < perGroup; og++) {
        int o = g * perGroup + og;
        for (int y = 0; y < kh; y++) {
          for (int x = 0; x < kw; x++) {
            w[((o * ins + i) * kh + y) * kw + x] =
                raw[((i * perGroup + og) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)];
          }
        }
      }
    }
    float[] bias = n.hasInput(2) ? p.floats(n, 2) : null;
    Quantized q = quantize(op, s, w, bias, outs, false);
    return new ConvLayer(ins, outs, window, q.weights.values(), q.bias, q.requant);
  }

  /**
   * The weights {@code [O][I/g][kh][kw]} of a grouped convolution as those of a dense one,
   * {@code [O][I][kh][kw]}, zero where an output channel's group does not read an input channel.
   */
  static float[] blockDiagonal(float[] w, int outs, int perGroup, int groups, int taps) {
    int ins = perGroup * groups;
    int outsPerGroup = outs / groups;
    float[] dense = new float[outs * ins * taps];
    for (int o = 0; o < outs; o++) {
      int first = (o / outsPerGroup) * perGroup;
      System.arraycopy(w, o * perGroup * taps, dense, (o * ins + first) * taps, perGroup * taps);
    }
    return dense;
  }

  /**
   * The 1x1 convolution that copies input channel {@code perm[o]} to output channel o (a
   * channel shuffle), requantized to int8: weights of 1 quantize exactly, so each output is its
   * input code rescaled.
   */
  static ConvLayer permutation(Op op, Segmenter.SegmentBuild s, int[] perm) {
    int c = perm.length;
    Quantized q = quantize(op, s, ChannelShuffle.weights(perm), null, c, true);
    return new ConvLayer(c, c, dev.systole.host.compile.Window.of(1, 1, 0), q.weights.values(),
        q.bias, q.requant);
  }

  /**
   * A MatMul over the channels of a channels-last feature map as the 1x1 convolution it is on
   * the NHWC map: B {@code [C, N]} as weights {@code [N][C]}, a bias folded after it.
   */
  static ConvLayer pointwise(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Tensor bt = p.constant(n.input(1));
    int ins = (int) bt.dim(0);
    int outs = (int) bt.dim(1);
    float[] raw = p.floats(n, 1);
    float[] w = new float[raw.length];
    for (int o = 0; o < outs; o++) {
      for (int k = 0; k < ins; k++) {
        w[o * ins + k] = raw[k * outs + o];
      }
    }
    Quantized q = quantize(op, s, w, op.bias, outs, false);
    return new ConvLayer(ins, outs, dev.systole.host.compile.Window.of(1, 1, 0),
        q.weights.values(), q.bias, q.requant);
  }

  /** The quantized layer of a float depthwise Conv {@code op}, always requantized to int8. */
  static DepthwiseLayer depthwise(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Tensor wt = p.constant(n.input(1));
    int channels = (int) wt.dim(0);
    float[] bias = n.hasInput(2) ? p.floats(n, 2) : null;
    Quantized q = quantize(op, s, p.floats(n, 1), bias, channels, true);
    return DepthwiseLayer.of(new ConvLayer(1, channels, p.window(n, wt.shape()),
        q.weights.values(), q.bias, q.requant));
  }

  /**
   * The quantized layer of a float Gemm or MatMul {@code op} reading rows of shape {@code in}
   * (a flattened feature map's rows take their weights reordered to the NHWC feature order).
   */
  static GemmLayer gemm(Op op, DeviceGraph.Shape in, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    Tensor bt = p.constant(n.input(1));
    boolean gemm = n.opType().equals("Gemm");
    boolean transB = gemm && n.intAttr("transB") != 0;
    int ins = (int) bt.dim(transB ? 1 : 0);
    int outs = (int) bt.dim(transB ? 0 : 1);
    float[] raw = p.floats(n, 1);
    float alpha = gemm ? n.floatAttr("alpha") : 1f;
    float[] w = new float[raw.length];
    for (int o = 0; o < outs; o++) {
      for (int k = 0; k < ins; k++) {
        w[o * ins + k] = alpha * (transB ? raw[o * ins + k] : raw[k * outs + o]);
      }
    }
    float[] bias = gemm && n.hasInput(2) ? columnBias(n, p) : null;
    if (op.bias != null) {
      float[] sum = bias == null ? new float[outs] : bias;
      for (int o = 0; o < outs; o++) {
        sum[o] += op.bias[o];
      }
      bias = sum;
    }
    if (p.producedAsFlattenedMap(op.inputs.get(0))) {
      w = nchwToNhwcFeatures(w, outs, in.channels(), in.height(), in.width());
    }
    Quantized q = quantize(op, s, w, bias, outs, false);
    byte[] kn = new byte[q.weights.values().length];
    for (int o = 0; o < outs; o++) {
      for (int k = 0; k < ins; k++) {
        kn[k * outs + o] = q.weights.values()[o * ins + k];
      }
    }
    return new GemmLayer(ins, outs, kn, q.bias, q.requant);
  }

  private record Quantized(ChannelQuantizer.Weights weights, int[] bias, Requant requant) {}

  /**
   * Output-major float weights and bias, a folded BatchNormalization applied first, quantized;
   * records the output's quantization and encoding in {@code s}. The output is requantized to
   * int8 when {@code int8}, when it has a ReLU, or when it stays in the program; else it leaves
   * as int32 accumulators.
   */
  private static Quantized quantize(Op op, Segmenter.SegmentBuild s, float[] w, float[] bias,
      int outs, boolean int8) {
    Partitioner p = s.partitioner();
    float sx = s.inputQuant(op.inputs.get(0)).scale();
    if (op.batchNorm != null) {
      BatchNorm.Folded f = op.batchNorm.foldInto(w, bias);
      w = f.weights();
      bias = f.bias();
    }
    ChannelQuantizer.Weights q = ChannelQuantizer.perChannel(w, outs);
    int[] qb = ChannelQuantizer.bias(bias == null ? new float[outs] : bias, sx, q.scales());
    Requant requant = null;
    if (int8 || op.relu || s.internal(op)) {
      QuantParams qy = p.params(op.output);
      FixedPoint[] f = ChannelQuantizer.requant(sx, q.scales(), qy.scale());
      int[] mult = new int[outs];
      int[] shift = new int[outs];
      for (int c = 0; c < outs; c++) {
        mult[c] = f[c].multiplier();
        shift[c] = f[c].shift();
      }
      requant = new Requant(mult, shift, qy.zeroPoint(), op.relu);
      s.record(op.output, qy, new Encoding.Quantized(qy));
    } else {
      float[] scales = new float[outs];
      for (int c = 0; c < outs; c++) {
        scales[c] = (float) ((double) sx * q.scales()[c]);
      }
      s.record(op.output, null, new Encoding.Accumulator(scales));
    }
    return new Quantized(q, qb, requant);
  }

  /**
   * Output-major weights over features in ONNX's Flatten order of an NCHW map ({@code (c*H + h)*W
   * + w}) reordered to the NHWC order the device flattens in ({@code (h*W + w)*C + c}).
   */
  static float[] nchwToNhwcFeatures(float[] w, int outs, int c, int h, int wd) {
    int k = c * h * wd;
    float[] r = new float[w.length];
    for (int o = 0; o < outs; o++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < wd; x++) {
            r[o * k + (y * wd + x) * c + ch] = w[o * k + (ch * h + y) * wd + x];
          }
        }
      }
    }
    return r;
  }

  /** Gemm's {@code beta * C} as one value per output column, or null if C is not that. */
  static float[] columnBias(Node n, Partitioner p) {
    Tensor c = p.constant(n.input(2));
    if (c == null || c.dtype() != DType.FLOAT32) {
      return null;
    }
    long[] bs = p.shape(n.input(1));
    int outs = (int) (n.intAttr("transB") != 0 ? bs[0] : bs[1]);
    float[] v = p.floats(n, 2);
    float beta = n.floatAttr("beta");
    float[] r = new float[outs];
    if (c.numel() == 1) {
      java.util.Arrays.fill(r, beta * v[0]);
    } else if (c.numel() == outs && c.dim(-1) == outs) {
      for (int i = 0; i < outs; i++) {
        r[i] = beta * v[i];
      }
    } else {
      return null;
    }
    return r;
  }
}
