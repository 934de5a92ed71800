package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Multi-head self-attention as exporters write it, on the device in one program: the
 * projections, the head split (Reshape and Transpose), Q·Kᵀ with K transposed by a view, the
 * scaled Softmax, P·V, the head merge and the output projection. Every node runs on the device,
 * and the answers agree with ONNX Runtime's float run within int8's error, at sequence lengths
 * that are and are not multiples of the array's width and with more than one sequence.
 */
@ExtendWith(LeakCheckExtension.class)
class AttentionTest {
  private static Graph attention(Random r, int e, int heads) {
    int hd = e / heads;
    Graph.Builder b = Graph.builder().name("attention").opset(17)
        .input("x", DType.FLOAT32, "B", "S", e);
    for (String w : List.of("q", "k", "v", "o")) {
      b.initializer("w" + w, ModelRunnerTest.random(r, 1 / Math.sqrt(e), e, e));
      b.initializer("b" + w, ModelRunnerTest.random(r, 0.1, e));
    }
    b.initializer("heads", Tensor.ofInt64(new long[] {0, 0, heads, hd}, 4));
    b.initializer("merged", Tensor.ofInt64(new long[] {0, 0, e}, 3));
    b.initializer("root", Tensor.ofFloat32(new float[] {(float) Math.sqrt(hd)}));
    for (String w : List.of("q", "k", "v")) {
      b.node("MatMul", w + "_proj", List.of("x", "w" + w), List.of(w + "0"), Map.of());
      b.node("Add", w + "_bias", List.of(w + "0", "b" + w), List.of(w + "1"), Map.of());
      b.node("Reshape", w + "_split", List.of(w + "1", "heads"), List.of(w + "2"), Map.of());
      b.node("Transpose", w + "_heads", List.of(w + "2"), List.of(w + "h"), Map.of("perm",
          Attribute.ofInts(w.equals("k") ? new long[] {0, 2, 3, 1} : new long[] {0, 2, 1, 3})));
    }
    return b.node("MatMul", "scores", List.of("qh", "kh"), List.of("s"), Map.of())
        .node("Div", "scale", List.of("s", "root"), List.of("s1"), Map.of())
        .node("Softmax", "softmax", List.of("s1"), List.of("p"), Map.of("axis",
            Attribute.of(-1L)))
        .node("MatMul", "context", List.of("p", "vh"), List.of("c"), Map.of())
        .node("Transpose", "unheads", List.of("c"), List.of("c1"), Map.of("perm",
            Attribute.ofInts(0, 2, 1, 3)))
        .node("Reshape", "merge", List.of("c1", "merged"), List.of("c2"), Map.of())
        .node("MatMul", "o_proj", List.of("c2", "wo"), List.of("o0"), Map.of())
        .node("Add", "o_bias", List.of("o0", "bo"), List.of("y"), Map.of())
        .output("y").build();
  }

  @Test
  void selfAttentionRunsOnTheDeviceInOneProgram() {
    Random r = new Random(31);
    Graph g = attention(r, 32, 2);
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (long[] shape : new long[][] {{1, 16, 32}, {1, 12, 32}, {2, 20, 32}}) {
        check(s, g, ModelRunnerTest.random(r, 1, shape));
      }
    }
  }

  /**
   * A causal decoder's attention: one joint projection split three ways (Split), the scores
   * scaled, masked with {@code Where(mask, -inf, scores)} and softmaxed, as one masked softmax.
   */
  private static Graph causal(Random r, int e, int heads, int seq) {
    int hd = e / heads;
    boolean[] mask = new boolean[seq * seq];
    for (int q = 0; q < seq; q++) {
      for (int k = q + 1; k < seq; k++) {
        mask[q * seq + k] = true;
      }
    }
    Graph.Builder b = Graph.builder().name("causal").opset(17)
        .input("x", DType.FLOAT32, "B", seq, e)
        .initializer("wqkv", ModelRunnerTest.random(r, 1 / Math.sqrt(e), e, 3 * e))
        .initializer("wo", ModelRunnerTest.random(r, 1 / Math.sqrt(e), e, e))
        .initializer("parts", Tensor.ofInt64(new long[] {e, e, e}, 3))
        .initializer("heads", Tensor.ofInt64(new long[] {0, 0, heads, hd}, 4))
        .initializer("merged", Tensor.ofInt64(new long[] {0, 0, e}, 3))
        .initializer("scale", Tensor.ofFloat32(new float[] {(float) (1 / Math.sqrt(hd))}))
        .initializer("mask", Tensor.ofBool(mask, seq, seq))
        .initializer("minus", Tensor.ofFloat32(new float[] {Float.NEGATIVE_INFINITY}))
        .node("MatMul", "qkv", List.of("x", "wqkv"), List.of("qkv0"), Map.of())
        .node("Split", "split", List.of("qkv0", "parts"), List.of("q1", "k1", "v1"),
            Map.of("axis", Attribute.of(-1L)));
    for (String w : List.of("q", "k", "v")) {
      b.node("Reshape", w + "_split", List.of(w + "1", "heads"), List.of(w + "2"), Map.of());
      b.node("Transpose", w + "_heads", List.of(w + "2"), List.of(w + "h"), Map.of("perm",
          Attribute.ofInts(w.equals("k") ? new long[] {0, 2, 3, 1} : new long[] {0, 2, 1, 3})));
    }
    return b.node("MatMul", "scores", List.of("qh", "kh"), List.of("s"), Map.of())
        .node("Mul", "scaled", List.of("s", "scale"), List.of("s1"), Map.of())
        .node("Where", "causal", List.of("mask", "minus", "s1"), List.of("s2"), Map.of())
        .node("Softmax", "softmax", List.of("s2"), List.of("p"), Map.of("axis",
            Attribute.of(-1L)))
        .node("MatMul", "context", List.of("p", "vh"), List.of("c"), Map.of())
        .node("Transpose", "unheads", List.of("c"), List.of("c1"), Map.of("perm",
            Attribute.ofInts(0, 2, 1, 3)))
        .node("Reshape", "merge", List.of("c1", "merged"), List.of("c2"), Map.of())
        .node("MatMul", "o_proj", List.of("c2", "wo"), List.of("y"), Map.of())
        .output("y").build();
  }

  @Test
  void causalAttentionMasksByPrefixesOnTheDevice() {
    Random r = new Random(32);
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (long[] shape : new long[][] {{1, 16, 32}, {2, 9, 32}}) {
        Graph g = causal(r, 32, 4, (int) shape[1]);
        check(s, g, ModelRunnerTest.random(r, 1, shape));
      }
    }
  }

  /** One program, nothing on the CPU, and the float model's answers within int8's error. */
  private static void check(Session s, Graph g, Tensor x) {
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    String at = java.util.Arrays.toString(x.shape());
    assertEquals(1, plan.deviceProgramCount(), "one program at " + at);
    assertEquals(0, plan.cpuSegmentCount(), "nothing on the CPU at " + at);
    for (Node n : model.graph().nodes()) {
      assertTrue(plan.placement(n).where() != Plan.Where.CPU, n.name() + " at " + at);
    }
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    Tensor got;
    try (ModelRunner runner = ModelRunner.on(s, model)) {
      got = runner.run(Map.of("x", x)).outputs().get("y");
    }
    float[] w = want.toFloatArray();
    float[] o = got.toFloatArray();
    double dot = 0;
    double ww = 0;
    double oo = 0;
    for (int i = 0; i < w.length; i++) {
      dot += (double) w[i] * o[i];
      ww += (double) w[i] * w[i];
      oo += (double) o[i] * o[i];
    }
    double cosine = dot / Math.sqrt(ww * oo);
    assertTrue(cosine > 0.995, "cosine " + cosine + " at " + at);
    ModelRunnerTest.assertWithin(want, got, 0.08, "at " + at);
  }
}
