package dev.systole.host.tensor;

import java.util.Locale;

/**
 * The element types a {@link Tensor} can hold: the accelerator's int8 operands and int32
 * accumulators, uint8 for quantized inputs with a zero point, int64 for shapes and indices as ONNX
 * stores them, float32 for the model's own values before quantization, and bool (one byte, 0 or
 * 1, as NumPy stores it) for masks. float64 and float16 are here for what users hand in rather
 * than for what runs: NumPy's default float is float64, and half-precision data is common, so
 * .npy files of either must be read, and {@link InputTypes} converts them to the type a model
 * input declares. Every type is stored little-endian, as on the host and in card memory, so a
 * type is fully named by its NumPy descriptor and there is no byte order to carry around;
 * {@link Npy} turns big-endian files around as it reads them.
 */
public enum DType {
  INT8(1, "|i1"),
  UINT8(1, "|u1"),
  INT32(4, "<i4"),
  INT64(8, "<i8"),
  /** IEEE 754 binary16, each element held as its 16 bits. */
  FLOAT16(2, "<f2"),
  FLOAT32(4, "<f4"),
  FLOAT64(8, "<f8"),
  BOOL(1, "|b1");

  private final int size;
  private final String npyDescr;

  DType(int size, String npyDescr) {
    this.size = size;
    this.npyDescr = npyDescr;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /** The descriptor NumPy writes in a .npy header for this type, e.g. {@code <i4}. */
  public String npyDescr() {
    return npyDescr;
  }

  /**
   * The type NumPy names {@code descr}, accepting exactly the descriptors NumPy writes for these
   * types ({@code |i1 |u1 <i4 <i8 <f2 <f4 <f8 |b1}).
   *
   * @throws IllegalArgumentException for any other descriptor, naming it and the supported ones
   */
  public static DType fromNpyDescr(String descr) {
    for (DType t : values()) {
      if (t.npyDescr.equals(descr)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unsupported dtype '" + descr + "' (expected one of " + supportedDescrs() + ")");
  }

  /** The supported descriptors, for messages: {@code |i1, |u1, <i4, <i8, <f2, <f4, <f8, |b1}. */
  static String supportedDescrs() {
    StringBuilder sb = new StringBuilder();
    for (DType t : values()) {
      sb.append(sb.length() == 0 ? "" : ", ").append(t.npyDescr);
    }
    return sb.toString();
  }

  /** The lower-case name used in messages and {@link Tensor#toString()}, e.g. {@code int8}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
