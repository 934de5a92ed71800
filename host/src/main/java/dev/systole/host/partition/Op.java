package dev.systole.host.partition;

import dev.systole.host.graph.Node;
import dev.systole.host.quantize.BatchNorm;
import java.util.ArrayList;
import java.util.List;

/**
 * A device layer in the making: the {@link DeviceOp} that lowers it, the kind of layer it
 * becomes, the model nodes it covers (its anchor first, then the nodes folded into it) and the
 * values it reads and writes.
 */
final class Op {
  /**
   * The kinds of device layer, which decide the layout a layer reads and writes: feature maps
   * (NHWC) for convolutions and pooling, rows of features for matrix products, either for an
   * elementwise add or per-channel map, a feature map in and a map or rows out for a mean, the
   * layout of its input for a function of each element (ELEMENTWISE), and a change of view for a
   * flatten.
   */
  enum Kind {
    CONV, GEMM, MAX_POOL, ADD, MEAN, MAP, ELEMENTWISE, VIEW
  }

  final DeviceOp lowering;
  final Kind kind;
  final Node anchor;
  final List<Node> nodes = new ArrayList<>();
  final List<String> inputs;
  String output;
  BatchNorm batchNorm;
  /** A bias per output feature folded in after the layer, or null. */
  float[] bias;
  boolean relu;
  /** For integer ops: the input's zero point on the device; else ignored. */
  int inputZeroPoint;
  /** For a convolution: whether its input crosses from the host as patches. */
  boolean hostPatches;
  /**
   * The layout the layer's input must have and its output has, where they are not its kind's
   * (a view's, or a MatMul over the channels of a channels-last feature map); else null.
   */
  Boundary.Layout inputLayout;
  Boundary.Layout outputLayout;
  /**
   * For a layer or view of rows of features: how its output is seen in the buffer the program
   * holds it in, where that is not in ONNX's order (a transposed view); else null.
   */
  Strided view;
  /**
   * For a view no strides can say (a Reshape that merges axes a Transpose separated): its input
   * is gathered into ONNX's order first, and the view is of that.
   */
  boolean copyInput;
  /** For a layer normalization written as nodes: its scale, bias and epsilon. */
  NormOp.Affine affine;
  /** For a masked softmax: how many keys each query keeps, a prefix of them. */
  int[] keep;
  /** For a function by table: its chain, and its table for the input quantization given. */
  Functions.Chain chain;
  byte[] table;
  dev.systole.host.quantize.QuantParams tableInput;

  Op(DeviceOp lowering, Kind kind, Node anchor, List<String> inputs) {
    this.lowering = lowering;
    this.kind = kind;
    this.anchor = anchor;
    this.inputs = inputs;
    this.nodes.add(anchor);
    this.output = anchor.output(0);
  }

  /** Whether the layer computes with the model's own integer scales and zero points. */
  boolean integer() {
    return lowering.integer();
  }
}
