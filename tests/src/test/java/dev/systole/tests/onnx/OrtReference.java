package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime as the independent reference that Systole's results are compared with: a model
 * runs here on the same {@link Tensor}s Systole takes, and its outputs come back as {@code Tensor}s
 * to compare element by element. ONNX Runtime is a different implementation of the same ONNX
 * semantics, by other people, so agreement with it says more than agreement with our own CPU
 * interpreter would.
 *
 * <p>The session runs on one thread, sequentially and with graph optimizations off, so its
 * numbers are the plain op-by-op evaluation of the model as written (no fused kernels that round
 * differently) and the same on every run. Inputs are checked against the model's declared inputs
 * before ONNX Runtime sees them, so a test that passes the wrong name, dtype or shape gets a
 * message naming the input, the expected and the given value rather than a native error code.
 *
 * <p>ONNX Runtime's native library ships inside its jar for Linux and macOS on x86-64 and arm64
 * and for Windows on x86-64. Where it cannot be loaded, a test that needs it is skipped with the reason on a
 * developer's machine and fails in CI, like any other missing tool (see {@link Tools}).
 */
final class OrtReference implements AutoCloseable {
  private final String name;
  private final OrtSession session;
  private final Map<String, TensorInfo> inputs;

  private OrtReference(String name, OrtSession session, Map<String, TensorInfo> inputs) {
    this.name = name;
    this.session = session;
    this.inputs = inputs;
  }

  /** The model in {@code file}. */
  static OrtReference load(Path file) throws IOException {
    return load(file.toString(), Files.readAllBytes(file));
  }

  /**
   * The model serialized in {@code model}.
   *
   * @param name names the model in error messages
   */
  static OrtReference load(String name, byte[] model) {
    OrtEnvironment env = environment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      OrtSession session = env.createSession(model, options);
      try {
        return new OrtReference(name, session, tensorInputs(name, session));
      } catch (RuntimeException | OrtException e) {
        session.close();
        throw e;
      }
    } catch (OrtException e) {
      throw new IllegalArgumentException(name + ": ONNX Runtime cannot load the model: "
          + e.getMessage(), e);
    }
  }

  private static Map<String, TensorInfo> tensorInputs(String name, OrtSession session)
      throws OrtException {
    Map<String, TensorInfo> inputs = new LinkedHashMap<>();
    for (NodeInfo info : session.getInputInfo().values()) {
      if (!(info.getInfo() instanceof TensorInfo t)) {
        throw new IllegalArgumentException(name + ": input '" + info.getName() + "' is "
            + info.getInfo() + " (expected a tensor)");
      }
      inputs.put(info.getName(), t);
    }
    return inputs;
  }

  /**
   * The process's ONNX Runtime environment, or, if its native library does not load, a skipped
   * test on a developer's machine and a failed one in CI.
   */
  static OrtEnvironment environment() {
    try {
      return OrtEnvironment.getEnvironment();
    } catch (LinkageError | RuntimeException e) {
      String msg = "ONNX Runtime's native library does not load on " + System.getProperty("os.name")
          + " " + System.getProperty("os.arch") + ": " + causes(e);
      if (Tools.ci()) {
        return fail(msg + "; CI must have it (it ships in the onnxruntime jar)", e);
      }
      return abort("skipped: " + msg);
    }
  }

  /**
   * What went wrong, down to the first cause: a failed class initializer says nothing itself, and
   * the missing library is named two causes down.
   */
  private static String causes(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = e; c != null; c = c.getCause()) {
      sb.append(sb.length() == 0 ? "" : ": ")
          .append(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName());
    }
    return sb.toString();
  }

  /** The model's input names, in the model's order. */
  List<String> inputNames() {
    return new ArrayList<>(inputs.keySet());
  }

  /**
   * The declared shape of input {@code input}, -1 for a symbolic dimension such as a batch.
   *
   * @throws IllegalArgumentException if the model has no such input
   */
  long[] inputShape(String input) {
    return info(input).getShape();
  }

  /** The model's output names, in the model's order. */
  List<String> outputNames() {
    return new ArrayList<>(session.getOutputNames());
  }

  /**
   * Runs the model on {@code feeds}, one tensor for each of the model's inputs, and returns every
   * output by name, in the model's order.
   *
   * @throws IllegalArgumentException if an input is missing, unknown, or of the wrong dtype or
   *     shape, naming it with the expected and the given value
   */
  Map<String, Tensor> run(Map<String, Tensor> feeds) {
    for (String input : inputs.keySet()) {
      if (!feeds.containsKey(input)) {
        throw new IllegalArgumentException(String.format(
            "%s: no tensor for input '%s' (the model's inputs: %s)", name, input, inputNames()));
      }
    }
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> feed : feeds.entrySet()) {
        Tensor t = feed.getValue();
        check(feed.getKey(), t);
        ort.put(feed.getKey(), OnnxTensor.createTensor(environment(), direct(t), t.shape(),
            javaType(t.dtype())));
      }
      try (OrtSession.Result result = session.run(ort)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : result) {
          out.put(e.getKey(), tensor(e.getKey(), e.getValue()));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new IllegalStateException(name + ": ONNX Runtime failed: " + e.getMessage(), e);
    } finally {
      ort.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * A copy of {@code t}'s bytes in a direct buffer, which ONNX Runtime reads in place; from a heap
   * buffer it would copy them itself, but only for types it can view the buffer as.
   */
  private static ByteBuffer direct(Tensor t) {
    return ByteBuffer.allocateDirect(Math.toIntExact(t.byteSize()))
        .order(ByteOrder.LITTLE_ENDIAN).put(t.data()).flip();
  }

  private TensorInfo info(String input) {
    TensorInfo info = inputs.get(input);
    if (info == null) {
      throw new IllegalArgumentException(String.format(
          "%s: no input named '%s' (the model's inputs: %s)", name, input, inputNames()));
    }
    return info;
  }

  private void check(String input, Tensor t) {
    TensorInfo info = info(input);
    if (info.type != javaType(t.dtype())) {
      throw new IllegalArgumentException(String.format(
          "%s: input '%s' has dtype %s (expected %s)", name, input, typeName(javaType(t.dtype())),
          typeName(info.type)));
    }
    long[] want = info.getShape();
    long[] got = t.shape();
    boolean fits = want.length == got.length;
    for (int i = 0; fits && i < want.length; i++) {
      fits = want[i] < 0 || want[i] == got[i];
    }
    if (!fits) {
      throw new IllegalArgumentException(String.format(
          "%s: input '%s' has shape %s (expected %s, -1 for any size)",
          name, input, t.shapeString(), Arrays.toString(want)));
    }
  }

  private Tensor tensor(String output, OnnxValue value) {
    if (!(value instanceof OnnxTensor t)) {
      throw new IllegalArgumentException(String.format(
          "%s: output '%s' is %s (expected a tensor)", name, output, value.getInfo()));
    }
    TensorInfo info = t.getInfo();
    DType dtype = dtype(output, info.type);
    return Tensor.wrap(dtype, info.getShape(), t.getByteBuffer());
  }

  private static OnnxJavaType javaType(DType dtype) {
    return switch (dtype) {
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case FLOAT32 -> OnnxJavaType.FLOAT;
      case BOOL -> OnnxJavaType.BOOL;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case FLOAT64 -> OnnxJavaType.DOUBLE;
    };
  }

  /** The type's name as {@link Tensor} messages spell it, e.g. {@code float32}. */
  private static String typeName(OnnxJavaType type) {
    return type == OnnxJavaType.FLOAT ? "float32" : type.name().toLowerCase(Locale.ROOT);
  }

  private DType dtype(String output, OnnxJavaType type) {
    for (DType d : DType.values()) {
      if (javaType(d) == type) {
        return d;
      }
    }
    throw new IllegalArgumentException(String.format(
        "%s: output '%s' has dtype %s (expected int8, uint8, int32, int64, float16, float32,"
            + " float64 or bool)",
        name, output, typeName(type)));
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(name + ": closing the ONNX Runtime session: "
          + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "OrtReference[" + name + "]";
  }
}
