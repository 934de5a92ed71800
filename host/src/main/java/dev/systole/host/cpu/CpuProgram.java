package dev.systole.host.cpu;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.systole.host.graph.ModelException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One model loaded into the CPU engine: a whole model, or a CPU segment of one. A run takes
 * ONNX Runtime values by input name and gives the outputs asked for as {@link Outputs}, which
 * own them until closed, so a value can go on to the next segment without a copy.
 */
public final class CpuProgram implements AutoCloseable {
  private final String name;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final Set<String> inputs;
  private final Set<String> outputs;

  CpuProgram(String name, OrtEnvironment env, OrtSession session) throws OrtException {
    this.name = name;
    this.env = env;
    this.session = session;
    this.inputs = new LinkedHashSet<>(session.getInputNames());
    this.outputs = new LinkedHashSet<>(session.getOutputNames());
  }

  public String name() {
    return name;
  }

  /** The model's inputs, in its order. */
  public Set<String> inputs() {
    return inputs;
  }

  /** The model's outputs, in its order. */
  public Set<String> outputs() {
    return outputs;
  }

  /** What ONNX Runtime knows of each output: its type and shape, with -1 for what varies. */
  public Map<String, NodeInfo> outputInfo() {
    try {
      return session.getOutputInfo();
    } catch (OrtException e) {
      throw new IllegalStateException(name + ": " + clean(e.getMessage()), e);
    }
  }

  OrtEnvironment environment() {
    return env;
  }

  /** The values a run gave, by name; closing this releases them. */
  public static final class Outputs implements AutoCloseable {
    private final OrtSession.Result result;
    private final Map<String, OnnxValue> values = new LinkedHashMap<>();

    Outputs(OrtSession.Result result, List<String> names, Map<String, OnnxTensor> pinned) {
      this.result = result;
      for (String n : names) {
        values.put(n, pinned.containsKey(n) ? pinned.get(n) : result.get(n).orElseThrow());
      }
    }

    public Map<String, OnnxValue> values() {
      return values;
    }

    @Override
    public void close() {
      result.close();
    }
  }

  /**
   * Runs the model.
   *
   * @param in a value for each of {@link #inputs()}
   * @param wanted the outputs to compute, each one of {@link #outputs()}
   * @throws ModelException if ONNX Runtime fails (a shape a node cannot take, say), with its
   *     message
   */
  public Outputs run(Map<String, ? extends OnnxTensorLike> in, List<String> wanted) {
    return run(in, wanted, Map.of());
  }

  /**
   * {@link #run(Map, List)}, writing the outputs in {@code pinned} into the tensors given
   * there (which the caller made, of the outputs' shapes and types, and closes) instead of
   * into memory of ONNX Runtime's: a value the device reads next is then already where the
   * host reads it from, without a copy.
   */
  public Outputs run(Map<String, ? extends OnnxTensorLike> in, List<String> wanted,
      Map<String, OnnxTensor> pinned) {
    for (String w : wanted) {
      if (!outputs.contains(w)) {
        throw new IllegalArgumentException(name + " has no output '" + w + "' (its outputs: "
            + outputs + ")");
      }
    }
    Set<String> allocated = new LinkedHashSet<>(wanted);
    allocated.removeAll(pinned.keySet());
    try {
      return new Outputs(pinned.isEmpty() ? session.run(in, allocated)
          : session.run(in, allocated, pinned), wanted, pinned);
    } catch (OrtException e) {
      throw new ModelException(name + ": ONNX Runtime failed: " + clean(e.getMessage()));
    }
  }

  /** ONNX Runtime's message without its error-code prefix. */
  static String clean(String message) {
    if (message == null) {
      return "no message";
    }
    return message.replaceFirst("^Error code - ORT_[A-Z_]+ - message: ", "").strip();
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(name + ": closing: " + clean(e.getMessage()), e);
    }
  }
}
