package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.run.Example;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.partition.Plan;
import dev.systole.host.importer.Onnx;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bundled Fashion-MNIST CNN quantized to int8 and run on the emulator: on the 1000 bundled
 * test images its top-1 accuracy is within 1 point of the float model's (ONNX Runtime's, which the
 * example recorded when it was made), its predictions agree with ONNX Runtime's, and its logits
 * stay within a bound of ONNX Runtime's. The whole network is one device program.
 */
@ExtendWith(LeakCheckExtension.class)
class ExampleAccuracyTest {
  /** The largest logit error, as a fraction of ONNX Runtime's logit range. */
  static final double LOGIT_BOUND = 0.05;

  @Test
  void int8TopOneIsWithinOnePointOfFp32() {
    Example ex = Example.bundled();
    Graph graph = ex.model();
    Tensor input = ex.toInput(ex.testImages());
    int[] labels = ex.testLabels();
    Tensor reference;
    try (OrtReference ort = OrtReference.load("fashion-mnist", Onnx.write(graph))) {
      reference = ort.run(Map.of(ex.inputName(), input)).get(ex.outputName());
    }
    for (RangeObserver.Method method : RangeObserver.Method.values()) {
      Model model = Model.of(graph, Calibration.run(graph, Map.of(ex.inputName(),
          ex.calibration()), method));
      Tensor logits;
      try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
          ModelRunner runner = ModelRunner.on(s, model)) {
        ModelRunner.Result r = runner.run(Map.of(ex.inputName(), input));
        logits = r.outputs().get(ex.outputName());
        assertEquals(1, r.devicePrograms(), "the CNN is one device program");
        Plan plan = model.plan(Map.of(ex.inputName(), input), s.device().info().params());
        assertTrue(graph.nodes().stream().noneMatch(n -> plan.placement(n).where()
            == Plan.Where.CPU), "no node of the example runs on the cpu");
      }
      int[] ort = top(reference);
      int[] int8 = top(logits);
      double fp32Accuracy = accuracy(ort, labels);
      double int8Accuracy = accuracy(int8, labels);
      int agree = 0;
      for (int i = 0; i < labels.length; i++) {
        agree += ort[i] == int8[i] ? 1 : 0;
      }
      double worst = 0;
      float lo = Float.MAX_VALUE;
      float hi = -Float.MAX_VALUE;
      for (int i = 0; i < reference.numel(); i++) {
        worst = Math.max(worst, Math.abs(reference.getFloat32(i) - logits.getFloat32(i)));
        lo = Math.min(lo, reference.getFloat32(i));
        hi = Math.max(hi, reference.getFloat32(i));
      }
      double rel = worst / (hi - lo);
      System.out.printf(Locale.ROOT, "fashion-mnist, %s calibration: int8 top-1 %.1f %%, fp32"
          + " (ONNX Runtime) %.1f %%, %d of %d predictions agree, largest logit error %.2f %% of"
          + " the logit range%n", method.label(), int8Accuracy, fp32Accuracy, agree,
          labels.length, rel * 100);
      assertEquals(ex.recordedFp32Accuracy(), fp32Accuracy, 0.05,
          "ONNX Runtime scores the float model as recorded");
      assertTrue(int8Accuracy >= fp32Accuracy - 1.0, String.format(Locale.ROOT, "%s: int8 %.1f %%"
          + " vs fp32 %.1f %% (expected within 1 point)", method.label(), int8Accuracy,
          fp32Accuracy));
      assertTrue(agree >= 0.98 * labels.length, method.label() + ": " + agree
          + " predictions agree with ONNX Runtime's");
      assertTrue(rel <= LOGIT_BOUND, String.format(Locale.ROOT, "%s: logit error %.2f %% of the"
          + " range (bound %.0f %%)", method.label(), rel * 100, LOGIT_BOUND * 100));
    }
  }

  static int[] top(Tensor logits) {
    int n = (int) logits.dim(0);
    int c = (int) logits.dim(1);
    int[] top = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 1; j < c; j++) {
        top[i] = logits.getFloat32((long) i * c + j) > logits.getFloat32((long) i * c + top[i])
            ? j : top[i];
      }
    }
    return top;
  }

  static double accuracy(int[] predicted, int[] labels) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += predicted[i] == labels[i] ? 1 : 0;
    }
    return 100.0 * correct / labels.length;
  }
}
