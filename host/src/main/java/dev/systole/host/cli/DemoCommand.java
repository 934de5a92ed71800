package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuModel;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.run.Example;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code systole demo}: the bundled Fashion-MNIST CNN, quantized to int8 and run on a device,
 * scored against the float model on the CPU.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the bundled example, a small CNN on Fashion-MNIST: quantize it to int8"
        + " with the bundled calibration slice, run the bundled test images on the device"
        + " (a board if present, else the emulator), and print the int8 model's top-1 accuracy"
        + " next to the float model's (run on the CPU), images per second and device"
        + " utilization. Exits 1 if the int8 accuracy is more than 1 point below the float"
        + " model's."})
final class DemoCommand implements Callable<Integer> {
  /** The most accuracy, in points, quantization may lose before the demo fails. */
  static final double TOLERANCE = 1.0;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--calibration-method", paramLabel = "METHOD", defaultValue = "minmax",
      description = "minmax (default) or percentile.")
  String method;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Example ex = Example.bundled();
    Graph graph = ex.model();
    Tensor images = ex.testImages();
    int[] labels = ex.testLabels();
    Tensor input = ex.toInput(images);
    int n = labels.length;
    out.printf(Locale.ROOT, "demo: %s, %d test images, %d classes%n", ex.name(), n,
        ex.classes().size());
    long t0 = System.nanoTime();
    Calibration cal = Calibration.run(graph, Map.of(ex.inputName(), ex.calibration()),
        dev.systole.host.quantize.RangeObserver.Method.parse(method));
    long calNanos = System.nanoTime() - t0;
    Model model = Model.of(graph, cal);
    Tensor fpLogits;
    long fpNanos;
    try (CpuModel fp = CpuModel.load(graph, CpuEngine.get())) {
      t0 = System.nanoTime();
      fpLogits = fp.run(Map.of(ex.inputName(), input)).get(ex.outputName());
      fpNanos = System.nanoTime() - t0;
    }
    double fpAccuracy = accuracy(ModelFiles.argmax(fpLogits), labels);
    try (Session session = Session.owning(device.open(out));
        ModelRunner runner = ModelRunner.on(session, model)) {
      ModelRunner.Result first = runner.run(Map.of(ex.inputName(), input));
      ModelRunner.Result r = runner.run(Map.of(ex.inputName(), input));
      int[] top = ModelFiles.argmax(r.outputs().get(ex.outputName()));
      double accuracy = accuracy(top, labels);
      int agree = 0;
      int[] fpTop = ModelFiles.argmax(fpLogits);
      for (int i = 0; i < n; i++) {
        agree += top[i] == fpTop[i] ? 1 : 0;
      }
      DeviceParams p = session.device().info().params();
      double util = r.deviceCycles() == 0 ? 0 : r.usefulMacs() / ((double) r.deviceCycles()
          * p.macsPerCycle());
      out.printf(Locale.ROOT, "  calibration       %d images, %s, %.2f s%n", cal.samples(),
          cal.method().label(), calNanos / 1e9);
      out.printf(Locale.ROOT, "  top-1 accuracy    int8 on %s %.1f %%, fp32 on the cpu %.1f %%"
          + " (%d of %d predictions agree)%n", session.device().name(), accuracy, fpAccuracy,
          agree, n);
      out.printf(Locale.ROOT, "  throughput        %.0f images/s on the host (%.2f s for %d"
          + " images; the first run, which also quantizes and compiles, took %.2f s; fp32 on"
          + " the cpu took %.2f s)%n", n / (r.hostNanos() / 1e9), r.hostNanos() / 1e9, n,
          first.hostNanos() / 1e9, fpNanos / 1e9);
      out.printf(Locale.ROOT, "  device            %,d cycles in %d program%s (%d run%s):"
          + " %.2f ms at %d MHz, %.0f images/s of device time%n", r.deviceCycles(),
          r.devicePrograms(), r.devicePrograms() == 1 ? "" : "s", r.deviceRuns(),
          r.deviceRuns() == 1 ? "" : "s", r.deviceCycles() * p.secondsPerCycle() * 1e3,
          p.clockKhz() / 1000, n / (r.deviceCycles() * p.secondsPerCycle()));
      out.printf(Locale.ROOT, "  utilization       %.1f %% of the %dx%d array (useful MACs /"
          + " (cycles x %d))%n", util * 100, p.arrayRows(), p.arrayCols(), p.macsPerCycle());
      if (accuracy < fpAccuracy - TOLERANCE) {
        spec.commandLine().getErr().printf(Locale.ROOT, "systole demo: the int8 model's"
            + " accuracy %.1f %% is more than %.0f point below the fp32 model's %.1f %%%n",
            accuracy, TOLERANCE, fpAccuracy);
        return ExitCodes.CHECK_FAILED;
      }
    }
    return ExitCodes.OK;
  }

  static double accuracy(int[] predicted, int[] labels) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += predicted[i] == labels[i] ? 1 : 0;
    }
    return 100.0 * correct / labels.length;
  }
}
