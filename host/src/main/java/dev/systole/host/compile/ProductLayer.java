package dev.systole.host.compile;

/**
 * The product of two activations, batched: for each of {@code batches} matrices, {@code C = A B}
 * with A {@code m x k} and B {@code k x n}, both int8 with zero point 0 (the array has no
 * zero-point correction, CONTRACT.md 11.9), requantized to int8: attention's {@code Q K^T} and
 * {@code P V}. Each operand is read where a view of its buffer puts it, so the transposes and
 * head splits around attention are addressing, not copies:
 *
 * <ul>
 *   <li>A's element (g, i, l) is byte {@code aBase[g] + i * aRow + l} of its input;
 *   <li>B's element (g, l, j) is byte {@code bBase[g] + l * bK + j * bN}; one of bK and bN is 1:
 *       with bN = 1, B's rows load into WBUF as they are; with bK = 1 (a transposed view, as
 *       Kᵀ is of K), its columns load into ABUF and VTRANS makes them weight tiles;
 *   <li>C's element (g, i, j) is byte {@code cBase[g] + i * cRow + j} of the output.
 * </ul>
 *
 * Offsets are over the whole run of {@code rows} rows the program was made for: a product
 * couples the rows of a sequence, so it runs at that batch only. The output is {@code rows} rows
 * of {@code outFeatures} bytes; every one is written.
 */
public record ProductLayer(int rows, int outFeatures, int m, int k, int n, long[] aBase,
    long aRow, long[] bBase, long bK, long bN, long[] cBase, long cRow, int multiplier,
    int shift, int zeroPoint) implements DeviceLayer {
  public ProductLayer {
    if (rows < 1 || outFeatures < 1 || m < 1 || k < 1 || n < 1) {
      throw new IllegalArgumentException("product of " + m + "x" + k + " by " + k + "x" + n
          + " into " + rows + " rows of " + outFeatures + " (expected every size >= 1)");
    }
    int g = aBase.length;
    if (g < 1 || bBase.length != g || cBase.length != g) {
      throw new IllegalArgumentException("product with " + aBase.length + ", " + bBase.length
          + " and " + cBase.length + " matrix offsets (expected one of each per batch)");
    }
    if (bK != 1 && bN != 1) {
      throw new IllegalArgumentException("product whose B has strides " + bK + " and " + bN
          + " (expected its rows or its columns contiguous)");
    }
    if ((long) g * m * n != (long) rows * outFeatures) {
      throw new IllegalArgumentException("product of " + g + " matrices of " + m + "x" + n
          + " into " + rows + " rows of " + outFeatures + " (expected every output byte"
          + " written once)");
    }
    if (shift < 0 || shift > 63 || zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("product: shift " + shift + ", zero point "
          + zeroPoint + " (expected 0 to 63 and -128 to 127)");
    }
    aBase = aBase.clone();
    bBase = bBase.clone();
    cBase = cBase.clone();
  }

  public int batches() {
    return aBase.length;
  }

  @Override
  public long[] aBase() {
    return aBase.clone();
  }

  @Override
  public long[] bBase() {
    return bBase.clone();
  }

  @Override
  public long[] cBase() {
    return cBase.clone();
  }

  /** Multiply-accumulates of the product. */
  public long macs() {
    return (long) batches() * m * k * n;
  }

  @Override
  public String describe() {
    return "product " + batches() + "x(" + m + "x" + k + " by " + k + "x" + n + ")";
  }
}
