package dev.systole.host.cli;

import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.run.Model;
import dev.systole.host.run.Progress;
import dev.systole.host.importer.Onnx;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.InputTypes;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options and file handling the model commands share: reading a model, tensors given as
 * {@code NAME=FILE.npy} (or just {@code FILE.npy} for a model with one input), and the
 * calibration that turns a float model into an int8 one.
 */
final class ModelFiles {
  private ModelFiles() {}

  /** {@code --calibration} and {@code --calibration-method}. */
  static final class CalibrationOptions {
    @Option(names = "--calibration", paramLabel = "[NAME=]FILE.npy",
        description = "Calibration inputs for a float model (NAME= may be left out for a model"
            + " with one input); repeat for each input.")
    List<String> files;

    @Option(names = "--calibration-method", paramLabel = "METHOD", defaultValue = "minmax",
        description = "How an activation's range is chosen: minmax (default), or percentile"
            + " (the 0.01st to 99.99th, for models whose activations have rare outliers).")
    String method;

    RangeObserver.Method method() {
      return RangeObserver.Method.parse(method);
    }

    boolean given() {
      return files != null && !files.isEmpty();
    }

    /**
     * The model quantized with the calibration files, or, without them and if the model needs
     * one, with {@code fallback} (saying so on {@code out}); null {@code fallback} and no files
     * give an uncalibrated model, whose float layers are placed as if calibrated.
     */
    Model model(Graph graph, Map<String, Tensor> fallback, PrintWriter out) throws IOException {
      if (!Model.needsCalibration(graph)) {
        return Model.of(graph, Calibration.none());
      }
      Progress progress = TerminalProgress.on(out);
      if (given()) {
        return calibrated(graph, tensors(graph, files, "--calibration", out), progress, out);
      }
      if (fallback == null) {
        return null;
      }
      long rows = fallback.values().stream().filter(t -> t.rank() > 0).mapToLong(t -> t.dim(0))
          .findFirst().orElse(1);
      out.printf("no --calibration: calibrating the float model on the %d input row%s given%n",
          rows, rows == 1 ? "" : "s");
      return calibrated(graph, fallback, progress, out);
    }

    private Model calibrated(Graph graph, Map<String, Tensor> data, Progress progress,
        PrintWriter out) {
      Calibration c = Calibration.run(graph, data, method(), progress);
      c.notes().forEach(out::println);
      return Model.of(graph, c);
    }
  }

  /**
   * The model in {@code file}, which ONNX Runtime must load too: every model Systole runs can
   * fall back to it, so a model it refuses is refused here, with its message. The values of
   * opaque nodes get the types ONNX Runtime infers.
   */
  static Graph readModel(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("model " + file + " is not a file (expected an .onnx"
          + " model)");
    }
    Graph graph = Onnx.read(file);
    CpuEngine.get().check(file);
    return GraphProbe.typed(graph);
  }

  /**
   * Tensors by input name from {@code NAME=FILE.npy} specs; a spec without a name is the model's
   * only input. A tensor of another element type than its input's is converted when that is
   * safe ({@link InputTypes}), saying so in one line on {@code out}.
   *
   * @throws IllegalArgumentException for an unknown name, a spec without a name when the model
   *     has several inputs, a name given twice, or a type that does not convert
   */
  static Map<String, Tensor> tensors(Graph graph, List<String> specs, String option,
      PrintWriter out) throws IOException {
    PrintWriter say = out;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    List<String> names = graph.inputs().stream().map(ValueInfo::name).toList();
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      String name;
      String file;
      if (eq < 0) {
        if (names.size() != 1) {
          throw new IllegalArgumentException(option + " " + spec + ": the model has "
              + names.size() + " inputs (expected NAME=FILE.npy with NAME one of " + names + ")");
        }
        name = names.get(0);
        file = spec;
      } else {
        name = spec.substring(0, eq);
        file = spec.substring(eq + 1);
      }
      if (!names.contains(name)) {
        throw new IllegalArgumentException(option + " " + spec + ": the model has no input '"
            + name + "' (expected one of " + names + ")");
      }
      if (tensors.containsKey(name)) {
        throw new IllegalArgumentException(option + ": input '" + name + "' is given twice");
      }
      Tensor t = Npy.read(Path.of(file));
      DType declared = graph.inputs().get(names.indexOf(name)).dtype();
      if (declared != null) {
        InputTypes.Converted c = InputTypes.convert(name, t, declared);
        if (c.note() != null) {
          say.println(c.note());
        }
        t = c.tensor();
      }
      tensors.put(name, t);
    }
    return tensors;
  }

  /** The index of the largest value of each row of a float32 {@code [N, C]} tensor. */
  static int[] argmax(Tensor logits) {
    int n = (int) logits.dim(0);
    int c = (int) (logits.numel() / n);
    float[] v = new float[(int) logits.numel()];
    logits.data().asFloatBuffer().get(v);
    int[] top = new int[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (v[i * c + j] > v[i * c + best]) {
          best = j;
        }
      }
      top[i] = best;
    }
    return top;
  }
}
