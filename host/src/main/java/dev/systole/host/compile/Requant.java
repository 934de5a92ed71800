package dev.systole.host.compile;

import java.util.Arrays;

/**
 * Requantization of a layer's int32 accumulators to int8, per output column: the contract's
 * REQUANT with {@code multiplier[j] * 2^-shift[j]} as the column's scale.
 */
public record Requant(int[] multiplier, int[] shift, int zeroPoint, boolean relu) {
  public Requant {
    if (multiplier.length != shift.length) {
      throw new IllegalArgumentException("requant: " + multiplier.length + " multipliers but "
          + shift.length + " shifts (expected one of each per output column)");
    }
    for (int j = 0; j < shift.length; j++) {
      if (shift[j] < 0 || shift[j] > 63) {
        throw new IllegalArgumentException("requant: shift[" + j + "] = " + shift[j]
            + " (expected 0 to 63)");
      }
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("requant: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    multiplier = multiplier.clone();
    shift = shift.clone();
  }

  /** The same multiplier and shift for all {@code columns}. */
  public static Requant uniform(int columns, int multiplier, int shift, int zeroPoint,
      boolean relu) {
    int[] m = new int[columns];
    int[] s = new int[columns];
    Arrays.fill(m, multiplier);
    Arrays.fill(s, shift);
    return new Requant(m, s, zeroPoint, relu);
  }

  @Override
  public int[] multiplier() {
    return multiplier.clone();
  }

  @Override
  public int[] shift() {
    return shift.clone();
  }

  int multiplier(int column) {
    return multiplier[column];
  }

  int shift(int column) {
    return shift[column];
  }

  public int columns() {
    return multiplier.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Requant r && Arrays.equals(multiplier, r.multiplier)
        && Arrays.equals(shift, r.shift) && zeroPoint == r.zeroPoint && relu == r.relu;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(multiplier) + Arrays.hashCode(shift) + 7 * zeroPoint
        + (relu ? 1 : 0);
  }
}
