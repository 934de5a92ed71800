package dev.systole.host.quantize;

import dev.systole.host.run.Progress;
import dev.systole.host.graph.Inputs;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuProgram;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.cpu.OrtTensors;
import dev.systole.host.importer.Onnx;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The quantization of every float value of a model, from running the float model in the CPU
 * engine over calibration inputs, with every float value it computes exposed as an output, and
 * watching the range each value takes (post-training static quantization). The calibration
 * batch is run in slices along its first axis, so a large set needs the memory of one slice,
 * and every float value (inputs and node outputs) gets an observer; the quantizer later picks
 * the ones it needs.
 *
 * <p>A model without float layers (an already quantized one) needs no calibration:
 * {@link #none()}.
 *
 * <p>The calibration data itself is checked here, the one place every caller's data passes:
 * a float input with no rows, a NaN or an infinity, or one value throughout is refused, naming
 * the input. Each would otherwise quantize something silently wrong: no rows leave every value
 * uncalibrated and the whole model on the CPU, non-finite values are skipped by the observers,
 * and a constant input gives ranges that say nothing of the data the model will see. A few
 * outliers far from the rest of an input are legal but widen every step with {@code minmax};
 * they are reported in {@link #notes()} rather than refused.
 */
public final class Calibration {
  /** Rows of the calibration batch run at once. */
  static final int SLICE = 32;

  private final Map<String, QuantParams> params;
  private final RangeObserver.Method method;
  private final long samples;
  private final List<String> notes;

  private Calibration(Map<String, QuantParams> params, RangeObserver.Method method,
      long samples, List<String> notes) {
    this.params = Collections.unmodifiableMap(params);
    this.method = method;
    this.samples = samples;
    this.notes = List.copyOf(notes);
  }

  /** No calibration: float layers then run on the CPU. */
  public static Calibration none() {
    return new Calibration(Map.of(), RangeObserver.Method.MINMAX, 0, List.of());
  }

  /**
   * The same unit quantization (scale 1, zero point 0) for every float value of {@code graph}:
   * enough to partition a model and estimate its device cycles, which do not depend on the
   * values, without calibration data. A model quantized with it computes nothing meaningful.
   */
  public static Calibration placeholder(Graph model) {
    Graph graph = GraphProbe.typed(model);
    Map<String, QuantParams> params = new LinkedHashMap<>();
    QuantParams unit = new QuantParams(1f, 0);
    for (ValueInfo in : graph.inputs()) {
      if (in.dtype() == DType.FLOAT32) {
        params.put(in.name(), unit);
      }
    }
    for (Node n : graph.nodes()) {
      for (String out : n.outputs()) {
        if (!out.isEmpty() && graph.dtype(out) == DType.FLOAT32) {
          params.put(out, unit);
        }
      }
    }
    return new Calibration(params, RangeObserver.Method.MINMAX, 0, List.of());
  }

  /**
   * Runs {@code graph} in float over {@code inputs} (one tensor per graph input; when they all
   * have the same first dimension, it is the number of samples and they are run in slices of it,
   * else they are run as one sample) and chooses each float value's range with {@code method}.
   *
   * @throws ModelException if an input is missing or does not fit the model
   * @throws IllegalArgumentException if a float input has no rows, holds a NaN or an infinity,
   *     or is one value throughout
   */
  public static Calibration run(Graph model, Map<String, Tensor> inputs,
      RangeObserver.Method method) {
    return run(model, inputs, method, Progress.NONE);
  }

  /** {@link #run(Graph, Map, RangeObserver.Method)}, saying how far it is on {@code progress}. */
  public static Calibration run(Graph model, Map<String, Tensor> inputs,
      RangeObserver.Method method, Progress progress) {
    Graph graph = GraphProbe.typed(model);
    long samples = -1;
    boolean sliceable = true;
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        throw new ModelException("no calibration data for input '" + in.name() + "' (expected "
            + in.typeString() + ")");
      }
      sliceable &= t.rank() > 0 && (samples < 0 || t.dim(0) == samples);
      samples = t.rank() > 0 ? t.dim(0) : 1;
    }
    if (!sliceable) {
      samples = 1;
    }
    Inputs.check(graph, inputs);
    List<String> notes = new ArrayList<>();
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t.dtype() == DType.FLOAT32) {
        String outlier = CalibrationData.check(in.name(), t, method);
        if (outlier != null) {
          notes.add(outlier);
        }
      }
    }
    List<String> inputNames = graph.inputs().stream().map(ValueInfo::name).toList();
    List<String> floats = new ArrayList<>();
    for (Node n : graph.nodes()) {
      for (String out : n.outputs()) {
        if (!out.isEmpty() && graph.dtype(out) == DType.FLOAT32) {
          floats.add(out);
        }
      }
    }
    Map<String, RangeObserver> observers = new LinkedHashMap<>();
    CpuEngine engine = floats.isEmpty() ? null : CpuEngine.get();
    try (CpuProgram program = floats.isEmpty() ? null : engine.load(graph.name()
        + " (calibration)", Onnx.slice(graph, graph.name(), graph.nodes(), inputNames,
        floats), CpuEngine.Rewrites.NONE)) {
      for (long from = 0; from < samples; from += SLICE) {
        long to = Math.min(samples, from + SLICE);
        Map<String, Tensor> slice = new LinkedHashMap<>();
        for (ValueInfo in : graph.inputs()) {
          Tensor t = sliceable ? Tensors.rows(inputs.get(in.name()), from, to)
              : inputs.get(in.name());
          slice.put(in.name(), t);
          observe(observers, in.name(), t, method);
        }
        if (program != null) {
          runSlice(engine, program, slice, floats, observers, method);
        }
        progress.update("calibration", to, samples);
      }
    }
    Map<String, QuantParams> params = new LinkedHashMap<>();
    observers.forEach((name, o) -> params.put(name, o.params()));
    return new Calibration(params, method, Math.max(0, samples), notes);
  }

  private static void runSlice(CpuEngine engine, CpuProgram program, Map<String, Tensor> slice,
      List<String> floats, Map<String, RangeObserver> observers, RangeObserver.Method method) {
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      slice.forEach((name, t) -> in.put(name, OrtTensors.toOrt(engine, t)));
      try (CpuProgram.Outputs r = program.run(in, floats)) {
        for (Map.Entry<String, OnnxValue> e : r.values().entrySet()) {
          if (e.getValue() instanceof OnnxTensor t) {
            float[] f = new float[Math.toIntExact(t.getInfo().getNumElements())];
            t.getFloatBuffer().get(f);
            observers.computeIfAbsent(e.getKey(), k -> RangeObserver.create(method)).observe(f);
          }
        }
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  private static void observe(Map<String, RangeObserver> observers, String name, Tensor t,
      RangeObserver.Method method) {
    if (t == null || t.dtype() != DType.FLOAT32) {
      return;
    }
    observers.computeIfAbsent(name, k -> RangeObserver.create(method))
        .observe(Tensors.floats(t));
  }

  /** The quantization of float value {@code value}, or null if it was not calibrated. */
  public QuantParams params(String value) {
    return params.get(value);
  }

  /** Every calibrated value's quantization, by name. */
  public Map<String, QuantParams> all() {
    return params;
  }

  public RangeObserver.Method method() {
    return method;
  }

  /** How many samples the calibration ran. */
  public long samples() {
    return samples;
  }

  /**
   * What the user should know about the calibration data that was not reason to refuse it:
   * inputs whose few outliers set their range.
   */
  public List<String> notes() {
    return notes;
  }

  public boolean isEmpty() {
    return params.isEmpty();
  }
}
