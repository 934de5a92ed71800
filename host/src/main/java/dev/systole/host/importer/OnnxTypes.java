package dev.systole.host.importer;

import dev.systole.host.tensor.DType;

/** ONNX's {@code TensorProto.DataType} codes for the element types Systole has, and back. */
final class OnnxTypes {
  private static final String[] NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16",
      "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
      "COMPLEX64", "COMPLEX128", "BFLOAT16"};

  private OnnxTypes() {}

  /** The element type for ONNX code {@code code}, or null if Systole has none. */
  static DType dtype(int code) {
    return switch (code) {
      case 1 -> DType.FLOAT32;
      case 2 -> DType.UINT8;
      case 3 -> DType.INT8;
      case 6 -> DType.INT32;
      case 7 -> DType.INT64;
      case 9 -> DType.BOOL;
      case 10 -> DType.FLOAT16;
      case 11 -> DType.FLOAT64;
      default -> null;
    };
  }

  static int code(DType t) {
    return switch (t) {
      case FLOAT32 -> 1;
      case UINT8 -> 2;
      case INT8 -> 3;
      case INT32 -> 6;
      case INT64 -> 7;
      case BOOL -> 9;
      case FLOAT16 -> 10;
      case FLOAT64 -> 11;
    };
  }

  /** ONNX's name for a code, e.g. {@code DOUBLE}, for messages. */
  static String name(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "unknown type " + code;
  }

  static final String SUPPORTED =
      "float32, float16, float64, uint8, int8, int32, int64 or bool";
}
