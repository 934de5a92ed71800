package dev.systole.host.cpu;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.TensorInfo;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.graph.ValueType;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What Systole learns of a graph from the CPU engine where its own inference stops: the types of
 * the values opaque nodes produce (from ONNX Runtime's type inference, without running), their
 * shapes for given inputs (from a float run), and the values of nodes that compute only from
 * constants (constant folding, by running them). Each runs the model as written, without ONNX
 * Runtime's rewrites: what is measured is the model's own values, and asking a rewritten model
 * for an intermediate value can fail (ONNX Runtime 1.22 cannot return a Range output its
 * optimizer has rewritten).
 */
public final class GraphProbe {
  /** Ops whose output is not a function of their inputs: never folded. */
  private static final Set<String> RANDOM = Set.of("RandomNormal", "RandomUniform",
      "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli");

  private GraphProbe() {}

  /**
   * {@code g} with the type of every value that Systole's inference leaves open, as ONNX
   * Runtime infers it; {@code g} itself if there is none.
   */
  public static Graph typed(Graph g) {
    List<String> untyped = g.untypedValues();
    if (untyped.isEmpty()) {
      return g;
    }
    byte[] model = Onnx.slice(g, g.name(), g.nodes(), inputNames(g), untyped);
    CpuEngine engine = CpuEngine.get();
    Map<String, ValueType> types = new HashMap<>();
    try (CpuProgram p = engine.load(g.name() + " (type inference)", model,
        CpuEngine.Rewrites.NONE)) {
      Map<String, NodeInfo> info = p.outputInfo();
      for (String v : untyped) {
        NodeInfo i = info.get(v);
        ValueType t = i == null ? null : OrtTensors.type(i);
        if (t != null) {
          types.put(v, t);
        }
      }
    }
    return g.withTypes(types);
  }

  /**
   * The shapes of {@code wanted} values of {@code g} when it runs in float on {@code inputs}:
   * one run of the graph up to them. A value that is not a tensor gets no entry.
   */
  public static Map<String, long[]> shapes(Graph g, Map<String, Tensor> inputs,
      Collection<String> wanted) {
    if (wanted.isEmpty()) {
      return Map.of();
    }
    CpuEngine engine = CpuEngine.get();
    List<String> outs = new ArrayList<>(new LinkedHashSet<>(wanted));
    Map<String, long[]> shapes = new HashMap<>();
    byte[] model = Onnx.slice(g, g.name(), g.nodes(), inputNames(g), outs);
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try (CpuProgram p = engine.load(g.name() + " (shape inference)", model,
        CpuEngine.Rewrites.NONE)) {
      for (ValueInfo i : g.inputs()) {
        in.put(i.name(), OrtTensors.toOrt(engine, inputs.get(i.name())));
      }
      try (CpuProgram.Outputs r = p.run(in, outs)) {
        r.values().forEach((name, v) -> {
          if (v.getInfo() instanceof TensorInfo t) {
            shapes.put(name, t.getShape());
          }
        });
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
    return shapes;
  }

  /**
   * The values of the nodes of {@code g} that compute only from initializers and other such
   * nodes (a Transpose of a weight, a Constant), where something else reads them: ONNX Runtime
   * runs those nodes once. Values of types Systole does not compute with are left out.
   */
  public static Map<String, Tensor> constants(Graph g) {
    Set<String> constant = new HashSet<>(g.initializers().keySet());
    constant.addAll(g.opaqueInitializers().keySet());
    List<Node> foldable = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (!RANDOM.contains(n.opType()) && n.domain().isEmpty()
          && constant.containsAll(n.reads())) {
        foldable.add(n);
        n.outputs().stream().filter(o -> !o.isEmpty()).forEach(constant::add);
      }
    }
    Set<Node> folded = new HashSet<>(foldable);
    Set<String> wanted = new LinkedHashSet<>();
    Set<String> produced = new HashSet<>();
    foldable.forEach(n -> produced.addAll(n.outputs()));
    for (Node n : g.nodes()) {
      if (!folded.contains(n)) {
        n.reads().stream().filter(produced::contains).forEach(wanted::add);
      }
    }
    g.outputs().stream().map(ValueInfo::name).filter(produced::contains).forEach(wanted::add);
    wanted.removeIf(v -> g.dtype(v) == null);
    if (wanted.isEmpty()) {
      return Map.of();
    }
    List<String> outs = new ArrayList<>(wanted);
    Map<String, Tensor> values = new HashMap<>();
    byte[] model = Onnx.slice(g, g.name() + " (constants)", foldable, List.of(), outs);
    CpuEngine engine = CpuEngine.get();
    try (CpuProgram p = engine.load(g.name() + " (constant folding)", model,
        CpuEngine.Rewrites.NONE);
        CpuProgram.Outputs r = p.run(Map.of(), outs)) {
      for (Map.Entry<String, OnnxValue> e : r.values().entrySet()) {
        values.put(e.getKey(), OrtTensors.toTensor(e.getKey(), e.getValue()));
      }
    }
    return values;
  }

  /**
   * The shapes of {@code wanted} values that ONNX Runtime's static inference fixes when the
   * graph's inputs have {@code inputShapes}, without running it: a shape that follows from the
   * input shapes and the graph's constants alone. Values it cannot fix are left out.
   */
  public static Map<String, long[]> staticShapes(Graph g, Map<String, long[]> inputShapes,
      Collection<String> wanted) {
    List<String> outs = new ArrayList<>(new LinkedHashSet<>(wanted));
    outs.removeIf(v -> !g.hasValue(v) || g.dtype(v) == null);
    if (outs.isEmpty()) {
      return Map.of();
    }
    byte[] model = Onnx.slice(g, g.name(), g.nodes(), inputNames(g), outs, inputShapes);
    Map<String, long[]> shapes = new HashMap<>();
    try (CpuProgram p = CpuEngine.get().load(g.name() + " (shape inference)", model,
        CpuEngine.Rewrites.NONE)) {
      p.outputInfo().forEach((name, info) -> {
        if (info.getInfo() instanceof TensorInfo t
            && java.util.Arrays.stream(t.getShape()).allMatch(d -> d >= 0)) {
          shapes.put(name, t.getShape());
        }
      });
    }
    return shapes;
  }

  /**
   * The values {@code nodes} of {@code g} compute for {@code output} from each value of their one
   * non-constant input {@code input} in {@code at}: a function of one value, tabulated by one run
   * of ONNX Runtime over a vector of its arguments, so it means exactly what the model means.
   */
  public static float[] tabulate(Graph g, List<Node> nodes, String input, String output,
      float[] at) {
    CpuEngine engine = CpuEngine.get();
    byte[] model = Onnx.slice(g, g.name() + " (table)", nodes, List.of(input), List.of(output),
        Map.of(input, new long[] {at.length}));
    try (CpuProgram p = engine.load(g.name() + " (table of " + output + ")", model,
        CpuEngine.Rewrites.NONE);
        OnnxTensor x = OrtTensors.toOrt(engine, Tensor.ofFloat32(at, at.length));
        CpuProgram.Outputs r = p.run(Map.of(input, x), List.of(output))) {
      Tensor y = OrtTensors.toTensor(output, r.values().get(output));
      if (y.dtype() != DType.FLOAT32 || y.numel() != at.length) {
        throw new IllegalArgumentException("'" + output + "' is " + y.dtype() + " of "
            + y.numel() + " values for " + at.length + " arguments (expected float32, one value"
            + " per argument)");
      }
      float[] out = new float[at.length];
      for (int i = 0; i < at.length; i++) {
        out[i] = y.getFloat32(i);
      }
      return out;
    }
  }

  private static List<String> inputNames(Graph g) {
    return g.inputs().stream().map(ValueInfo::name).toList();
  }
}
