package dev.systole.host.cli;

import dev.systole.host.io.OutputFiles;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuModel;
import dev.systole.host.graph.Graph;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole run}: a model on a batch of inputs, outputs written as .npy files. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run an ONNX model on a device: its float layers quantized to int8 (from"
        + " --calibration, or from the inputs given), the layers the device runs on the"
        + " device and the rest on the CPU engine (ONNX Runtime). With --device cpu, the whole"
        + " model in float on the CPU engine, the reference. Writes each output as"
        + " DIR/<output name>.npy."})
final class RunCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx model.")
  Path modelFile;

  @Option(names = "--input", required = true, paramLabel = "NAME=FILE.npy",
      description = "A model input (NAME= may be left out for a model with one input); repeat"
          + " for each input.")
  List<String> inputs;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "Directory for the outputs (created if missing).")
  Path outDir;

  @Option(names = "--profile", description = "Print each device layer's cycles and"
      + " utilization, each CPU node's host time, and what stays loaded (programs per batch"
      + " size, card memory).")
  boolean profile;

  @Mixin
  ModelFiles.CalibrationOptions calibration;

  @Mixin
  DeviceOption device;

  @Mixin
  ThreadsOption threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    threads.apply();
    OutputFiles.checkDirectory("--out", outDir);
    Graph graph = ModelFiles.readModel(modelFile);
    Map<String, Tensor> in = ModelFiles.tensors(graph, inputs, "--input", out);
    if (device.cpu()) {
      return runOnCpu(out, graph, in);
    }
    Model model = calibration.model(graph, in, out);
    try (Session session = Session.owning(device.open(out));
        ModelRunner runner = ModelRunner.on(session, model)
            .reporting(TerminalProgress.on(spec.commandLine().getErr()))) {
      ModelRunner.Result r = profile ? runner.profile(in) : runner.run(in);
      writeOutputs(out, r.outputs());
      DeviceParams p = session.device().info().params();
      out.printf(Locale.ROOT, "%s on %s: %d device program%s, %,d device cycles (%.3f ms at %d"
          + " MHz), host wall time %.2f ms%n", modelFile.getFileName(), session.device().name(),
          r.devicePrograms(), r.devicePrograms() == 1 ? "" : "s", r.deviceCycles(),
          r.deviceCycles() * p.secondsPerCycle() * 1e3, p.clockKhz() / 1000,
          r.hostNanos() / 1e6);
      if (profile) {
        Profiles.print(out, r, p);
        Profiles.printLoaded(out, runner);
      }
    }
    return ExitCodes.OK;
  }

  /** The whole model in float on the CPU engine: the reference a user compares against. */
  private int runOnCpu(PrintWriter out, Graph graph, Map<String, Tensor> in) throws Exception {
    CpuEngine engine = CpuEngine.get();
    try (CpuModel cpu = CpuModel.load(graph, engine)) {
      long t0 = System.nanoTime();
      Map<String, Tensor> outputs = cpu.run(in);
      long nanos = System.nanoTime() - t0;
      writeOutputs(out, outputs);
      out.printf(Locale.ROOT, "%s on the cpu engine (ONNX Runtime, float, %d thread%s): host"
          + " wall time %.2f ms%n", modelFile.getFileName(), engine.threads(),
          engine.threads() == 1 ? "" : "s", nanos / 1e6);
    }
    return ExitCodes.OK;
  }

  /**
   * Writes each output as DIR/NAME.npy, whole or not at all, each to a file of its own
   * ({@link OutputFiles#names}), and says where.
   */
  private void writeOutputs(PrintWriter out, Map<String, Tensor> outputs) throws Exception {
    Map<String, Path> files = OutputFiles.names(outDir, outputs.keySet(), ".npy");
    for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
      Path file = files.get(e.getKey());
      OutputFiles.write(file, o -> Npy.write(o, e.getValue()));
      out.printf(Locale.ROOT, "%s: %s %s -> %s%n", e.getKey(), e.getValue().dtype().label(),
          e.getValue().shapeString(), file);
    }
  }
}
