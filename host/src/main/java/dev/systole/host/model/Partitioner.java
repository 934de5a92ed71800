package dev.systole.host.model;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compiler.ConvLayer;
import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.GemmLayer;
import dev.systole.host.compiler.GraphCompiler;
import dev.systole.host.compiler.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.quant.QuantParams;
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
 * Splits a model between the device and the host CPU and turns the device's share into
 * {@link DeviceGraph}s of integer layers.
 *
 * <p><b>What runs on the device</b> is said by the {@link DeviceOps} registry, one
 * {@link DeviceOp} per op: whether it runs a node, why not, and the layer it becomes. This class
 * knows no op by name; it holds the mechanics. A BatchNormalization right after a Conv or Gemm is
 * folded into its weights, and a Relu right after one (or after an Add) into its
 * requantization.
 *
 * <p><b>Capacity</b> is decided first, in a pre-pass: each node a device op would take is
 * compiled alone for one sample against the device's parameters, and one whose layer the
 * buffers cannot hold (a pooling window larger than the activation buffer, say) goes to the CPU
 * with the compiler's reason.
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
  /**
   * A value produced in the open segment: by which op, in which layout, and, for a uint8 or int8
   * value, its zero point on the device.
   */
  private record Produced(Op op, Boundary.Layout layout, boolean integer, int zeroPoint) {}

  private final Graph graph;
  private final Map<String, long[]> shapes;
  private final Function<String, QuantParams> calibration;
  private final DeviceOps ops;
  private final Map<String, List<Node>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Map<String, Tensor> constants = new HashMap<>();
  private final Map<Node, Plan.Placement> placements = new LinkedHashMap<>();
  private final List<Plan.Step> steps = new ArrayList<>();
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

  private final List<Op> open = new ArrayList<>();
  private final Map<String, Produced> produced = new HashMap<>();
  private int openRows = -1;

  private Partitioner(Graph graph, Map<String, long[]> shapes,
      Function<String, QuantParams> calibration, DeviceParams params, boolean patchesAllowed) {
    this.graph = graph;
    this.params = params;
    this.patchesAllowed = patchesAllowed;
    this.shapes = shapes;
    this.calibration = calibration;
    this.ops = DeviceOps.standard();
    this.epilogues = Epilogues.of(graph, ops);
    constants.putAll(graph.initializers());
    for (Node n : graph.nodes()) {
      for (String in : n.reads()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    graph.outputs().forEach(o -> graphOutputs.add(o.name()));
  }

  /**
   * The plan for {@code graph} with every value's concrete shape in {@code shapes}, for a device
   * with {@code params}; {@code calibration} gives the quantization of a float value, or null if it has none
   * (the layers that need it then run on the CPU). With {@code hostPatches} false, no
   * convolution reads patches gathered on the host.
   */
  static Plan partition(Graph graph, Map<String, long[]> shapes,
      Function<String, QuantParams> calibration, DeviceParams params, boolean hostPatches) {
    Partitioner p = new Partitioner(graph, shapes, calibration, params, hostPatches);
    p.forcedCpu.putAll(p.capacity());
    p.run();
    return new Plan(graph, p.steps, p.placements, shapes);
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
      if (op != null && fuse(op)) {
        fused.addAll(op.nodes.subList(1, op.nodes.size()));
      }
      String why = v.refusal();
      if (op != null) {
        why = joins(op);
        if (why == null) {
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
        fused.removeAll(op.nodes);
      }
      for (String in : n.reads()) {
        if (produced.containsKey(in)) {
          close();
          break;
        }
      }
      steps.add(new Plan.CpuStep(n));
      placements.put(n, new Plan.Placement(Plan.Where.CPU, -1, null, why, false));
    }
    close();
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
  private boolean fuse(Op op) {
    Epilogues.Epilogue e = epilogues.get(op.anchor);
    if (e == null) {
      return false;
    }
    op.nodes.addAll(e.nodes());
    op.output = e.output();
    op.batchNorm = e.batchNorm();
    op.bias = e.bias();
    op.relu = e.relu();
    return true;
  }

  /**
   * Whether {@code op} can run on the device (null) or why not, closing the open segment first
   * if it cannot join it: when its rows differ, or when it reads a value of the segment in a
   * layout or with a zero point it cannot take (the value then goes back to the host and comes
   * in again as the op wants it, exactly). A float op whose values have no quantization cannot.
   */
  private String joins(Op op) {
    if (op.kind == Op.Kind.VIEW) {
      return null;
    }
    boolean rowsLayout = op.kind == Op.Kind.GEMM
        || op.kind == Op.Kind.ADD && rank(op.inputs.get(0)) != 4;
    for (String in : op.inputs) {
      if (isFloat(in) && params(in) == null) {
        return "no calibrated range for its input '" + in + "'";
      }
    }
    if (!op.integer() && isFloat(op.output) && params(op.output) == null) {
      return "no calibrated range for its output '" + op.output + "'";
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
      boolean integerInput = op.integer() || op.kind == Op.Kind.MAX_POOL && isInteger8(in);
      fits &= integerInput == p.integer && (!op.integer() || p.zeroPoint == op.inputZeroPoint);
    }
    int rows = rows(op.inputs.get(0), rowsLayout);
    if (!fits || openRows >= 0 && rows != openRows) {
      close();
    }
    openRows = rows;
    return null;
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
  QuantParams params(String value) {
    QuantParams p = deviceParams.get(value);
    return p != null ? p : calibration.apply(value);
  }

  /** Builds the open segment's device graph and appends it as a step. */
  private void close() {
    if (open.isEmpty()) {
      return;
    }
    int index = (int) steps.stream().filter(s -> s instanceof Plan.Segment).count();
    SegmentBuild s = new SegmentBuild();
    open.forEach(op -> s.inSegment.addAll(op.nodes));
    Map<DeviceGraph.Node, Node> origin = new LinkedHashMap<>();
    for (Op op : open) {
      DeviceGraph.Node d = op.lowering.build(op, s);
      s.nodes.put(op.output, d);
      if (op.kind != Op.Kind.VIEW) {
        origin.put(d, op.anchor);
      }
      for (Node n : op.nodes) {
        placements.put(n, n == op.anchor && op.kind != Op.Kind.VIEW
            ? new Plan.Placement(Plan.Where.DEVICE, index, null, null, op.hostPatches)
            : new Plan.Placement(Plan.Where.FUSED, index,
                op.kind == Op.Kind.VIEW ? null : op.anchor, null, false));
      }
    }
    List<Plan.Export> exports = new ArrayList<>();
    Set<DeviceGraph.Node> marked = new HashSet<>();
    for (Op op : open) {
      if (!leavesSegment(op.output, s.inSegment)) {
        continue;
      }
      DeviceGraph.Node d = s.nodes.get(op.output);
      if (marked.add(d)) {
        s.b.output(d);
      }
      Boundary.Layout layout = produced.get(op.output).layout;
      DeviceGraph.Shape shape = d.shape();
      exports.add(new Plan.Export(op.output, d, s.encodings.get(op.output), layout,
          shapes.get(op.output), new int[] {shape.height(), shape.width(), shape.channels()}));
    }
    s.params.forEach((v, q) -> {
      if (q != null) {
        deviceParams.put(v, q);
      }
    });
    DeviceGraph g = s.b.build();
    steps.add(new Plan.Segment(index, g, openRows, s.imports, exports, origin));
    open.clear();
    produced.clear();
    openRows = -1;
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
   */
  private record Incoming(Encoding encoding, int zeroPoint, DeviceGraph.Shape shape,
      Boundary.Layout layout) {}

  /**
   * One device program being built from the open segment's ops: the device graph, the device
   * node of each model value, the quantization and encoding each value has on the device, and
   * the values it reads from the host. Device ops add their layers through it.
   */
  final class SegmentBuild {
    private final DeviceGraph.Builder b = DeviceGraph.builder();
    private final Map<String, DeviceGraph.Node> nodes = new HashMap<>();
    private final Map<String, QuantParams> params = new HashMap<>();
    private final Map<String, Encoding> encodings = new HashMap<>();
    private final List<Plan.Import> imports = new ArrayList<>();
    private final Set<Node> inSegment = new HashSet<>();

    DeviceGraph.Builder builder() {
      return b;
    }

    Partitioner partitioner() {
      return Partitioner.this;
    }

    /** The quantization {@code value} has in this program (null for an integer value). */
    QuantParams quant(String value) {
      return params.get(value);
    }

    /**
     * The quantization float input {@code value} has in this program: a layer's output's, or
     * for a value the program imports, the one it will cross with.
     */
    QuantParams inputQuant(String value) {
      return params.computeIfAbsent(value, Partitioner.this::params);
    }

    /** The encoding {@code value} has in this program. */
    Encoding encoding(String value) {
      return encodings.get(value);
    }

    /** Records the quantization and encoding of {@code value}, an output of a layer. */
    void record(String value, QuantParams q, Encoding e) {
      params.put(value, q);
      encodings.put(value, e);
    }

    /** Whether {@code op}'s output is read by another layer of this program. */
    boolean internal(Op op) {
      return consumers.getOrDefault(op.output, List.of()).stream().anyMatch(inSegment::contains);
    }

    /** The device node of {@code value} for {@code op}: the program's own, or an import. */
    DeviceGraph.Node input(Op op, String value) {
      DeviceGraph.Node d = nodes.get(value);
      if (d == null) {
        Incoming in = incoming(op, value);
        d = importValue(value, in, in.layout(), in.shape(), null);
        nodes.put(value, d);
      }
      return d;
    }

    private Incoming incoming(Op op, String value) {
      long[] s = shapes.get(value);
      boolean nhwc = op.kind != Op.Kind.GEMM && s.length == 4;
      DeviceGraph.Shape shape = nhwc ? imageShape(s)
          : DeviceGraph.Shape.features(Math.toIntExact(s[s.length - 1]));
      Encoding enc;
      int zp;
      if (op.integer() || graph.dtype(value) != DType.FLOAT32) {
        enc = new Encoding.Integer8(graph.dtype(value) == DType.UINT8);
        zp = op.integer() ? op.inputZeroPoint : 0;
      } else {
        QuantParams q = Partitioner.this.params(value);
        enc = new Encoding.Quantized(q);
        zp = q.zeroPoint();
        params.put(value, q);
      }
      return new Incoming(enc, zp, shape, nhwc ? Boundary.Layout.NHWC : Boundary.Layout.ROWS);
    }

    private DeviceGraph.Node importValue(String value, Incoming in, Boundary.Layout layout,
        DeviceGraph.Shape shape, Window window) {
      DeviceGraph.Node d = b.input("in" + imports.size() + ":" + value, shape, in.zeroPoint());
      imports.add(new Plan.Import(value, d, in.encoding(), layout, shapes.get(value), window));
      return d;
    }

    /**
     * The device node of convolution {@code op} as {@code conv}. A convolution of a value from
     * the host (a network's first layer, typically, with 1 or 3 input channels) would use 1 or
     * 3 of the D lanes of each of its K chunks, one per kernel position; when its patches
     * (every kernel position of a pixel's window, channels included) fill fewer chunks, and the
     * timing model gives the convolution fewer cycles over them, the host gathers them as it
     * quantizes the image ({@link Boundary.Layout#PATCHES}) and the device runs it as a 1x1
     * convolution with its weights reordered to match ({@link ConvLayer#patches}): the same
     * bytes, in a fraction of the cycles.
     */
    DeviceGraph.Node conv(Op op, ConvLayer conv) {
      String value = op.inputs.get(0);
      if (patchesAllowed && !produced.containsKey(value)) {
        Incoming in = incoming(op, value);
        Window w = conv.window();
        DeviceGraph.Shape image = in.shape();
        ConvLayer patches = conv.patches();
        DeviceGraph.Shape gathered = new DeviceGraph.Shape(w.outHeight(image.height(), false),
            w.outWidth(image.width(), false), patches.inChannels());
        int d = Partitioner.this.params.lanes();
        int windowChunks = w.kernelH() * w.kernelW() * ((conv.inChannels() + d - 1) / d);
        int patchChunks = (patches.inChannels() + d - 1) / d;
        if (patchChunks < windowChunks && cycles(gathered, in.zeroPoint(), patches)
            < cycles(image, in.zeroPoint(), conv)) {
          op.hostPatches = true;
          return b.conv(op.anchor.name(), importValue(value, in, Boundary.Layout.PATCHES,
              gathered, w), patches);
        }
      }
      return b.conv(op.anchor.name(), input(op, value), conv);
    }
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

  /** The device shape (height, width, channels) of an NCHW shape. */
  static DeviceGraph.Shape imageShape(long[] nchw) {
    return new DeviceGraph.Shape((int) nchw[2], (int) nchw[3], (int) nchw[1]);
  }

  /** A convolution alone, zero weights, over an NCHW input, for the capacity pre-pass. */
  static DeviceGraph convAlone(long[] input, int ins, int outs, Window window) {
    if (input == null || input.length != 4) {
      return null;
    }
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
    return produced.containsKey(value);
  }

  /** Whether the open program produces {@code value} as a feature map (NHWC). */
  boolean producedAsFeatureMap(String value) {
    Produced p = produced.get(value);
    return p != null && p.layout == Boundary.Layout.NHWC;
  }

  /** Whether the open program produces {@code value} as a flattened feature map. */
  boolean producedAsFlattenedMap(String value) {
    Produced p = produced.get(value);
    return p != null && p.layout == Boundary.Layout.FLATTENED_NHWC;
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

  float[] floats(String value) {
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
