package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class Float16Test {
  private static Tensor fixture(String name) throws IOException {
    try {
      return Npy.read(Path.of(Float16Test.class.getResource("/npy/" + name + ".npy").toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void assertBits(int expected, short actual, String what) {
    if ((actual & 0xFFFF) != expected) {
      fail(String.format("%s: expected 0x%04x, got 0x%04x", what, expected, actual & 0xFFFF));
    }
  }

  private static void assertSameFloat(float expected, float actual, String what) {
    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
        what + ": expected " + expected + ", got " + actual);
  }

  /** Bits and the value they hold, from the binary16 definition. */
  private static final Object[][] KNOWN = {
      {0x0000, 0.0f},
      {0x8000, -0.0f},
      {0x3C00, 1.0f},
      {0xBC00, -1.0f},
      {0x4000, 2.0f},
      {0xC000, -2.0f},
      {0x3800, 0.5f},
      {0x3555, 0.333251953125f},
      {0x3BFF, 0.99951171875f},
      {0x3C01, 1.0009765625f},
      {0x7BFF, 65504.0f},
      {0xFBFF, -65504.0f},
      {0x0400, 0x1p-14f},
      {0x03FF, 1023 * 0x1p-24f},
      {0x0200, 0x1p-15f},
      {0x0001, 0x1p-24f},
      {0x8001, -0x1p-24f},
      {0x7C00, Float.POSITIVE_INFINITY},
      {0xFC00, Float.NEGATIVE_INFINITY},
  };

  @Test
  void knownValuesBothWays() {
    for (Object[] k : KNOWN) {
      int bits = (Integer) k[0];
      float value = (Float) k[1];
      String what = String.format("0x%04x", bits);
      assertSameFloat(value, Float16.toFloat((short) bits), what);
      assertBits(bits, Float16.fromFloat(value), what);
      assertBits(bits, Float16.fromDouble(value), what);
    }
  }

  @Test
  void nanStaysNanWithItsSignAndPayload() {
    assertTrue(Float.isNaN(Float16.toFloat((short) 0x7E00)));
    assertTrue(Float.isNaN(Float16.toFloat((short) 0x7C01)));
    assertTrue(Float.isNaN(Float16.toFloat((short) 0xFFFF)));
    assertBits(0x7E00, Float16.fromFloat(Float.NaN), "Float.NaN");
    assertBits(0x7E00, Float16.fromDouble(Double.NaN), "Double.NaN");
    assertBits(0xFE00, Float16.fromFloat(Float.intBitsToFloat(0xFFC0_0000)), "-NaN");
    // Payload bits below the ten kept leave the result a NaN, never infinity.
    assertBits(0x7C01, Float16.fromFloat(Float.intBitsToFloat(0x7F80_0001)), "low payload");
    assertBits(0x7C01,
        Float16.fromDouble(Double.longBitsToDouble(0x7FF0_0000_0000_0001L)), "low payload");
    assertBits(0x7D55,
        Float16.fromDouble(Double.longBitsToDouble(0x7FF5_5400_0000_0000L)), "payload");
  }

  @Test
  void everyHalfSurvivesARoundTripThroughFloatAndDouble() {
    for (int h = 0; h <= 0xFFFF; h++) {
      float f = Float16.toFloat((short) h);
      String what = String.format("0x%04x", h);
      assertEquals((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0, Float.isNaN(f), what);
      assertBits(h, Float16.fromFloat(f), what);
      if (!Float.isNaN(f)) {
        assertBits(h, Float16.fromDouble(f), what);
      }
    }
  }

  @Test
  void valuesIncreaseWithTheirBits() {
    float previous = Float.NEGATIVE_INFINITY;
    for (int h = 1; h <= 0x7C00; h++) {
      float f = Float16.toFloat((short) h);
      assertTrue(f > previous, String.format("0x%04x is %s, after %s", h, f, previous));
      assertSameFloat(-f, Float16.toFloat((short) (h | 0x8000)), String.format("0x%04x", h));
      previous = f;
    }
  }

  /**
   * Between every two neighbouring finite halves (and above the largest, where the next step is
   * infinity), the midpoint goes to the one with an even last bit and anything off it to the
   * nearer, for floats and doubles alike.
   */
  @Test
  void roundsToNearestWithTiesToEven() {
    for (int h = 0; h < 0x7C00; h++) {
      double lo = Float16.toFloat((short) h);
      double hi = h == 0x7BFF ? 65536 : Float16.toFloat((short) (h + 1));
      double mid = (lo + hi) / 2;
      int even = (h & 1) == 0 ? h : h + 1;
      for (int sign : new int[] {0, 0x8000}) {
        double s = sign == 0 ? 1 : -1;
        String what = String.format("between 0x%04x and 0x%04x", h | sign, (h + 1) | sign);
        assertBits(even | sign, Float16.fromDouble(s * mid), what);
        assertBits(even | sign, Float16.fromFloat((float) (s * mid)), what);
        assertBits(h | sign, Float16.fromDouble(s * Math.nextDown(mid)), what);
        assertBits((h + 1) | sign, Float16.fromDouble(s * Math.nextUp(mid)), what);
        assertBits(h | sign, Float16.fromFloat((float) s * Math.nextDown((float) mid)), what);
        assertBits((h + 1) | sign, Float16.fromFloat((float) s * Math.nextUp((float) mid)), what);
      }
    }
  }

  @Test
  void overflowGoesToInfinityAndUnderflowToZero() {
    assertBits(0x7BFF, Float16.fromFloat(65519.996f), "just under 65520");
    assertBits(0x7C00, Float16.fromFloat(65520f), "65520");
    assertBits(0x7C00, Float16.fromFloat(1e10f), "1e10");
    assertBits(0xFC00, Float16.fromDouble(-1e300), "-1e300");
    assertBits(0x7C00, Float16.fromFloat(Float.MAX_VALUE), "Float.MAX_VALUE");
    assertBits(0x7C00, Float16.fromDouble(Double.MAX_VALUE), "Double.MAX_VALUE");
    assertBits(0x0000, Float16.fromFloat(0x1p-25f), "2^-25, a tie");
    assertBits(0x0001, Float16.fromFloat(Math.nextUp(0x1p-25f)), "just over 2^-25");
    assertBits(0x0000, Float16.fromFloat(Float.MIN_VALUE), "Float.MIN_VALUE");
    assertBits(0x8000, Float16.fromDouble(-Double.MIN_VALUE), "-Double.MIN_VALUE");
    assertBits(0x0000, Float16.fromDouble(0x1p-1000), "2^-1000");
    assertBits(0x0400, Float16.fromFloat(1023.5f * 0x1p-24f), "largest subnormal's tie");
    assertBits(0x0002, Float16.fromFloat(3 * 0x1p-25f), "1.5 subnormal steps");
  }

  /** Rounding through float first would give 1.0, as the float is exactly the tie. */
  @Test
  void aDoubleIsRoundedOnce() {
    double justAboveTie = 1 + 0x1p-11 + 0x1p-40;
    assertEquals((float) (1 + 0x1p-11), (float) justAboveTie);
    assertBits(0x3C01, Float16.fromDouble(justAboveTie), "1 + 2^-11 + 2^-40");
    assertBits(0x3C00, Float16.fromFloat((float) justAboveTie), "1 + 2^-11");
  }

  /** NumPy's own conversions, from {@code scripts/make-npy-fixtures}. */
  @Test
  void agreesWithNumpy() throws IOException {
    Tensor in32 = fixture("float16_rounding_float32_in");
    Tensor out32 = fixture("float16_rounding_float32_out");
    float[] f = in32.toFloatArray();
    assertEquals(f.length, out32.numel());
    for (int i = 0; i < f.length; i++) {
      int expected = out32.data().getShort(2 * i) & 0xFFFF;
      assertBits(expected, Float16.fromFloat(f[i]), "float " + f[i]);
    }
    Tensor in64 = fixture("float16_rounding_float64_in");
    Tensor out64 = fixture("float16_rounding_float64_out");
    double[] d = in64.toDoubleArray();
    assertEquals(d.length, out64.numel());
    for (int i = 0; i < d.length; i++) {
      int expected = out64.data().getShort(2 * i) & 0xFFFF;
      assertBits(expected, Float16.fromDouble(d[i]), "double " + d[i]);
    }
  }
}
