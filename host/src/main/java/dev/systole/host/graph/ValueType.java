package dev.systole.host.graph;

import dev.systole.host.tensor.DType;

/**
 * The ONNX type of a value as the CPU engine needs it to declare the value at the edge of a
 * model it runs: a tensor, or a sequence of tensors, of an ONNX element type
 * ({@code TensorProto.DataType}). Systole computes only with the element types it has a
 * {@link DType} for; every other type (float16, double, string, a sequence) is carried by this
 * record so that values of it can still cross between the CPU engine's programs.
 *
 * @param elemType ONNX's element type code, e.g. 1 for float, 8 for string
 * @param sequence whether the value is a sequence of such tensors
 */
public record ValueType(int elemType, boolean sequence) {
  private static final String[] NAMES = {"undefined", "float32", "uint8", "int8", "uint16",
      "int16", "int32", "int64", "string", "bool", "float16", "float64", "uint32", "uint64",
      "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
      "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};

  /** A tensor of {@code dtype}. */
  public static ValueType of(DType dtype) {
    return new ValueType(code(dtype), false);
  }

  /** The element type Systole computes with, or null for a sequence or another element type. */
  public DType dtype() {
    return sequence ? null : dtypeOf(elemType);
  }

  /** The {@link DType} of ONNX element type {@code code}, or null if Systole has none. */
  public static DType dtypeOf(int code) {
    for (DType t : DType.values()) {
      if (code(t) == code) {
        return t;
      }
    }
    return null;
  }

  /** ONNX's element type code for {@code t}. */
  public static int code(DType t) {
    return switch (t.name()) {
      case "FLOAT32" -> 1;
      case "UINT8" -> 2;
      case "INT8" -> 3;
      case "INT32" -> 6;
      case "INT64" -> 7;
      case "BOOL" -> 9;
      case "FLOAT16" -> 10;
      case "FLOAT64" -> 11;
      default -> throw new IllegalArgumentException("no ONNX code for " + t);
    };
  }

  /** ONNX's element type {@code code} in words, e.g. {@code float64}, for messages. */
  public static String elemName(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "element type " + code;
  }

  /** {@code float32}, or {@code sequence of string}. */
  public String label() {
    return (sequence ? "sequence of " : "") + elemName(elemType);
  }
}
