package dev.systole.host.tensor;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * A dense array of one {@link DType}: a shape and the bytes of its elements, in C order (the last
 * axis varies fastest) and little-endian, which is how the accelerator reads tensors from card
 * memory and how NumPy writes them. Keeping the bytes exactly as they will be copied to the card,
 * rather than as a Java array per type, lets a tensor be staged for DMA, written to a .npy file or
 * compared with expected output without conversion, at the price of accessors that go through a
 * buffer and check the type at run time. Java has no half-precision type, so float16 elements are
 * held as their binary16 bits and read and written as floats: exactly one way, rounded to the
 * nearest (ties to even) the other.
 *
 * <p>The bytes live in one {@link ByteBuffer} of exactly {@link #byteSize()} bytes, so a tensor is
 * limited to 2^31 - 1 bytes, the most one buffer can index. A tensor is mutable through its
 * setters and through {@link #data()}, and {@link #reshape} shares the bytes, so a change through
 * one view shows in the other. Equality is by type, shape and bytes: two float tensors holding NaN
 * with the same bits are equal, and {@code 0.0} differs from {@code -0.0}. Reading from several
 * threads is safe; writing needs the caller's own synchronization.
 */
public final class Tensor {
  private static final long MAX_BYTES = Integer.MAX_VALUE;

  private final DType dtype;
  private final long[] shape;
  private final long numel;
  /** Little-endian, position 0 and limit {@code byteSize} forever: only absolute access. */
  private final ByteBuffer buf;

  private Tensor(DType dtype, long[] shape, long numel, ByteBuffer buf) {
    this.dtype = dtype;
    this.shape = shape;
    this.numel = numel;
    this.buf = buf;
  }

  /** A tensor of zeros. */
  public static Tensor allocate(DType dtype, long... shape) {
    long[] s = shape.clone();
    long n = checkedNumel(dtype, s);
    return new Tensor(dtype, s, n, ByteBuffer.allocate(Math.toIntExact(n * dtype.size()))
        .order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * A tensor of zeros in native memory outside the Java heap, which ONNX Runtime reads in place:
   * a value the device hands back to the host goes on to the CPU engine without another copy.
   */
  public static Tensor allocateDirect(DType dtype, long... shape) {
    long[] s = shape.clone();
    long n = checkedNumel(dtype, s);
    return new Tensor(dtype, s, n, ByteBuffer.allocateDirect(Math.toIntExact(n * dtype.size()))
        .order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * A tensor viewing the remaining bytes of {@code data}, without a copy: writes through either
   * show in the other. The bytes are read as little-endian whatever {@code data.order()} says; a
   * read-only buffer gives a tensor whose setters throw {@link java.nio.ReadOnlyBufferException}.
   *
   * @throws IllegalArgumentException if {@code data.remaining()} is not the shape's byte size
   */
  public static Tensor wrap(DType dtype, long[] shape, ByteBuffer data) {
    long[] s = shape.clone();
    long n = checkedNumel(dtype, s);
    long bytes = n * dtype.size();
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException(String.format(
          "buffer has %d bytes remaining, shape %s of %s needs %d",
          data.remaining(), shapeString(s), dtype.label(), bytes));
    }
    return new Tensor(dtype, s, n, data.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  public static Tensor ofInt8(byte[] values, long... shape) {
    Tensor t = allocate(DType.INT8, shape);
    t.checkValueCount(values.length);
    t.buf.put(0, values);
    return t;
  }

  public static Tensor ofUint8(byte[] values, long... shape) {
    Tensor t = allocate(DType.UINT8, shape);
    t.checkValueCount(values.length);
    t.buf.put(0, values);
    return t;
  }

  /** A bool tensor: each value is stored as one byte, 1 for true and 0 for false. */
  public static Tensor ofBool(boolean[] values, long... shape) {
    Tensor t = allocate(DType.BOOL, shape);
    t.checkValueCount(values.length);
    for (int i = 0; i < values.length; i++) {
      t.buf.put(i, values[i] ? (byte) 1 : 0);
    }
    return t;
  }

  public static Tensor ofInt64(long[] values, long... shape) {
    Tensor t = allocate(DType.INT64, shape);
    t.checkValueCount(values.length);
    t.buf.asLongBuffer().put(values);
    return t;
  }

  public static Tensor ofInt32(int[] values, long... shape) {
    Tensor t = allocate(DType.INT32, shape);
    t.checkValueCount(values.length);
    t.buf.asIntBuffer().put(values);
    return t;
  }

  public static Tensor ofFloat32(float[] values, long... shape) {
    Tensor t = allocate(DType.FLOAT32, shape);
    t.checkValueCount(values.length);
    t.buf.asFloatBuffer().put(values);
    return t;
  }

  public static Tensor ofFloat64(double[] values, long... shape) {
    Tensor t = allocate(DType.FLOAT64, shape);
    t.checkValueCount(values.length);
    t.buf.asDoubleBuffer().put(values);
    return t;
  }

  /**
   * A float16 tensor of {@code values}, each rounded to the nearest binary16 (ties to even), so
   * magnitudes from 65520 up become infinity.
   */
  public static Tensor ofFloat16(float[] values, long... shape) {
    Tensor t = allocate(DType.FLOAT16, shape);
    t.checkValueCount(values.length);
    for (int i = 0; i < values.length; i++) {
      t.buf.putShort(2 * i, Float16.fromFloat(values[i]));
    }
    return t;
  }

  private void checkValueCount(int count) {
    if (count != numel) {
      throw new IllegalArgumentException(String.format(
          "%d values for shape %s (expected %d)", count, shapeString(), numel));
    }
  }

  public DType dtype() {
    return dtype;
  }

  /** The shape, as a copy; empty for a scalar. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /**
   * The size of axis {@code axis}; a negative axis counts from the end, so {@code dim(-1)} is the
   * last axis.
   */
  public long dim(int axis) {
    int rank = shape.length;
    if (axis < -rank || axis >= rank) {
      throw new IndexOutOfBoundsException(rank == 0
          ? "axis " + axis + " of a rank-0 tensor (a scalar has no axes)"
          : String.format("axis %d of a rank-%d tensor (expected %d <= axis < %d)",
              axis, rank, -rank, rank));
    }
    return shape[axis < 0 ? axis + rank : axis];
  }

  /** The number of elements: the product of the shape, 1 for a scalar. */
  public long numel() {
    return numel;
  }

  public long byteSize() {
    return numel * dtype.size();
  }

  /**
   * The bytes, as a new little-endian view at position 0 with limit {@link #byteSize()}. Writes
   * through the view change the tensor; moving its position or limit does not.
   */
  public ByteBuffer data() {
    return buf.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
  }

  public int getInt8(long flatIndex) {
    return buf.get(offset(flatIndex, DType.INT8, "getInt8"));
  }

  /**
   * @throws IllegalArgumentException if {@code v} is outside -128 to 127
   */
  public void setInt8(long flatIndex, int v) {
    int off = offset(flatIndex, DType.INT8, "setInt8");
    checkRange("setInt8", v, Byte.MIN_VALUE, Byte.MAX_VALUE);
    buf.put(off, (byte) v);
  }

  /** The byte at {@code flatIndex} as a value from 0 to 255. */
  public int getUint8(long flatIndex) {
    return buf.get(offset(flatIndex, DType.UINT8, "getUint8")) & 0xFF;
  }

  /**
   * @throws IllegalArgumentException if {@code v} is outside 0 to 255
   */
  public void setUint8(long flatIndex, int v) {
    int off = offset(flatIndex, DType.UINT8, "setUint8");
    checkRange("setUint8", v, 0, 0xFF);
    buf.put(off, (byte) v);
  }

  public int getInt32(long flatIndex) {
    return buf.getInt(offset(flatIndex, DType.INT32, "getInt32"));
  }

  public void setInt32(long flatIndex, int v) {
    buf.putInt(offset(flatIndex, DType.INT32, "setInt32"), v);
  }

  public long getInt64(long flatIndex) {
    return buf.getLong(offset(flatIndex, DType.INT64, "getInt64"));
  }

  public void setInt64(long flatIndex, long v) {
    buf.putLong(offset(flatIndex, DType.INT64, "setInt64"), v);
  }

  public float getFloat32(long flatIndex) {
    return buf.getFloat(offset(flatIndex, DType.FLOAT32, "getFloat32"));
  }

  public void setFloat32(long flatIndex, float v) {
    buf.putFloat(offset(flatIndex, DType.FLOAT32, "setFloat32"), v);
  }

  public double getFloat64(long flatIndex) {
    return buf.getDouble(offset(flatIndex, DType.FLOAT64, "getFloat64"));
  }

  public void setFloat64(long flatIndex, double v) {
    buf.putDouble(offset(flatIndex, DType.FLOAT64, "setFloat64"), v);
  }

  /** A float16 element, exactly, as a float. */
  public float getFloat16(long flatIndex) {
    return Float16.toFloat(buf.getShort(offset(flatIndex, DType.FLOAT16, "getFloat16")));
  }

  /** Stores {@code v} rounded to the nearest binary16, ties to even. */
  public void setFloat16(long flatIndex, float v) {
    buf.putShort(offset(flatIndex, DType.FLOAT16, "setFloat16"), Float16.fromFloat(v));
  }

  /** A bool element: any nonzero byte reads as true, as in NumPy. */
  public boolean getBool(long flatIndex) {
    return buf.get(offset(flatIndex, DType.BOOL, "getBool")) != 0;
  }

  public void setBool(long flatIndex, boolean v) {
    buf.put(offset(flatIndex, DType.BOOL, "setBool"), v ? (byte) 1 : 0);
  }

  /**
   * The bytes as a new array, for element-wise work that would be slow through the accessors; for
   * the one-byte types (int8, uint8, bool) these are the elements themselves.
   */
  public byte[] toByteArray() {
    byte[] out = new byte[Math.toIntExact(byteSize())];
    buf.get(0, out);
    return out;
  }

  /** The int32 elements as a new array. */
  public int[] toIntArray() {
    checkBulk(DType.INT32, "toIntArray");
    int[] out = new int[(int) numel];
    buf.asIntBuffer().get(out);
    return out;
  }

  /** The int64 elements as a new array. */
  public long[] toLongArray() {
    checkBulk(DType.INT64, "toLongArray");
    long[] out = new long[(int) numel];
    buf.asLongBuffer().get(out);
    return out;
  }

  /** The float32 elements as a new array. */
  public float[] toFloatArray() {
    checkBulk(DType.FLOAT32, "toFloatArray");
    float[] out = new float[(int) numel];
    buf.asFloatBuffer().get(out);
    return out;
  }

  /** The float64 elements as a new array. */
  public double[] toDoubleArray() {
    checkBulk(DType.FLOAT64, "toDoubleArray");
    double[] out = new double[(int) numel];
    buf.asDoubleBuffer().get(out);
    return out;
  }

  /** The float16 elements as a new array of floats, exactly. */
  public float[] float16ToFloatArray() {
    checkBulk(DType.FLOAT16, "float16ToFloatArray");
    float[] out = new float[(int) numel];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float16.toFloat(buf.getShort(2 * i));
    }
    return out;
  }

  private void checkBulk(DType expected, String accessor) {
    if (dtype != expected) {
      throw new IllegalStateException(String.format(
          "%s on a tensor of dtype %s (expected %s)", accessor, dtype.label(), expected.label()));
    }
  }

  private int offset(long flatIndex, DType expected, String accessor) {
    if (dtype != expected) {
      throw new IllegalStateException(String.format(
          "%s on a tensor of dtype %s (expected %s)", accessor, dtype.label(), expected.label()));
    }
    if (flatIndex < 0 || flatIndex >= numel) {
      throw new IndexOutOfBoundsException(String.format(
          "index %d (expected 0 <= index < %d)", flatIndex, numel));
    }
    return (int) (flatIndex * dtype.size());
  }

  private static void checkRange(String accessor, int v, int min, int max) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(String.format(
          "%s value %d (expected %d <= value <= %d)", accessor, v, min, max));
    }
  }

  /**
   * The same bytes under another shape with as many elements. One dimension may be -1, and is then
   * inferred from the others.
   *
   * @throws IllegalArgumentException if the element counts differ or the -1 cannot be inferred
   */
  public Tensor reshape(long... newShape) {
    long[] s = newShape.clone();
    int inferred = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1 && inferred < 0) {
        inferred = i;
      } else if (s[i] == -1) {
        throw reshapeError(s, "only one dimension can be -1");
      } else if (s[i] < 0) {
        throw reshapeError(s, "dimension " + i + " is " + s[i]
            + " (expected >= 0, or -1 for one inferred dimension)");
      } else {
        known = saturatingMultiply(known, s[i]);
      }
    }
    if (inferred >= 0) {
      if (known == 0) {
        throw reshapeError(s, "the -1 is ambiguous when the other dimensions multiply to 0");
      }
      if (numel % known != 0) {
        throw reshapeError(s, numel + " elements are not a multiple of " + known);
      }
      s[inferred] = numel / known;
    } else if (known != numel) {
      throw reshapeError(s, (known == Long.MAX_VALUE ? "more than " + known : known)
          + " elements (expected " + numel + ")");
    }
    return new Tensor(dtype, s, numel, buf);
  }

  private IllegalArgumentException reshapeError(long[] to, String why) {
    return new IllegalArgumentException(String.format(
        "cannot reshape %s (%d elements) to %s: %s", shapeString(), numel, shapeString(to), why));
  }

  /** The shape as {@code 37x300}, or {@code scalar} for rank 0. */
  public String shapeString() {
    return shapeString(shape);
  }

  /** {@code shape} as {@code 37x300}, or {@code scalar} for rank 0. */
  public static String shapeString(long[] shape) {
    if (shape.length == 0) {
      return "scalar";
    }
    StringJoiner j = new StringJoiner("x");
    for (long d : shape) {
      j.add(Long.toString(d));
    }
    return j.toString();
  }

  /**
   * The element count of {@code shape}, after checking that every dimension is at least 0 and that
   * the bytes fit one buffer.
   *
   * @throws IllegalArgumentException naming the shape and the offending dimension or size
   */
  public static long checkedNumel(DType dtype, long[] shape) {
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException(String.format(
            "shape %s: dimension %d is %d (expected >= 0)", shapeString(shape), i, shape[i]));
      }
      n = saturatingMultiply(n, shape[i]);
    }
    if (n > MAX_BYTES / dtype.size()) {
      BigInteger bytes = BigInteger.valueOf(dtype.size());
      for (long d : shape) {
        bytes = bytes.multiply(BigInteger.valueOf(d));
      }
      throw new IllegalArgumentException(String.format(
          "shape %s of %s is %s bytes (expected at most %d)",
          shapeString(shape), dtype.label(), bytes, MAX_BYTES));
    }
    return n;
  }

  /** {@code a * b} for non-negative operands, or {@link Long#MAX_VALUE} if it overflows. */
  private static long saturatingMultiply(long a, long b) {
    return b != 0 && a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t && dtype == t.dtype && Arrays.equals(shape, t.shape)
        && buf.equals(t.buf);
  }

  @Override
  public int hashCode() {
    return (31 * dtype.ordinal() + Arrays.hashCode(shape)) * 31 + buf.hashCode();
  }

  /** {@code Tensor[int8 37x300]}; the values are left out, as they may be millions. */
  @Override
  public String toString() {
    return "Tensor[" + dtype.label() + " " + shapeString() + "]";
  }
}
