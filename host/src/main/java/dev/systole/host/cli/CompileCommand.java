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
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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
    Plan plan = model.planForShapes(shapes(graph, batch), p);
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
    out.printf(Locale.ROOT, "%s: %s, opset %d, batch %d, for a %dx%d array at %d MHz%n",
        modelFile.getFileName(), graph.name(), graph.opset(), batch, p.arrayRows(),
        p.arrayCols(), p.clockKhz() / 1000);
    if (report) {
      r.print(out);
    } else {
      r.printTotals(out);
    }
    return ExitCodes.OK;
  }

  /** Each input's declared shape with its symbolic dimensions set to {@code batch}. */
  static Map<String, long[]> shapes(Graph graph, int batch) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (ValueInfo in : graph.inputs()) {
      if (!in.hasShape()) {
        throw new ModelException("input '" + in.name() + "' has no declared shape (expected"
            + " one to compile for; run the model with its inputs instead)");
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
