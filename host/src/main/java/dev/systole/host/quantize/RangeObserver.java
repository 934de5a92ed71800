package dev.systole.host.quantize;

import java.util.Locale;

/**
 * Watches the values one tensor takes over the calibration inputs and chooses the range its int8
 * codes should cover. Calibration runs the float model on the CPU and feeds every batch of every
 * activation to that tensor's observer; the quantizer then asks each for its {@link #params()}.
 */
public interface RangeObserver {
  /** How a range is chosen from the observed values. */
  enum Method {
    /** The smallest and largest value seen: nothing clips, and one outlier widens every step. */
    MINMAX,
    /**
     * The 0.01st and 99.99th percentiles: the rare outliers clip, and the other values get finer
     * steps.
     */
    PERCENTILE;

    /** The method named {@code minmax} or {@code percentile}, in any case. */
    public static Method parse(String name) {
      for (Method m : values()) {
        if (m.name().equalsIgnoreCase(name)) {
          return m;
        }
      }
      throw new IllegalArgumentException("calibration method '" + name
          + "' (expected minmax or percentile)");
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A new observer for {@code method}. */
  static RangeObserver create(Method method) {
    return method == Method.MINMAX ? new MinMaxObserver() : new HistogramObserver(0.9999);
  }

  /** Records the finite values of {@code values}; NaNs and infinities are ignored. */
  void observe(float[] values);

  /** How many finite values were observed. */
  long count();

  /** The range chosen, as quantization parameters; scale 1, zero point 0 before any value. */
  QuantParams params();
}
