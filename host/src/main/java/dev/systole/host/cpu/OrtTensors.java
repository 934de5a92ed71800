package dev.systole.host.cpu;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import dev.systole.host.graph.ValueType;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves tensors between Systole's {@link Tensor} and ONNX Runtime's values. A tensor in native
 * memory ({@link Tensor#allocateDirect}, as the device's outputs are) is handed over without a
 * copy, ONNX Runtime reading it in place while the tensor lives; one on the Java heap is copied
 * once into native memory. A value coming back from ONNX Runtime is copied once.
 */
public final class OrtTensors {
  private OrtTensors() {}

  /**
   * {@code t} as an ONNX Runtime tensor, which the caller closes.
   *
   * @throws IllegalArgumentException if ONNX Runtime cannot hold it
   */
  public static OnnxTensor toOrt(CpuEngine engine, Tensor t) {
    OrtEnvironment env = engine.environment();
    long[] shape = t.shape();
    ByteBuffer data = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    try {
      return switch (t.dtype().name()) {
        case "FLOAT32" -> OnnxTensor.createTensor(env, data.asFloatBuffer(), shape);
        case "INT32" -> OnnxTensor.createTensor(env, data.asIntBuffer(), shape);
        case "INT64" -> OnnxTensor.createTensor(env, data.asLongBuffer(), shape);
        case "FLOAT64" -> OnnxTensor.createTensor(env, data.asDoubleBuffer(), shape);
        case "FLOAT16" -> OnnxTensor.createTensor(env, data.asShortBuffer(), shape,
            OnnxJavaType.FLOAT16);
        case "INT8" -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT8);
        case "UINT8" -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.UINT8);
        case "BOOL" -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.BOOL);
        default -> throw new IllegalArgumentException(t + " has no ONNX Runtime tensor type");
      };
    } catch (OrtException e) {
      throw new IllegalArgumentException("cannot hand " + t + " to ONNX Runtime: "
          + CpuProgram.clean(e.getMessage()), e);
    }
  }

  /**
   * ONNX Runtime value {@code v} (named {@code name}) as a {@link Tensor}, copied.
   *
   * @throws IllegalArgumentException if it is not a tensor of an element type Systole has
   */
  public static Tensor toTensor(String name, OnnxValue v) {
    if (!(v instanceof OnnxTensor t) || !(v.getInfo() instanceof TensorInfo info)) {
      throw new IllegalArgumentException("value '" + name + "' is " + describe(v.getInfo())
          + " (expected a tensor)");
    }
    int code = onnxCode(info.onnxType);
    DType dtype = ValueType.dtypeOf(code);
    if (dtype == null) {
      throw new IllegalArgumentException("value '" + name + "' is a tensor of "
          + ValueType.elemName(code) + " (Systole takes "
          + java.util.Arrays.toString(DType.values()).toLowerCase(java.util.Locale.ROOT)
          + " tensors)");
    }
    ByteBuffer copy = t.getByteBuffer();
    return Tensor.wrap(dtype, info.getShape(), copy.order(ByteOrder.LITTLE_ENDIAN));
  }

  /** The type of a value as ONNX Runtime describes it, or null if it has none Systole carries. */
  public static ValueType type(NodeInfo info) {
    if (info.getInfo() instanceof TensorInfo t) {
      return new ValueType(onnxCode(t.onnxType), false);
    }
    if (info.getInfo() instanceof SequenceInfo s && s.sequenceOfMaps == false
        && s.sequenceType != null) {
      return new ValueType(onnxCode(s.sequenceType), true);
    }
    return null;
  }

  /**
   * ONNX's {@code TensorProto.DataType} code of an ONNX Runtime element type, whose own
   * numbering in the Java API differs from ONNX's.
   */
  static int onnxCode(TensorInfo.OnnxTensorType t) {
    return switch (t.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length())) {
      case "FLOAT" -> 1;
      case "UINT8" -> 2;
      case "INT8" -> 3;
      case "UINT16" -> 4;
      case "INT16" -> 5;
      case "INT32" -> 6;
      case "INT64" -> 7;
      case "STRING" -> 8;
      case "BOOL" -> 9;
      case "FLOAT16" -> 10;
      case "DOUBLE" -> 11;
      case "UINT32" -> 12;
      case "UINT64" -> 13;
      case "COMPLEX64" -> 14;
      case "COMPLEX128" -> 15;
      case "BFLOAT16" -> 16;
      case "FLOAT8E4M3FN" -> 17;
      case "FLOAT8E4M3FNUZ" -> 18;
      case "FLOAT8E5M2" -> 19;
      case "FLOAT8E5M2FNUZ" -> 20;
      default -> 0;
    };
  }

  private static int onnxCode(OnnxJavaType t) {
    return switch (t) {
      case FLOAT -> 1;
      case UINT8 -> 2;
      case INT8 -> 3;
      case INT16 -> 5;
      case INT32 -> 6;
      case INT64 -> 7;
      case STRING -> 8;
      case BOOL -> 9;
      case FLOAT16 -> 10;
      case DOUBLE -> 11;
      case BFLOAT16 -> 16;
      default -> 0;
    };
  }

  private static String describe(ai.onnxruntime.ValueInfo info) {
    return info instanceof SequenceInfo ? "a sequence" : info instanceof TensorInfo ? "a tensor"
        : "a " + info.getClass().getSimpleName().replace("Info", "").toLowerCase(
            java.util.Locale.ROOT);
  }
}
