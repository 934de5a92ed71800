package dev.systole.host.compile;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An integer network that runs on the device as one program per batch: graph inputs, layers
 * ({@link ConvLayer}, {@link GemmLayer}, {@link MaxPoolLayer}, {@link AddLayer},
 * {@link DepthwiseLayer}, {@link MeanLayer}, {@link TableLayer}, {@link MulLayer},
 * {@link ConcatLayer}, {@link SliceLayer}, {@link ScaleLayer}, {@link NormLayer},
 * {@link SoftmaxLayer}, {@link ProductLayer}, {@link CopyLayer}, {@link ResizeLayer},
 * {@link SpreadLayer}, {@link ChannelReduceLayer}) with one or more predecessors, and any nodes marked as outputs. Activations stay in card memory from input to
 * output; only the graph's inputs and outputs cross PCIe.
 *
 * <p><b>Tensors.</b> Every tensor is int8 NHWC, per batch item an {@link Shape} of height, width
 * and channels, with the zero point of its quantization (scales live in the layers' fixed-point
 * multipliers). A GEMM's output is {@code 1 x 1 x N}; a GEMM over an {@code H x W x C} tensor
 * flattens it in NHWC order. A layer without requantization outputs int32 and can only be a
 * graph output. Each tensor's zero point comes from what produced it (an input's declaration, a
 * layer's requantization or add, a max pool's input), so consumers cannot disagree about it.
 *
 * <p>Nodes are added in an order where every predecessor exists, which is the order they run in.
 * The builder checks shapes, channel counts, windows and dtypes as nodes are added, naming the
 * node and what was expected; {@link Builder#build} checks that every layer's result is used.
 */
public final class DeviceGraph {
  /** One batch item of a tensor: NHWC without the N. */
  public record Shape(int height, int width, int channels) {
    public Shape {
      if (height < 1 || width < 1 || channels < 1) {
        throw new IllegalArgumentException("shape " + height + "x" + width + "x" + channels
            + " (expected every dimension >= 1)");
      }
    }

    /** A vector of {@code features} values, as a GEMM sees it. */
    public static Shape features(int features) {
      return new Shape(1, 1, features);
    }

    public long size() {
      return (long) height * width * channels;
    }

    @Override
    public String toString() {
      return height + "x" + width + "x" + channels;
    }
  }

  /** What a node does. */
  public enum Kind {
    INPUT, CONV, GEMM, MAX_POOL, ADD, DEPTHWISE, MEAN, TABLE, MUL, CONCAT, SLICE, SCALE, NORM,
    SOFTMAX, PRODUCT, COPY, RESIZE, SPREAD, CHANNEL_REDUCE
  }

  /** A graph input or a layer, with the tensor it produces. */
  public static final class Node {
    private final DeviceGraph.Builder owner;
    private final int index;
    private final String name;
    private final Kind kind;
    private final DeviceLayer layer;
    private final List<Node> inputs;
    private final Shape shape;
    private final int zeroPoint;
    private final boolean int8;

    private Node(Builder owner, int index, String name, Kind kind, DeviceLayer layer,
        List<Node> inputs, Shape shape, int zeroPoint, boolean int8) {
      this.owner = owner;
      this.index = index;
      this.name = name;
      this.kind = kind;
      this.layer = layer;
      this.inputs = List.copyOf(inputs);
      this.shape = shape;
      this.zeroPoint = zeroPoint;
      this.int8 = int8;
    }

    /** Position in the graph's node list (inputs included). */
    public int index() {
      return index;
    }

    public String name() {
      return name;
    }

    public Kind kind() {
      return kind;
    }

    /** The layer, or null for a graph input. */
    public DeviceLayer layer() {
      return layer;
    }

    public List<Node> inputs() {
      return inputs;
    }

    /** The output tensor's shape per batch item. */
    public Shape shape() {
      return shape;
    }

    /** The output tensor's zero point (0 for int32). */
    public int zeroPoint() {
      return zeroPoint;
    }

    /** Whether the output is int8 (else int32). */
    public boolean int8Output() {
      return int8;
    }

    /** Whether the output is a feature vector ({@code [N, F]}) rather than NHWC: GEMM outputs. */
    public boolean flat() {
      return kind == Kind.GEMM || kind == Kind.PRODUCT
          || (kind == Kind.TABLE || kind == Kind.SCALE || kind == Kind.NORM
          || kind == Kind.SOFTMAX || kind == Kind.COPY) && inputs.get(0).flat();
    }

    /** Bytes of the output for a batch. */
    public long outputBytes(int batch) {
      return batch * shape.size() * (int8 ? 1 : 4);
    }

    /**
     * The matrix layer the array runs for a CONV or GEMM node on {@code d} lanes, with the input
     * zero point folded into its bias.
     */
    GemmLayer matmul(int d) {
      Node in = inputs.get(0);
      if (layer instanceof ConvLayer c) {
        return c.lowered(in.shape.height(), in.shape.width(), in.zeroPoint, d);
      }
      return ((GemmLayer) layer).withInputZeroPoint(in.zeroPoint);
    }

    /** Whether a CONV node runs as a plain GEMM (1x1, or a kernel covering its input). */
    boolean convAsMatrix() {
      Shape in = inputs.get(0).shape;
      return ((ConvLayer) layer).runsAsMatrix(in.height(), in.width());
    }

    @Override
    public String toString() {
      return name + " (" + (layer == null ? "input" : layer.describe()) + ", " + shape + ")";
    }
  }

  private final List<Node> nodes;
  private final List<Node> inputs;
  private final List<Node> outputs;
  private final Map<String, Node> byName;

  private DeviceGraph(List<Node> nodes, List<Node> outputs) {
    this.nodes = List.copyOf(nodes);
    this.inputs = nodes.stream().filter(n -> n.kind == Kind.INPUT).toList();
    this.outputs = List.copyOf(outputs);
    Map<String, Node> m = new HashMap<>();
    nodes.forEach(n -> m.put(n.name, n));
    this.byName = Collections.unmodifiableMap(m);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Every node, inputs included, in the order they run. */
  public List<Node> nodes() {
    return nodes;
  }

  public List<Node> inputs() {
    return inputs;
  }

  public List<Node> outputs() {
    return outputs;
  }

  /**
   * The only batch the graph runs at, or 0 if it runs at any: a graph with a product of two
   * activations or a gather couples its rows (the tokens of a sequence), so it runs at the rows
   * it was made for, in one run.
   */
  public int fixedRows() {
    for (Node n : nodes) {
      if (n.layer instanceof ProductLayer p) {
        return p.rows();
      }
      if (n.layer instanceof CopyLayer c) {
        return Math.toIntExact(c.numel() / n.shape.size());
      }
    }
    return 0;
  }

  /** The layers (every node but the inputs), in the order they run. */
  public List<Node> layers() {
    return nodes.stream().filter(n -> n.kind != Kind.INPUT).toList();
  }

  /**
   * The node called {@code name}.
   *
   * @throws IllegalArgumentException naming the nodes there are if there is none
   */
  public Node node(String name) {
    Node n = byName.get(name);
    if (n == null) {
      throw new IllegalArgumentException("no node '" + name + "' (expected one of "
          + nodes.stream().map(Node::name).toList() + ")");
    }
    return n;
  }

  /** Adds nodes in running order and checks each as it comes. */
  public static final class Builder {
    private final List<Node> nodes = new ArrayList<>();
    private final Set<String> names = new LinkedHashSet<>();
    private final List<Node> outputs = new ArrayList<>();
    private boolean built;

    private Builder() {}

    /** A graph input: int8 NHWC {@code [N, H, W, C]} with the given zero point. */
    public Node input(String name, Shape shape, int zeroPoint) {
      checkZeroPoint(name, zeroPoint);
      return add(name, Kind.INPUT, null, List.of(), shape, zeroPoint, true);
    }

    public Node conv(String name, Node input, ConvLayer conv) {
      checkInt8(name, input);
      Shape in = input.shape;
      if (in.channels() != conv.inChannels()) {
        throw new IllegalArgumentException("conv '" + name + "' takes " + conv.inChannels()
            + " channels but its input '" + input.name + "' has " + in.channels()
            + " (expected equal)");
      }
      Window w = conv.window();
      int oh = w.outHeight(in.height(), false);
      int ow = w.outWidth(in.width(), false);
      if (oh < 1 || ow < 1) {
        throw new IllegalArgumentException("conv '" + name + "': window " + w + " spans "
            + w.reachH() + "x" + w.reachW() + " but input '" + input.name + "' is "
            + in.height() + "x" + in.width() + " (expected the padded input at least as large"
            + " as the window)");
      }
      return add(name, Kind.CONV, conv, List.of(input), new Shape(oh, ow, conv.outChannels()),
          conv.int8Output() ? conv.requant().zeroPoint() : 0, conv.int8Output());
    }

    /** A fully connected layer over the input's features (NHWC order). */
    public Node gemm(String name, Node input, GemmLayer gemm) {
      checkInt8(name, input);
      if (input.shape.size() != gemm.inFeatures()) {
        throw new IllegalArgumentException("gemm '" + name + "' takes " + gemm.inFeatures()
            + " features but its input '" + input.name + "' has " + input.shape.size() + " ("
            + input.shape + ", expected equal)");
      }
      return add(name, Kind.GEMM, gemm, List.of(input), Shape.features(gemm.outFeatures()),
          gemm.int8Output() ? gemm.requant().zeroPoint() : 0, gemm.int8Output());
    }

    public Node maxPool(String name, Node input, MaxPoolLayer pool) {
      checkInt8(name, input);
      Shape in = input.shape;
      Window w = pool.window();
      int oh = w.outHeight(in.height(), pool.ceilMode());
      int ow = w.outWidth(in.width(), pool.ceilMode());
      if (oh < 1 || ow < 1) {
        throw new IllegalArgumentException("maxpool '" + name + "': window " + w + " spans "
            + w.reachH() + "x" + w.reachW() + " but input '" + input.name + "' is "
            + in.height() + "x" + in.width() + " (expected the padded input at least as large"
            + " as the window)");
      }
      checkSeesInput(name, "row", oh, in.height(), w.kernelH(), w.strideH(), w.padTop(),
          w.dilationH());
      checkSeesInput(name, "column", ow, in.width(), w.kernelW(), w.strideW(), w.padLeft(),
          w.dilationW());
      return add(name, Kind.MAX_POOL, pool, List.of(input), new Shape(oh, ow, in.channels()),
          input.zeroPoint, true);
    }

    /** {@code a + b}, each with its own zero point, to int8. */
    public Node add(String name, Node a, Node b, AddLayer add) {
      checkInt8(name, a);
      checkInt8(name, b);
      if (!a.shape.equals(b.shape)) {
        throw new IllegalArgumentException("add '" + name + "' of '" + a.name + "' (" + a.shape
            + ") and '" + b.name + "' (" + b.shape + ") (expected the same shape)");
      }
      return add(name, Kind.ADD, add, List.of(a, b), a.shape, add.zeroPoint(), true);
    }

    /** A depthwise convolution of {@code input}'s channels, each with its own filter. */
    public Node depthwise(String name, Node input, DepthwiseLayer conv) {
      checkInt8(name, input);
      Shape in = input.shape;
      if (in.channels() != conv.channels()) {
        throw new IllegalArgumentException("depthwise '" + name + "' has " + conv.channels()
            + " channels but its input '" + input.name + "' has " + in.channels()
            + " (expected equal)");
      }
      Window w = conv.window();
      int oh = w.outHeight(in.height(), false);
      int ow = w.outWidth(in.width(), false);
      if (oh < 1 || ow < 1) {
        throw new IllegalArgumentException("depthwise '" + name + "': window " + w + " spans "
            + w.reachH() + "x" + w.reachW() + " but input '" + input.name + "' is "
            + in.height() + "x" + in.width() + " (expected the padded input at least as large"
            + " as the window)");
      }
      return add(name, Kind.DEPTHWISE, conv, List.of(input), new Shape(oh, ow, in.channels()),
          conv.requant().zeroPoint(), true);
    }

    /** The mean of each channel of {@code input} over its pixels, to {@code 1 x 1 x C}. */
    public Node mean(String name, Node input, MeanLayer mean) {
      checkInt8(name, input);
      return add(name, Kind.MEAN, mean, List.of(input), new Shape(1, 1, input.shape.channels()),
          mean.requant().zeroPoint(), true);
    }

    /** A function of each element of {@code input}, by table; the shape is kept. */
    public Node table(String name, Node input, TableLayer table) {
      checkInt8(name, input);
      return add(name, Kind.TABLE, table, List.of(input), input.shape, table.zeroPoint(), true);
    }

    /** {@code a * b}, b of a's shape or one value per channel ({@code 1 x 1 x C}). */
    public Node mul(String name, Node a, Node b, MulLayer mul) {
      checkInt8(name, a);
      checkInt8(name, b);
      Shape expected = mul.perChannel() ? new Shape(1, 1, a.shape.channels()) : a.shape;
      if (!b.shape.equals(expected)) {
        throw new IllegalArgumentException("mul '" + name + "' of '" + a.name + "' (" + a.shape
            + ") and '" + b.name + "' (" + b.shape + ") (expected " + expected + ")");
      }
      return add(name, Kind.MUL, mul, List.of(a, b), a.shape, mul.zeroPoint(), true);
    }

    /** The inputs' channels one after the other; every input has the same pixels. */
    public Node concat(String name, List<Node> inputs, ConcatLayer concat) {
      if (inputs.size() != concat.tables().size()) {
        throw new IllegalArgumentException("concat '" + name + "' of " + inputs.size()
            + " inputs with " + concat.tables().size() + " tables (expected one per input)");
      }
      int channels = 0;
      for (Node in : inputs) {
        checkInt8(name, in);
        Shape s = inputs.get(0).shape;
        if (in.shape.height() != s.height() || in.shape.width() != s.width()) {
          throw new IllegalArgumentException("concat '" + name + "' of '" + inputs.get(0).name
              + "' (" + s + ") and '" + in.name + "' (" + in.shape + ") (expected the same"
              + " height and width)");
        }
        channels += in.shape.channels();
      }
      Shape first = inputs.get(0).shape;
      return add(name, Kind.CONCAT, concat, inputs, new Shape(first.height(), first.width(),
          channels), concat.zeroPoint(), true);
    }

    /** Channels {@code [first, first + count)} of {@code input}. */
    public Node slice(String name, Node input, SliceLayer slice) {
      checkInt8(name, input);
      if (slice.first() + slice.count() > input.shape.channels()) {
        throw new IllegalArgumentException("slice '" + name + "' of channels " + slice.first()
            + ".." + (slice.first() + slice.count() - 1) + " but '" + input.name + "' has "
            + input.shape.channels() + " (expected within them)");
      }
      return add(name, Kind.SLICE, slice, List.of(input), new Shape(input.shape.height(),
          input.shape.width(), slice.count()), slice.zeroPoint(), true);
    }

    /** A per-channel affine map of {@code input}; the shape is kept. */
    public Node scale(String name, Node input, ScaleLayer scale) {
      checkInt8(name, input);
      if (scale.channels() != input.shape.channels()) {
        throw new IllegalArgumentException("scale '" + name + "' of " + scale.channels()
            + " channels but '" + input.name + "' has " + input.shape.channels()
            + " (expected equal)");
      }
      return add(name, Kind.SCALE, scale, List.of(input), input.shape, scale.zeroPoint(), true);
    }

    /** Layer normalization of each pixel's (or row's) C features; the shape is kept. */
    public Node norm(String name, Node input, NormLayer norm) {
      checkInt8(name, input);
      if (norm.features() != input.shape.channels()) {
        throw new IllegalArgumentException("norm '" + name + "' of " + norm.features()
            + " features but '" + input.name + "' has " + input.shape.channels()
            + " (expected equal)");
      }
      return add(name, Kind.NORM, norm, List.of(input), input.shape, norm.zeroPoint(), true);
    }

    /** The maximum or mean of each pixel's channels, to one channel. */
    public Node channelReduce(String name, Node input, ChannelReduceLayer reduce) {
      checkInt8(name, input);
      Shape in = input.shape;
      return add(name, Kind.CHANNEL_REDUCE, reduce, List.of(input), new Shape(in.height(),
          in.width(), 1), reduce.max() ? input.zeroPoint : reduce.requant().zeroPoint(), true);
    }

    /** {@code input}'s pixels spread apart, the zero point between; the zero point is kept. */
    public Node spread(String name, Node input, SpreadLayer spread) {
      checkInt8(name, input);
      Shape in = input.shape;
      long h = (long) (in.height() - 1) * spread.strideH() + 1;
      long w = (long) (in.width() - 1) * spread.strideW() + 1;
      if (h > 65535 || w > 65535) {
        throw new IllegalArgumentException("spread '" + name + "' of " + in + " to " + h + "x"
            + w + " (expected at most 65535 each way)");
      }
      return add(name, Kind.SPREAD, spread, List.of(input), new Shape((int) h, (int) w,
          in.channels()), input.zeroPoint, true);
    }

    /** {@code input} upsampled by whole factors, nearest neighbour; the zero point is kept. */
    public Node resize(String name, Node input, ResizeLayer resize) {
      checkInt8(name, input);
      Shape in = input.shape;
      long h = (long) in.height() * resize.factorH();
      long w = (long) in.width() * resize.factorW();
      if (h > 65535 || w > 65535) {
        throw new IllegalArgumentException("resize '" + name + "' of " + in + " to " + h + "x"
            + w + " (expected at most 65535 each way)");
      }
      return add(name, Kind.RESIZE, resize, List.of(input), new Shape((int) h, (int) w,
          in.channels()), input.zeroPoint, true);
    }

    /** Softmax of each run of {@code softmax.width()} values of {@code input}; the shape is kept. */
    public Node softmax(String name, Node input, SoftmaxLayer softmax) {
      checkInt8(name, input);
      if (input.shape.channels() % softmax.width() != 0) {
        throw new IllegalArgumentException("softmax '" + name + "' of runs of "
            + softmax.width() + " but '" + input.name + "' has rows of "
            + input.shape.channels() + " (expected a whole number of runs per row)");
      }
      return add(name, Kind.SOFTMAX, softmax, List.of(input), input.shape,
          softmax.zeroPoint(), true);
    }

    /**
     * {@code input} gathered into the order of {@code copy}'s view of it (the same bytes, moved),
     * which must lie inside it at {@code rows} rows.
     */
    public Node copy(String name, Node input, CopyLayer copy, int rows) {
      checkInt8(name, input);
      long size = rows * input.shape.size();
      long[] sh = copy.shape();
      long[] st = copy.strides();
      long reach = 0;
      for (int i = 0; i < sh.length; i++) {
        reach += (sh[i] - 1) * st[i];
      }
      if (copy.numel() != size || reach >= size) {
        throw new IllegalArgumentException("copy '" + name + "' of " + copy.numel()
            + " bytes reaching byte " + reach + " of '" + input.name + "', " + size
            + " bytes at " + rows + " rows (expected all of them, inside it)");
      }
      return add(name, Kind.COPY, copy, List.of(input), input.shape, input.zeroPoint, true);
    }

    /**
     * The batched product of {@code a} and {@code b} ({@link ProductLayer}), each of zero point
     * 0, whose matrices must lie inside the inputs' bytes at the layer's batch.
     */
    public Node product(String name, Node a, Node b, ProductLayer product) {
      checkInt8(name, a);
      checkInt8(name, b);
      if (a.zeroPoint != 0 || b.zeroPoint != 0) {
        throw new IllegalArgumentException("product '" + name + "' of '" + a.name
            + "' (zero point " + a.zeroPoint + ") and '" + b.name + "' (zero point "
            + b.zeroPoint + ") (expected both 0: the array has no zero-point correction)");
      }
      ProductLayer l = product;
      checkInside(name, "A", a, l.rows(), l.aBase(), (l.m() - 1) * l.aRow() + l.k() - 1);
      checkInside(name, "B", b, l.rows(), l.bBase(), (l.k() - 1) * l.bK()
          + (l.n() - 1) * l.bN());
      long cReach = (l.m() - 1) * l.cRow() + l.n() - 1;
      for (long base : l.cBase()) {
        if (base < 0 || base + cReach >= (long) l.rows() * l.outFeatures()) {
          throw new IllegalArgumentException("product '" + name + "' writes bytes " + base
              + " to " + (base + cReach) + " of an output of " + (long) l.rows()
              * l.outFeatures() + " (expected inside it)");
        }
      }
      return add(name, Kind.PRODUCT, product, List.of(a, b),
          Shape.features(product.outFeatures()), product.zeroPoint(), true);
    }

    private static void checkInside(String name, String operand, Node in, int rows,
        long[] bases, long reach) {
      long size = rows * in.shape.size();
      for (long base : bases) {
        if (base < 0 || base + reach >= size) {
          throw new IllegalArgumentException("product '" + name + "' reads " + operand
              + " at bytes " + base + " to " + (base + reach) + " of '" + in.name + "', "
              + size + " bytes at " + rows + " rows (expected inside it)");
        }
      }
    }

    /** Marks {@code node} as an output of the graph; outputs are returned in this order. */
    public Builder output(Node node) {
      checkOwn(node);
      if (node.kind == Kind.INPUT) {
        throw new IllegalArgumentException("input '" + node.name + "' cannot be an output"
            + " (expected a layer)");
      }
      if (outputs.contains(node)) {
        throw new IllegalArgumentException("'" + node.name + "' is already an output");
      }
      outputs.add(node);
      return this;
    }

    public DeviceGraph build() {
      if (built) {
        throw new IllegalStateException("graph already built");
      }
      if (nodes.stream().noneMatch(n -> n.kind != Kind.INPUT)) {
        throw new IllegalArgumentException("a device graph needs at least one layer");
      }
      Set<Node> used = new HashSet<>(outputs);
      nodes.forEach(n -> used.addAll(n.inputs));
      for (Node n : nodes) {
        if (!used.contains(n)) {
          throw new IllegalArgumentException("'" + n.name + "' is neither an input of another"
              + " node nor an output (expected every node to be used)");
        }
      }
      built = true;
      return new DeviceGraph(nodes, outputs);
    }

    private Node add(String name, Kind kind, DeviceLayer layer, List<Node> inputs, Shape shape,
        int zeroPoint, boolean int8) {
      if (built) {
        throw new IllegalStateException("graph already built");
      }
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("a node needs a name");
      }
      if (layer == null && kind != Kind.INPUT) {
        throw new IllegalArgumentException("node '" + name + "' has no layer");
      }
      if (!names.add(name)) {
        throw new IllegalArgumentException("node name '" + name + "' is used twice");
      }
      Node n = new Node(this, nodes.size(), name, kind, layer, inputs, shape, zeroPoint, int8);
      nodes.add(n);
      return n;
    }

    private void checkInt8(String name, Node input) {
      checkOwn(input);
      if (!input.int8) {
        throw new IllegalArgumentException("'" + input.name + "' outputs int32 and cannot feed '"
            + name + "' (expected a requantization to int8)");
      }
    }

    private void checkOwn(Node n) {
      if (n == null || n.owner != this) {
        throw new IllegalArgumentException("node " + (n == null ? "null" : "'" + n.name + "'")
            + " is not from this graph builder");
      }
    }

    private static void checkZeroPoint(String name, int zeroPoint) {
      if (zeroPoint < -128 || zeroPoint > 127) {
        throw new IllegalArgumentException("input '" + name + "': zero point " + zeroPoint
            + " (expected -128 to 127)");
      }
    }

    /** Every output position of a pooling window must cover a real input element. */
    private static void checkSeesInput(String name, String axis, int out, int in, int kernel,
        int stride, int pad, int dilation) {
      for (int o = 0; o < out; o++) {
        boolean seen = false;
        for (int k = 0; k < kernel && !seen; k++) {
          long i = (long) o * stride - pad + (long) k * dilation;
          seen = i >= 0 && i < in;
        }
        if (!seen) {
          throw new IllegalArgumentException("maxpool '" + name + "': output " + axis + " " + o
              + " sees only padding (input " + in + " " + axis + "s, kernel " + kernel
              + ", stride " + stride + ", pad " + pad + "; expected pads smaller than the"
              + " kernel)");
        }
      }
    }
  }
}
