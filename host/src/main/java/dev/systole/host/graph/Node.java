package dev.systole.host.graph;

import dev.systole.host.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One operation of a {@link Graph}: an ONNX op type, the names of the values it reads and writes,
 * and its attributes. Nodes come out of {@link Graph.Builder#build()} checked, with a name (a
 * synthesized {@code <opType>_<index>} when the model gave none), with every attribute the op
 * defines at the model's opset that has a default filled in, and with {@link #version()}, the
 * version of the op's definition in force at that opset, so code that runs a node never has to
 * know the opset or the defaults.
 *
 * <p>An input name that is the empty string is an optional input left out, as in ONNX; trailing
 * optional inputs may also simply be missing, and {@link #input(int)} answers "" for both.
 *
 * <p>A node Systole does not interpret (an op of another domain, one it has no definition of, a
 * version of a definition it does not implement, an attribute it cannot read, or a control-flow
 * op with subgraphs) is still a node of the graph: it is <em>opaque</em>, {@link #problem()}
 * says why, and it runs on the CPU engine from the bytes it was read from ({@link #proto()}),
 * which ONNX Runtime reads as the model gave them. Its {@link #implicitInputs()} are the values
 * of the enclosing graph that its subgraphs read, which order it and feed it like inputs.
 */
public final class Node {
  private final String opType;
  private final String name;
  private final List<String> inputs;
  private final List<String> outputs;
  private final Map<String, Attribute> attributes;
  private final int version;
  private final String domain;
  private final byte[] proto;
  private final List<String> implicitInputs;
  private final String problem;

  Node(String opType, String name, List<String> inputs, List<String> outputs,
      Map<String, Attribute> attributes, int version) {
    this("", opType, name, inputs, outputs, attributes, version, null, List.of(), null);
  }

  Node(String domain, String opType, String name, List<String> inputs, List<String> outputs,
      Map<String, Attribute> attributes, int version, byte[] proto, List<String> implicitInputs,
      String problem) {
    this.domain = domain.equals("ai.onnx") ? "" : domain;
    this.opType = opType;
    this.name = name;
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    this.version = version;
    this.proto = proto;
    this.implicitInputs = List.copyOf(implicitInputs);
    this.problem = problem;
  }

  /** The op's domain: "" for the default ONNX domain. */
  public String domain() {
    return domain;
  }

  /**
   * Why Systole does not interpret this node (it then runs only on the CPU engine), or null
   * for a node whose op Systole knows: checked, with defaults filled in and a {@link #version()}.
   */
  public String problem() {
    return problem;
  }

  /** Whether Systole interprets this node ({@link #problem()} is null). */
  public boolean known() {
    return problem == null;
  }

  /** This node made opaque, for {@code why}: it then runs on the CPU engine only. */
  Node opaque(String why) {
    return new Node(domain, opType, name, inputs, outputs, attributes, 0, proto, implicitInputs,
        why);
  }

  /** The NodeProto this node was read from, or null for a node built in Java. */
  public byte[] proto() {
    return proto;
  }

  /**
   * Values of the enclosing graph that this node's subgraphs read (an If's branches, a Loop's
   * body), in the order first read; empty for a node without subgraphs.
   */
  public List<String> implicitInputs() {
    return implicitInputs;
  }

  /** The inputs and the implicit inputs: every value this node reads, absent ones left out. */
  public List<String> reads() {
    List<String> r = new java.util.ArrayList<>();
    for (String in : inputs) {
      if (!in.isEmpty()) {
        r.add(in);
      }
    }
    r.addAll(implicitInputs);
    return r;
  }

  public String opType() {
    return opType;
  }

  public String name() {
    return name;
  }

  public List<String> inputs() {
    return inputs;
  }

  public List<String> outputs() {
    return outputs;
  }

  /** Input {@code i}'s value name, or "" if the input is absent. */
  public String input(int i) {
    return i < inputs.size() ? inputs.get(i) : "";
  }

  public boolean hasInput(int i) {
    return !input(i).isEmpty();
  }

  /** Output {@code i}'s value name, or "" if the output is not wanted. */
  public String output(int i) {
    return i < outputs.size() ? outputs.get(i) : "";
  }

  public boolean hasOutput(int i) {
    return !output(i).isEmpty();
  }

  /** The attributes by name, in the model's order, defaults included. */
  public Map<String, Attribute> attributes() {
    return attributes;
  }

  public Optional<Attribute> attribute(String name) {
    return Optional.ofNullable(attributes.get(name));
  }

  /**
   * The version of the op's definition this node follows, e.g. 13 for Softmax at opset 15; 0
   * for an opaque node.
   */
  public int version() {
    return version;
  }

  public long intAttr(String name) {
    return required(name, Attribute.Kind.INT).asInt();
  }

  public float floatAttr(String name) {
    return required(name, Attribute.Kind.FLOAT).asFloat();
  }

  public String stringAttr(String name) {
    return required(name, Attribute.Kind.STRING).asString();
  }

  public long[] intsAttr(String name) {
    return required(name, Attribute.Kind.INTS).asInts();
  }

  public Tensor tensorAttr(String name) {
    return required(name, Attribute.Kind.TENSOR).asTensor();
  }

  /** The ints attribute {@code name}, or {@code otherwise} if the node has none. */
  public long[] intsAttr(String name, long[] otherwise) {
    return attributes.containsKey(name) ? intsAttr(name) : otherwise;
  }

  private Attribute required(String attr, Attribute.Kind kind) {
    Attribute a = attributes.get(attr);
    if (a == null) {
      throw ModelException.atNode(this, "has no attribute '" + attr + "'");
    }
    if (a.kind() != kind) {
      throw ModelException.atNode(this, "attribute '" + attr + "' is " + a.kind().label()
          + " (expected " + kind.label() + ")");
    }
    return a;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Node n && domain.equals(n.domain) && opType.equals(n.opType)
        && name.equals(n.name)
        && inputs.equals(n.inputs) && outputs.equals(n.outputs)
        && attributes.equals(n.attributes) && version == n.version;
  }

  @Override
  public int hashCode() {
    return Objects.hash(opType, name, inputs, outputs, attributes, version);
  }

  /** {@code Conv node 'conv1'}, as error messages name nodes. */
  @Override
  public String toString() {
    return (domain.isEmpty() ? "" : domain + ".") + opType + " node '" + name + "'";
  }
}
