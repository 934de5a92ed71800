package dev.systole.host.quantize;

/**
 * {@link RangeObserver.Method#PERCENTILE}: a histogram of the values seen, from which the range
 * between two percentiles is read.
 *
 * <p>The histogram has a fixed number of equal bins over a range that grows as values arrive: when
 * a value falls outside, the bin width doubles and neighbouring bins merge, the old range becoming
 * the lower or the upper half of the new one. Counts are never spread over bins they were not in,
 * so memory is constant whatever the calibration set's size, and the percentile is exact to one
 * bin, 1/2048 of the final range at worst. The exact extremes are kept beside it, so a range never
 * reaches past a value that was actually seen.
 */
final class HistogramObserver implements RangeObserver {
  static final int BINS = 2048;

  private final double percentile;
  private final long[] counts = new long[BINS];
  private double lo;
  private double width;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private long count;

  /** {@code percentile} is the fraction kept at the top, for example 0.9999. */
  HistogramObserver(double percentile) {
    if (!(percentile > 0.5 && percentile <= 1)) {
      throw new IllegalArgumentException("percentile " + percentile
          + " (expected 0.5 < percentile <= 1)");
    }
    this.percentile = percentile;
  }

  @Override
  public void observe(float[] values) {
    double bmin = Double.POSITIVE_INFINITY;
    double bmax = Double.NEGATIVE_INFINITY;
    for (float v : values) {
      if (Float.isFinite(v)) {
        bmin = Math.min(bmin, v);
        bmax = Math.max(bmax, v);
      }
    }
    if (bmin > bmax) {
      return;
    }
    if (count == 0) {
      lo = bmin;
      width = Math.max((bmax - bmin) / BINS, Math.max(Math.ulp((float) bmin), Float.MIN_NORMAL));
    }
    while (bmin < lo) {
      grow(true);
    }
    while (bmax >= lo + width * BINS) {
      grow(false);
    }
    for (float v : values) {
      if (Float.isFinite(v)) {
        int b = (int) ((v - lo) / width);
        counts[Math.max(0, Math.min(BINS - 1, b))]++;
        count++;
      }
    }
    min = Math.min(min, bmin);
    max = Math.max(max, bmax);
  }

  /** Doubles the bin width; {@code downward} extends the range below, otherwise above. */
  private void grow(boolean downward) {
    int base = downward ? BINS / 2 : 0;
    long[] merged = new long[BINS];
    for (int i = 0; i < BINS / 2; i++) {
      merged[base + i] = counts[2 * i] + counts[2 * i + 1];
    }
    System.arraycopy(merged, 0, counts, 0, BINS);
    if (downward) {
      lo -= width * BINS;
    }
    width *= 2;
  }

  @Override
  public long count() {
    return count;
  }

  @Override
  public QuantParams params() {
    if (count == 0) {
      return new QuantParams(1f, 0);
    }
    double low = Math.max(min, quantile(1 - percentile));
    double high = Math.min(max, quantile(percentile));
    return QuantParams.ofRange(Math.min(low, high), Math.max(low, high));
  }

  /**
   * The value below which a fraction {@code q} of the observations lie, interpolated linearly
   * inside its bin.
   */
  double quantile(double q) {
    double target = q * count;
    long seen = 0;
    for (int b = 0; b < BINS; b++) {
      if (counts[b] > 0 && seen + counts[b] >= target) {
        double within = (target - seen) / counts[b];
        return lo + (b + within) * width;
      }
      seen += counts[b];
    }
    return lo + BINS * width;
  }
}
