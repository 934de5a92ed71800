package dev.systole.host.tensor;

/**
 * Conversions between IEEE 754 binary16 (half precision, held as its 16 bits in a {@code short})
 * and Java's float and double, as JDK 20's {@code Float.float16ToFloat} and
 * {@code Float.floatToFloat16} do; the JDK this runtime targets (17) has neither.
 *
 * <p>Half to float is exact: every binary16 value, subnormals included, is a float. Float or
 * double to half rounds to nearest, ties to even, as NumPy's {@code astype(np.float16)} and the
 * hardware conversions do: magnitudes from 65520 up become infinity, and those below 2^-25 become
 * a signed zero. A double is rounded once, straight to half, because going through float first
 * would round twice and could land a value just above a tie on the tie and then round it the
 * wrong way. NaN stays NaN with its sign and the top ten bits of its payload, so a half NaN
 * survives a round trip through float bit for bit.
 */
final class Float16 {
  /** The largest finite binary16 value, 65504. */
  static final float MAX_VALUE = 65504f;

  private static final int SIGN = 0x8000;
  private static final int EXP_MASK = 0x7C00;
  private static final int MANT_BITS = 10;
  private static final int BIAS = 15;
  /** Double significand bits dropped to keep binary16's ten. */
  private static final int DROPPED = 52 - MANT_BITS;

  private Float16() {}

  /** The value of binary16 {@code bits}, exactly. */
  static float toFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h & SIGN) << 16;
    int exp = (h & EXP_MASK) >>> MANT_BITS;
    int mant = h & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F80_0000 | mant << (23 - MANT_BITS));
    }
    if (exp == 0) {
      float magnitude = mant * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | (exp - BIAS + 127) << 23 | mant << (23 - MANT_BITS));
  }

  /** {@code f} rounded to the nearest binary16, ties to even. */
  static short fromFloat(float f) {
    if (Float.isNaN(f)) {
      // From the bits: widening a signalling NaN to double may quieten it.
      int bits = Float.floatToRawIntBits(f);
      int low = bits & ((1 << (23 - MANT_BITS)) - 1);
      return (short) ((bits >>> 16) & SIGN | EXP_MASK | (bits & 0x7F_FFFF) >>> (23 - MANT_BITS)
          | (low != 0 ? 1 : 0));
    }
    return fromDouble(f);
  }

  /** {@code d} rounded to the nearest binary16, ties to even. */
  static short fromDouble(double d) {
    long bits = Double.doubleToRawLongBits(d);
    int sign = (int) (bits >>> 48) & SIGN;
    int exp = (int) (bits >>> 52) & 0x7FF;
    long mant = bits & 0xF_FFFF_FFFF_FFFFL;
    if (exp == 0x7FF) {
      if (mant == 0) {
        return (short) (sign | EXP_MASK);
      }
      long high = mant >>> DROPPED;
      long low = mant & ((1L << DROPPED) - 1);
      return (short) (sign | EXP_MASK | high | (low != 0 ? 1 : 0));
    }
    int e = exp - 1023 + BIAS;
    if (e >= 0x1F) {
      return (short) (sign | EXP_MASK);
    }
    if (exp == 0) {
      return (short) sign;
    }
    // Below the smallest normal half, the significand is shifted further and the exponent field
    // is 0: the quotient is then the subnormal's whole field. A carry out of the significand
    // steps the exponent (or turns the largest subnormal into the smallest normal, or the
    // largest finite value's neighbours into infinity) through the same addition.
    int shift = DROPPED + Math.max(0, 1 - e);
    if (shift > 53) {
      return (short) sign;
    }
    long m = (1L << 52) | mant;
    long q = m >>> shift;
    long rem = m & ((1L << shift) - 1);
    long half = 1L << (shift - 1);
    if (rem > half || rem == half && (q & 1) != 0) {
      q++;
    }
    return (short) (sign + (e >= 1 ? (e - 1) << MANT_BITS : 0) + q);
  }
}
