package dev.systole.host.graph;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * A model as Systole works on it: named values flowing between nodes, with the inputs a caller
 * supplies, the outputs it gets back, and the initializers (weights, and the scales and zero points
 * of a quantized model) as tensors. It is the ONNX graph with everything a consumer would otherwise
 * have to re-derive done once: nodes in an order where every value is produced before it is read,
 * every node named and its attributes completed with the op's defaults, the element type of every
 * value known, and every problem (an op Systole does not support, an input nobody produces, an
 * attribute out of range, types or fixed shapes that do not fit) reported when the graph is built,
 * by node, rather than half-way through a run.
 *
 * <p>A graph is immutable. Build one with {@link #builder()} (the ONNX reader does, and so can
 * tests and tools that make small models in Java). Inputs that the model also gives an initializer
 * for are constants, not inputs. Shapes may have symbolic dimensions; {@link #inferShapes} gives
 * every value's concrete shape for given input shapes.
 */
public final class Graph {
  private final String name;
  private final int opset;
  private final List<ValueInfo> inputs;
  private final List<ValueInfo> outputs;
  private final Map<String, Tensor> initializers;
  private final List<Node> nodes;
  private final Map<String, ValueInfo> valueInfos;
  private final Map<String, DType> dtypes;
  private final Map<String, Tensor> constants;

  private Graph(Builder b, List<Node> nodes, List<ValueInfo> outputs, Map<String, DType> dtypes,
      Map<String, Tensor> constants) {
    this.name = b.name;
    this.opset = b.opset;
    this.inputs = List.copyOf(b.inputs);
    this.outputs = List.copyOf(outputs);
    this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(b.initializers));
    this.nodes = List.copyOf(nodes);
    this.valueInfos = Collections.unmodifiableMap(new LinkedHashMap<>(b.valueInfos));
    this.dtypes = Collections.unmodifiableMap(dtypes);
    this.constants = constants;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  /** The ONNX op types Systole reads (of the default domain), sorted. */
  public static List<String> supportedOps() {
    return OpSchemas.opTypes();
  }

  /** The version of the default ONNX domain the model imports. */
  public int opset() {
    return opset;
  }

  /** The inputs a caller supplies, in the model's order. */
  public List<ValueInfo> inputs() {
    return inputs;
  }

  public List<ValueInfo> outputs() {
    return outputs;
  }

  /** The constant tensors by name, in the model's order. Callers must not write to them. */
  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /** The nodes, ordered so every value is produced before any node reads it. */
  public List<Node> nodes() {
    return nodes;
  }

  /** Declared types of intermediate values, as the model gave them (possibly none). */
  public Map<String, ValueInfo> valueInfos() {
    return valueInfos;
  }

  /**
   * The element type of the value {@code value}: an input, an initializer or a node output.
   *
   * @throws IllegalArgumentException if the graph has no such value
   */
  public DType dtype(String value) {
    DType t = dtypes.get(value);
    if (t == null) {
      throw new IllegalArgumentException("no value '" + value + "' in graph '" + name + "'");
    }
    return t;
  }

  /** The node that produces {@code value}, if a node does. */
  public Optional<Node> producer(String value) {
    return nodes.stream().filter(n -> n.outputs().contains(value)).findFirst();
  }

  /**
   * The concrete shape of every value (inputs, initializers and node outputs) when the inputs
   * have the shapes {@code inputShapes}, by input name.
   *
   * @throws ModelException if an input is missing or does not fit its declared shape, if a node's
   *     inputs do not fit together, or if a shape depends on values only known at run time,
   *     naming the node
   */
  public Map<String, long[]> inferShapes(Map<String, long[]> inputShapes) {
    return inferShapes(inputShapes, Map.of());
  }

  /**
   * {@link #inferShapes(Map)} where some inputs' values are known too, for models whose shapes
   * depend on an input's value (a Reshape whose target shape is a graph input).
   *
   * @param inputValues values of some inputs, by name; their shapes need not be repeated in
   *     {@code inputShapes}
   */
  public Map<String, long[]> inferShapes(Map<String, long[]> inputShapes,
      Map<String, Tensor> inputValues) {
    Map<String, long[]> known = new HashMap<>();
    Map<String, Long> symbols = new HashMap<>();
    for (ValueInfo in : inputs) {
      long[] s = inputShapes.get(in.name());
      if (s == null && inputValues.containsKey(in.name())) {
        s = inputValues.get(in.name()).shape();
      }
      if (s == null) {
        throw new ModelException("no shape given for input '" + in.name() + "' (expected "
            + in.typeString() + ")");
      }
      checkDeclared(in, s, symbols);
      known.put(in.name(), s.clone());
    }
    return propagate(known, true, inputValues);
  }

  /**
   * Checks that {@code shape} fits {@code declared}, binding each symbolic dimension to its size
   * the first time it is seen (in {@code symbols}) and holding it to that size afterwards.
   *
   * @throws ModelException naming the input, its declared and its given shape
   */
  public static void checkDeclared(ValueInfo declared, long[] shape, Map<String, Long> symbols) {
    if (!declared.hasShape()) {
      return;
    }
    List<Dim> dims = declared.shape();
    boolean ok = dims.size() == shape.length;
    String why = "rank " + shape.length + " (expected " + dims.size() + ")";
    for (int i = 0; ok && i < shape.length; i++) {
      Dim d = dims.get(i);
      if (d.isKnown() && d.value() != shape[i]) {
        ok = false;
        why = "dimension " + i + " is " + shape[i] + " (expected " + d.value() + ")";
      } else if (d.symbol() != null) {
        Long bound = symbols.putIfAbsent(d.symbol(), shape[i]);
        if (bound != null && bound != shape[i]) {
          ok = false;
          why = "dimension " + i + " (" + d.symbol() + ") is " + shape[i] + " but " + d.symbol()
              + " is " + bound + " elsewhere";
        }
      }
    }
    if (!ok) {
      throw new ModelException(String.format("input '%s' has shape %s, expected %s: %s",
          declared.name(), Tensor.shapeString(shape), declared.typeString(), why));
    }
  }

  private Map<String, long[]> propagate(Map<String, long[]> known, boolean strict,
      Map<String, Tensor> inputValues) {
    Map<String, Tensor> values = new HashMap<>(initializers);
    values.putAll(constants);
    values.putAll(inputValues);
    initializers.forEach((k, t) -> known.put(k, t.shape()));
    for (Node n : nodes) {
      int arity = n.inputs().size();
      long[][] in = new long[arity][];
      Tensor[] vals = new Tensor[arity];
      for (int i = 0; i < arity; i++) {
        in[i] = n.hasInput(i) ? known.get(n.input(i)) : null;
        vals[i] = n.hasInput(i) ? values.get(n.input(i)) : null;
      }
      Tensor[] outVals = new Tensor[n.outputs().size()];
      long[][] out = ShapeInference.shapes(n, in, vals, strict, outVals);
      for (int i = 0; i < out.length; i++) {
        if (n.hasOutput(i) && out[i] != null) {
          known.put(n.output(i), out[i]);
        }
        if (n.hasOutput(i) && outVals[i] != null) {
          values.put(n.output(i), outVals[i]);
        }
      }
    }
    return known;
  }

  @Override
  public String toString() {
    return "Graph[" + name + ", opset " + opset + ", " + nodes.size() + " nodes]";
  }

  /**
   * Collects a graph's parts in any order and checks them as a whole in {@link #build()}. Nodes
   * may be added in any order; they are sorted.
   */
  public static final class Builder {
    private String name = "graph";
    private int opset = OpSchemas.MAX_OPSET;
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<String> outputNames = new ArrayList<>();
    private final Map<String, ValueInfo> declaredOutputs = new HashMap<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final Map<String, ValueInfo> valueInfos = new LinkedHashMap<>();
    private final List<RawNode> nodes = new ArrayList<>();

    private record RawNode(String domain, String opType, String name, List<String> inputs,
        List<String> outputs, Map<String, Attribute> attributes) {}

    private Builder() {}

    public Builder name(String graphName) {
      this.name = Objects.requireNonNull(graphName);
      return this;
    }

    /** The default domain's opset the nodes follow; 17, the newest read, if not set. */
    public Builder opset(int version) {
      this.opset = version;
      return this;
    }

    public Builder input(ValueInfo info) {
      inputs.add(info);
      return this;
    }

    /** An input of fixed or symbolic shape, as {@link ValueInfo#of}. */
    public Builder input(String inputName, DType dtype, Object... dims) {
      return input(ValueInfo.of(inputName, dtype, dims));
    }

    /** An output with a declared type, checked against the inferred one. */
    public Builder output(ValueInfo info) {
      outputNames.add(info.name());
      declaredOutputs.put(info.name(), info);
      return this;
    }

    /** An output whose type is inferred. */
    public Builder output(String outputName) {
      outputNames.add(outputName);
      return this;
    }

    public Builder initializer(String valueName, Tensor value) {
      initializers.put(valueName, value);
      return this;
    }

    public Builder valueInfo(ValueInfo info) {
      valueInfos.put(info.name(), info);
      return this;
    }

    /** A node of the default domain, unnamed, without attributes. */
    public Builder node(String opType, List<String> in, List<String> out) {
      return node("", opType, "", in, out, Map.of());
    }

    /** A node of the default domain; an empty name is replaced by {@code <opType>_<index>}. */
    public Builder node(String opType, String nodeName, List<String> in, List<String> out,
        Map<String, Attribute> attributes) {
      return node("", opType, nodeName, in, out, attributes);
    }

    /** A node of any domain ("" or "ai.onnx" is the default one); others are unsupported. */
    public Builder node(String domain, String opType, String nodeName, List<String> in,
        List<String> out, Map<String, Attribute> attributes) {
      nodes.add(new RawNode(domain, opType, nodeName, List.copyOf(in), List.copyOf(out),
          new LinkedHashMap<>(attributes)));
      return this;
    }

    /**
     * Checks the graph and builds it.
     *
     * @throws ModelException for the first problem found, naming the node; for unsupported ops,
     *     one error listing all of them
     */
    public Graph build() {
      if (opset < 1 || opset > OpSchemas.MAX_OPSET) {
        throw new ModelException(String.format("the model imports opset %d of the default ONNX"
            + " domain (expected 11 to %d, or an older opset whose op versions Systole"
            + " implements)", opset, OpSchemas.MAX_OPSET));
      }
      List<String> names = nodeNames();
      checkSupported(names);
      List<Node> checked = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        checked.add(check(nodes.get(i), names.get(i)));
      }
      Map<String, DType> dtypes = new HashMap<>();
      for (ValueInfo in : inputs) {
        if (dtypes.put(in.name(), in.dtype()) != null) {
          throw new ModelException("input '" + in.name() + "' is declared twice");
        }
        if (initializers.containsKey(in.name())) {
          throw new ModelException("'" + in.name() + "' is both an input and an initializer"
              + " (expected one or the other)");
        }
      }
      initializers.forEach((k, t) -> dtypes.put(k, t.dtype()));
      List<Node> sorted = sort(checked, dtypes.keySet());
      Map<String, Tensor> constants = new HashMap<>();
      for (Node n : sorted) {
        DType[] in = new DType[n.inputs().size()];
        for (int i = 0; i < in.length; i++) {
          in[i] = n.hasInput(i) ? dtypes.get(n.input(i)) : null;
        }
        DType[] out = ShapeInference.dtypes(n, in);
        for (int i = 0; i < out.length; i++) {
          if (n.hasOutput(i)) {
            dtypes.put(n.output(i), out[i]);
          }
        }
        if (n.opType().equals("Constant")) {
          constants.put(n.output(0), ShapeInference.constantValue(n));
        }
      }
      List<ValueInfo> outs = new ArrayList<>();
      for (String o : outputNames) {
        DType t = dtypes.get(o);
        if (t == null) {
          throw new ModelException("output '" + o + "' is not produced by any node, nor an input"
              + " or an initializer");
        }
        ValueInfo declared = declaredOutputs.get(o);
        if (declared != null && declared.dtype() != t) {
          throw new ModelException(String.format("output '%s' is declared %s but is %s",
              o, declared.dtype().label(), t.label()));
        }
        outs.add(declared != null ? declared : ValueInfo.ofUnknownShape(o, t));
      }
      Graph g = new Graph(this, sorted, outs, dtypes, constants);
      if (inputs.stream().allMatch(in -> in.hasShape()
          && in.shape().stream().allMatch(Dim::isKnown))) {
        Map<String, long[]> fixed = new HashMap<>();
        for (ValueInfo in : inputs) {
          fixed.put(in.name(), in.shape().stream().mapToLong(Dim::value).toArray());
        }
        g.propagate(fixed, false, Map.of());
      }
      return g;
    }

    /** Given names, and {@code <opType>_<index>} for nodes without one, unique among all. */
    private List<String> nodeNames() {
      Set<String> taken = new HashSet<>();
      nodes.forEach(n -> taken.add(n.name));
      List<String> names = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        RawNode n = nodes.get(i);
        String nodeName = n.name;
        if (nodeName.isEmpty()) {
          nodeName = n.opType + "_" + i;
          for (int k = 1; taken.contains(nodeName); k++) {
            nodeName = n.opType + "_" + i + "_" + k;
          }
          taken.add(nodeName);
        }
        names.add(nodeName);
      }
      return names;
    }

    private void checkSupported(List<String> names) {
      Map<String, List<String>> unsupported = new TreeMap<>();
      for (int i = 0; i < nodes.size(); i++) {
        RawNode n = nodes.get(i);
        String key;
        OpSchema s = OpSchemas.get(n.opType);
        boolean defaultDomain = n.domain.isEmpty() || n.domain.equals("ai.onnx");
        if (!defaultDomain) {
          key = n.domain + "." + n.opType + " (domain '" + n.domain + "' is not supported)";
        } else if (s == null) {
          key = n.opType;
        } else {
          int v = s.resolve(opset);
          if (s.implementsVersion(v)) {
            continue;
          }
          key = v == 0 ? n.opType + " (not defined at opset " + opset + ")"
              : String.format("%s version %d, in force at opset %d (Systole implements versions"
                  + " %s)", n.opType, v, opset, s.versionList());
        }
        unsupported.computeIfAbsent(key, k -> new ArrayList<>()).add("'" + names.get(i) + "'");
      }
      if (unsupported.isEmpty()) {
        return;
      }
      StringJoiner j = new StringJoiner("; ");
      unsupported.forEach((op, where) -> j.add(op + " at node" + (where.size() > 1 ? "s " : " ")
          + String.join(", ", where)));
      String first = null;
      for (int i = 0; i < nodes.size() && first == null; i++) {
        RawNode n = nodes.get(i);
        OpSchema s = OpSchemas.get(n.opType);
        boolean ok = (n.domain.isEmpty() || n.domain.equals("ai.onnx")) && s != null
            && s.implementsVersion(s.resolve(opset));
        first = ok ? null : names.get(i);
      }
      throw ModelException.withNode(first, "unsupported ops: " + j + " (Systole supports "
          + String.join(", ", OpSchemas.opTypes()) + ")");
    }

    private Node check(RawNode raw, String nodeName) {
      OpSchema s = OpSchemas.get(raw.opType);
      int version = s.resolve(opset);
      int[] arity = s.arity(version);
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      for (Map.Entry<String, Attribute> e : raw.attributes.entrySet()) {
        OpSchema.AttrSpec spec = s.attribute(e.getKey(), version).orElse(null);
        if (spec == null) {
          throw ModelException.atNode(raw.opType, nodeName, String.format(
              "unknown attribute '%s' (version %d of %s has %s)", e.getKey(), version,
              raw.opType, attributeNames(s, version)));
        }
        Attribute a = e.getValue();
        if (a.kind() != spec.kind()) {
          throw ModelException.atNode(raw.opType, nodeName, String.format(
              "attribute '%s' is %s (expected %s)", e.getKey(), a.kind().label(),
              spec.kind().label()));
        }
        String problem = spec.check() == null ? null : spec.check().problem(a);
        if (problem != null) {
          throw ModelException.atNode(raw.opType, nodeName,
              "attribute '" + e.getKey() + "' " + problem);
        }
        attrs.put(e.getKey(), a);
      }
      for (OpSchema.AttrSpec spec : s.attributes(version)) {
        if (spec.dflt() != null) {
          attrs.putIfAbsent(spec.name(), spec.dflt());
        }
      }
      int nIn = raw.inputs.size();
      int nOut = raw.outputs.size();
      if (nIn < arity[0] || nIn > arity[1]) {
        throw ModelException.atNode(raw.opType, nodeName, String.format(
            "has %d inputs (expected %s)", nIn, range(arity[0], arity[1])));
      }
      if (nOut < arity[2] || nOut > arity[3]) {
        throw ModelException.atNode(raw.opType, nodeName, String.format(
            "has %d outputs (expected %s)", nOut, range(arity[2], arity[3])));
      }
      for (int i = 0; i < arity[0]; i++) {
        if (raw.inputs.get(i).isEmpty()) {
          throw ModelException.atNode(raw.opType, nodeName, "input " + i
              + " is left out (it is required)");
        }
      }
      if (raw.outputs.isEmpty() || raw.outputs.get(0).isEmpty()) {
        throw ModelException.atNode(raw.opType, nodeName, "output 0 is not named");
      }
      fillWindowDefaults(raw, attrs);
      return new Node(raw.opType, nodeName, raw.inputs, raw.outputs, attrs, version);
    }

    /**
     * Fills strides, dilations and pads of a windowed op when its number of spatial axes is
     * known: from kernel_shape, or from a Conv's weights when they are an initializer or an input
     * of fixed rank.
     */
    private void fillWindowDefaults(RawNode raw, Map<String, Attribute> attrs) {
      if (!attrs.containsKey("auto_pad")) {
        return;
      }
      int spatial = -1;
      if (attrs.containsKey("kernel_shape")) {
        spatial = attrs.get("kernel_shape").asInts().length;
      } else {
        String w = raw.inputs.get(raw.opType.equals("QLinearConv") ? 3 : 1);
        if (initializers.containsKey(w)) {
          long[] ws = initializers.get(w).shape();
          attrs.put("kernel_shape", Attribute.ofInts(Arrays.copyOfRange(ws, 2, ws.length)));
          spatial = ws.length - 2;
        } else {
          spatial = inputs.stream().filter(i -> i.name().equals(w) && i.hasShape())
              .mapToInt(i -> i.shape().size() - 2).findFirst().orElse(-1);
        }
      }
      if (spatial < 0) {
        return;
      }
      long[] ones = new long[spatial];
      Arrays.fill(ones, 1);
      attrs.putIfAbsent("strides", Attribute.ofInts(ones));
      if (!raw.opType.equals("AveragePool") && (!raw.opType.equals("MaxPool")
          || attrs.containsKey("ceil_mode"))) {
        attrs.putIfAbsent("dilations", Attribute.ofInts(ones));
      }
      if (attrs.get("auto_pad").asString().equals("NOTSET")) {
        attrs.putIfAbsent("pads", Attribute.ofInts(new long[2 * spatial]));
      }
    }

    private static String attributeNames(OpSchema s, int version) {
      List<String> names = s.attributes(version).stream().map(OpSchema.AttrSpec::name).toList();
      return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static String range(int min, int max) {
      return min == max ? Integer.toString(min)
          : max == Integer.MAX_VALUE ? "at least " + min : min + " to " + max;
    }

    /**
     * Kahn's algorithm, taking the ready node that comes first in the model each time, so a
     * model already in order keeps its order.
     */
    private List<Node> sort(List<Node> checked, Set<String> given) {
      Map<String, Integer> producer = new HashMap<>();
      for (int i = 0; i < checked.size(); i++) {
        for (String out : checked.get(i).outputs()) {
          if (out.isEmpty()) {
            continue;
          }
          if (given.contains(out)) {
            throw ModelException.atNode(checked.get(i), "output '" + out
                + "' is also a graph input or an initializer (expected each value defined once)");
          }
          Integer before = producer.put(out, i);
          if (before != null) {
            throw ModelException.atNode(checked.get(i), "output '" + out + "' is also produced"
                + " by " + checked.get(before) + " (expected each value defined once)");
          }
        }
      }
      List<String> missing = new ArrayList<>();
      String firstMissing = null;
      int[] pending = new int[checked.size()];
      List<List<Integer>> consumers = new ArrayList<>();
      checked.forEach(n -> consumers.add(new ArrayList<>()));
      for (int i = 0; i < checked.size(); i++) {
        Node n = checked.get(i);
        Set<Integer> deps = new HashSet<>();
        for (String in : n.inputs()) {
          if (in.isEmpty() || given.contains(in)) {
            continue;
          }
          Integer p = producer.get(in);
          if (p == null) {
            missing.add(n + ": input '" + in + "'");
            firstMissing = firstMissing == null ? n.name() : firstMissing;
          } else if (deps.add(p)) {
            consumers.get(p).add(i);
          }
        }
        pending[i] = deps.size();
      }
      if (!missing.isEmpty()) {
        throw ModelException.withNode(firstMissing, String.join("; ", missing)
            + (missing.size() > 1 ? " are" : " is") + " neither a graph input, an initializer"
            + " nor the output of a node");
      }
      PriorityQueue<Integer> ready = new PriorityQueue<>();
      for (int i = 0; i < pending.length; i++) {
        if (pending[i] == 0) {
          ready.add(i);
        }
      }
      List<Node> sorted = new ArrayList<>();
      while (!ready.isEmpty()) {
        int i = ready.poll();
        sorted.add(checked.get(i));
        for (int c : consumers.get(i)) {
          if (--pending[c] == 0) {
            ready.add(c);
          }
        }
      }
      if (sorted.size() < checked.size()) {
        List<String> cycle = new ArrayList<>();
        for (int i = 0; i < pending.length; i++) {
          if (pending[i] > 0) {
            cycle.add(checked.get(i).toString());
          }
        }
        throw new ModelException(String.join(", ", cycle) + " depend on each other in a cycle"
            + " (expected an acyclic graph)");
      }
      return sorted;
    }
  }
}
