package dev.systole.host.partition;

import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.CopyLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Groups a model's nodes, in the model's order, into the steps of a run: device layers into
 * device programs, the rest into CPU steps (which {@link Plan} joins into CPU segments).
 *
 * <p>Device layers accumulate in an open program; a CPU node that reads a value the open program
 * produces closes it, because the program must run (and hand the value back) before that node
 * can. A CPU node that does not read from the program runs before it, which is safe as the
 * program has not read anything it writes. So a CNN whose CPU work is only at its ends (or whose
 * only CPU nodes are folded) is one device program from input to logits. A program also closes
 * when a layer's row count differs from the program's (a program runs one batch size), or when
 * a layer reads a value of the program in a layout or with a zero point it cannot take. Closing
 * builds the program's device graph, each layer through its device op.
 */
final class Segmenter {
  /**
   * A value produced in the open program: by which op, in which layout, and, for a uint8 or
   * int8 value, its zero point on the device.
   */
  private record Produced(Op op, Boundary.Layout layout, boolean integer, int zeroPoint,
      Strided view) {}

  private final Partitioner p;
  private final Map<Node, Plan.Placement> placements = new LinkedHashMap<>();
  private final List<Plan.Step> steps = new ArrayList<>();
  private final List<Op> open = new ArrayList<>();
  private final Map<String, Produced> produced = new HashMap<>();
  private int openRows = -1;

  Segmenter(Partitioner p) {
    this.p = p;
  }

  List<Plan.Step> steps() {
    return steps;
  }

  Map<Node, Plan.Placement> placements() {
    return placements;
  }

  /**
   * Whether the open program produces {@code value}, in {@code layout} if it is not null.
   */
  boolean produces(String value, Boundary.Layout layout) {
    Produced pr = produced.get(value);
    return pr != null && (layout == null || pr.layout == layout);
  }

  /** The rows of the open program, or null if none is open. */
  Integer openRows() {
    return openRows < 0 ? null : openRows;
  }

  /**
   * How the open program holds rows-of-features value {@code value}: its view of the buffer,
   * or null if the program does not produce it as rows.
   */
  Strided view(String value) {
    Produced pr = produced.get(value);
    if (pr == null || pr.layout != Boundary.Layout.ROWS) {
      return null;
    }
    return pr.view != null ? pr.view : Strided.dense(p.shape(value));
  }

  /**
   * Takes {@code op} into the open program (null), or says why the device cannot run it; the
   * program may close first if {@code op} cannot join it.
   */
  String admit(Op op) {
    String why = joins(op);
    if (why != null) {
      return why;
    }
    open.add(op);
    Boundary.Layout layout = op.outputLayout != null ? op.outputLayout : switch (op.kind) {
      case CONV, MAX_POOL -> Boundary.Layout.NHWC;
      case GEMM -> Boundary.Layout.ROWS;
      case ADD, MEAN, MAP -> p.rank(op.output) == 4 ? Boundary.Layout.NHWC
          : Boundary.Layout.ROWS;
      case ELEMENTWISE -> elementwiseLayout(op);
      case VIEW -> Boundary.Layout.FLATTENED_NHWC;
    };
    boolean integer = p.isInteger8(op.output);
    int zp = 0;
    if (op.integer()) {
      zp = p.outputZeroPoint(op);
    } else if (integer && produced.containsKey(op.inputs.get(0))) {
      zp = produced.get(op.inputs.get(0)).zeroPoint;
    }
    Strided view = null;
    if (layout == Boundary.Layout.ROWS) {
      Produced in = produced.get(op.inputs.get(0));
      if (op.view != null) {
        view = op.view;
      } else if (op.kind == Op.Kind.ELEMENTWISE && in != null && in.view != null) {
        view = in.view;
      }
    }
    produced.put(op.output, new Produced(op, layout, integer, zp, view));
    return null;
  }

  /** Places {@code n} on the CPU ({@code why} the device does not run it, or null). */
  void cpu(Node n, String why) {
    for (String in : n.reads()) {
      if (produced.containsKey(in)) {
        close();
        break;
      }
    }
    steps.add(new Plan.CpuStep(n));
    placements.put(n, new Plan.Placement(Plan.Where.CPU, -1, null, why, false));
  }

  /** Closes the last program. */
  void finish() {
    close();
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
    boolean rowsLayout = op.inputLayout == null && (op.kind == Op.Kind.GEMM
        || (op.kind == Op.Kind.ADD || op.kind == Op.Kind.MAP) && p.rank(op.inputs.get(0)) != 4)
        || op.kind == Op.Kind.ELEMENTWISE && elementwiseLayout(op) == Boundary.Layout.ROWS;
    for (String in : op.inputs) {
      if (p.isFloat(in) && p.params(in) == null) {
        return "no calibrated range for its input '" + in + "'";
      }
    }
    if (!op.integer() && p.isFloat(op.output) && p.params(op.output) == null) {
      return "no calibrated range for its output '" + op.output + "'";
    }
    boolean fits = true;
    for (String in : op.inputs) {
      Produced pr = produced.get(in);
      if (pr == null) {
        continue;
      }
      fits &= op.inputLayout != null ? pr.layout == op.inputLayout : switch (op.kind) {
        case GEMM -> pr.layout != Boundary.Layout.NHWC;
        case ADD, MAP -> pr.layout == (rowsLayout ? Boundary.Layout.ROWS
            : Boundary.Layout.NHWC);
        case ELEMENTWISE -> true;
        default -> pr.layout == Boundary.Layout.NHWC;
      };
      boolean integerInput = op.integer() || op.kind == Op.Kind.MAX_POOL && p.isInteger8(in);
      fits &= integerInput == pr.integer && (!op.integer() || pr.zeroPoint == op.inputZeroPoint);
      fits &= pr.view == null || pr.view.inOrder() || readsViews(op) || gathers(pr.view);
    }
    Produced first = produced.get(op.inputs.get(0));
    int rows = fits && first != null && first.view != null && readsViews(op)
        ? openRows : rows(op.inputs.get(0), rowsLayout);
    if (!fits || openRows >= 0 && rows != openRows) {
      close();
    }
    openRows = rows;
    return null;
  }

  /**
   * Whether {@code op}'s layer reads its inputs through any view of their buffers: a function
   * by table (each element mapped where it is), or an op that says so.
   */
  private static boolean readsViews(Op op) {
    return op.chain != null || op.lowering.readsViews();
  }

  /** Whether the device can gather a value held in {@code view} back into ONNX's order. */
  boolean gathers(Strided view) {
    int last = view.rank() - 1;
    return (view.stride(last) == 1 || view.size(last) == 1)
        && CopyLayer.fits(view.size(last), p.deviceParams().lanes());
  }

  /**
   * The layout a function of each element keeps: its input's, as the program produces it, or
   * for an input from the host, a feature map's for a rank-4 value and rows' otherwise.
   */
  private Boundary.Layout elementwiseLayout(Op op) {
    Produced pr = produced.get(op.inputs.get(0));
    if (pr != null) {
      return pr.layout;
    }
    return p.rank(op.inputs.get(0)) == 4 ? Boundary.Layout.NHWC : Boundary.Layout.ROWS;
  }

  /**
   * Rows of the device program for input {@code value}: the batch of a feature map, or the rows
   * of a value read as rows of features.
   */
  private int rows(String value, boolean rowsLayout) {
    long[] s = p.shape(value);
    if (!rowsLayout) {
      return (int) s[0];
    }
    long r = 1;
    for (int i = 0; i < s.length - 1; i++) {
      r *= s[i];
    }
    return Math.toIntExact(r);
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
      p.requireFiniteConstants(op);
      DeviceGraph.Node d = op.lowering.build(op, s);
      s.nodes.put(op.output, d);
      if (op.kind != Op.Kind.VIEW) {
        origin.put(d, op.anchor);
      }
      s.helpers.forEach(h -> origin.put(h, op.anchor));
      s.helpers.clear();
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
      Produced pr = produced.get(op.output);
      DeviceGraph.Shape shape = d.shape();
      exports.add(new Plan.Export(op.output, d, s.encodings.get(op.output), pr.layout,
          p.shape(op.output), new int[] {shape.height(), shape.width(), shape.channels()},
          pr.view == null || pr.view.inOrder() ? null : pr.view.order()));
    }
    s.params.forEach((v, q) -> {
      if (q != null) {
        p.remember(v, q);
      }
    });
    DeviceGraph g = s.b.build();
    steps.add(new Plan.Segment(index, g, openRows, s.imports, exports, origin));
    open.clear();
    produced.clear();
    openRows = -1;
  }

  private boolean leavesSegment(String value, Set<Node> inSegment) {
    if (p.isGraphOutput(value)) {
      return true;
    }
    List<Node> users = p.consumers(value);
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
    /** Values held out of order, gathered into ONNX's order for layers that need it so. */
    private final Map<String, DeviceGraph.Node> copies = new HashMap<>();
    /** Layers added for the op being built besides its own (gathers, requantizing tables). */
    private final List<DeviceGraph.Node> helpers = new ArrayList<>();

    /** Adds {@code n}, a layer made for the op being built besides its own, and returns it. */
    DeviceGraph.Node helper(DeviceGraph.Node n) {
      helpers.add(n);
      return n;
    }

    DeviceGraph.Builder builder() {
      return b;
    }

    Partitioner partitioner() {
      return p;
    }

    /** How this program holds rows-of-features value {@code value} ({@link Segmenter#view}). */
    Strided view(String value) {
      return Segmenter.this.view(value);
    }

    /** The rows this program runs. */
    int rows() {
      return openRows;
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
      return params.computeIfAbsent(value, p::params);
    }

    /** The encoding {@code value} has in this program. */
    Encoding encoding(String value) {
      return encodings.get(value);
    }

    /**
     * Records that {@code to}, a layer's output, holds the codes of input {@code from} as they
     * are (a maximum, a resize): the same quantization, or the same 8-bit encoding.
     */
    void keepQuant(String from, String to) {
      QuantParams q = quant(from);
      record(to, q, q == null ? p.integerEncoding(from) : new Encoding.Quantized(q));
    }

    /** Records the quantization and encoding of {@code value}, an output of a layer. */
    void record(String value, QuantParams q, Encoding e) {
      params.put(value, q);
      encodings.put(value, e);
    }

    /** Whether {@code op}'s output is read by another layer of this program. */
    boolean internal(Op op) {
      return p.consumers(op.output).stream().anyMatch(inSegment::contains);
    }

    /** The device node of {@code value} for {@code op}: the program's own, or an import. */
    DeviceGraph.Node input(Op op, String value) {
      DeviceGraph.Node d = nodes.get(value);
      if (d == null) {
        Incoming in = incoming(op, value);
        d = importValue(value, in, in.layout(), in.shape(), null);
        nodes.put(value, d);
      }
      Produced pr = produced.get(value);
      if (pr != null && pr.view != null && !pr.view.inOrder()
          && (!readsViews(op) || op.copyInput)) {
        DeviceGraph.Node base = d;
        d = copies.computeIfAbsent(value, v -> helper(b.copy(op.anchor.name() + ":in-order:"
            + v, base, new CopyLayer(pr.view.shape(), pr.view.strides()), openRows)));
      }
      return d;
    }

    private Incoming incoming(Op op, String value) {
      long[] s = p.shape(value);
      boolean last = op.inputLayout == Boundary.Layout.MAP_LAST;
      boolean nhwc = !last && op.kind != Op.Kind.GEMM && s.length == 4;
      DeviceGraph.Shape shape = last ? new DeviceGraph.Shape((int) s[1], (int) s[2], (int) s[3])
          : nhwc ? Partitioner.imageShape(s)
          : DeviceGraph.Shape.features(Math.toIntExact(s[s.length - 1]));
      Encoding enc;
      int zp;
      if (op.integer() || p.graph().dtype(value) != DType.FLOAT32) {
        enc = new Encoding.Integer8(p.graph().dtype(value) == DType.UINT8);
        zp = op.integer() ? op.inputZeroPoint : 0;
      } else {
        QuantParams q = p.params(value);
        enc = new Encoding.Quantized(q);
        zp = q.zeroPoint();
        params.put(value, q);
      }
      return new Incoming(enc, zp, shape, last ? Boundary.Layout.MAP_LAST
          : nhwc ? Boundary.Layout.NHWC : Boundary.Layout.ROWS);
    }

    private DeviceGraph.Node importValue(String value, Incoming in, Boundary.Layout layout,
        DeviceGraph.Shape shape, Window window) {
      DeviceGraph.Node d = b.input("in" + imports.size() + ":" + value, shape, in.zeroPoint());
      imports.add(new Plan.Import(value, d, in.encoding(), layout, p.shape(value), window));
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
      if (p.patchesAllowed() && !produced.containsKey(value)) {
        Incoming in = incoming(op, value);
        Window w = conv.window();
        DeviceGraph.Shape image = in.shape();
        ConvLayer patches = conv.patches();
        DeviceGraph.Shape gathered = new DeviceGraph.Shape(w.outHeight(image.height(), false),
            w.outWidth(image.width(), false), patches.inChannels());
        int d = p.deviceParams().lanes();
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
      return GraphCompiler.estimate(one.build(), 1, p.deviceParams()).estimatedCycles();
    } catch (IllegalArgumentException e) {
      return Long.MAX_VALUE;
    }
  }
}
