package dev.systole.host.compile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Arithmetic;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How far the contract's integer softmax (VSOFTMAX, CONTRACT.md 7.7) and layer normalization
 * (VNORM, 7.8) are from float, measured on int8 rows: random rows of several lengths and scales,
 * and the adversarial ones (every value equal, one value dominant, the longest rows a group
 * holds, values at the ends of the int8 range). The error is taken in units of the output's
 * quantization step, against the float function of the dequantized inputs, rounded to the same
 * output grid: 0.5 is the least any int8 output can have, so what the integer arithmetic adds is
 * the rest. Prints the table CONTRACT.md 7.9 quotes, and holds each figure under a bound: one
 * step, except softmax on the adversarial rows, where a long row of values far below its
 * maximum loses the exponentials under the table's resolution (2^-14): two and a half steps.
 */
class IntegerNormAccuracyTest {
  private record Row(String name, int[] x) {}

  private static List<Row> rows(Random r) {
    List<Row> rows = new ArrayList<>();
    for (int n : new int[] {4, 16, 64, 384, 768, 4096}) {
      for (int t = 0; t < 6; t++) {
        int[] x = new int[n];
        int spread = 1 + r.nextInt(128);
        for (int i = 0; i < n; i++) {
          x[i] = Math.max(-128, Math.min(127, (int) Math.round(r.nextGaussian() * spread)));
        }
        rows.add(new Row("random " + n, x));
      }
    }
    for (int n : new int[] {1, 16, 768, 4096}) {
      int[] same = new int[n];
      java.util.Arrays.fill(same, 37);
      rows.add(new Row("all equal " + n, same));
      int[] dominant = new int[n];
      java.util.Arrays.fill(dominant, -128);
      dominant[n / 2] = 127;
      rows.add(new Row("one dominant " + n, dominant));
      int[] extremes = new int[n];
      for (int i = 0; i < n; i++) {
        extremes[i] = i % 2 == 0 ? -128 : 127;
      }
      rows.add(new Row("extremes " + n, extremes));
    }
    return rows;
  }

  @Test
  void softmaxIsWithinOneStepOfFloatAndTwoAndAHalfOnAdversarialRows() {
    Random r = new Random(1);
    StringBuilder report = new StringBuilder("integer softmax against float, in output steps"
        + " (1/256; 0.5 is rounding alone)\n");
    double worstAll = 0;
    double worstRandomAll = 0;
    for (double sx : new double[] {0.01, 0.05, 0.2}) {
      short[] table = new short[256];
      for (int d = 0; d < 256; d++) {
        table[d] = (short) Math.round(16384 * Math.exp(-d * sx));
      }
      double worstRandom = 0;
      double worstAdversarial = 0;
      for (Row row : rows(r)) {
        int n = row.x().length;
        int[] y = new int[n];
        Arithmetic.softmax(row.x(), n, table, -128, 1, 36, y);
        double max = Double.NEGATIVE_INFINITY;
        for (int v : row.x()) {
          max = Math.max(max, v * sx);
        }
        double sum = 0;
        for (int v : row.x()) {
          sum += Math.exp(v * sx - max);
        }
        double worst = 0;
        for (int i = 0; i < n; i++) {
          double p = Math.exp(row.x()[i] * sx - max) / sum;
          double want = Math.max(-128, Math.min(127, -128 + p * 256));
          worst = Math.max(worst, Math.abs(y[i] - want));
        }
        if (row.name().startsWith("random")) {
          worstRandom = Math.max(worstRandom, worst);
        } else {
          worstAdversarial = Math.max(worstAdversarial, worst);
        }
      }
      report.append(String.format(Locale.ROOT, "  input scale %.2f: random rows %.3f,"
          + " adversarial rows %.3f%n", sx, worstRandom, worstAdversarial));
      worstAll = Math.max(worstAll, Math.max(worstRandom, worstAdversarial));
      worstRandomAll = Math.max(worstRandomAll, worstRandom);
    }
    System.out.print(report);
    assertTrue(worstRandomAll <= 1.0 && worstAll <= 2.5, report.toString());
  }

  @Test
  void layerNormIsWithinOneStepOfFloat() {
    Random r = new Random(2);
    StringBuilder report = new StringBuilder("integer layer normalization against float, in"
        + " output steps (0.5 is rounding alone)\n");
    double worstAll = 0;
    for (double sx : new double[] {0.02, 0.1}) {
      double sy = 4.0 / 127;
      double worstRandom = 0;
      double worstAdversarial = 0;
      for (Row row : rows(r)) {
        int n = row.x().length;
        double[] gamma = new double[n];
        double[] beta = new double[n];
        for (int i = 0; i < n; i++) {
          gamma[i] = 0.5 + r.nextDouble();
          beta[i] = 0.3 * r.nextGaussian();
        }
        double eps = 1e-5;
        NormLayer l = NormLayer.of(gamma, beta, eps, sx, sy, 3);
        int[] y = new int[n];
        Arithmetic.layerNorm(row.x(), n, l.eps(), l.scale(), l.bias(), l.shift(), 3, y);
        double mean = 0;
        for (int v : row.x()) {
          mean += v * sx;
        }
        mean /= n;
        double var = 0;
        for (int v : row.x()) {
          var += (v * sx - mean) * (v * sx - mean);
        }
        var /= n;
        double worst = 0;
        for (int i = 0; i < n; i++) {
          double f = (row.x()[i] * sx - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
          double want = Math.max(-128, Math.min(127, 3 + f / sy));
          worst = Math.max(worst, Math.abs(y[i] - want));
        }
        if (row.name().startsWith("random")) {
          worstRandom = Math.max(worstRandom, worst);
        } else {
          worstAdversarial = Math.max(worstAdversarial, worst);
        }
      }
      report.append(String.format(Locale.ROOT, "  input scale %.2f: random rows %.3f,"
          + " adversarial rows %.3f%n", sx, worstRandom, worstAdversarial));
      worstAll = Math.max(worstAll, Math.max(worstRandom, worstAdversarial));
    }
    System.out.print(report);
    assertTrue(worstAll <= 1.0, report.toString());
  }
}
