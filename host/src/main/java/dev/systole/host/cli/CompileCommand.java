package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Dim;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.partition.CompileReport;
import dev.systole.host.run.Model;
import dev.systole.host.partition.Plan;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole compile}: partition and quantize a model, and report where each node runs. */
@Command(name = "compile", mixinStandardHelpOptions = true,
    description = {"Partition an ONNX model between the device and the CPU, quantize its float"
        + " layers, and compile its device programs for a batch: prints the totals, or with"
        + " --report every node with where it runs (on the CPU: why not on the device), its"
        + " shapes and its estimated device cycles, or with --json all of it as JSON. The"
        + " summary gives device programs, CPU segments, host round trips per inference and"
        + " the share of the model's MACs on the device."})
final class CompileCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx model.")
  Path modelFile;

  @Mixin
  ModelFiles.CalibrationOptions calibration;

  @Option(names = "--report", description = "Print every node, not just the totals.")
  boolean report;

  @Option(names = "--json", description = "Print the report (every node and the summary) as"
      + " one JSON object.")
  boolean json;

  @Mixin
  ThreadsOption threads;

  @Option(names = "--shape", paramLabel = "NAME=DxDx...",
      description = "The shape of input NAME (for example tokens=2x128; NAME= alone for a"
          + " scalar), instead of its declared shape with --batch for its symbolic dimensions;"
          + " repeat for each input.")
  List<String> inputShapes;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "1",
      description = "Batch size, for the inputs' symbolic first dimensions (default 1).")
  int batch;

  @Option(names = "--params", paramLabel = "PARAM=VALUE,...",
      description = "Estimate for another build, for example ARRAY=8 (default: the contract's"
          + " default build).")
  String params;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (batch < 1) {
      throw new IllegalArgumentException("--batch " + batch + " (expected >= 1)");
    }
    DeviceParams p = params == null ? DeviceParams.defaults()
        : DeviceParams.defaults().with(params);
    threads.apply();
    PrintWriter say = json ? DeviceOption.silent() : out;
    Graph graph = ModelFiles.readModel(modelFile);
    Model model = calibration.model(graph, null, say);
    if (model == null) {
      say.println("no --calibration: placement and cycles are those of the quantized model;"
          + " the weights are quantized when it runs");
      model = Model.of(graph, Calibration.placeholder(graph));
    }
    Map<String, long[]> shapes = shapes(graph, batch, given(graph, inputShapes));
    Plan plan = model.planForShapes(shapes, p);
    CompileReport r = CompileReport.of(model.graph(), plan, p);
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("model", modelFile.toString());
      doc.put("graph", graph.name());
      doc.put("opset", graph.opset());
      doc.put("batch", batch);
      doc.put("array", p.arrayRows() + "x" + p.arrayCols());
      doc.put("clock_mhz", p.clockKhz() / 1000);
      doc.putAll(r.toMap());
      out.println(Json.write(doc));
      return ExitCodes.OK;
    }
    StringJoiner in = new StringJoiner(", ");
    shapes.forEach((name, shape) -> in.add(name + " " + Tensor.shapeString(shape)));
    out.printf(Locale.ROOT, "%s: %s, opset %d, inputs %s, for a %dx%d array at %d MHz%n",
        modelFile.getFileName(), graph.name(), graph.opset(), in, p.arrayRows(),
        p.arrayCols(), p.clockKhz() / 1000);
    if (report) {
      r.print(out);
    } else {
      r.printTotals(out);
    }
    return ExitCodes.OK;
  }

  /**
   * The input shapes given as {@code NAME=DxDx...}, by name.
   *
   * @throws IllegalArgumentException for an unknown input or a shape that is not whole
   *     numbers {@code >= 0} joined by x
   */
  static Map<String, long[]> given(Graph graph, List<String> specs) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    if (specs == null) {
      return shapes;
    }
    List<String> names = graph.inputs().stream().map(ValueInfo::name).toList();
    for (String spec : specs) {
      int eq = spec.lastIndexOf('=');
      String name = eq < 0 ? "" : spec.substring(0, eq);
      if (!names.contains(name)) {
        throw new IllegalArgumentException("--shape " + spec + ": the model has no input '"
            + name + "' (expected NAME=DxDx... with NAME one of " + names + ")");
      }
      String text = spec.substring(eq + 1);
      String[] dims = text.isEmpty() ? new String[0] : text.split("x", -1);
      long[] shape = new long[dims.length];
      for (int i = 0; i < dims.length; i++) {
        try {
          shape[i] = Long.parseLong(dims[i]);
        } catch (NumberFormatException e) {
          shape[i] = -1;
        }
        if (shape[i] < 0) {
          throw new IllegalArgumentException("--shape " + spec + ": dimension " + i + " is '"
              + dims[i] + "' (expected a whole number >= 0)");
        }
      }
      shapes.put(name, shape);
    }
    return shapes;
  }

  /** Each input's declared shape with its symbolic dimensions set to {@code batch}. */
  static Map<String, long[]> shapes(Graph graph, int batch) {
    return shapes(graph, batch, Map.of());
  }

  /** {@link #shapes(Graph, int)}, but the shapes in {@code given} for the inputs named there. */
  static Map<String, long[]> shapes(Graph graph, int batch, Map<String, long[]> given) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (ValueInfo in : graph.inputs()) {
      if (given.containsKey(in.name())) {
        shapes.put(in.name(), given.get(in.name()));
        continue;
      }
      if (!in.hasShape()) {
        throw new ModelException("input '" + in.name() + "' has no declared shape (expected"
            + " one to compile for: give it with --shape " + in.name() + "=DxDx...)");
      }
      long[] s = new long[in.shape().size()];
      for (int i = 0; i < s.length; i++) {
        Dim d = in.shape().get(i);
        s[i] = d.isKnown() ? d.value() : batch;
      }
      shapes.put(in.name(), s);
    }
    return shapes;
  }
}
