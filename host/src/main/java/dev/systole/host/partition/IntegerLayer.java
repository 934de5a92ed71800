package dev.systole.host.partition;

import dev.systole.host.compile.Requant;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.Map;

/**
 * The device layer of an already quantized op: QLinearConv, ConvInteger, QLinearMatMul or
 * MatMulInteger, with the model's own scales and zero points.
 *
 * <p>On the device every tensor is int8: a uint8 value {@code u} with zero point {@code z} is the
 * int8 value {@code u - 128} with zero point {@code z - 128}, which means the same real number and
 * gives the same products of differences, so the ops stay exact. Weights must be int8 after their
 * zero point is taken off (the array multiplies raw int8 weights; a zero point on the weights
 * would add a term that depends on each input window). That holds for every symmetric model and
 * for uint8 weights with zero point 128; any other model's layer runs on the CPU.
 *
 * <p>The requantization scale {@code x_scale * w_scale / y_scale} is computed in float32, as ONNX
 * Runtime computes it, and is then exact in the contract's fixed point (31 bits hold a float's 24),
 * so the device rounds the same real product to the same integer, ties to even.
 */
final class IntegerLayer {
  private final String weightName;
  private final int inChannels;
  private final int outChannels;
  private final byte[] weights;
  private final int[] bias;
  private final Requant requant;
  private final Encoding encoding;

  private IntegerLayer(String weightName, int inChannels, int outChannels, byte[] weights,
      int[] bias, Requant requant, Encoding encoding) {
    this.weightName = weightName;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.weights = weights;
    this.bias = bias;
    this.requant = requant;
    this.encoding = encoding;
  }

  String weightName() {
    return weightName;
  }

  int inChannels() {
    return inChannels;
  }

  int outChannels() {
    return outChannels;
  }

  /** OIHW for a convolution, K x N row-major for a GEMM. */
  byte[] weights() {
    return weights;
  }

  int[] bias() {
    return bias;
  }

  /** Null for ConvInteger and MatMulInteger, whose output is the int32 sum. */
  Requant requant() {
    return requant;
  }

  Encoding encoding() {
    return encoding;
  }

  private static boolean qlinear(Node n) {
    return n.opType().startsWith("QLinear");
  }

  private static boolean conv(Node n) {
    return n.opType().contains("Conv");
  }

  /**
   * The layer for {@code n}, whose weights, scales and zero points are constants.
   *
   * @throws IllegalArgumentException if a weight does not fit int8 after its zero point is off
   */
  static IntegerLayer of(Node n, Map<String, Tensor> constants, Graph graph) {
    boolean q = qlinear(n);
    String wName = n.input(q ? 3 : 1);
    Tensor w = constants.get(wName);
    long[] ws = w.shape();
    int outs = (int) (conv(n) ? ws[0] : ws[1]);
    int ins = (int) (conv(n) ? ws[1] : ws[0]);
    String wzpName = n.input(q ? 5 : 3);
    int[] wzp = perChannel(wzpName.isEmpty() ? null : constants.get(wzpName), outs, n,
        "weight zero point");
    byte[] codes = new byte[Math.toIntExact(w.numel())];
    int per = codes.length / outs;
    for (int i = 0; i < codes.length; i++) {
      int c = conv(n) ? i / per : i % outs;
      int v = element(w, i) - wzp[c];
      if (v < -128 || v > 127) {
        throw new IllegalArgumentException(n + ": weight " + i + " minus its zero point is " + v
            + " (expected -128 to 127 for the array)");
      }
      codes[i] = (byte) v;
    }
    if (!q) {
      return new IntegerLayer(wName, ins, outs, codes, null, null, new Encoding.Accumulator(null));
    }
    float xs = scalarFloat(constants.get(n.input(1)));
    float[] wsc = perChannelFloat(constants.get(n.input(4)), outs, n);
    float ys = scalarFloat(constants.get(n.input(6)));
    String yzpName = n.input(7);
    Tensor yzp = yzpName.isEmpty() ? null : constants.get(yzpName);
    boolean unsigned = yzp == null ? graph.dtype(n.output(0)) == DType.UINT8
        : yzp.dtype() == DType.UINT8;
    int zy = (yzp == null ? 0 : scalar(yzp)) - (unsigned ? 128 : 0);
    int[] mult = new int[outs];
    int[] shift = new int[outs];
    for (int c = 0; c < outs; c++) {
      float m = xs * wsc[c] / ys;
      FixedPoint f = FixedPoint.of(m);
      mult[c] = f.multiplier();
      shift[c] = f.shift();
    }
    int[] bias = null;
    if (conv(n) && n.hasInput(8)) {
      Tensor b = constants.get(n.input(8));
      bias = new int[outs];
      for (int c = 0; c < outs; c++) {
        bias[c] = b.getInt32(c);
      }
    }
    return new IntegerLayer(wName, ins, outs, codes, bias,
        new Requant(mult, shift, zy, false), new Encoding.Integer8(unsigned));
  }

  /**
   * The device zero point of the op's output: a QLinear op's y zero point (less 128 for uint8),
   * 0 for the int32 ops.
   */
  static int outputZeroPoint(Node n, Map<String, Tensor> constants, Graph graph) {
    if (!qlinear(n)) {
      return 0;
    }
    String yzpName = n.input(7);
    boolean unsigned = graph.dtype(n.output(0)) == DType.UINT8;
    return (yzpName.isEmpty() ? 0 : scalar(constants.get(yzpName))) - (unsigned ? 128 : 0);
  }

  /** The one value of a scalar (or one-element) integer tensor. */
  static int scalar(Tensor t) {
    if (t.numel() != 1) {
      throw new IllegalArgumentException("a zero point of " + t.shapeString()
          + " (expected one value)");
    }
    return element(t, 0);
  }

  private static float scalarFloat(Tensor t) {
    if (t.numel() != 1 || t.dtype() != DType.FLOAT32) {
      throw new IllegalArgumentException("a scale of " + t + " (expected one float32)");
    }
    return t.getFloat32(0);
  }

  private static int element(Tensor t, long i) {
    return switch (t.dtype()) {
      case INT8 -> t.getInt8(i);
      case UINT8 -> t.getUint8(i);
      case INT32 -> t.getInt32(i);
      default -> throw new IllegalArgumentException("a tensor of " + t
          + " (expected int8, uint8 or int32)");
    };
  }

  private static int[] perChannel(Tensor t, int channels, Node n, String what) {
    int[] r = new int[channels];
    if (t == null) {
      return r;
    }
    if (t.numel() != 1 && t.numel() != channels) {
      throw new IllegalArgumentException(n + ": " + what + " of " + t.shapeString()
          + " (expected one value or " + channels + ")");
    }
    for (int c = 0; c < channels; c++) {
      r[c] = element(t, t.numel() == 1 ? 0 : c);
    }
    return r;
  }

  private static float[] perChannelFloat(Tensor t, int channels, Node n) {
    if (t.dtype() != DType.FLOAT32 || t.numel() != 1 && t.numel() != channels) {
      throw new IllegalArgumentException(n + ": weight scale " + t + " (expected float32, one"
          + " value or " + channels + ")");
    }
    float[] r = new float[channels];
    for (int c = 0; c < channels; c++) {
      r[c] = t.getFloat32(t.numel() == 1 ? 0 : c);
    }
    return r;
  }
}
