package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuModel;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole bench model}: a model's throughput and latency on a device. */
@Command(name = "model", mixinStandardHelpOptions = true,
    description = {"Run a model many times on a random batch and print throughput (samples per"
        + " second) and latency per batch (median, p99), with device cycles and utilization."
        + " Float inputs are uniform in [0, 1), integer ones 0 or 1 (valid indices); a float"
        + " model is calibrated on the batch unless --calibration is given. With --device cpu,"
        + " the float model in the CPU engine, for comparison."})
final class BenchModelCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx model.")
  Path modelFile;

  @Mixin
  DeviceOption device;

  @Mixin
  ThreadsOption threads;

  @Mixin
  ModelFiles.CalibrationOptions calibration;

  @Option(names = "--batch", defaultValue = "1", description = "Batch size (default 1).")
  int batch;

  @Option(names = "--shape", paramLabel = "NAME=DxDx...",
      description = "The shape of input NAME (for example x=1x128x64, a sequence of 128), instead"
          + " of its declared shape with --batch for its symbolic dimensions; repeat for each"
          + " input. The batch is then the first dimension of the first input.")
  List<String> inputShapes;

  @Option(names = "--iterations", defaultValue = "20", description = "Measured runs"
      + " (default 20).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "3", description = "Unmeasured runs first"
      + " (default 3).")
  int warmup;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (batch < 1 || iterations < 1 || warmup < 0) {
      throw new IllegalArgumentException(String.format("--batch %d --iterations %d --warmup %d"
          + " (expected batch and iterations >= 1, warmup >= 0)", batch, iterations, warmup));
    }
    PrintWriter say = json ? DeviceOption.silent() : out;
    threads.apply();
    Graph graph = ModelFiles.readModel(modelFile);
    Map<String, long[]> given = CompileCommand.given(graph, inputShapes);
    Map<String, Tensor> inputs = randomInputs(graph, batch, given);
    String first = graph.inputs().isEmpty() ? null : graph.inputs().get(0).name();
    if (first != null && given.containsKey(first) && given.get(first).length > 0) {
      batch = Math.toIntExact(Math.max(1, given.get(first)[0]));
    }
    if (device.cpu()) {
      return benchCpu(out, graph, inputs);
    }
    Model model = calibration.model(graph, inputs, say);
    try (Session session = Session.owning(device.open(say));
        ModelRunner runner = ModelRunner.on(session, model)) {
      for (int i = 0; i < warmup; i++) {
        runner.run(inputs);
      }
      BenchRuns<ModelRunner.Result> measured = BenchRuns.measure(iterations,
          () -> runner.run(inputs), ModelRunner.Result::hostNanos,
          r -> r.hostNanos() - r.deviceNanos());
      ModelRunner.Result last = measured.last();
      DeviceParams p = session.device().info().params();
      double throughput = batch / (measured.wall(50) / 1e9);
      double util = BenchRuns.utilization(last.usefulMacs(), last.deviceCycles(), p);
      double deviceSeconds = last.deviceCycles() * p.secondsPerCycle();
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.putAll(BenchRuns.deviceJson(session.device()));
        doc.put("device_programs", last.devicePrograms());
        doc.putAll(BenchRuns.cyclesJson(last.deviceCycles(), util, p));
        doc.put("loaded", loadedJson(runner));
        out.println(Json.writeCompact(json(doc, throughput, measured)));
      } else {
        measured.printHeadline(out, "model " + modelFile.getFileName() + ", batch " + batch,
            session.device());
        out.printf(Locale.ROOT, "  throughput         %.1f samples/s (batch / median latency)%n",
            throughput);
        out.printf(Locale.ROOT, "  latency            %s per batch%n", measured.wallTimes());
        out.printf(Locale.ROOT, "  device             %,d cycles in %d program%s per batch,"
            + " %.3f ms at %d MHz%n", last.deviceCycles(), last.devicePrograms(),
            last.devicePrograms() == 1 ? "" : "s", deviceSeconds * 1e3, p.clockKhz() / 1000);
        BenchRuns.printUtilization(out, util, p);
        Profiles.printLoaded(out, runner);
      }
    }
    return ExitCodes.OK;
  }

  /** What the runner keeps loaded, as {@link Profiles#printLoaded} says it. */
  private static Map<String, Object> loadedJson(ModelRunner runner) {
    List<Object> plans = new ArrayList<>();
    for (ModelRunner.LoadedPlan l : runner.loaded()) {
      Map<String, Object> plan = new LinkedHashMap<>();
      plan.put("inputs", l.inputs());
      plan.put("device_graphs", l.deviceGraphs());
      plan.put("batches", l.batches());
      plan.put("weight_bytes", l.residentBytes());
      plan.put("program_bytes", l.programBytes());
      plan.put("cpu_programs", l.cpuPrograms());
      plans.add(plan);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("limit", runner.session().programLimit());
    doc.put("plans", plans);
    return doc;
  }

  /** The float model in the CPU engine: the reference the device's figures compare with. */
  private int benchCpu(PrintWriter out, Graph graph, Map<String, Tensor> inputs) {
    CpuEngine engine = CpuEngine.get();
    try (CpuModel cpu = CpuModel.load(graph, engine)) {
      for (int i = 0; i < warmup; i++) {
        cpu.run(inputs);
      }
      BenchRuns<Long> measured = BenchRuns.measure(iterations, () -> {
        long t0 = System.nanoTime();
        cpu.run(inputs);
        return System.nanoTime() - t0;
      }, t -> t, t -> t);
      double throughput = batch / (measured.wall(50) / 1e9);
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", DeviceOption.CPU);
        doc.put("threads", engine.threads());
        out.println(Json.writeCompact(json(doc, throughput, measured)));
      } else {
        out.printf(Locale.ROOT, "bench model %s, batch %d on the cpu engine (ONNX Runtime,"
            + " float, %d thread%s), %d iterations%n", modelFile.getFileName(), batch,
            engine.threads(), engine.threads() == 1 ? "" : "s", iterations);
        out.printf(Locale.ROOT, "  throughput         %.1f samples/s (batch / median latency)%n",
            throughput);
        out.printf(Locale.ROOT, "  latency            %s per batch%n", measured.wallTimes());
      }
    }
    return ExitCodes.OK;
  }

  /**
   * The JSON object of a bench: the model and batch, then {@code where} (the device or the CPU
   * engine), then the figures.
   */
  private Map<String, Object> json(Map<String, Object> where, double throughput,
      BenchRuns<?> measured) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("bench", "model");
    doc.put("model", modelFile.getFileName().toString());
    doc.put("batch", batch);
    doc.putAll(where);
    doc.put("throughput_per_second", throughput);
    doc.put("latency_median_seconds", measured.wall(50) / 1e9);
    doc.put("latency_p99_seconds", measured.wall(99) / 1e9);
    doc.put("iterations", iterations);
    return doc;
  }

  /**
   * A random batch for each input: its shape in {@code given}, else its declared shape with
   * symbolic dimensions = batch.
   */
  static Map<String, Tensor> randomInputs(Graph graph, int batch, Map<String, long[]> given) {
    Random r = new Random(42);
    Map<String, long[]> shapes = CompileCommand.shapes(graph, batch, given);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (ValueInfo in : graph.inputs()) {
      Tensor t = Tensor.allocate(in.dtype(), shapes.get(in.name()));
      ByteBuffer b = t.data();
      if (in.dtype() == DType.FLOAT32) {
        for (int i = 0; i < t.numel(); i++) {
          b.putFloat(4 * i, r.nextFloat());
        }
      } else if (in.dtype() == DType.INT8 || in.dtype() == DType.UINT8) {
        byte[] bytes = new byte[(int) t.numel()];
        r.nextBytes(bytes);
        b.put(bytes);
      } else if (in.dtype() == DType.INT64 || in.dtype() == DType.INT32
          || in.dtype() == DType.BOOL) {
        for (int i = 0; i < t.numel(); i++) {
          switch (in.dtype()) {
            case INT64 -> t.setInt64(i, r.nextInt(2));
            case INT32 -> t.setInt32(i, r.nextInt(2));
            default -> t.setBool(i, r.nextBoolean());
          }
        }
      } else {
        throw new IllegalArgumentException("input '" + in.name() + "' is " + in.typeString()
            + " (expected float32, int8, uint8, int32, int64 or bool to make random data for)");
      }
      out.put(in.name(), t);
    }
    return out;
  }
}
