package dev.systole.host.partition;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.Window;
import dev.systole.host.quantize.FiniteValues;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Splits a model between the device and the CPU engine and turns the device's share into
 * {@link DeviceGraph}s of integer layers.
 *
 * <p><b>What runs on the device</b> is said by the {@link DeviceOps} registry, one
 * {@link DeviceOp} per op: whether it runs a node, why not, and the layer it becomes. What folds
 * into a layer after it (a BatchNormalization, a bias Add, a Relu or Clip) is found by the
 * {@link Epilogues} pass. This class knows no op by name: it runs the capacity pre-pass, asks
 * each node's device op, and hands the nodes in order to the {@link Segmenter}, which groups
 * them into device programs and CPU steps. It also answers what device ops ask of the model
 * (shapes, constants, types, windows), and keeps the quantization each value had on the device,
 * so a value coming back in keeps its codes.
 *
 * <p><b>Capacity</b> is decided first, in a pre-pass: each node a device op would take is
 * compiled alone for one sample against the device's parameters, and one whose layer the
 * buffers cannot hold (a pooling window larger than the activation buffer, say) goes to the CPU
 * with the compiler's reason.
 *
 * <p><b>Quantization</b> of float layers is {@link FloatLayers}'; integer ops keep their own
 * scales and zero points and run with exactly their integer semantics ({@link IntegerLayer}).
 */
public final class Partitioner {
  private final Graph graph;
  private final Map<String, long[]> shapes;
  private final Function<String, QuantParams> calibration;
  private final DeviceOps ops;
  private final Map<String, List<Node>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Map<String, Tensor> constants = new HashMap<>();
  /** The quantization each device value had when it was last on the device. */
  private final Map<String, QuantParams> deviceParams = new HashMap<>();
  /** Nodes the capacity pre-pass sends to the CPU, with the reason. */
  private final Map<Node, String> forcedCpu = new HashMap<>();
  private final DeviceParams params;
  /** Whether a convolution of a host value may read it as patches gathered on the host. */
  private final boolean patchesAllowed;
  /** What folds into each layer after it. */
  private final Map<Node, Epilogues.Epilogue> epilogues;
  /** Integer layers made so far, by node: each is checked when lowered and built once. */
  private final Map<Node, IntegerLayer> integerLayers = new HashMap<>();
  private final Segmenter segmenter;
  /**
   * Values read, directly or through views, as an operand of a product of two activations: the
   * array has no zero-point correction, so they are quantized symmetrically (zero point 0).
   */
  private final Set<String> symmetric = new HashSet<>();

  private Partitioner(Graph graph, Map<String, long[]> shapes,
      Function<String, QuantParams> calibration, DeviceParams params, boolean patchesAllowed) {
    this.graph = graph;
    this.params = params;
    this.patchesAllowed = patchesAllowed;
    this.shapes = shapes;
    this.calibration = calibration;
    this.ops = DeviceOps.standard();
    this.epilogues = Epilogues.of(graph, ops);
    this.segmenter = new Segmenter(this);
    constants.putAll(graph.initializers());
    for (Node n : graph.nodes()) {
      for (String in : n.reads()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    graph.outputs().forEach(o -> graphOutputs.add(o.name()));
    for (Node n : graph.nodes()) {
      if (ProductOp.isProduct(n, graph)) {
        for (int i = 0; i < 2; i++) {
          String v = n.input(i);
          symmetric.add(v);
          Optional<Node> from = graph.producer(v);
          while (from.isPresent() && ProductOp.VIEWS.contains(from.get().opType())
              && from.get().domain().isEmpty()) {
            v = from.get().input(0);
            symmetric.add(v);
            from = graph.producer(v);
          }
        }
      }
    }
  }

  /**
   * The plan for {@code graph} with every value's concrete shape in {@code shapes}, for a device
   * with {@code params} ({@code measured} names the shapes a float run measured rather than
   * inferred); {@code calibration} gives the quantization of a float value, or null if it has none
   * (the layers that need it then run on the CPU). With {@code hostPatches} false, no
   * convolution reads patches gathered on the host.
   */
  public static Plan partition(Graph graph, Map<String, long[]> shapes, Set<String> measured,
      Function<String, QuantParams> calibration, DeviceParams params, boolean hostPatches) {
    ShapeFolding.Folded folded = ShapeFolding.fold(graph, shapes, measured);
    Graph run = SplitSlices.apply(folded.graph(), shapes);
    Set<String> constant = new java.util.HashSet<>();
    graph.nodes().forEach(n -> constant.add(n.name()));
    run.nodes().forEach(n -> constant.remove(n.name()));
    Partitioner p = new Partitioner(run, shapes, calibration, params, hostPatches);
    p.forcedCpu.putAll(p.capacity());
    p.run();
    return new Plan(run, p.segmenter.steps(), p.segmenter.placements(), constant, shapes,
        folded.measured());
  }

  /**
   * Whether {@code model} has float layers the device could run once they are quantized (as
   * the device ops of {@link DeviceOps} say, after the QDQ patterns are fused): such a model
   * needs a calibration.
   */
  public static boolean needsCalibration(Graph model) {
    return DeviceOps.standard().needsCalibration(QdqFusion.rewrite(model));
  }

  /**
   * The capacity pre-pass: each node a device op would take whose layer alone, over one sample,
   * the device cannot run, with the compiler's reason.
   */
  private Map<Node, String> capacity() {
    Map<Node, String> tooLarge = new LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      Optional<DeviceOp> op = ops.of(n);
      if (op.isEmpty()) {
        continue;
      }
      DeviceGraph alone;
      try {
        alone = op.get().alone(n, this);
      } catch (IllegalArgumentException | ModelException e) {
        continue;
      }
      if (alone == null) {
        continue;
      }
      try {
        GraphCompiler.estimate(alone, 1, params);
      } catch (IllegalArgumentException e) {
        tooLarge.put(n, "the device cannot run it: " + e.getMessage());
      }
    }
    return tooLarge;
  }

  private void run() {
    Set<Node> fused = new HashSet<>();
    for (Node n : graph.nodes()) {
      if (fused.contains(n)) {
        continue;
      }
      DeviceOp.Verdict v = lower(n);
      Op op = v.op();
      if (op != null) {
        fuse(op);
        fused.addAll(op.nodes.subList(1, op.nodes.size()));
      }
      String why = v.refusal();
      if (op != null) {
        why = segmenter.admit(op);
        if (why == null) {
          continue;
        }
        fused.removeAll(op.nodes);
      }
      segmenter.cpu(n, why);
    }
    segmenter.finish();
  }

  /**
   * The layer {@code n} could be, or why not: the capacity pre-pass's reason, none for a node
   * the device has no op for, else its device op's verdict.
   */
  DeviceOp.Verdict lower(Node n) {
    if (forcedCpu.containsKey(n)) {
      return DeviceOp.Verdict.refuse(forcedCpu.get(n));
    }
    Optional<DeviceOp> op = ops.of(n);
    if (op.isEmpty()) {
      return DeviceOp.Verdict.refuse(null);
    }
    try {
      return op.get().lower(n, this);
    } catch (IllegalArgumentException e) {
      return DeviceOp.Verdict.refuse(e.getMessage());
    }
  }

  /** The device op the registry has for {@code n}. */
  Optional<DeviceOp> deviceOp(Node n) {
    return ops.of(n);
  }

  /** Folds the epilogue found after {@code op}'s anchor into it, if it has one. */
  private void fuse(Op op) {
    Epilogues.Epilogue e = epilogues.get(op.anchor);
    if (e == null) {
      return;
    }
    op.nodes.addAll(e.nodes());
    op.output = e.output();
    op.batchNorm = e.batchNorm();
    op.bias = e.bias();
    op.relu = e.relu();
  }

  /** The quantization of a float value: as it was on the device, else from calibration. */
  QuantParams params(String value) {
    QuantParams p = deviceParams.get(value);
    if (p != null) {
      return p;
    }
    QuantParams q = calibration.apply(value);
    return q != null && symmetric.contains(value) ? symmetric(q) : q;
  }

  /**
   * The symmetric quantization (zero point 0) that covers every value {@code q} covers: {@code q}
   * itself if it is symmetric already.
   */
  static QuantParams symmetric(QuantParams q) {
    if (q.zeroPoint() == 0) {
      return q;
    }
    double m = Math.max(Math.abs((double) q.min()), Math.abs((double) q.max()));
    return m > 0 ? new QuantParams((float) (m / 127), 0) : new QuantParams(1f, 0);
  }

  /** Records the quantization a value had on the device, for the programs after it. */
  void remember(String value, QuantParams q) {
    deviceParams.put(value, q);
  }

  Graph graph() {
    return graph;
  }

  DeviceParams deviceParams() {
    return params;
  }

  boolean patchesAllowed() {
    return patchesAllowed;
  }

  /** The value of 8-bit output {@code op.output}'s zero point on the device. */
  int outputZeroPoint(Op op) {
    return IntegerLayer.outputZeroPoint(op.anchor, constants, graph);
  }

  /** The device shape (height, width, channels) of an NCHW shape. */
  static DeviceGraph.Shape imageShape(long[] nchw) {
    return new DeviceGraph.Shape((int) nchw[2], (int) nchw[3], (int) nchw[1]);
  }

  /**
   * Convolution {@code n} with weights {@code weights} alone, zero weights, over its input, for
   * the capacity pre-pass; null if it is no 2-D, group 1 convolution the device's window takes.
   */
  DeviceGraph convAlone(Node n, String weights) {
    long[] w = constantShape(weights);
    Window window = w == null || w.length != 4 ? null : window(n, w);
    long[] input = shape(n.input(0));
    if (window == null || input == null || input.length != 4) {
      return null;
    }
    int ins = (int) (w[1] * n.intAttr("group"));
    int outs = (int) w[0];
    DeviceGraph.Builder b = DeviceGraph.builder();
    ConvLayer conv = new ConvLayer(ins, outs, window,
        new byte[outs * ins * window.kernelH() * window.kernelW()], new int[outs], null);
    b.output(b.conv("conv", b.input("in", imageShape(input), 0), conv));
    return b.build();
  }

  /** A matrix product alone, zero weights, for the capacity pre-pass. */
  static DeviceGraph gemmAlone(int ins, int outs) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    b.output(b.gemm("gemm", b.input("in", DeviceGraph.Shape.features(ins), 0),
        new GemmLayer(ins, outs, new byte[ins * outs], new int[outs], null)));
    return b.build();
  }

  // ------------------------------------------------------------ what device ops ask about

  /** The integer layer of an integer op {@code n}, made once; throws if it cannot be one. */
  IntegerLayer integerLayer(Node n) {
    IntegerLayer l = integerLayers.get(n);
    if (l == null) {
      l = IntegerLayer.of(n, constants, graph);
      integerLayers.put(n, l);
    }
    return l;
  }

  /**
   * The device zero point of input {@code x} of an integer op, whose zero point is input 2 of
   * all four ops (throws if it is not one value).
   */
  int deviceZeroPoint(Node n, String x) {
    int zp = n.hasInput(2) ? IntegerLayer.scalar(constants.get(n.input(2))) : 0;
    return zp - (graph.dtype(x) == DType.UINT8 ? 128 : 0);
  }

  /** Whether the open program produces {@code value}. */
  boolean producedOnDevice(String value) {
    return segmenter.produces(value, null);
  }

  /**
   * How the open program holds {@code value} as rows of features (its view of the buffer), or
   * null if it does not hold it so.
   */
  Strided view(String value) {
    return segmenter.view(value);
  }

  /** Whether the device can gather a value held in {@code view} back into ONNX's order. */
  boolean gathers(Strided view) {
    return segmenter.gathers(view);
  }

  /** The rows the open program runs (null if none is open). */
  Integer programRows() {
    return segmenter.openRows();
  }

  /** Whether the open program produces {@code value} as a feature map (NHWC). */
  boolean producedAsFeatureMap(String value) {
    return segmenter.produces(value, Boundary.Layout.NHWC);
  }

  /** Whether the open program produces {@code value} as a channels-last view of a map. */
  boolean producedChannelsLast(String value) {
    return segmenter.produces(value, Boundary.Layout.MAP_LAST);
  }

  /** Whether the open program produces {@code value} as a flattened feature map. */
  boolean producedAsFlattenedMap(String value) {
    return segmenter.produces(value, Boundary.Layout.FLATTENED_NHWC);
  }

  /** The nodes that read {@code value}. */
  List<Node> consumers(String value) {
    return consumers.getOrDefault(value, List.of());
  }

  boolean isGraphOutput(String value) {
    return graphOutputs.contains(value);
  }

  /** The encoding of an 8-bit value as the device holds it. */
  Encoding integerEncoding(String value) {
    return new Encoding.Integer8(graph.dtype(value) == DType.UINT8);
  }

  /** {@code value}'s concrete shape for this plan, or null. */
  long[] shape(String value) {
    return shapes.get(value);
  }

  /** The constant {@code value} (an initializer, or folded), or null. */
  Tensor constant(String value) {
    return constants.get(value);
  }

  /** The shape of constant {@code value}, or null if it is not one. */
  long[] constantShape(String value) {
    Tensor t = constants.get(value);
    return t == null ? null : t.shape();
  }

  /** {@code float32}, or words for a type Systole does not compute with. */
  String typeLabel(String value) {
    DType t = graph.dtype(value);
    return t != null ? t.label() : graph.type(value) != null ? graph.type(value).label()
        : "of an unknown type";
  }

  /**
   * The device window of a Conv, QLinearConv, ConvInteger or MaxPool node for its input's
   * shape, or null if the device cannot run it (pads over 127, or sizes the device computes
   * differently); {@code weightShape} is null for pooling.
   */
  Window window(Node n, long[] weightShape) {
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

  boolean isConstant(String value) {
    return constants.containsKey(value);
  }

  /** Whether every input of {@code n} from {@code from} on is absent or constant. */
  boolean constantInputs(Node n, int from) {
    for (int i = from; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && !isConstant(n.input(i))) {
        return false;
      }
    }
    return true;
  }

  boolean isFloat(String value) {
    return graph.dtype(value) == DType.FLOAT32;
  }

  boolean isInteger8(String value) {
    DType t = graph.dtype(value);
    return t == DType.INT8 || t == DType.UINT8;
  }

  int rank(String value) {
    long[] s = shapes.get(value);
    return s == null ? -1 : s.length;
  }

  /**
   * Ops whose constants may be infinite on purpose: a Clip, Max or Min bound of infinity (no
   * bound), a Where's mask of minus infinity.
   */
  private static final Set<String> INFINITE_BOUNDS = Set.of("Clip", "Max", "Min", "Where");

  /**
   * Refuses {@code op}, about to join a device program, if a float constant one of its nodes
   * reads holds a NaN or an infinity: every constant a device layer folds into its weights,
   * scales, tables or requantization is read by a node of its op, so this is where one is
   * refused ({@link FiniteValues}), naming it, its index and its node. The float model would
   * compute NaN from it, which the int8 program cannot.
   */
  void requireFiniteConstants(Op op) {
    if (op.lowering instanceof MaskedSoftmaxOp) {
      return;
    }
    for (Node n : op.nodes) {
      if (INFINITE_BOUNDS.contains(n.opType())) {
        continue;
      }
      for (String in : n.inputs()) {
        Tensor t = in.isEmpty() ? null : constants.get(in);
        if (t != null && t.dtype() == DType.FLOAT32) {
          FiniteValues.require("constant '" + in + "' of node '" + n.name() + "'", t);
        }
      }
    }
  }

  /** The values of float constant input {@code i} of {@code n}. */
  float[] floats(Node n, int i) {
    String value = n.input(i);
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
