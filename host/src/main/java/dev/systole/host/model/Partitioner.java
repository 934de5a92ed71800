package dev.systole.host.model;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compiler.AddLayer;
import dev.systole.host.compiler.ConvLayer;
import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.DeviceLayer;
import dev.systole.host.compiler.GemmLayer;
import dev.systole.host.compiler.GraphCompiler;
import dev.systole.host.compiler.MaxPoolLayer;
import dev.systole.host.compiler.Requant;
import dev.systole.host.compiler.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.quant.BatchNorm;
import dev.systole.host.quant.ChannelQuantizer;
import dev.systole.host.quant.FixedPoint;
import dev.systole.host.quant.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Splits a model between the device and the host CPU and turns the device's share into
 * {@link DeviceGraph}s of integer layers.
 *
 * <p><b>What runs on the device.</b> Conv (2-D, group 1, constant weights, any stride, padding,
 * auto_pad or dilation), Gemm with a constant B and a bias that is one value per column (alpha
 * and beta folded in, any transB; transA only on the CPU), MatMul with a constant 2-D right-hand
 * side, MaxPool (2-D), Add of two values of the same shape, and the integer forms QLinearConv,
 * QLinearMatMul, ConvInteger and MatMulInteger with constant weights and scales whose weights fit
 * int8 after their zero point is taken off. A BatchNormalization right after a Conv or Gemm is
 * folded into its weights, a Relu right after one (or after an Add) into its requantization, and a
 * Flatten of a device feature map that only feeds device GEMMs is just a change of view (the
 * GEMM's weights are reordered for the NHWC feature order). Depthwise and grouped convolutions run
 * on the CPU: on the array they would be block-diagonal weight tiles, mostly zeros.
 *
 * <p><b>Segments.</b> Nodes are visited in the model's order. Device layers accumulate in an
 * open segment; a CPU node that reads a value the open segment produces closes it, because the
 * segment must run (and hand the value back) before that node can. A CPU node that does not read
 * from the segment runs before it, which is safe as the segment has not read anything it writes.
 * So a CNN whose CPU work is only at its ends (or whose only CPU nodes are folded) is one device
 * program from input to logits. A segment also closes when a layer's row count differs from the
 * segment's (the program runs one batch size).
 *
 * <p><b>Quantization.</b> Float layers are quantized here, from the activation ranges of the
 * calibration: weights per output channel, symmetric; the bias at the accumulator's scale; one
 * requantization per channel to the output's scale. A float Conv or Gemm whose output leaves the
 * device program and has no fused ReLU keeps its int32 accumulators, scaled back to float on the
 * host, so the logits of a classifier lose nothing to an output scale. Integer ops keep their own
 * scales and zero points and run with exactly their integer semantics.
 *
 * <p><b>Patches from the host.</b> A convolution that reads a value from the host (a network's
 * first layer, typically, with 1 or 3 input channels) would use 1 or 3 of the D lanes of each
 * of its K chunks, one per kernel position. When its patches (every kernel position of a pixel's
 * window, channels included) fill fewer chunks, and the timing model gives the convolution fewer
 * cycles over them, the host gathers them as it quantizes the image ({@link
 * Boundary.Layout#PATCHES}) and the device runs the convolution as a 1x1 one with its weights
 * reordered to match ({@link ConvLayer#patches}): the same bytes, in a fraction of the cycles.
 */
final class Partitioner {
  private enum Kind {
    CONV, GEMM, MAX_POOL, ADD, VIEW
  }

  /** A device layer in the making: the model nodes it covers and what it reads and writes. */
  private static final class Op {
    final Kind kind;
    final Node anchor;
    final List<Node> nodes = new ArrayList<>();
    final List<String> inputs;
    String output;
    BatchNorm batchNorm;
    boolean relu;
    /** For integer ops: the input's zero point on the device; else ignored. */
    int inputZeroPoint;
    /** For a CONV: whether its input crosses from the host as patches. */
    boolean hostPatches;

    Op(Kind kind, Node anchor, List<String> inputs) {
      this.kind = kind;
      this.anchor = anchor;
      this.inputs = inputs;
      this.nodes.add(anchor);
      this.output = anchor.output(0);
    }

    boolean integer() {
      return anchor.opType().startsWith("QLinear") || anchor.opType().endsWith("Integer");
    }
  }

  /**
   * A value produced in the open segment: by which op, in which layout, and, for a uint8 or int8
   * value, its zero point on the device.
   */
  private record Produced(Op op, Boundary.Layout layout, boolean integer, int zeroPoint) {}

  private final Graph graph;
  private final Map<String, long[]> shapes;
  private final Function<String, QuantParams> calibration;
  private final Map<String, List<Node>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Map<String, Tensor> constants = new HashMap<>();
  private final Map<Node, Plan.Placement> placements = new LinkedHashMap<>();
  private final List<Plan.Step> steps = new ArrayList<>();
  /** The quantization each device value had when it was last on the device. */
  private final Map<String, QuantParams> deviceParams = new HashMap<>();

  /** Nodes a first attempt found the device cannot run, with the reason; they go to the CPU. */
  private final Map<Node, String> forcedCpu;
  private final DeviceParams params;
  /** Whether a convolution of a host value may read it as patches gathered on the host. */
  private final boolean patchesAllowed;

  private final List<Op> open = new ArrayList<>();
  private final Map<String, Produced> produced = new HashMap<>();
  private int openRows = -1;

  private Partitioner(Graph graph, Map<String, long[]> shapes, Map<String, Tensor> folded,
      Function<String, QuantParams> calibration, DeviceParams params, Map<Node, String> forced,
      boolean patchesAllowed) {
    this.graph = graph;
    this.params = params;
    this.patchesAllowed = patchesAllowed;
    this.forcedCpu = forced;
    this.shapes = shapes;
    this.calibration = calibration;
    constants.putAll(graph.initializers());
    constants.putAll(folded);
    for (Node n : graph.nodes()) {
      for (String in : n.reads()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    graph.outputs().forEach(o -> graphOutputs.add(o.name()));
  }

  /** A device layer the device's buffers cannot hold; its node goes to the CPU. */
  private static final class TooLarge extends RuntimeException {
    final Node node;

    TooLarge(Node node, String message) {
      super(message, null, false, false);
      this.node = node;
    }
  }

  /**
   * The plan for {@code graph} with every value's concrete shape in {@code shapes}, for a device
   * with {@code params}; {@code calibration} gives the quantization of a float value, or null if
   * it has none (the layers that need it then run on the CPU). A layer the device's buffers
   * cannot hold (a pooling window larger than ABUF, say) is found when its program is compiled
   * for a batch of one, and the partition is made again with that node on the CPU. With
   * {@code hostPatches} false, no convolution reads patches gathered on the host.
   */
  static Plan partition(Graph graph, Map<String, long[]> shapes, Map<String, Tensor> folded,
      Function<String, QuantParams> calibration, DeviceParams params, boolean hostPatches) {
    Map<Node, String> forced = new HashMap<>();
    while (true) {
      Partitioner p = new Partitioner(graph, shapes, folded, calibration, params, forced,
          hostPatches);
      try {
        p.run();
        return new Plan(graph, p.steps, p.placements, shapes, folded);
      } catch (TooLarge e) {
        forced.put(e.node, "the device cannot run it: " + e.getMessage());
      }
    }
  }

  private void run() {
    Set<Node> fused = new HashSet<>();
    List<Node> all = graph.nodes();
    for (int index = 0; index < all.size(); index++) {
      Node n = all.get(index);
      if (fused.contains(n)) {
        continue;
      }
      Op op = lower(n);
      if (op != null && fuse(op)) {
        fused.addAll(op.nodes.subList(1, op.nodes.size()));
      }
      String why = refusal;
      if (op != null && joins(op)) {
        open.add(op);
        Boundary.Layout layout = switch (op.kind) {
          case CONV, MAX_POOL -> Boundary.Layout.NHWC;
          case GEMM -> Boundary.Layout.ROWS;
          case ADD -> rank(op.output) == 4 ? Boundary.Layout.NHWC : Boundary.Layout.ROWS;
          case VIEW -> Boundary.Layout.FLATTENED_NHWC;
        };
        boolean integer = isInteger8(op.output);
        int zp = 0;
        if (op.integer()) {
          zp = IntegerLayer.outputZeroPoint(op.anchor, constants, graph);
        } else if (integer && produced.containsKey(op.inputs.get(0))) {
          zp = produced.get(op.inputs.get(0)).zeroPoint;
        }
        produced.put(op.output, new Produced(op, layout, integer, zp));
        continue;
      }
      if (op != null) {
        fused.removeAll(op.nodes);
      }
      for (String in : n.reads()) {
        if (produced.containsKey(in)) {
          close();
          break;
        }
      }
      steps.add(new Plan.CpuStep(n));
      placements.put(n, new Plan.Placement(Plan.Where.CPU, -1, null,
          op != null ? refusal : why, false));
    }
    close();
  }

  /**
   * Why the device does not run a node it could run in other forms; set by {@link #refuse}
   * when {@link #lower} returns null.
   */
  private String refusal;

  private Op refuse(String why) {
    refusal = why;
    return null;
  }

  /** The device layer {@code n} could be, or null (with {@link #refusal}) for the CPU. */
  private Op lower(Node n) {
    refusal = null;
    if (forcedCpu.containsKey(n)) {
      return refuse(forcedCpu.get(n));
    }
    if (!n.known()) {
      return null;
    }
    try {
      return switch (n.opType()) {
        case "Conv" -> floatConv(n);
        case "Gemm", "MatMul" -> floatGemm(n);
        case "MaxPool" -> maxPool(n);
        case "Add" -> add(n);
        case "Flatten", "Reshape" -> view(n);
        case "QLinearConv", "ConvInteger" -> integerConv(n);
        case "QLinearMatMul", "MatMulInteger" -> integerGemm(n);
        default -> null;
      };
    } catch (IllegalArgumentException e) {
      return refuse(e.getMessage());
    }
  }

  private Op floatConv(Node n) {
    if (!isFloat(n.input(0))) {
      return refuse("input is " + graph.dtype(n.input(0)).label());
    }
    if (rank(n.input(0)) != 4) {
      return refuse("a " + (rank(n.input(0)) - 2) + "-D convolution (the device runs 2-D)");
    }
    if (!isConstant(n.input(1)) || n.hasInput(2) && !isConstant(n.input(2))) {
      return refuse("weights or bias are not constants");
    }
    if (n.intAttr("group") != 1) {
      return refuse("grouped or depthwise (group " + n.intAttr("group") + "): on the array"
          + " its weight tiles would be mostly zeros");
    }
    if (window(n, constants.get(n.input(1)).shape()) == null) {
      return refuse("pads over " + Window.MAX_PAD);
    }
    return new Op(Kind.CONV, n, List.of(n.input(0)));
  }

  private Op floatGemm(Node n) {
    if (!isFloat(n.input(0))) {
      return refuse("input is " + graph.dtype(n.input(0)).label());
    }
    if (!isConstant(n.input(1)) || rank(n.input(1)) != 2) {
      return refuse("B is not a constant 2-D matrix");
    }
    if (rank(n.input(0)) < 2) {
      return refuse("A is a vector");
    }
    if (n.opType().equals("Gemm")) {
      if (n.intAttr("transA") != 0) {
        return refuse("transA");
      }
      if (n.hasInput(2) && (!isConstant(n.input(2)) || columnBias(n) == null)) {
        return refuse("C is not a constant with one value per column");
      }
    }
    return new Op(Kind.GEMM, n, List.of(n.input(0)));
  }

  private Op maxPool(Node n) {
    if (n.hasOutput(1)) {
      return refuse("the Indices output");
    }
    if (rank(n.input(0)) != 4) {
      return refuse("a " + (rank(n.input(0)) - 2) + "-D pooling (the device runs 2-D)");
    }
    if (!(isFloat(n.input(0)) || isInteger8(n.input(0)))) {
      return refuse("input is " + graph.dtype(n.input(0)).label());
    }
    if (window(n, null) == null) {
      return refuse("pads over " + Window.MAX_PAD);
    }
    return new Op(Kind.MAX_POOL, n, List.of(n.input(0)));
  }

  private Op add(Node n) {
    String a = n.input(0);
    String b = n.input(1);
    if (!isFloat(a) || !isFloat(b)) {
      return refuse("an integer Add (it wraps; VADD saturates)");
    }
    if (isConstant(a) || isConstant(b)) {
      return refuse("a constant operand");
    }
    if (!java.util.Arrays.equals(shapes.get(a), shapes.get(b)) || rank(a) < 2) {
      return refuse("operands of different shapes (broadcasting)");
    }
    if (!produced.containsKey(a) && !produced.containsKey(b)) {
      return refuse("neither operand comes from a device layer");
    }
    return new Op(Kind.ADD, n, List.of(a, b));
  }

  /** A Flatten to {@code [N, C*H*W]} of a feature map of the open segment, feeding only GEMMs. */
  private Op view(Node n) {
    String in = n.input(0);
    Produced p = produced.get(in);
    long[] s = shapes.get(in);
    long[] o = shapes.get(n.output(0));
    if (p == null || p.layout != Boundary.Layout.NHWC || o == null || o.length != 2
        || o[0] != s[0] || o[1] != s[1] * s[2] * s[3] || graphOutputs.contains(n.output(0))) {
      return null;
    }
    List<Node> users = consumers.getOrDefault(n.output(0), List.of());
    for (Node u : users) {
      if (!(u.opType().equals("Gemm") || u.opType().equals("MatMul")) || floatGemm(u) == null
          || !u.input(0).equals(n.output(0)) || forcedCpu.containsKey(u)) {
        return refuse(null);
      }
    }
    return users.isEmpty() ? null : new Op(Kind.VIEW, n, List.of(in));
  }

  private Op integerConv(Node n) {
    boolean qlinear = n.opType().equals("QLinearConv");
    String x = n.input(0);
    String w = n.input(qlinear ? 3 : 1);
    if (rank(x) != 4) {
      return refuse("a " + (rank(x) - 2) + "-D convolution (the device runs 2-D)");
    }
    if (!isConstant(w) || !constantInputs(n, 1)) {
      return refuse("weights, scales or zero points are not constants");
    }
    if (n.intAttr("group") != 1) {
      return refuse("grouped or depthwise (group " + n.intAttr("group") + ")");
    }
    if (window(n, constants.get(w).shape()) == null) {
      return refuse("pads over " + Window.MAX_PAD);
    }
    Op op = new Op(Kind.CONV, n, List.of(x));
    op.inputZeroPoint = deviceZeroPoint(n, x);
    IntegerLayer.of(n, constants, graph);
    return op;
  }

  private Op integerGemm(Node n) {
    boolean qlinear = n.opType().equals("QLinearMatMul");
    String a = n.input(0);
    String b = n.input(qlinear ? 3 : 1);
    if (!isConstant(b) || rank(b) != 2 || !constantInputs(n, 1)) {
      return refuse("B, scales or zero points are not constants, or B is not 2-D");
    }
    if (rank(a) < 2) {
      return refuse("A is a vector");
    }
    Op op = new Op(Kind.GEMM, n, List.of(a));
    op.inputZeroPoint = deviceZeroPoint(n, a);
    IntegerLayer.of(n, constants, graph);
    return op;
  }

  /**
   * The device zero point of input {@code x} of an integer op, whose zero point is input 2 of
   * all four ops (throws if it is not one value).
   */
  private int deviceZeroPoint(Node n, String x) {
    int zp = n.hasInput(2) ? IntegerLayer.scalar(constants.get(n.input(2))) : 0;
    return zp - (graph.dtype(x) == DType.UINT8 ? 128 : 0);
  }

  /** Folds a following BatchNormalization and Relu into a Conv, Gemm or Add. */
  private boolean fuse(Op op) {
    if (op.integer() || op.kind == Kind.MAX_POOL || op.kind == Kind.VIEW) {
      return false;
    }
    boolean any = false;
    Node next = soleConsumer(op.output);
    if (next != null && op.kind != Kind.ADD && next.opType().equals("BatchNormalization")
        && next.input(0).equals(op.output) && !next.hasOutput(1) && constantInputs(next, 1)) {
      op.batchNorm = new BatchNorm(floats(next.input(1)), floats(next.input(2)),
          floats(next.input(3)), floats(next.input(4)), next.floatAttr("epsilon"));
      if (op.batchNorm.channels() != outputChannels(op)) {
        op.batchNorm = null;
      } else {
        op.nodes.add(next);
        op.output = next.output(0);
        any = true;
        next = soleConsumer(op.output);
      }
    }
    if (next != null && next.opType().equals("Relu")) {
      op.relu = true;
      op.nodes.add(next);
      op.output = next.output(0);
      any = true;
    }
    return any;
  }

  private int outputChannels(Op op) {
    long[] s = shapes.get(op.anchor.output(0));
    return (int) (op.kind == Kind.CONV ? s[1] : s[s.length - 1]);
  }

  /** The one node reading {@code value}, if it is not also a graph output; else null. */
  private Node soleConsumer(String value) {
    List<Node> c = consumers.getOrDefault(value, List.of());
    return c.size() == 1 && !graphOutputs.contains(value) ? c.get(0) : null;
  }

  /**
   * Whether {@code op} can run on the device, closing the open segment first if it cannot join
   * it: when its rows differ, or when it reads a value of the segment in a layout or with a zero
   * point it cannot take (the value then goes back to the host and comes in again as the op
   * wants it, exactly). Returns false, with {@link #refusal}, if a float op's values have no
   * quantization.
   */
  private boolean joins(Op op) {
    refusal = null;
    if (op.kind == Kind.VIEW) {
      return true;
    }
    boolean rowsLayout = op.kind == Kind.GEMM
        || op.kind == Kind.ADD && rank(op.inputs.get(0)) != 4;
    for (String in : op.inputs) {
      if (isFloat(in) && params(in) == null) {
        refusal = "no calibrated range for its input '" + in + "'";
        return false;
      }
    }
    if (!op.integer() && isFloat(op.output) && params(op.output) == null) {
      refusal = "no calibrated range for its output '" + op.output + "'";
      return false;
    }
    boolean fits = true;
    for (String in : op.inputs) {
      Produced p = produced.get(in);
      if (p == null) {
        continue;
      }
      fits &= switch (op.kind) {
        case GEMM -> p.layout != Boundary.Layout.NHWC;
        case ADD -> p.layout == (rowsLayout ? Boundary.Layout.ROWS : Boundary.Layout.NHWC);
        default -> p.layout == Boundary.Layout.NHWC;
      };
      boolean integerInput = op.integer() || op.kind == Kind.MAX_POOL && isInteger8(in);
      fits &= integerInput == p.integer && (!op.integer() || p.zeroPoint == op.inputZeroPoint);
    }
    int rows = rows(op.inputs.get(0), rowsLayout);
    if (!fits || openRows >= 0 && rows != openRows) {
      close();
    }
    openRows = rows;
    return true;
  }

  /**
   * Rows of the device program for input {@code value}: the batch of a feature map, or the rows
   * of a value read as rows of features.
   */
  private int rows(String value, boolean rowsLayout) {
    long[] s = shapes.get(value);
    if (!rowsLayout) {
      return (int) s[0];
    }
    long r = 1;
    for (int i = 0; i < s.length - 1; i++) {
      r *= s[i];
    }
    return Math.toIntExact(r);
  }

  /** The quantization of a float value: as it was on the device, else from calibration. */
  private QuantParams params(String value) {
    QuantParams p = deviceParams.get(value);
    return p != null ? p : calibration.apply(value);
  }

  /** Builds the open segment's device graph and appends it as a step. */
  private void close() {
    if (open.isEmpty()) {
      return;
    }
    int index = (int) steps.stream().filter(s -> s instanceof Plan.Segment).count();
    Set<Node> inSegment = new HashSet<>();
    open.forEach(op -> inSegment.addAll(op.nodes));
    DeviceGraph.Builder b = DeviceGraph.builder();
    Map<String, DeviceGraph.Node> nodes = new HashMap<>();
    Map<String, QuantParams> params = new HashMap<>();
    Map<String, Encoding> encodings = new HashMap<>();
    List<Plan.Import> imports = new ArrayList<>();
    Map<DeviceGraph.Node, Node> origin = new LinkedHashMap<>();
    for (Op op : open) {
      boolean internal = consumers.getOrDefault(op.output, List.of()).stream()
          .anyMatch(inSegment::contains);
      DeviceGraph.Node d;
      if (op.kind == Kind.CONV && !produced.containsKey(op.inputs.get(0))) {
        d = convOfHostValue(b, op, nodes, imports, params, encodings, internal);
      } else {
        List<DeviceGraph.Node> ins = new ArrayList<>();
        for (String in : op.inputs) {
          ins.add(imported(b, op, in, nodes, imports, params));
        }
        d = build(b, op, ins, params, encodings, internal);
      }
      nodes.put(op.output, d);
      if (op.kind != Kind.VIEW) {
        origin.put(d, op.anchor);
      }
      for (Node n : op.nodes) {
        placements.put(n, n == op.anchor && op.kind != Kind.VIEW
            ? new Plan.Placement(Plan.Where.DEVICE, index, null, null, op.hostPatches)
            : new Plan.Placement(Plan.Where.FUSED, index, op.kind == Kind.VIEW ? null : op.anchor,
                null, false));
      }
    }
    List<Plan.Export> exports = new ArrayList<>();
    Set<DeviceGraph.Node> marked = new HashSet<>();
    for (Op op : open) {
      if (!leavesSegment(op.output, inSegment)) {
        continue;
      }
      DeviceGraph.Node d = nodes.get(op.output);
      if (marked.add(d)) {
        b.output(d);
      }
      Boundary.Layout layout = produced.get(op.output).layout;
      DeviceGraph.Shape s = d.shape();
      exports.add(new Plan.Export(op.output, d, encodings.get(op.output), layout,
          shapes.get(op.output), new int[] {s.height(), s.width(), s.channels()}));
    }
    params.forEach((v, q) -> {
      if (q != null) {
        deviceParams.put(v, q);
      }
    });
    DeviceGraph g = b.build();
    checkCapacity(g, origin);
    steps.add(new Plan.Segment(index, g, openRows, imports, exports, origin));
    open.clear();
    produced.clear();
    openRows = -1;
  }

  /**
   * Compiles {@code g} for a batch of one against the device's parameters, as the session will;
   * if the device cannot run it, finds the first layer it cannot run on its own and throws
   * {@link TooLarge} for that layer's node.
   */
  private void checkCapacity(DeviceGraph g, Map<DeviceGraph.Node, Node> origin) {
    try {
      GraphCompiler.estimate(g, 1, params);
      return;
    } catch (IllegalArgumentException whole) {
      for (DeviceGraph.Node layer : g.layers()) {
        DeviceGraph.Builder one = DeviceGraph.builder();
        List<DeviceGraph.Node> ins = new ArrayList<>();
        for (DeviceGraph.Node in : layer.inputs()) {
          ins.add(one.input("in" + ins.size(), in.shape(), in.zeroPoint()));
        }
        DeviceGraph.Node copy = switch (layer.kind()) {
          case CONV -> one.conv(layer.name(), ins.get(0), (ConvLayer) layer.layer());
          case GEMM -> one.gemm(layer.name(), ins.get(0), (GemmLayer) layer.layer());
          case MAX_POOL -> one.maxPool(layer.name(), ins.get(0), (MaxPoolLayer) layer.layer());
          case ADD -> one.add(layer.name(), ins.get(0), ins.get(1), (AddLayer) layer.layer());
          case INPUT -> throw new IllegalStateException("inputs are not layers");
        };
        one.output(copy);
        try {
          GraphCompiler.estimate(one.build(), 1, params);
        } catch (IllegalArgumentException e) {
          throw new TooLarge(origin.get(layer), e.getMessage());
        }
      }
      throw whole;
    }
  }

  private boolean leavesSegment(String value, Set<Node> inSegment) {
    if (graphOutputs.contains(value)) {
      return true;
    }
    List<Node> users = consumers.getOrDefault(value, List.of());
    return users.isEmpty() || users.stream().anyMatch(u -> !inSegment.contains(u));
  }

  /**
   * How a host value crosses into the program for {@code op}: its encoding, its zero point on
   * the device, and its shape there as {@code op} reads it (a feature map, or rows of features).
   * Records the value's quantization in {@code params}.
   */
  private record Incoming(Encoding encoding, int zeroPoint, DeviceGraph.Shape shape,
      Boundary.Layout layout) {}

  private Incoming incoming(Op op, String value, Map<String, QuantParams> params) {
    long[] s = shapes.get(value);
    boolean nhwc = op.kind != Kind.GEMM && s.length == 4;
    DeviceGraph.Shape shape = nhwc ? new DeviceGraph.Shape((int) s[2], (int) s[3], (int) s[1])
        : DeviceGraph.Shape.features(Math.toIntExact(s[s.length - 1]));
    Encoding enc;
    int zp;
    if (op.integer() || graph.dtype(value) != DType.FLOAT32) {
      enc = new Encoding.Integer8(graph.dtype(value) == DType.UINT8);
      zp = op.integer() ? op.inputZeroPoint : 0;
    } else {
      QuantParams q = params(value);
      enc = new Encoding.Quantized(q);
      zp = q.zeroPoint();
      params.put(value, q);
    }
    return new Incoming(enc, zp, shape, nhwc ? Boundary.Layout.NHWC : Boundary.Layout.ROWS);
  }

  /** The device node of {@code value} for {@code op}: the segment's own, or an import of it. */
  private DeviceGraph.Node imported(DeviceGraph.Builder b, Op op, String value,
      Map<String, DeviceGraph.Node> nodes, List<Plan.Import> imports,
      Map<String, QuantParams> params) {
    DeviceGraph.Node d = nodes.get(value);
    if (d == null) {
      Incoming in = incoming(op, value, params);
      d = importValue(b, value, in, in.layout(), in.shape(), null, imports);
      nodes.put(value, d);
    }
    return d;
  }

  private DeviceGraph.Node importValue(DeviceGraph.Builder b, String value, Incoming in,
      Boundary.Layout layout, DeviceGraph.Shape shape, Window window, List<Plan.Import> imports) {
    DeviceGraph.Node d = b.input("in" + imports.size() + ":" + value, shape, in.zeroPoint());
    imports.add(new Plan.Import(value, d, in.encoding(), layout, shapes.get(value), window));
    return d;
  }

  /**
   * A convolution of a value from the host, reading it as patches gathered on the host when
   * that packs the array's lanes better and the timing model agrees (see the class comment),
   * else as the image.
   */
  private DeviceGraph.Node convOfHostValue(DeviceGraph.Builder b, Op op,
      Map<String, DeviceGraph.Node> nodes, List<Plan.Import> imports,
      Map<String, QuantParams> params, Map<String, Encoding> encodings, boolean internal) {
    String value = op.inputs.get(0);
    Incoming in = incoming(op, value, params);
    ConvLayer conv = (ConvLayer) matrixLayer(op, null, params, encodings, internal);
    if (patchesAllowed) {
      Window w = conv.window();
      DeviceGraph.Shape image = in.shape();
      ConvLayer patches = conv.patches();
      DeviceGraph.Shape gathered = new DeviceGraph.Shape(w.outHeight(image.height(), false),
          w.outWidth(image.width(), false), patches.inChannels());
      int d = this.params.lanes();
      int windowChunks = w.kernelH() * w.kernelW() * ((conv.inChannels() + d - 1) / d);
      int patchChunks = (patches.inChannels() + d - 1) / d;
      if (patchChunks < windowChunks && cycles(gathered, in.zeroPoint(), patches)
          < cycles(image, in.zeroPoint(), conv)) {
        op.hostPatches = true;
        return b.conv(op.anchor.name(), importValue(b, value, in, Boundary.Layout.PATCHES,
            gathered, w, imports), patches);
      }
    }
    return b.conv(op.anchor.name(), imported(b, op, value, nodes, imports, params), conv);
  }

  /**
   * The timing model's cycles for {@code conv} alone over one image of {@code shape}, or
   * {@link Long#MAX_VALUE} if the device cannot run it. One image is enough to compare two
   * lowerings: both cost the same per image at any batch.
   */
  private long cycles(DeviceGraph.Shape shape, int zeroPoint, ConvLayer conv) {
    DeviceGraph.Builder one = DeviceGraph.builder();
    one.output(one.conv("conv", one.input("in", shape, zeroPoint), conv));
    try {
      return GraphCompiler.estimate(one.build(), 1, params).estimatedCycles();
    } catch (IllegalArgumentException e) {
      return Long.MAX_VALUE;
    }
  }

  /** The device node for {@code op}, recording its output's quantization and encoding. */
  private DeviceGraph.Node build(DeviceGraph.Builder b, Op op, List<DeviceGraph.Node> ins,
      Map<String, QuantParams> params, Map<String, Encoding> encodings, boolean internal) {
    String name = op.anchor.name();
    DeviceGraph.Node in = ins.get(0);
    switch (op.kind) {
      case MAX_POOL -> {
        QuantParams q = params.get(op.inputs.get(0));
        params.put(op.output, q);
        encodings.put(op.output, q == null ? encodingOf(op.inputs.get(0))
            : new Encoding.Quantized(q));
        Window w = window(op.anchor, null);
        boolean ceil = op.anchor.attribute("ceil_mode").map(a -> a.asInt() == 1).orElse(false)
            && op.anchor.stringAttr("auto_pad").equals("NOTSET");
        return b.maxPool(name, in, new MaxPoolLayer(w, ceil));
      }
      case ADD -> {
        QuantParams qa = params.get(op.inputs.get(0));
        QuantParams qb = params.get(op.inputs.get(1));
        QuantParams qy = params(op.output);
        params.put(op.output, qy);
        encodings.put(op.output, new Encoding.Quantized(qy));
        return b.add(name, in, ins.get(1), AddLayer.ofScales(qa.scale(), qb.scale(),
            qy.scale(), qy.zeroPoint(), op.relu));
      }
      case VIEW -> {
        params.put(op.output, params.get(op.inputs.get(0)));
        encodings.put(op.output, encodings.get(op.inputs.get(0)));
        return in;
      }
      case CONV -> {
        return b.conv(name, in, (ConvLayer) matrixLayer(op, in.shape(), params, encodings,
            internal));
      }
      default -> {
        return b.gemm(name, in, (GemmLayer) matrixLayer(op, in.shape(), params, encodings,
            internal));
      }
    }
  }

  /**
   * The {@link ConvLayer} or {@link GemmLayer} of a CONV or GEMM {@code op}, recording its
   * output's quantization and encoding; {@code in} is the shape of a GEMM's input.
   */
  private DeviceLayer matrixLayer(Op op, DeviceGraph.Shape in, Map<String, QuantParams> params,
      Map<String, Encoding> encodings, boolean internal) {
    if (!op.integer()) {
      return floatLayer(op, in, params, encodings, internal);
    }
    IntegerLayer layer = IntegerLayer.of(op.anchor, constants, graph);
    encodings.put(op.output, layer.encoding());
    if (op.kind == Kind.CONV) {
      return new ConvLayer(layer.inChannels(), layer.outChannels(),
          window(op.anchor, constants.get(layer.weightName()).shape()), layer.weights(),
          layer.bias(), layer.requant());
    }
    return new GemmLayer(layer.inChannels(), layer.outChannels(), layer.weights(),
        layer.bias(), layer.requant());
  }

  private Encoding encodingOf(String value) {
    return new Encoding.Integer8(graph.dtype(value) == DType.UINT8);
  }

  /** A float Conv or Gemm/MatMul, quantized; {@code in} is the shape of a GEMM's input. */
  private DeviceLayer floatLayer(Op op, DeviceGraph.Shape in, Map<String, QuantParams> params,
      Map<String, Encoding> encodings, boolean internal) {
    Node n = op.anchor;
    String input = op.inputs.get(0);
    float sx = params.get(input).scale();
    float[] w;
    float[] bias;
    int outs;
    int ins;
    if (op.kind == Kind.CONV) {
      Tensor wt = constants.get(n.input(1));
      outs = (int) wt.dim(0);
      ins = (int) wt.dim(1);
      w = floats(n.input(1));
      bias = n.hasInput(2) ? floats(n.input(2)) : null;
    } else {
      Tensor bt = constants.get(n.input(1));
      boolean transB = n.opType().equals("Gemm") && n.intAttr("transB") != 0;
      ins = (int) bt.dim(transB ? 1 : 0);
      outs = (int) bt.dim(transB ? 0 : 1);
      float[] raw = floats(n.input(1));
      float alpha = n.opType().equals("Gemm") ? n.floatAttr("alpha") : 1f;
      w = new float[raw.length];
      for (int o = 0; o < outs; o++) {
        for (int k = 0; k < ins; k++) {
          w[o * ins + k] = alpha * (transB ? raw[o * ins + k] : raw[k * outs + o]);
        }
      }
      bias = n.opType().equals("Gemm") && n.hasInput(2) ? columnBias(n) : null;
      Produced p = produced.get(input);
      if (p != null && p.layout == Boundary.Layout.FLATTENED_NHWC) {
        w = nchwToNhwcFeatures(w, outs, in.channels(), in.height(), in.width());
      }
    }
    if (op.batchNorm != null) {
      BatchNorm.Folded f = op.batchNorm.foldInto(w, bias);
      w = f.weights();
      bias = f.bias();
    }
    ChannelQuantizer.Weights q = ChannelQuantizer.perChannel(w, outs);
    int[] qb = ChannelQuantizer.bias(bias == null ? new float[outs] : bias, sx, q.scales());
    Requant requant = null;
    if (op.relu || internal) {
      QuantParams qy = params(op.output);
      FixedPoint[] f = ChannelQuantizer.requant(sx, q.scales(), qy.scale());
      int[] mult = new int[outs];
      int[] shift = new int[outs];
      for (int c = 0; c < outs; c++) {
        mult[c] = f[c].multiplier();
        shift[c] = f[c].shift();
      }
      requant = new Requant(mult, shift, qy.zeroPoint(), op.relu);
      params.put(op.output, qy);
      encodings.put(op.output, new Encoding.Quantized(qy));
    } else {
      float[] scales = new float[outs];
      for (int c = 0; c < outs; c++) {
        scales[c] = (float) ((double) sx * q.scales()[c]);
      }
      encodings.put(op.output, new Encoding.Accumulator(scales));
    }
    if (op.kind == Kind.CONV) {
      return new ConvLayer(ins, outs, window(n, constants.get(n.input(1)).shape()), q.values(),
          qb, requant);
    }
    byte[] kn = new byte[q.values().length];
    for (int o = 0; o < outs; o++) {
      for (int k = 0; k < ins; k++) {
        kn[k * outs + o] = q.values()[o * ins + k];
      }
    }
    return new GemmLayer(ins, outs, kn, qb, requant);
  }

  /**
   * Output-major weights over features in ONNX's Flatten order of an NCHW map ({@code (c*H + h)*W
   * + w}) reordered to the NHWC order the device flattens in ({@code (h*W + w)*C + c}).
   */
  private static float[] nchwToNhwcFeatures(float[] w, int outs, int c, int h, int wd) {
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
  private float[] columnBias(Node n) {
    Tensor c = constants.get(n.input(2));
    if (c == null || c.dtype() != DType.FLOAT32) {
      return null;
    }
    long[] bs = shapes.get(n.input(1));
    int outs = (int) (n.intAttr("transB") != 0 ? bs[0] : bs[1]);
    float[] v = floats(n.input(2));
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

  /**
   * The device window of a Conv, QLinearConv, ConvInteger or MaxPool node for its input's
   * shape, or null if the device cannot run it (pads over 127, or sizes the device computes
   * differently); {@code weightShape} is null for pooling.
   */
  private Window window(Node n, long[] weightShape) {
    long[] x = shapes.get(n.input(0));
    if (x == null || x.length != 4 || (weightShape != null && weightShape.length != 4)) {
      return null;
    }
    long[] kernel = weightShape != null ? new long[] {weightShape[2], weightShape[3]}
        : n.intsAttr("kernel_shape");
    dev.systole.host.graph.Window w;
    try {
      w = dev.systole.host.graph.Window.of(n, new long[] {x[2], x[3]}, kernel);
    } catch (ModelException e) {
      return null;
    }
    Window d;
    try {
      d = new Window((int) kernel[0], (int) kernel[1], (int) w.strides()[0],
          (int) w.strides()[1], (int) w.padBegin()[0], (int) w.padBegin()[1],
          (int) w.padEnd()[0], (int) w.padEnd()[1], (int) w.dilations()[0],
          (int) w.dilations()[1]);
    } catch (IllegalArgumentException e) {
      return null;
    }
    boolean ceil = n.opType().equals("MaxPool")
        && n.attribute("ceil_mode").map(a -> a.asInt() == 1).orElse(false)
        && n.stringAttr("auto_pad").equals("NOTSET");
    if (d.outHeight((int) x[2], ceil) != w.output()[0]
        || d.outWidth((int) x[3], ceil) != w.output()[1]) {
      return null;
    }
    return d;
  }

  private boolean isConstant(String value) {
    return constants.containsKey(value);
  }

  /** Whether every input of {@code n} from {@code from} on is absent or constant. */
  private boolean constantInputs(Node n, int from) {
    for (int i = from; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && !isConstant(n.input(i))) {
        return false;
      }
    }
    return true;
  }

  private boolean isFloat(String value) {
    return graph.dtype(value) == DType.FLOAT32;
  }

  private boolean isInteger8(String value) {
    DType t = graph.dtype(value);
    return t == DType.INT8 || t == DType.UINT8;
  }

  private int rank(String value) {
    long[] s = shapes.get(value);
    return s == null ? -1 : s.length;
  }

  private float[] floats(String value) {
    Tensor t = constants.get(value);
    if (t.dtype() != DType.FLOAT32) {
      throw new IllegalArgumentException("'" + value + "' is " + t.dtype().label()
          + " (expected float32)");
    }
    float[] f = new float[Math.toIntExact(t.numel())];
    t.data().asFloatBuffer().get(f);
    return f;
  }
}
