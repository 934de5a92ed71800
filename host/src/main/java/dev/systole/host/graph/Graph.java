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
import java.util.Locale;
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
 * <p>Systole interprets the ops its device can run and the ones around them that it reasons
 * about; every other node is kept as it was read, <em>opaque</em> ({@link Node#known()} false),
 * for the CPU engine, ONNX Runtime, which runs it from its original bytes. So a graph holds
 * whatever ONNX Runtime can run: other domains, newer opsets, control flow with subgraphs, and
 * values of types Systole does not compute with ({@link ValueType}), whose types come from the
 * model or from ONNX Runtime ({@link #withTypes}). The parts of the model the CPU engine needs to
 * rebuild any slice of it as a model of its own are kept too: the IR version, every opset
 * import, initializers of other element types as their TensorProto bytes, and the model's local
 * functions.
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
  private final Map<String, ValueType> types;
  /** Every value of the graph: inputs, initializers and node outputs. */
  private final Set<String> values;
  private final Map<String, Tensor> constants;
  private final long irVersion;
  private final Map<String, Long> opsetImports;
  private final Map<String, byte[]> opaqueInitializers;
  private final Map<String, byte[]> inputProtos;
  private final List<byte[]> functions;
  private final Builder builder;

  private Graph(Builder b, List<Node> nodes, List<ValueInfo> outputs,
      Map<String, ValueType> types, Set<String> values, Map<String, Tensor> constants) {
    this.builder = b;
    this.name = b.name;
    this.opset = b.opset;
    this.inputs = List.copyOf(b.inputs);
    this.outputs = List.copyOf(outputs);
    this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(b.initializers));
    this.nodes = List.copyOf(nodes);
    this.valueInfos = Collections.unmodifiableMap(new LinkedHashMap<>(b.valueInfos));
    this.types = Collections.unmodifiableMap(types);
    this.values = Collections.unmodifiableSet(values);
    this.constants = constants;
    this.irVersion = b.irVersion;
    Map<String, Long> imports = new LinkedHashMap<>();
    imports.put("", (long) b.opset);
    imports.putAll(b.opsetImports);
    this.opsetImports = Collections.unmodifiableMap(imports);
    this.opaqueInitializers = Collections.unmodifiableMap(new LinkedHashMap<>(
        b.opaqueInitializers));
    this.inputProtos = Collections.unmodifiableMap(new HashMap<>(b.inputProtos));
    this.functions = List.copyOf(b.functions);
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  /** The ONNX op types Systole interprets (of the default domain), sorted. */
  public static List<String> supportedOps() {
    return OpSchemas.opTypes();
  }

  /** The model's IR version (8 for a graph built in Java). */
  public long irVersion() {
    return irVersion;
  }

  /** Every opset the model imports, by domain ("" for the default one), in the model's order. */
  public Map<String, Long> opsetImports() {
    return opsetImports;
  }

  /**
   * Initializers of element types Systole has no {@link DType} for, as their serialized
   * TensorProto, by name; only the CPU engine reads them.
   */
  public Map<String, byte[]> opaqueInitializers() {
    return opaqueInitializers;
  }

  /** The ValueInfoProto graph input {@code input} was read from, or null (built in Java). */
  public byte[] inputProto(String input) {
    return inputProtos.get(input);
  }

  /** The model's local functions, each a serialized FunctionProto. */
  public List<byte[]> functions() {
    return functions;
  }

  /** Whether some node is opaque (see {@link Node#known()}). */
  public boolean hasOpaqueNodes() {
    return nodes.stream().anyMatch(n -> !n.known());
  }

  /** Whether {@code value} is a value of this graph: an input, an initializer or a node output. */
  public boolean hasValue(String value) {
    return values.contains(value);
  }

  /**
   * The type of {@code value}, or null if neither the model nor Systole's inference gives it
   * (an opaque node's output before {@link #withTypes}).
   *
   * @throws IllegalArgumentException if the graph has no such value
   */
  public ValueType type(String value) {
    if (!values.contains(value)) {
      throw new IllegalArgumentException("no value '" + value + "' in graph '" + name + "'");
    }
    return types.get(value);
  }

  /** The node outputs whose type is not known, in node order. */
  public List<String> untypedValues() {
    List<String> r = new ArrayList<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        if (!o.isEmpty() && !types.containsKey(o)) {
          r.add(o);
        }
      }
    }
    return r;
  }

  /**
   * This graph with the types of values it could not type itself (the outputs of opaque nodes)
   * taken from {@code known}, typically what ONNX Runtime inferred; Systole's inference then
   * goes on from them through the nodes it interprets.
   */
  public Graph withTypes(Map<String, ValueType> known) {
    return builder.build(known);
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
   * The element type of the value {@code value}: an input, an initializer or a node output; null
   * if its type is unknown or one Systole does not compute with ({@link #type}).
   *
   * @throws IllegalArgumentException if the graph has no such value
   */
  public DType dtype(String value) {
    ValueType t = type(value);
    return t == null ? null : t.dtype();
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
    return infer(inputShapes, inputValues, true);
  }

  /**
   * The shapes Systole's own inference gives for these inputs: those of every value up to the
   * first opaque node, or value-dependent shape, on each path, and no entry for the rest. The
   * model's CPU engine gives the others (see {@code Model}).
   *
   * @throws ModelException if an input is missing or does not fit its declared shape, or if the
   *     inputs of a node Systole interprets do not fit together
   */
  public Map<String, long[]> inferShapesPartially(Map<String, long[]> inputShapes,
      Map<String, Tensor> inputValues) {
    return infer(inputShapes, inputValues, false);
  }

  private Map<String, long[]> infer(Map<String, long[]> inputShapes,
      Map<String, Tensor> inputValues, boolean strict) {
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
    return propagate(known, strict, inputValues);
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

  /** The most elements a value may have: as many as one tensor can hold. */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE;

  /**
   * Refuses output {@code value} of {@code n} if its inferred shape has more elements than a
   * tensor holds: sizes that follow from attributes and input shapes are checked where they
   * are first computed, so no later product of them overflows.
   */
  private static void checkSize(Node n, String value, long[] shape) {
    double elements = 1;
    for (long d : shape) {
      elements *= d;
    }
    if (elements > MAX_ELEMENTS) {
      throw ModelException.atNode(n, String.format(Locale.ROOT, "output '%s' would be %s, %.4g"
          + " elements (expected at most %d, the most one tensor holds)", value,
          Tensor.shapeString(shape), elements, MAX_ELEMENTS));
    }
  }

  private Map<String, long[]> propagate(Map<String, long[]> known, boolean strict,
      Map<String, Tensor> inputValues) {
    Map<String, Tensor> values = new HashMap<>(initializers);
    values.putAll(constants);
    values.putAll(inputValues);
    initializers.forEach((k, t) -> known.put(k, t.shape()));
    for (Node n : nodes) {
      if (!n.known()) {
        continue;
      }
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
          checkSize(n, n.output(i), out[i]);
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

  /** An editor of this graph: the rewrites of a pass, applied by {@link Editor#build()}. */
  public Editor edit() {
    return new Editor(this);
  }

  /**
   * The changes a graph rewrite makes: nodes removed, replaced by new ones Systole interprets,
   * values renamed where nodes read them, initializers added. Everything else the graph holds
   * (its opset imports, local functions, declared inputs, opaque initializers and nodes) is
   * kept as it was read. A node whose inputs are renamed keeps its NodeProto with the inputs
   * changed, so an opaque node still runs as the model wrote it.
   */
  public static final class Editor {
    private final Graph graph;
    private final Set<Node> removed = new HashSet<>();
    private final Map<Node, List<Builder.RawNode>> replaced = new HashMap<>();
    private final Map<String, String> renamed = new HashMap<>();
    private final Map<String, Tensor> added = new LinkedHashMap<>();

    private Editor(Graph graph) {
      this.graph = graph;
    }

    /** Removes {@code n}. */
    public Editor remove(Node n) {
      removed.add(n);
      return this;
    }

    /** Puts a node Systole interprets (of the default domain) in {@code n}'s place. */
    public Editor replace(Node n, String opType, String name, List<String> inputs,
        List<String> outputs, Map<String, Attribute> attributes) {
      replaced.computeIfAbsent(n, k -> new ArrayList<>()).add(new Builder.RawNode("", opType, name,
          List.copyOf(inputs), List.copyOf(outputs), new LinkedHashMap<>(attributes), null));
      return this;
    }

    /** Makes every node that reads {@code from} as an input read {@code to} instead. */
    public Editor rename(String from, String to) {
      renamed.put(from, to);
      return this;
    }

    public Editor initializer(String name, Tensor value) {
      added.put(name, value);
      return this;
    }

    /** Whether nothing changes. */
    public boolean isEmpty() {
      return removed.isEmpty() && replaced.isEmpty() && renamed.isEmpty() && added.isEmpty();
    }

    /**
     * Also removes every node none of whose outputs anything reads any more (nor the graph's
     * outputs), as a rewrite leaves the nodes that only fed what it replaced.
     */
    public Editor pruneDead() {
      prune = true;
      return this;
    }

    private boolean prune;

    /**
     * The edited graph, without the initializers no node reads any more; the graph itself if
     * nothing changes.
     *
     * @throws ModelException if the edit leaves a value read that nothing defines
     */
    public Graph build() {
      if (isEmpty()) {
        return graph;
      }
      Builder b = graph.builder.copyWithoutNodes();
      Set<String> read = new HashSet<>();
      graph.outputs.forEach(o -> read.add(o.name()));
      Set<Node> dead = prune ? dead() : Set.of();
      for (Node n : graph.nodes) {
        if (dead.contains(n)) {
          continue;
        }
        if (replaced.containsKey(n)) {
          for (Builder.RawNode r : replaced.get(n)) {
            List<String> in = r.inputs().stream().map(this::target).toList();
            read.addAll(in);
            b.nodes.add(new Builder.RawNode(r.domain(), r.opType(), r.name(), in, r.outputs(),
                r.attributes(), null));
          }
          continue;
        }
        if (removed.contains(n)) {
          continue;
        }
        List<String> in = n.inputs().stream().map(this::target).toList();
        read.addAll(in);
        read.addAll(n.implicitInputs());
        byte[] proto = n.proto();
        if (proto != null && !in.equals(n.inputs())) {
          proto = NodeProtos.withInputs(proto, in);
        }
        b.nodes.add(new Builder.RawNode(n.domain(), n.opType(), n.name(), in, n.outputs(),
            n.attributes(), new Builder.Source(proto, n.implicitInputs(), n.known() ? null
                : n.problem())));
      }
      added.forEach(b::initializer);
      b.initializers.keySet().retainAll(read);
      b.opaqueInitializers.keySet().retainAll(read);
      return b.build(graph.types);
    }

    /** The nodes the edit leaves unread, found from the outputs back. */
    private Set<Node> dead() {
      Set<String> live = new HashSet<>();
      graph.outputs.forEach(o -> live.add(o.name()));
      Set<Node> dead = new HashSet<>();
      List<Node> nodes = graph.nodes;
      for (int i = nodes.size() - 1; i >= 0; i--) {
        Node n = nodes.get(i);
        if (removed.contains(n) && !replaced.containsKey(n)) {
          continue;
        }
        List<String> outs = replaced.containsKey(n) ? replaced.get(n).stream()
            .flatMap(r -> r.outputs().stream()).toList() : n.outputs();
        if (outs.stream().noneMatch(live::contains)) {
          dead.add(n);
          continue;
        }
        List<String> ins = replaced.containsKey(n) ? replaced.get(n).stream()
            .flatMap(r -> r.inputs().stream()).toList() : n.inputs();
        ins.stream().map(this::target).forEach(live::add);
        live.addAll(n.implicitInputs());
      }
      return dead;
    }

    private String target(String value) {
      String t = value;
      for (int i = 0; renamed.containsKey(t) && i <= renamed.size(); i++) {
        t = renamed.get(t);
      }
      return t;
    }
  }

  /**
   * Collects a graph's parts in any order and checks them as a whole in {@link #build()}. Nodes
   * may be added in any order; they are sorted.
   */
  public static final class Builder {
    private String name = "graph";
    private int opset = OpSchemas.MAX_OPSET;
    private long irVersion = 8;
    private final Map<String, Long> opsetImports = new LinkedHashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<String> outputNames = new ArrayList<>();
    private final Map<String, ValueInfo> declaredOutputs = new HashMap<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final Map<String, byte[]> opaqueInitializers = new LinkedHashMap<>();
    private final Map<String, ValueType> opaqueInitializerTypes = new HashMap<>();
    private final Map<String, byte[]> inputProtos = new HashMap<>();
    private final Map<String, ValueType> inputTypes = new HashMap<>();
    private final Map<String, ValueInfo> valueInfos = new LinkedHashMap<>();
    private final List<RawNode> nodes = new ArrayList<>();
    private final List<byte[]> functions = new ArrayList<>();

    private record RawNode(String domain, String opType, String name, List<String> inputs,
        List<String> outputs, Map<String, Attribute> attributes, Source source) {}

    /**
     * Where a node read from a model came from: its NodeProto bytes, the values of the enclosing
     * graph its subgraphs read, and, if Systole cannot interpret it, why (an attribute it cannot
     * read, a subgraph); see {@link Node#proto()}.
     */
    public record Source(byte[] proto, List<String> implicitInputs, String problem) {}

    private Builder() {}

    /** A builder of everything this one holds but its nodes. */
    private Builder copyWithoutNodes() {
      Builder b = new Builder();
      b.name = name;
      b.opset = opset;
      b.irVersion = irVersion;
      b.opsetImports.putAll(opsetImports);
      b.inputs.addAll(inputs);
      b.outputNames.addAll(outputNames);
      b.declaredOutputs.putAll(declaredOutputs);
      b.initializers.putAll(initializers);
      b.opaqueInitializers.putAll(opaqueInitializers);
      b.opaqueInitializerTypes.putAll(opaqueInitializerTypes);
      b.inputProtos.putAll(inputProtos);
      b.inputTypes.putAll(inputTypes);
      b.valueInfos.putAll(valueInfos);
      b.functions.addAll(functions);
      return b;
    }

    public Builder name(String graphName) {
      this.name = Objects.requireNonNull(graphName);
      return this;
    }

    /** The default domain's opset the nodes follow; 17 if not set. */
    public Builder opset(int version) {
      this.opset = version;
      return this;
    }

    /** The model's IR version; 8 if not set. */
    public Builder irVersion(long version) {
      this.irVersion = version;
      return this;
    }

    /** An opset the model imports of a domain other than the default one. */
    public Builder opsetImport(String domain, long version) {
      if (domain.isEmpty() || domain.equals("ai.onnx")) {
        return opset((int) Math.max(0, Math.min(Integer.MAX_VALUE, version)));
      }
      opsetImports.put(domain, version);
      return this;
    }

    /** A local function of the model, a serialized FunctionProto. */
    public Builder function(byte[] functionProto) {
      functions.add(functionProto);
      return this;
    }

    public Builder input(ValueInfo info) {
      inputs.add(info);
      return this;
    }

    /**
     * An input read from a model, with the ValueInfoProto it was read from and its type (which
     * may be one Systole has no {@link DType} for).
     */
    public Builder input(ValueInfo info, byte[] proto, ValueType type) {
      inputs.add(info);
      inputProtos.put(info.name(), proto);
      if (type != null) {
        inputTypes.put(info.name(), type);
      }
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

    /**
     * An initializer of a type Systole has no {@link DType} for, as its serialized TensorProto.
     */
    public Builder opaqueInitializer(String valueName, byte[] tensorProto, ValueType type) {
      opaqueInitializers.put(valueName, tensorProto);
      opaqueInitializerTypes.put(valueName, type);
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

    /**
     * A node of any domain ("" or "ai.onnx" is the default one); a node Systole does not
     * interpret is kept opaque.
     */
    public Builder node(String domain, String opType, String nodeName, List<String> in,
        List<String> out, Map<String, Attribute> attributes) {
      return node(domain, opType, nodeName, in, out, attributes, null);
    }

    /** A node read from a model, with where it came from ({@code source} may be null). */
    public Builder node(String domain, String opType, String nodeName, List<String> in,
        List<String> out, Map<String, Attribute> attributes, Source source) {
      nodes.add(new RawNode(domain, opType, nodeName, List.copyOf(in), List.copyOf(out),
          new LinkedHashMap<>(attributes), source));
      return this;
    }

    /**
     * Checks the graph and builds it.
     *
     * @throws ModelException for the first problem found, naming the node
     */
    public Graph build() {
      return build(Map.of());
    }

    private Graph build(Map<String, ValueType> external) {
      if (opset < 0) {
        throw new ModelException("the model imports opset " + opset + " of the default ONNX"
            + " domain (expected a positive version)");
      }
      List<String> names = nodeNames();
      List<Node> checked = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        checked.add(check(nodes.get(i), names.get(i)));
      }
      Map<String, ValueType> types = new HashMap<>();
      Set<String> values = new HashSet<>();
      for (ValueInfo in : inputs) {
        if (!values.add(in.name())) {
          throw new ModelException("input '" + in.name() + "' is declared twice");
        }
        if (initializers.containsKey(in.name()) || opaqueInitializers.containsKey(in.name())) {
          throw new ModelException("'" + in.name() + "' is both an input and an initializer"
              + " (expected one or the other)");
        }
        ValueType t = inputTypes.containsKey(in.name()) ? inputTypes.get(in.name())
            : in.dtype() == null ? null : ValueType.of(in.dtype());
        if (t != null) {
          types.put(in.name(), t);
        }
      }
      initializers.forEach((k, t) -> types.put(k, ValueType.of(t.dtype())));
      types.putAll(opaqueInitializerTypes);
      values.addAll(initializers.keySet());
      values.addAll(opaqueInitializers.keySet());
      List<Node> sorted = sort(checked, new HashSet<>(values));
      Map<String, Tensor> constants = new HashMap<>();
      for (int k = 0; k < sorted.size(); k++) {
        Node n = sorted.get(k);
        n.outputs().stream().filter(o -> !o.isEmpty()).forEach(values::add);
        DType[] out = null;
        if (n.known()) {
          DType[] in = new DType[n.inputs().size()];
          boolean typed = true;
          for (int i = 0; i < in.length; i++) {
            if (n.hasInput(i)) {
              ValueType t = types.get(n.input(i));
              in[i] = t == null ? null : t.dtype();
              typed &= in[i] != null;
            }
          }
          if (typed) {
            try {
              out = ShapeInference.dtypes(n, in);
            } catch (ModelException e) {
              n = n.opaque("its inputs are of types Systole does not compute it with: "
                  + e.getMessage());
              sorted.set(k, n);
            }
          } else {
            n = n.opaque("an input is of a type Systole does not compute with");
            sorted.set(k, n);
          }
        }
        for (int i = 0; i < n.outputs().size(); i++) {
          if (!n.hasOutput(i)) {
            continue;
          }
          ValueType t = out != null ? ValueType.of(out[i]) : external.get(n.output(i));
          if (t != null) {
            types.put(n.output(i), t);
          }
        }
        if (n.known() && n.opType().equals("Constant")) {
          constants.put(n.output(0), ShapeInference.constantValue(n));
        }
      }
      List<ValueInfo> outs = new ArrayList<>();
      for (String o : outputNames) {
        if (!values.contains(o)) {
          throw new ModelException("output '" + o + "' is not produced by any node, nor an input"
              + " or an initializer");
        }
        ValueType t = types.get(o);
        DType dt = t == null ? null : t.dtype();
        ValueInfo declared = declaredOutputs.get(o);
        if (declared != null && dt != null && declared.dtype() != null
            && declared.dtype() != dt) {
          throw new ModelException(String.format("output '%s' is declared %s but is %s",
              o, declared.dtype().label(), dt.label()));
        }
        outs.add(declared != null ? declared : ValueInfo.ofUnknownShape(o, dt));
      }
      Graph g = new Graph(this, sorted, outs, types, values, constants);
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

    /**
     * The node of {@code raw}: checked against Systole's definition of its op if it has one,
     * else opaque, saying why.
     */
    private Node check(RawNode raw, String nodeName) {
      String opaque = whyOpaque(raw);
      if (opaque != null) {
        Source src = raw.source;
        return new Node(raw.domain, raw.opType, nodeName, raw.inputs, raw.outputs,
            raw.attributes, 0, src == null ? null : src.proto(),
            src == null ? List.of() : src.implicitInputs(), opaque);
      }
      OpSchema s = OpSchemas.get(raw.opType);
      int version = s.resolve(opset);
      int[] arity = s.arity(version);
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      for (Map.Entry<String, Attribute> e : raw.attributes.entrySet()) {
        OpSchema.AttrSpec spec = s.attribute(e.getKey(), version).orElse(null);
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
      return new Node(raw.domain, raw.opType, nodeName, raw.inputs, raw.outputs, attrs, version,
          raw.source == null ? null : raw.source.proto(), List.of(), null);
    }

    /** Why Systole does not interpret {@code raw}, or null if it does. */
    private String whyOpaque(RawNode raw) {
      if (raw.source != null && raw.source.problem() != null) {
        return raw.source.problem();
      }
      if (!(raw.domain.isEmpty() || raw.domain.equals("ai.onnx"))) {
        return "an op of domain '" + raw.domain + "'";
      }
      OpSchema s = OpSchemas.get(raw.opType);
      if (s == null) {
        return "an op Systole does not interpret";
      }
      int v = s.resolve(opset);
      if (!s.implementsVersion(v)) {
        return v == 0 ? "not defined at opset " + opset : String.format("version %d, in force"
            + " at opset %d (Systole interprets versions %s)", v, opset, s.versionList());
      }
      for (String attr : raw.attributes.keySet()) {
        if (s.attribute(attr, v).isEmpty()) {
          return String.format("attribute '%s', which version %d of %s does not have (it has"
              + " %s)", attr, v, raw.opType, attributeNames(s, v));
        }
      }
      return null;
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
        for (String in : n.reads()) {
          if (given.contains(in)) {
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
