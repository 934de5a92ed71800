package dev.systole.host.quantize;

import dev.systole.host.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Locale;

/**
 * The checks one float calibration input passes before the model is run on it: it has values,
 * they are finite, and they vary. These are refusals because each one would make calibration
 * quantize the model silently wrong. Outliers are only reported: data with a few values far from
 * the rest can be real, and the user may want them covered, but with {@code minmax} they set the
 * whole range, so the user is told and pointed at {@code percentile}. Finding them needs two
 * percentiles of the data; they are taken from a strided sample of at most {@value #SAMPLE}
 * values so a large calibration set costs a bounded sort, while the extremes are exact.
 */
final class CalibrationData {
  private static final int SAMPLE = 1 << 20;
  /**
   * How many times wider than its central 99.98 % an input's range must be to be reported; the
   * values reported are those more than that central span beyond it.
   */
  private static final double OUTLIER_RATIO = 100;

  private CalibrationData() {}

  /**
   * Refuses calibration input {@code name} if it is empty, holds a NaN or an infinity, or is
   * one value throughout; returns a note when, under {@code method} minmax, a few outliers set
   * its range, else null.
   *
   * @throws IllegalArgumentException naming the input and what is wrong with it
   */
  static String check(String name, Tensor t, RangeObserver.Method method) {
    String what = "calibration data for input '" + name + "'";
    if (t.numel() == 0) {
      throw new IllegalArgumentException(what + " is empty (shape " + t.shapeString()
          + "; expected at least one sample)");
    }
    FiniteValues.require(what, t);
    FloatBuffer f = t.data().asFloatBuffer();
    int n = f.remaining();
    float min = f.get(0);
    float max = min;
    for (int i = 1; i < n; i++) {
      float v = f.get(i);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (min == max && n > 1) {
      throw new IllegalArgumentException(what + " is " + min + " throughout (shape "
          + t.shapeString() + "; expected the varied values the model will see, which set the"
          + " int8 ranges of every layer)");
    }
    if (method != RangeObserver.Method.MINMAX) {
      return null;
    }
    int stride = Math.max(1, n / SAMPLE);
    float[] sample = new float[(n + stride - 1) / stride];
    for (int i = 0, j = 0; i < n; i += stride) {
      sample[j++] = f.get(i);
    }
    Arrays.sort(sample);
    float lo = sample[(int) Math.ceil(0.0001 * (sample.length - 1))];
    float hi = sample[(int) Math.floor(0.9999 * (sample.length - 1))];
    double inner = (double) hi - lo;
    if (!(inner > 0) || (double) max - min <= OUTLIER_RATIO * inner) {
      return null;
    }
    long outside = 0;
    for (int i = 0; i < n; i++) {
      float v = f.get(i);
      if (v < lo - inner || v > hi + inner) {
        outside++;
      }
    }
    return String.format(Locale.ROOT, "%s: %d of its %d values lie far outside [%g, %g], where"
        + " the rest lie, reaching [%g, %g]; with minmax calibration they set the range of the"
        + " input and of the layers after it, and every other value gets coarser steps"
        + " (--calibration-method percentile clips them)", what, outside, n, lo, hi, min, max);
  }
}
