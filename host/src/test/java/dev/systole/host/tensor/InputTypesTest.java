package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InputTypesTest {
  /** For each declared type, the given types converted to it, written out rather than derived. */
  private static final Map<DType, Set<DType>> CONVERTED = Map.of(
      DType.INT8, Set.of(DType.INT32, DType.INT64),
      DType.UINT8, Set.of(DType.INT32, DType.INT64),
      DType.INT32, Set.of(DType.INT8, DType.UINT8, DType.INT64),
      DType.INT64, Set.of(DType.INT8, DType.UINT8, DType.INT32),
      DType.FLOAT16, Set.of(DType.FLOAT32, DType.FLOAT64),
      DType.FLOAT32, Set.of(DType.FLOAT16, DType.FLOAT64),
      DType.FLOAT64, Set.of(DType.FLOAT16, DType.FLOAT32),
      DType.BOOL, Set.of());

  private static InputTypes.Converted convert(Tensor given, DType expected) {
    return InputTypes.convert("x", given, expected);
  }

  private static String refusal(String name, Tensor given, DType expected) {
    return assertThrows(IllegalArgumentException.class,
        () -> InputTypes.convert(name, given, expected)).getMessage();
  }

  private static void assertSameBits(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
          "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
    }
  }

  private static short[] halfBits(Tensor t) {
    short[] bits = new short[(int) t.numel()];
    t.data().asShortBuffer().get(bits);
    return bits;
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void aTensorOfTheDeclaredTypeIsReturnedAsItIs(DType dtype) {
    Tensor t = Tensor.allocate(dtype, 2, 3);
    InputTypes.Converted c = convert(t, dtype);
    assertSame(t, c.tensor());
    assertNull(c.note());
  }

  @Test
  void theTableOfConversions() {
    for (DType to : DType.values()) {
      for (DType from : DType.values()) {
        boolean converted = CONVERTED.get(to).contains(from);
        assertEquals(converted, InputTypes.accepted(from, to), from + " to " + to);
        Tensor given = Tensor.allocate(from, 2, 2);
        if (converted) {
          InputTypes.Converted c = convert(given, to);
          assertEquals(to, c.tensor().dtype());
          assertArrayEquals(new long[] {2, 2}, c.tensor().shape());
          assertEquals(Tensor.allocate(to, 2, 2), c.tensor(), "zeros stay zeros");
          assertEquals("input 'x': " + from.label() + " converted to " + to.label(), c.note());
        } else if (from != to) {
          String message = refusal("x", given, to);
          String prefix = "input 'x' is " + from.label() + " 2x2, expected " + to.label()
              + " (accepted: ";
          assertTrue(message.startsWith(prefix), message);
        }
      }
    }
  }

  /** 3.4028235677973362E38 is just under the tie above Float.MAX_VALUE, so it rounds down. */
  @Test
  void float64NarrowsToFloat32RoundingToNearest() {
    double[] values = {0.1, -2.5, 1e-50, -0.0, Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 3.4028235677973362E38, -Double.MIN_VALUE, 1 + 0x1p-24};
    InputTypes.Converted c = InputTypes.convert("image", Tensor.ofFloat64(values, 2, 5),
        DType.FLOAT32);
    assertEquals("input 'image': float64 converted to float32", c.note());
    assertArrayEquals(new long[] {2, 5}, c.tensor().shape());
    assertSameBits(new float[] {0.1f, -2.5f, 0f, -0f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -0f, 1f}, c.tensor().toFloatArray());
  }

  @Test
  void narrowingToFloat16RoundsOnceToNearestEven() {
    double justAboveTie = 1 + 0x1p-11 + 0x1p-40;
    Tensor f64 = Tensor.ofFloat64(new double[] {0.1, 65519.99, 1e-8, Double.NaN,
        Double.NEGATIVE_INFINITY, justAboveTie, 1 + 0x1p-11, -0x1p-24}, 8);
    InputTypes.Converted c = convert(f64, DType.FLOAT16);
    assertEquals("input 'x': float64 converted to float16", c.note());
    assertArrayEquals(new short[] {0x2E66, 0x7BFF, 0, 0x7E00, (short) 0xFC00, 0x3C01, 0x3C00,
        (short) 0x8001}, halfBits(c.tensor()));

    Tensor f32 = Tensor.ofFloat32(new float[] {65504f, 65519.996f, 0.1f, Float.NaN,
        Float.POSITIVE_INFINITY, 0x1p-25f, Math.nextUp(0x1p-25f)}, 7);
    c = convert(f32, DType.FLOAT16);
    assertEquals("input 'x': float32 converted to float16", c.note());
    assertArrayEquals(new short[] {0x7BFF, 0x7BFF, 0x2E66, 0x7E00, 0x7C00, 0, 1},
        halfBits(c.tensor()));
  }

  @Test
  void floatsWidenExactly() {
    Tensor f16 = Tensor.allocate(DType.FLOAT16, 7);
    short[] bits = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0x7E00};
    f16.data().asShortBuffer().put(bits);
    float[] values = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, Float.POSITIVE_INFINITY,
        Float.NaN};
    InputTypes.Converted c = convert(f16, DType.FLOAT32);
    assertEquals("input 'x': float16 converted to float32", c.note());
    assertSameBits(values, c.tensor().toFloatArray());

    c = convert(f16, DType.FLOAT64);
    assertEquals("input 'x': float16 converted to float64", c.note());
    double[] doubles = c.tensor().toDoubleArray();
    for (int i = 0; i < values.length; i++) {
      assertEquals((double) values[i], doubles[i], "element " + i);
    }

    float[] floats = {0.1f, -Float.MAX_VALUE, Float.MIN_VALUE, Float.NEGATIVE_INFINITY};
    c = convert(Tensor.ofFloat32(floats, 2, 2), DType.FLOAT64);
    assertEquals("input 'x': float32 converted to float64", c.note());
    assertArrayEquals(new double[] {0.1f, -Float.MAX_VALUE, Float.MIN_VALUE,
        Double.NEGATIVE_INFINITY}, c.tensor().toDoubleArray());
  }

  @Test
  void integersWidenExactly() {
    Tensor i8 = Tensor.ofInt8(new byte[] {-128, -1, 0, 127}, 4);
    Tensor u8 = Tensor.ofUint8(new byte[] {0, 1, (byte) 128, (byte) 255}, 4);
    Tensor i32 = Tensor.ofInt32(new int[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, 4);

    InputTypes.Converted c = convert(i8, DType.INT32);
    assertEquals("input 'x': int8 converted to int32", c.note());
    assertArrayEquals(new int[] {-128, -1, 0, 127}, c.tensor().toIntArray());
    assertArrayEquals(new long[] {-128, -1, 0, 127}, convert(i8, DType.INT64).tensor()
        .toLongArray());
    assertArrayEquals(new int[] {0, 1, 128, 255}, convert(u8, DType.INT32).tensor()
        .toIntArray());
    assertArrayEquals(new long[] {0, 1, 128, 255}, convert(u8, DType.INT64).tensor()
        .toLongArray());
    c = convert(i32, DType.INT64);
    assertEquals("input 'x': int32 converted to int64", c.note());
    assertArrayEquals(new long[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE},
        c.tensor().toLongArray());
  }

  @Test
  void integersNarrowWhenEveryValueFits() {
    Tensor i64 = Tensor.ofInt64(new long[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, 2, 2);
    InputTypes.Converted c = InputTypes.convert("ids", i64, DType.INT32);
    assertEquals("input 'ids': int64 converted to int32", c.note());
    assertArrayEquals(new int[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE},
        c.tensor().toIntArray());

    assertArrayEquals(new byte[] {-128, -1, 0, 127}, convert(
        Tensor.ofInt64(new long[] {-128, -1, 0, 127}, 4), DType.INT8).tensor().toByteArray());
    assertArrayEquals(new byte[] {0, 1, (byte) 128, (byte) 255}, convert(
        Tensor.ofInt64(new long[] {0, 1, 128, 255}, 4), DType.UINT8).tensor().toByteArray());
    c = convert(Tensor.ofInt32(new int[] {-128, -1, 0, 127}, 4), DType.INT8);
    assertEquals("input 'x': int32 converted to int8", c.note());
    assertArrayEquals(new byte[] {-128, -1, 0, 127}, c.tensor().toByteArray());
    c = convert(Tensor.ofInt32(new int[] {0, 1, 128, 255}, 4), DType.UINT8);
    assertEquals("input 'x': int32 converted to uint8", c.note());
    assertArrayEquals(new byte[] {0, 1, (byte) 128, (byte) 255}, c.tensor().toByteArray());
  }

  @Test
  void integerValuesThatDoNotFitAreRefusedNamingTheFirst() {
    long[] ids = new long[32];
    ids[21] = 3_000_000_000L;
    ids[30] = -5_000_000_000L;
    assertEquals("input 'ids' is int64 2x16, expected int32: element [1, 5] is 3000000000, which"
            + " does not fit int32 (expected -2147483648 <= value <= 2147483647)",
        refusal("ids", Tensor.ofInt64(ids, 2, 16), DType.INT32));
    assertEquals("input 'ids' is int64 2, expected int32: element [1] is -2147483649, which does"
            + " not fit int32 (expected -2147483648 <= value <= 2147483647)",
        refusal("ids", Tensor.ofInt64(new long[] {0, Integer.MIN_VALUE - 1L}, 2), DType.INT32));
    assertEquals("input 'q' is int32 3, expected int8: element [1] is 128, which does not fit"
            + " int8 (expected -128 <= value <= 127)",
        refusal("q", Tensor.ofInt32(new int[] {127, 128, -129}, 3), DType.INT8));
    assertEquals("input 'q' is int32 2, expected int8: element [1] is -129, which does not fit"
            + " int8 (expected -128 <= value <= 127)",
        refusal("q", Tensor.ofInt32(new int[] {-128, -129}, 2), DType.INT8));
    assertEquals("input 'q' is int32 1x2, expected uint8: element [0, 0] is -1, which does not"
            + " fit uint8 (expected 0 <= value <= 255)",
        refusal("q", Tensor.ofInt32(new int[] {-1, 256}, 1, 2), DType.UINT8));
    assertEquals("input 'q' is int64 scalar, expected uint8: the scalar is 256, which does not"
            + " fit uint8 (expected 0 <= value <= 255)",
        refusal("q", Tensor.ofInt64(new long[] {256}), DType.UINT8));
    assertEquals("input 'q' is int64 3, expected int8: element [2] is -9223372036854775808,"
            + " which does not fit int8 (expected -128 <= value <= 127)",
        refusal("q", Tensor.ofInt64(new long[] {0, 0, Long.MIN_VALUE}, 3), DType.INT8));
  }

  /**
   * -3.4028235677973366E38 is the tie below -Float.MAX_VALUE, whose odd last bit sends it to
   * infinity; 65520 is the same tie for float16.
   */
  @Test
  void finiteFloatsThatOverflowAreRefusedNamingTheFirst() {
    double[] image = {0.5, 1e39, -1e39, 0.25, Double.POSITIVE_INFINITY, 0};
    assertEquals("input 'image' is float64 2x3, expected float32: element [0, 1] is 1.0E39,"
            + " which overflows float32 (largest finite value 3.4028235E38)",
        refusal("image", Tensor.ofFloat64(image, 2, 3), DType.FLOAT32));
    assertEquals("input 'image' is float64 scalar, expected float32: the scalar is"
            + " -3.4028235677973366E38, which overflows float32 (largest finite value"
            + " 3.4028235E38)",
        refusal("image", Tensor.ofFloat64(new double[] {-3.4028235677973366E38}),
            DType.FLOAT32));
    assertEquals("input 'x' is float64 1x1x2, expected float16: element [0, 0, 1] is 65520.0,"
            + " which overflows float16 (largest finite value 65504)",
        refusal("x", Tensor.ofFloat64(new double[] {65519.99, 65520}, 1, 1, 2), DType.FLOAT16));
    assertEquals("input 'x' is float32 3, expected float16: element [2] is -70000.0, which"
            + " overflows float16 (largest finite value 65504)",
        refusal("x", Tensor.ofFloat32(new float[] {Float.NEGATIVE_INFINITY, Float.NaN, -70000f},
            3), DType.FLOAT16));
    assertEquals("input 'x' is float32 1, expected float16: element [0] is 3.4028235E38, which"
            + " overflows float16 (largest finite value 65504)",
        refusal("x", Tensor.ofFloat32(new float[] {Float.MAX_VALUE}, 1), DType.FLOAT16));
  }

  @Test
  void otherTypesAreRefusedNamingTheInputBothTypesAndTheShape() {
    assertEquals("input 'ids' is float32 2x16, expected int64 (accepted: int8, uint8, int32,"
            + " int64; floats are not rounded to integers)",
        refusal("ids", Tensor.allocate(DType.FLOAT32, 2, 16), DType.INT64));
    assertEquals("input 'ids' is float64 4, expected int32 (accepted: int8, uint8, int32, int64;"
            + " floats are not rounded to integers)",
        refusal("ids", Tensor.allocate(DType.FLOAT64, 4), DType.INT32));
    assertEquals("input 'image' is uint8 1x28x28, expected float32 (accepted: float16, float32,"
            + " float64; integers are not converted to floats, which the model may expect"
            + " scaled)",
        refusal("image", Tensor.allocate(DType.UINT8, 1, 28, 28), DType.FLOAT32));
    assertEquals("input 'image' is int64 3, expected float64 (accepted: float16, float32,"
            + " float64; integers are not converted to floats, which the model may expect"
            + " scaled)",
        refusal("image", Tensor.allocate(DType.INT64, 3), DType.FLOAT64));
    assertEquals("input 'q' is int8 2x2, expected uint8 (accepted: uint8, int32, int64; int8 and"
            + " uint8 are not converted into each other)",
        refusal("q", Tensor.allocate(DType.INT8, 2, 2), DType.UINT8));
    assertEquals("input 'q' is uint8 2x2, expected int8 (accepted: int8, int32, int64; int8 and"
            + " uint8 are not converted into each other)",
        refusal("q", Tensor.allocate(DType.UINT8, 2, 2), DType.INT8));
    assertEquals("input 'mask' is uint8 4, expected bool (accepted: bool)",
        refusal("mask", Tensor.allocate(DType.UINT8, 4), DType.BOOL));
    assertEquals("input 'mask' is float32 scalar, expected bool (accepted: bool)",
        refusal("mask", Tensor.allocate(DType.FLOAT32), DType.BOOL));
    assertEquals("input 'n' is bool 4, expected int32 (accepted: int8, uint8, int32, int64)",
        refusal("n", Tensor.allocate(DType.BOOL, 4), DType.INT32));
    assertEquals("input 'n' is bool 4, expected float16 (accepted: float16, float32, float64)",
        refusal("n", Tensor.allocate(DType.BOOL, 4), DType.FLOAT16));
  }

  @Test
  void emptyTensorsConvert() {
    InputTypes.Converted c = convert(Tensor.allocate(DType.FLOAT64, 0, 3), DType.FLOAT32);
    assertEquals(Tensor.allocate(DType.FLOAT32, 0, 3), c.tensor());
    assertEquals("input 'x': float64 converted to float32", c.note());
    assertEquals(Tensor.allocate(DType.INT32, 3, 0),
        convert(Tensor.allocate(DType.INT64, 3, 0), DType.INT32).tensor());
  }

  @Test
  void aConversionIsANewTensorThatLeavesTheGivenOneAlone() {
    Tensor given = Tensor.ofInt32(new int[] {1, 2, 3}, 3);
    Tensor converted = convert(given, DType.INT64).tensor();
    assertNotSame(given, converted);
    converted.setInt64(0, 9);
    assertArrayEquals(new int[] {1, 2, 3}, given.toIntArray());

    Tensor wrapped = Tensor.wrap(DType.FLOAT64, new long[] {2},
        Tensor.ofFloat64(new double[] {1.5, -2}, 2).data().asReadOnlyBuffer());
    assertArrayEquals(new float[] {1.5f, -2f}, convert(wrapped, DType.FLOAT32).tensor()
        .toFloatArray());
  }
}
