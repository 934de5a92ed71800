package dev.systole.host.quantize;

/** {@link RangeObserver.Method#MINMAX}: the extremes seen. */
final class MinMaxObserver implements RangeObserver {
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private long count;

  @Override
  public void observe(float[] values) {
    for (float v : values) {
      if (Float.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        count++;
      }
    }
  }

  @Override
  public long count() {
    return count;
  }

  @Override
  public QuantParams params() {
    return count == 0 ? new QuantParams(1f, 0) : QuantParams.ofRange(min, max);
  }
}
