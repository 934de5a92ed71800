package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Graph;
import dev.systole.host.model.Model;
import dev.systole.host.model.ModelRunner;
import dev.systole.host.runtime.Session;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
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
        + " device and the rest on the CPU. Writes each output as DIR/<output name>.npy"
        + " (float32 for float outputs)."})
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
      + " utilization and each CPU node's host time.")
  boolean profile;

  @Mixin
  ModelFiles.CalibrationOptions calibration;

  @Mixin
  DeviceOption device;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Graph graph = ModelFiles.readModel(modelFile);
    Map<String, Tensor> in = ModelFiles.tensors(graph, inputs, "--input", out);
    Model model = calibration.model(graph, in, out);
    Files.createDirectories(outDir);
    try (Session session = Session.owning(device.open(out));
        ModelRunner runner = ModelRunner.on(session, model)) {
      ModelRunner.Result r = profile ? runner.profile(in) : runner.run(in);
      for (Map.Entry<String, Tensor> e : r.outputs().entrySet()) {
        Path file = outDir.resolve(ModelFiles.fileName(e.getKey()));
        Npy.write(file, e.getValue());
        out.printf(Locale.ROOT, "%s: %s %s -> %s%n", e.getKey(),
            e.getValue().dtype().name().toLowerCase(Locale.ROOT), e.getValue().shapeString(),
            file);
      }
      DeviceParams p = session.device().info().params();
      out.printf(Locale.ROOT, "%s on %s: %d device program%s, %,d device cycles (%.3f ms at %d"
          + " MHz), host wall time %.2f ms%n", modelFile.getFileName(), session.device().name(),
          r.devicePrograms(), r.devicePrograms() == 1 ? "" : "s", r.deviceCycles(),
          r.deviceCycles() * p.secondsPerCycle() * 1e3, p.clockKhz() / 1000,
          r.hostNanos() / 1e6);
      if (profile) {
        Profiles.print(out, r, p);
      }
    }
    return ExitCodes.OK;
  }
}
