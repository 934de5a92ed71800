package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorTest {
  private static String message(Class<? extends Throwable> type, Executable e) {
    return assertThrows(type, e).getMessage();
  }

  @Test
  void allocateGivesZerosOfTheShape() {
    Tensor t = Tensor.allocate(DType.INT32, 37, 300);
    assertEquals(DType.INT32, t.dtype());
    assertArrayEquals(new long[] {37, 300}, t.shape());
    assertEquals(2, t.rank());
    assertEquals(11100, t.numel());
    assertEquals(44400, t.byteSize());
    assertEquals(0, t.getInt32(11099));
    assertEquals("37x300", t.shapeString());
    assertEquals("Tensor[int32 37x300]", t.toString());
  }

  @Test
  void shapeIsCopiedInAndOut() {
    long[] shape = {2, 3};
    Tensor t = Tensor.allocate(DType.INT8, shape);
    shape[0] = 5;
    t.shape()[1] = 7;
    assertArrayEquals(new long[] {2, 3}, t.shape());
  }

  @Test
  void scalarHasRankZeroAndOneElement() {
    Tensor t = Tensor.allocate(DType.INT64);
    assertEquals(0, t.rank());
    assertEquals(1, t.numel());
    assertEquals(8, t.byteSize());
    assertEquals("scalar", t.shapeString());
    assertEquals("Tensor[int64 scalar]", t.toString());
    t.setInt64(0, Long.MIN_VALUE);
    assertEquals(Long.MIN_VALUE, t.getInt64(0));
    assertEquals("axis 0 of a rank-0 tensor (a scalar has no axes)",
        message(IndexOutOfBoundsException.class, () -> t.dim(0)));
  }

  @Test
  void zeroSizedDimensionsAreAllowed() {
    Tensor t = Tensor.allocate(DType.FLOAT32, 3, 0, 2);
    assertEquals(0, t.numel());
    assertEquals(0, t.byteSize());
    assertEquals(0, t.data().remaining());
    assertEquals("3x0x2", t.shapeString());
    assertEquals("index 0 (expected 0 <= index < 0)",
        message(IndexOutOfBoundsException.class, () -> t.getFloat32(0)));
  }

  @Test
  void dimCountsNegativeAxesFromTheEnd() {
    Tensor t = Tensor.allocate(DType.INT8, 2, 3, 4);
    assertEquals(2, t.dim(0));
    assertEquals(4, t.dim(2));
    assertEquals(4, t.dim(-1));
    assertEquals(2, t.dim(-3));
    assertEquals("axis 3 of a rank-3 tensor (expected -3 <= axis < 3)",
        message(IndexOutOfBoundsException.class, () -> t.dim(3)));
    assertEquals("axis -4 of a rank-3 tensor (expected -3 <= axis < 3)",
        message(IndexOutOfBoundsException.class, () -> t.dim(-4)));
  }

  @Test
  void badShapesNameTheDimensionOrTheSize() {
    assertEquals("shape 2x-3: dimension 1 is -3 (expected >= 0)",
        message(IllegalArgumentException.class, () -> Tensor.allocate(DType.INT8, 2, -3)));
    assertEquals("shape 65536x32768 of int8 is 2147483648 bytes (expected at most 2147483647)",
        message(IllegalArgumentException.class,
            () -> Tensor.allocate(DType.INT8, 65536, 32768)));
    assertEquals("shape 536870912 of int32 is 2147483648 bytes (expected at most 2147483647)",
        message(IllegalArgumentException.class, () -> Tensor.allocate(DType.INT32, 1L << 29)));
    assertEquals("shape 4294967296x4294967296x4294967296 of int64 is "
            + "633825300114114700748351602688 bytes (expected at most 2147483647)",
        message(IllegalArgumentException.class,
            () -> Tensor.allocate(DType.INT64, 1L << 32, 1L << 32, 1L << 32)));
    assertEquals(0, Tensor.allocate(DType.INT64, 1L << 40, 1L << 40, 0).numel());
  }

  @Test
  void accessorsReadAndWriteLittleEndian() {
    Tensor i8 = Tensor.allocate(DType.INT8, 2);
    i8.setInt8(0, -128);
    i8.setInt8(1, 127);
    assertEquals(-128, i8.getInt8(0));
    assertEquals(127, i8.getInt8(1));
    assertEquals((byte) 0x80, i8.data().get(0));

    Tensor u8 = Tensor.allocate(DType.UINT8, 2);
    u8.setUint8(0, 255);
    u8.setUint8(1, 0);
    assertEquals(255, u8.getUint8(0));
    assertEquals(0, u8.getUint8(1));
    assertEquals((byte) 0xFF, u8.data().get(0));

    Tensor i32 = Tensor.allocate(DType.INT32, 2);
    i32.setInt32(1, 0x01020304);
    assertEquals(0x01020304, i32.getInt32(1));
    assertEquals(4, i32.data().get(4));
    assertEquals(1, i32.data().get(7));

    Tensor i64 = Tensor.allocate(DType.INT64, 2);
    i64.setInt64(1, 0x0102030405060708L);
    assertEquals(0x0102030405060708L, i64.getInt64(1));
    assertEquals(8, i64.data().get(8));

    Tensor f32 = Tensor.allocate(DType.FLOAT32, 2);
    f32.setFloat32(1, -1.5f);
    assertEquals(-1.5f, f32.getFloat32(1));
    assertEquals(Float.floatToRawIntBits(-1.5f), f32.data().getInt(4));
  }

  @Test
  void accessorsRefuseTheWrongDtype() {
    Tensor i8 = Tensor.allocate(DType.INT8, 10);
    assertEquals("getInt32 on a tensor of dtype int8 (expected int32)",
        message(IllegalStateException.class, () -> i8.getInt32(0)));
    assertEquals("getUint8 on a tensor of dtype int8 (expected uint8)",
        message(IllegalStateException.class, () -> i8.getUint8(0)));
    Tensor u8 = Tensor.allocate(DType.UINT8, 10);
    assertEquals("setInt8 on a tensor of dtype uint8 (expected int8)",
        message(IllegalStateException.class, () -> u8.setInt8(0, 1)));
    Tensor f32 = Tensor.allocate(DType.FLOAT32, 10);
    assertEquals("setInt32 on a tensor of dtype float32 (expected int32)",
        message(IllegalStateException.class, () -> f32.setInt32(0, 1)));
    assertEquals("getInt64 on a tensor of dtype float32 (expected int64)",
        message(IllegalStateException.class, () -> f32.getInt64(0)));
    Tensor i32 = Tensor.allocate(DType.INT32, 10);
    assertEquals("getFloat32 on a tensor of dtype int32 (expected float32)",
        message(IllegalStateException.class, () -> i32.getFloat32(0)));
  }

  @Test
  void accessorsCheckTheIndex() {
    Tensor t = Tensor.allocate(DType.INT32, 2, 5);
    assertEquals("index 12 (expected 0 <= index < 10)",
        message(IndexOutOfBoundsException.class, () -> t.getInt32(12)));
    assertEquals("index 10 (expected 0 <= index < 10)",
        message(IndexOutOfBoundsException.class, () -> t.setInt32(10, 0)));
    assertEquals("index -1 (expected 0 <= index < 10)",
        message(IndexOutOfBoundsException.class, () -> t.getInt32(-1)));
    assertEquals("index 4294967296 (expected 0 <= index < 10)",
        message(IndexOutOfBoundsException.class, () -> t.getInt32(1L << 32)));
  }

  @Test
  void byteSettersRefuseValuesThatDoNotFit() {
    Tensor i8 = Tensor.allocate(DType.INT8, 1);
    assertEquals("setInt8 value 128 (expected -128 <= value <= 127)",
        message(IllegalArgumentException.class, () -> i8.setInt8(0, 128)));
    assertEquals("setInt8 value -129 (expected -128 <= value <= 127)",
        message(IllegalArgumentException.class, () -> i8.setInt8(0, -129)));
    Tensor u8 = Tensor.allocate(DType.UINT8, 1);
    assertEquals("setUint8 value 256 (expected 0 <= value <= 255)",
        message(IllegalArgumentException.class, () -> u8.setUint8(0, 256)));
    assertEquals("setUint8 value -1 (expected 0 <= value <= 255)",
        message(IllegalArgumentException.class, () -> u8.setUint8(0, -1)));
    assertEquals(0, u8.getUint8(0));
  }

  @Test
  void factoriesCopyTheValues() {
    byte[] bytes = {1, -2, 3, -4, 5, -6};
    Tensor i8 = Tensor.ofInt8(bytes, 2, 3);
    bytes[0] = 9;
    assertEquals(1, i8.getInt8(0));
    assertEquals(-6, i8.getInt8(5));
    Tensor i32 = Tensor.ofInt32(new int[] {Integer.MIN_VALUE, 7}, 2);
    assertEquals(Integer.MIN_VALUE, i32.getInt32(0));
    assertEquals(7, i32.getInt32(1));
    Tensor f32 = Tensor.ofFloat32(new float[] {2.5f});
    assertEquals(0, f32.rank());
    assertEquals(2.5f, f32.getFloat32(0));
    assertEquals("3 values for shape 2x2 (expected 4)", message(IllegalArgumentException.class,
        () -> Tensor.ofInt32(new int[3], 2, 2)));
    assertEquals("3 values for shape scalar (expected 1)", message(IllegalArgumentException.class,
        () -> Tensor.ofInt8(new byte[3])));
    assertEquals("5 values for shape 4 (expected 4)", message(IllegalArgumentException.class,
        () -> Tensor.ofFloat32(new float[5], 4)));
  }

  @Test
  void wrapViewsTheBufferFromItsPositionAsLittleEndian() {
    ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN);
    bytes.position(4);
    Tensor t = Tensor.wrap(DType.INT32, new long[] {2}, bytes);
    t.setInt32(0, 0x11223344);
    assertEquals(0x44, bytes.get(4));
    bytes.put(8, (byte) 5);
    assertEquals(5, t.getInt32(1));
    assertEquals(4, bytes.position());
    assertEquals("buffer has 7 bytes remaining, shape 2 of int32 needs 8",
        message(IllegalArgumentException.class,
            () -> Tensor.wrap(DType.INT32, new long[] {2}, bytes.position(5))));
  }

  @Test
  void wrapWorksOnDirectBuffers() {
    ByteBuffer direct = ByteBuffer.allocateDirect(6);
    Tensor t = Tensor.wrap(DType.INT8, new long[] {2, 3}, direct);
    t.setInt8(5, -7);
    assertEquals(-7, direct.get(5));
    assertEquals(t, Tensor.ofInt8(new byte[] {0, 0, 0, 0, 0, -7}, 2, 3));
  }

  @Test
  void dataIsAFreshWritableLittleEndianView() {
    Tensor t = Tensor.allocate(DType.INT32, 3);
    ByteBuffer d = t.data();
    assertEquals(ByteOrder.LITTLE_ENDIAN, d.order());
    assertEquals(0, d.position());
    assertEquals(12, d.limit());
    d.putInt(42);
    assertEquals(42, t.getInt32(0));
    assertEquals(0, t.data().position());
    d.limit(2);
    assertEquals(12, t.data().limit());
  }

  @Test
  void reshapeSharesTheBytes() {
    Tensor t = Tensor.ofInt32(new int[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor r = t.reshape(3, 2);
    assertArrayEquals(new long[] {3, 2}, r.shape());
    r.setInt32(5, 60);
    assertEquals(60, t.getInt32(5));
    assertArrayEquals(new long[] {6}, t.reshape(-1).shape());
    assertArrayEquals(new long[] {2, 1, 3}, t.reshape(2, -1, 3).shape());
    assertArrayEquals(new long[] {}, Tensor.allocate(DType.INT8, 1, 1).reshape().shape());
    assertArrayEquals(new long[] {5, 0}, Tensor.allocate(DType.INT8, 0, 3).reshape(5, 0).shape());
    assertArrayEquals(new long[] {2, 3}, t.shape());
  }

  @Test
  void reshapeNamesBothShapes() {
    Tensor t = Tensor.allocate(DType.INT8, 2, 3);
    assertEquals("cannot reshape 2x3 (6 elements) to 4x2: 8 elements (expected 6)",
        message(IllegalArgumentException.class, () -> t.reshape(4, 2)));
    assertEquals("cannot reshape 2x3 (6 elements) to 4x-1: 6 elements are not a multiple of 4",
        message(IllegalArgumentException.class, () -> t.reshape(4, -1)));
    assertEquals("cannot reshape 2x3 (6 elements) to -1x-1: only one dimension can be -1",
        message(IllegalArgumentException.class, () -> t.reshape(-1, -1)));
    assertEquals("cannot reshape 2x3 (6 elements) to 3x-2: dimension 1 is -2 (expected >= 0, or"
            + " -1 for one inferred dimension)",
        message(IllegalArgumentException.class, () -> t.reshape(3, -2)));
    Tensor empty = Tensor.allocate(DType.INT8, 0, 3);
    assertEquals("cannot reshape 0x3 (0 elements) to 0x-1: the -1 is ambiguous when the other"
            + " dimensions multiply to 0",
        message(IllegalArgumentException.class, () -> empty.reshape(0, -1)));
    assertEquals("cannot reshape 2x3 (6 elements) to 4294967296x4294967296: more than"
            + " 9223372036854775807 elements (expected 6)",
        message(IllegalArgumentException.class, () -> t.reshape(1L << 32, 1L << 32)));
  }

  @Test
  void equalityIsDtypeShapeAndBytes() {
    Tensor a = Tensor.ofInt8(new byte[] {1, 2, 3, 4}, 2, 2);
    Tensor b = Tensor.ofInt8(new byte[] {1, 2, 3, 4}, 2, 2);
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, a.reshape(4));
    assertNotEquals(a, Tensor.wrap(DType.UINT8, new long[] {2, 2}, a.data()));
    b.setInt8(3, 5);
    assertNotEquals(a, b);
    Tensor nan1 = Tensor.ofFloat32(new float[] {Float.NaN}, 1);
    assertEquals(nan1, Tensor.ofFloat32(new float[] {Float.NaN}, 1));
    assertNotEquals(Tensor.ofFloat32(new float[] {0.0f}), Tensor.ofFloat32(new float[] {-0.0f}));
  }

  @Test
  void factoriesAndBulkCopiesOfEveryElementType() {
    Tensor i64 = Tensor.ofInt64(new long[] {-1L << 40, 7, 0}, 3);
    assertEquals(-1L << 40, i64.getInt64(0));
    assertArrayEquals(new long[] {-1L << 40, 7, 0}, i64.toLongArray());

    Tensor u8 = Tensor.ofUint8(new byte[] {(byte) 200, 3}, 2, 1);
    assertEquals(200, u8.getUint8(0));
    assertArrayEquals(new byte[] {(byte) 200, 3}, u8.toByteArray());

    Tensor mask = Tensor.ofBool(new boolean[] {true, false, true}, 3);
    assertEquals("Tensor[bool 3]", mask.toString());
    assertArrayEquals(new byte[] {1, 0, 1}, mask.toByteArray());
    mask.setBool(1, true);
    assertEquals(true, mask.getBool(1));

    int[] ints = {5, -6, Integer.MIN_VALUE};
    assertArrayEquals(ints, Tensor.ofInt32(ints, 3).toIntArray());
    float[] floats = {1.5f, -0f, Float.NaN};
    assertArrayEquals(floats, Tensor.ofFloat32(floats, 3).toFloatArray());
    assertArrayEquals(new int[] {1, 2},
        Tensor.wrap(DType.INT32, new long[] {2}, ByteBuffer.allocateDirect(8)
            .order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(2).flip()).toIntArray());

    assertEquals("toFloatArray on a tensor of dtype int64 (expected float32)",
        message(IllegalStateException.class, i64::toFloatArray));
    assertEquals("getBool on a tensor of dtype uint8 (expected bool)",
        message(IllegalStateException.class, () -> u8.getBool(0)));
  }

  @Test
  void float64ElementsAreLittleEndianDoubles() {
    double[] values = {0.1, -2.5, Double.MAX_VALUE, -0.0, Double.NaN, Double.MIN_VALUE};
    Tensor t = Tensor.ofFloat64(values, 2, 3);
    assertEquals("Tensor[float64 2x3]", t.toString());
    assertEquals(48, t.byteSize());
    assertEquals(0.1, t.getFloat64(0));
    assertEquals(Double.doubleToRawLongBits(-2.5), t.data().getLong(8));
    assertArrayEquals(values, t.toDoubleArray());
    t.setFloat64(5, 1e300);
    assertEquals(1e300, t.getFloat64(5));
    assertEquals("5 values for shape 2x3 (expected 6)", message(IllegalArgumentException.class,
        () -> Tensor.ofFloat64(new double[5], 2, 3)));
    assertEquals("getFloat32 on a tensor of dtype float64 (expected float32)",
        message(IllegalStateException.class, () -> t.getFloat32(0)));
    assertEquals("toFloatArray on a tensor of dtype float64 (expected float32)",
        message(IllegalStateException.class, t::toFloatArray));
    assertEquals("getFloat64 on a tensor of dtype float32 (expected float64)",
        message(IllegalStateException.class, () -> Tensor.allocate(DType.FLOAT32, 1)
            .getFloat64(0)));
    assertEquals("toDoubleArray on a tensor of dtype int64 (expected float64)",
        message(IllegalStateException.class, () -> Tensor.allocate(DType.INT64, 1)
            .toDoubleArray()));
    assertEquals("index 6 (expected 0 <= index < 6)",
        message(IndexOutOfBoundsException.class, () -> t.setFloat64(6, 0)));
  }

  @Test
  void float16ElementsAreBinary16BitsReadAndWrittenAsFloats() {
    Tensor t = Tensor.ofFloat16(new float[] {1.0f, -2.0f, 65504f, 1e-8f, 70000f, Float.NaN}, 6);
    assertEquals("Tensor[float16 6]", t.toString());
    assertEquals(12, t.byteSize());
    assertArrayEquals(new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0, 0,
        0x00, 0x7C, 0x00, 0x7E}, t.toByteArray());
    assertEquals(1.0f, t.getFloat16(0));
    assertEquals(65504f, t.getFloat16(2));
    assertEquals(0f, t.getFloat16(3));
    assertEquals(Float.POSITIVE_INFINITY, t.getFloat16(4));
    assertArrayEquals(new float[] {1.0f, -2.0f, 65504f, 0f, Float.POSITIVE_INFINITY, Float.NaN},
        t.float16ToFloatArray());

    t.setFloat16(0, 0.1f);
    assertEquals(0x2E66, t.data().getShort(0));
    assertEquals(0.0999755859375f, t.getFloat16(0));
    t.setFloat16(1, 0x1p-24f);
    assertEquals(1, t.data().getShort(2));
    assertEquals(0x1p-24f, t.getFloat16(1));

    assertEquals("getFloat32 on a tensor of dtype float16 (expected float32)",
        message(IllegalStateException.class, () -> t.getFloat32(0)));
    assertEquals("setFloat16 on a tensor of dtype float32 (expected float16)",
        message(IllegalStateException.class, () -> Tensor.allocate(DType.FLOAT32, 1)
            .setFloat16(0, 1f)));
    assertEquals("float16ToFloatArray on a tensor of dtype float32 (expected float16)",
        message(IllegalStateException.class, () -> Tensor.allocate(DType.FLOAT32, 1)
            .float16ToFloatArray()));
    assertEquals("index -1 (expected 0 <= index < 6)",
        message(IndexOutOfBoundsException.class, () -> t.getFloat16(-1)));
    assertEquals("2 values for shape 3 (expected 3)", message(IllegalArgumentException.class,
        () -> Tensor.ofFloat16(new float[2], 3)));
  }
}
