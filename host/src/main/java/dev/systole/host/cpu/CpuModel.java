package dev.systole.host.cpu;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Inputs;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole model run in float by the CPU engine, as written: the reference a user compares the
 * device's int8 results with ({@code systole run --device cpu}), and what the demo scores the
 * float model with.
 */
public final class CpuModel implements AutoCloseable {
  private final Graph graph;
  private final CpuEngine engine;
  private final CpuProgram program;
  private final List<String> outputs;

  private CpuModel(Graph graph, CpuEngine engine, CpuProgram program) {
    this.graph = graph;
    this.engine = engine;
    this.program = program;
    this.outputs = graph.outputs().stream().map(ValueInfo::name).toList();
  }

  /**
   * {@code graph} loaded into {@code engine}.
   *
   * @throws dev.systole.host.graph.ModelException if ONNX Runtime refuses it
   */
  public static CpuModel load(Graph graph, CpuEngine engine) {
    return load(graph, engine, CpuEngine.Rewrites.FULL);
  }

  /** {@code graph} loaded into {@code engine} with the {@code rewrites} given. */
  public static CpuModel load(Graph graph, CpuEngine engine, CpuEngine.Rewrites rewrites) {
    return new CpuModel(graph, engine, engine.load(graph.name(), Onnx.write(graph), rewrites));
  }

  public Graph graph() {
    return graph;
  }

  /**
   * The outputs for {@code inputs} (one tensor per graph input, by name), by name in the model's
   * order.
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    Inputs.check(graph, inputs);
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      for (ValueInfo i : graph.inputs()) {
        Tensor t = inputs.get(i.name());
        if (t == null) {
          throw new IllegalArgumentException("no tensor given for input '" + i.name()
              + "' (expected " + i.typeString() + ")");
        }
        in.put(i.name(), OrtTensors.toOrt(engine, t));
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      try (CpuProgram.Outputs r = program.run(in, outputs)) {
        for (Map.Entry<String, OnnxValue> e : r.values().entrySet()) {
          out.put(e.getKey(), OrtTensors.toTensor(e.getKey(), e.getValue()));
        }
      }
      return out;
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() {
    program.close();
  }
}
