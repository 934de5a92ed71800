package dev.systole.host.partition;

import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the QDQ form of a quantized model back into the integer ops it stands for. Quantizers such
 * as ONNX Runtime's write a quantized convolution as {@code DequantizeLinear} of the int8 input
 * and of the int8 weights, a float {@code Conv}, and a {@code QuantizeLinear} of its output; that
 * is {@code QLinearConv} with the scales and zero points of the three, and a float MatMul between
 * the same pairs is {@code QLinearMatMul}. Rewritten so, the layer runs on the device with the
 * model's own scales and the integer semantics of the QLinear op (as ONNX Runtime runs a QDQ model
 * once it has fused it), instead of being calibrated again as if it were a float model.
 *
 * <p>A pattern is rewritten only when it means exactly the QLinear op: the weights, scales and
 * zero points are constants, the bias is a constant (int32, or float and then quantized at
 * {@code x_scale * w_scale} as the QDQ form implies), the float op's output feeds only the
 * QuantizeLinear, and the op's attributes carry over. Dequantized values that other nodes still
 * read keep their DequantizeLinear; nodes left without readers are dropped.
 */
final class QdqFusion {
  private QdqFusion() {}

  /** A node of the rewritten graph. */
  private record Op(String opType, String name, List<String> inputs, List<String> outputs,
      Map<String, Attribute> attributes) {
    static Op of(Node n) {
      return new Op(n.opType(), n.name(), n.inputs(), n.outputs(), n.attributes());
    }
  }

  /** {@code graph} with its QDQ patterns rewritten; {@code graph} itself if it has none. */
  static Graph rewrite(Graph graph) {
    Map<String, Node> producer = new HashMap<>();
    Map<String, List<Node>> consumers = new HashMap<>();
    for (Node n : graph.nodes()) {
      n.outputs().forEach(o -> producer.put(o, n));
      for (String in : n.inputs()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    Set<String> outputs = new HashSet<>();
    graph.outputs().forEach(o -> outputs.add(o.name()));
    Map<String, Tensor> constants = new HashMap<>(graph.initializers());
    Map<Node, Op> replaced = new LinkedHashMap<>();
    Set<Node> dropped = new HashSet<>();
    Map<String, Tensor> added = new LinkedHashMap<>();
    for (Node op : graph.nodes()) {
      boolean conv = op.opType().equals("Conv");
      if (!conv && !op.opType().equals("MatMul")) {
        continue;
      }
      Node dqx = producer.get(op.input(0));
      Node dqw = producer.get(op.input(1));
      List<Node> users = consumers.getOrDefault(op.output(0), List.of());
      if (dqx == null || dqw == null || !isDq(dqx) || !isDq(dqw) || users.size() != 1
          || !users.get(0).opType().equals("QuantizeLinear") || outputs.contains(op.output(0))
          || !constantArgs(dqx, constants, 1) || !constantArgs(dqw, constants, 0)) {
        continue;
      }
      Node q = users.get(0);
      if (!constantArgs(q, constants, 1) || !q.hasInput(2)) {
        continue;
      }
      List<String> in = new ArrayList<>(List.of(dqx.input(0), dqx.input(1), dqx.input(2),
          dqw.input(0), dqw.input(1), arg(dqw, 2, constants, added, op), q.input(1),
          q.input(2)));
      if (in.contains("") || !dqx.hasInput(2)) {
        continue;
      }
      if (conv && op.hasInput(2)) {
        String bias = bias(op, producer.get(op.input(2)), dqx, dqw, constants, added);
        if (bias == null) {
          continue;
        }
        in.add(bias);
      }
      replaced.put(op, new Op(conv ? "QLinearConv" : "QLinearMatMul", op.name(), in,
          List.of(q.output(0)), conv ? op.attributes() : Map.of()));
      dropped.add(q);
    }
    if (replaced.isEmpty()) {
      return graph;
    }
    Graph.Editor edit = graph.edit().pruneDead();
    replaced.forEach((n, op) -> edit.replace(n, op.opType(), op.name(), op.inputs(),
        op.outputs(), op.attributes()));
    dropped.forEach(edit::remove);
    added.forEach(edit::initializer);
    return edit.build();
  }

  private static boolean isDq(Node n) {
    return n.opType().equals("DequantizeLinear");
  }

  private static boolean constantArgs(Node n, Map<String, Tensor> constants, int from) {
    for (int i = from; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && !constants.containsKey(n.input(i))) {
        return false;
      }
    }
    return true;
  }

  /** Input {@code i} of a DequantizeLinear, or a zero of its input's type when it is absent. */
  private static String arg(Node dq, int i, Map<String, Tensor> constants,
      Map<String, Tensor> added, Node op) {
    if (dq.hasInput(i)) {
      return dq.input(i);
    }
    String name = op.name() + "/w_zero_point";
    Tensor w = constants.get(dq.input(0));
    added.put(name, w.dtype() == DType.UINT8 ? Tensor.ofUint8(new byte[1])
        : Tensor.ofInt8(new byte[1]));
    return name;
  }

  /**
   * The int32 bias of the fused convolution: the int32 input of the bias's DequantizeLinear (a
   * quantizer writes it at {@code x_scale * w_scale}, zero point 0), or a float constant bias
   * quantized at that scale; null if neither.
   */
  private static String bias(Node op, Node dqb, Node dqx, Node dqw,
      Map<String, Tensor> constants, Map<String, Tensor> added) {
    if (dqb != null && isDq(dqb) && constants.get(dqb.input(0)) != null
        && constants.get(dqb.input(0)).dtype() == DType.INT32 && constantArgs(dqb, constants, 1)
        && (!dqb.hasInput(2) || isZero(constants.get(dqb.input(2))))) {
      return dqb.input(0);
    }
    Tensor b = constants.get(op.input(2));
    if (b == null || b.dtype() != DType.FLOAT32) {
      return null;
    }
    float xs = constants.get(dqx.input(1)).getFloat32(0);
    Tensor ws = constants.get(dqw.input(1));
    int[] q = new int[Math.toIntExact(b.numel())];
    for (int c = 0; c < q.length; c++) {
      double scale = (double) xs * ws.getFloat32(ws.numel() == 1 ? 0 : c);
      q[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
          Math.rint(b.getFloat32(c) / scale)));
    }
    String name = op.name() + "/bias_int32";
    added.put(name, Tensor.ofInt32(q, q.length));
    return name;
  }

  private static boolean isZero(Tensor t) {
    for (int i = 0; i < t.numel(); i++) {
      if (t.getInt32(i) != 0) {
        return false;
      }
    }
    return true;
  }
}
