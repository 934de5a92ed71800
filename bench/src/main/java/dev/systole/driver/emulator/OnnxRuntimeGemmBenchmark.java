package dev.systole.driver.emulator;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * ONNX Runtime's CPU MatMulInteger on the same inputs, through its Java API: one session per
 * (types, threads), inputs bound once as direct buffers, and every invocation a full
 * {@code session.run} including the allocation of the int32 output, as a model would see it.
 * {@code s8s8} is the emulator's arithmetic (int8 A); {@code u8s8} reads A's bytes as uint8,
 * ONNX Runtime's most common quantized path. Its x86 kernels for u8s8 may saturate intermediate
 * int16 sums of pairs of products when both operands use their full range, as random bytes do,
 * so u8s8 results are only compared, and the count of differing outputs printed; s8s8 must be
 * exact.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class OnnxRuntimeGemmBenchmark {
  @Param({"1", "2"})
  public int threads;

  @Param({"s8s8", "u8s8"})
  public String types;

  private OrtEnvironment env;
  private OrtSession session;
  private OnnxTensor a;
  private OnnxTensor b;
  private Map<String, OnnxTensor> inputs;

  @Setup(Level.Trial)
  public void setup() throws OrtException {
    GemmProblem problem = new GemmProblem();
    env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = env.createSession(model("matmul_integer_" + types + ".onnx"), options);
    }
    boolean unsignedA = types.equals("u8s8");
    a = tensor(problem.a, GemmProblem.M, GemmProblem.K,
        unsignedA ? OnnxJavaType.UINT8 : OnnxJavaType.INT8);
    b = tensor(problem.b, GemmProblem.K, GemmProblem.N, OnnxJavaType.INT8);
    inputs = Map.of("A", a, "B", b);
    try (OrtSession.Result result = session.run(inputs)) {
      IntBuffer y = ((OnnxTensor) result.get(0)).getIntBuffer();
      int[] c = new int[y.remaining()];
      y.get(c);
      int[] expected = problem.reference(unsignedA);
      if (unsignedA) {
        int wrong = 0;
        for (int i = 0; i < c.length; i++) {
          wrong += c[i] != expected[i] ? 1 : 0;
        }
        System.out.println("ONNX Runtime u8s8: " + wrong + " of " + c.length
            + " outputs differ from the exact product");
      } else {
        GemmProblem.check("ONNX Runtime " + types, expected, c);
      }
    }
  }

  private OnnxTensor tensor(byte[] data, int rows, int cols, OnnxJavaType type)
      throws OrtException {
    ByteBuffer buf = ByteBuffer.allocateDirect(data.length).order(ByteOrder.nativeOrder());
    buf.put(data).flip();
    return OnnxTensor.createTensor(env, buf, new long[] {rows, cols}, type);
  }

  private static byte[] model(String name) {
    try (InputStream in = OnnxRuntimeGemmBenchmark.class.getResourceAsStream(
        "/dev/systole/bench/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name
            + " (scripts/make-bench-model writes it)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    a.close();
    b.close();
    session.close();
  }

  @Benchmark
  public long matMulInteger() throws OrtException {
    try (OrtSession.Result result = session.run(inputs)) {
      return ((OnnxTensor) result.get(0)).getInfo().getShape()[0];
    }
  }
}
