package dev.systole.host.partition;

import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each graph pass on its own, and what the partitioner makes of its result. */
class GraphPassTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();

  private static List<String> ops(Graph g) {
    return g.nodes().stream().map(Node::opType).toList();
  }

  private static Node node(Graph g, String name) {
    return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void identitiesAndInferenceDropoutsAreRemovedAndTheirReadersRewired() {
    Random r = new Random(1);
    Graph g = Graph.builder().input("x", DType.FLOAT32, 2, 4)
        .initializer("w", ModelRunnerTest.random(r, 0.5, 4, 3))
        .initializer("shared", ModelRunnerTest.random(r, 0.5, 3))
        .node("Identity", "id", List.of("x"), List.of("a"), Map.of())
        .node("Dropout", "drop", List.of("a"), List.of("b"), Map.of())
        .node("MatMul", "mm", List.of("b", "w"), List.of("c"), Map.of())
        .node("Identity", "bias", List.of("shared"), List.of("s"), Map.of())
        .node("Add", "add", List.of("c", "s"), List.of("y"), Map.of())
        .node("Identity", "out", List.of("y"), List.of("z"), Map.of())
        .output("z").build();
    Graph removed = new RemoveIdentities().apply(g);
    assertEquals(List.of("MatMul", "Add", "Identity"), ops(removed),
        "the Identity the model returns stays");
    assertEquals(List.of("x", "w"), node(removed, "mm").inputs());
    assertEquals(List.of("c", "shared"), node(removed, "add").inputs());
    assertSame(removed, new RemoveIdentities().apply(removed), "nothing more to remove");
  }

  @Test
  void aTrainingDropoutStays() {
    Graph g = Graph.builder().input("x", DType.FLOAT32, 4)
        .initializer("ratio", Tensor.ofFloat32(new float[] {0.5f}))
        .initializer("train", Tensor.ofBool(new boolean[] {true}))
        .node("Dropout", "drop", List.of("x", "ratio", "train"), List.of("y"), Map.of())
        .node("Relu", "relu", List.of("y"), List.of("z"), Map.of())
        .output("z").build();
    assertSame(g, new RemoveIdentities().apply(g));
  }

  @Test
  void nodesOfConstantsBecomeTheValuesOnnxRuntimeComputes() {
    Random r = new Random(2);
    Tensor w = ModelRunnerTest.random(r, 0.5, 3, 4);
    Graph g = Graph.builder().input("x", DType.FLOAT32, 2, 4)
        .initializer("wt", w)
        .node("Transpose", "t", List.of("wt"), List.of("w"), Map.of())
        .node("MatMul", "mm", List.of("x", "w"), List.of("y"), Map.of())
        .output("y").build();
    Graph folded = new ConstantFolding().apply(g);
    assertEquals(List.of("MatMul"), ops(folded));
    Tensor t = folded.initializers().get("w");
    assertEquals(List.of(4L, 3L), List.of(t.dim(0), t.dim(1)));
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(w.getFloat32(j * 4 + i), t.getFloat32(i * 3 + j));
      }
    }
    assertFalse(folded.initializers().containsKey("wt"), "what nothing reads is dropped");
    Model model = Model.of(g, Calibration.placeholder(g));
    Plan plan = model.planForShapes(Map.of("x", new long[] {2, 4}), PARAMS);
    assertEquals(Plan.Where.DEVICE, plan.placement(node(model.graph(), "mm")).where(),
        "the MatMul's weights are constant once folded");
  }

  /** conv -> Clip(0, 6) -> conv -> Relu: the Clip is the first layer's requantization. */
  @Test
  void aClipOfZeroToSixFoldsIntoTheLayerAndKeepsOneProgram() {
    Random r = new Random(3);
    Graph g = Graph.builder().input("x", DType.FLOAT32, "N", 3, 6, 6)
        .initializer("w1", ModelRunnerTest.random(r, 0.4, 8, 3, 3, 3))
        .initializer("w2", ModelRunnerTest.random(r, 0.4, 4, 8, 1, 1))
        .initializer("lo", Tensor.ofFloat32(new float[] {0f}))
        .initializer("hi", Tensor.ofFloat32(new float[] {6f}))
        .node("Conv", "conv1", List.of("x", "w1"), List.of("c1"), ModelRunnerTest.conv(1))
        .node("Clip", "relu6", List.of("c1", "lo", "hi"), List.of("r1"), Map.of())
        .node("Conv", "conv2", List.of("r1", "w2"), List.of("c2"), Map.of())
        .node("Relu", "relu", List.of("c2"), List.of("y"), Map.of())
        .output("y").build();
    Map<Node, Epilogues.Epilogue> e = Epilogues.of(g, DeviceOps.standard());
    Epilogues.Epilogue first = e.get(node(g, "conv1"));
    assertEquals(List.of(node(g, "relu6")), first.nodes());
    assertTrue(first.relu(), "Clip(0, 6) clamps at 0");
    assertEquals("r1", first.output());
    assertTrue(e.get(node(g, "conv2")).relu());

    Tensor x = ModelRunnerTest.random(r, 2, 4, 3, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), PARAMS);
    assertEquals(1, plan.deviceProgramCount());
    assertEquals(node(g, "conv1"), plan.placement(node(g, "relu6")).into());
  }

  @Test
  void aClipWhoseRangeMissesZeroIsNoEpilogue() {
    Random r = new Random(4);
    Graph g = Graph.builder().input("x", DType.FLOAT32, "N", 3, 6, 6)
        .initializer("w1", ModelRunnerTest.random(r, 0.4, 8, 3, 3, 3))
        .initializer("lo", Tensor.ofFloat32(new float[] {1f}))
        .initializer("hi", Tensor.ofFloat32(new float[] {6f}))
        .node("Conv", "conv1", List.of("x", "w1"), List.of("c1"), ModelRunnerTest.conv(1))
        .node("Clip", "clip", List.of("c1", "lo", "hi"), List.of("y"), Map.of())
        .output("y").build();
    assertNull(Epilogues.of(g, DeviceOps.standard()).get(node(g, "conv1")));
  }

  /** A Linear on 3-D input as PyTorch exports it: MatMul by the weights, then Add the bias. */
  @Test
  void aBiasAddAfterAMatMulOnThreeDInputsFoldsIntoTheLayer() {
    Random r = new Random(5);
    Tensor bias = ModelRunnerTest.random(r, 0.5, 6);
    Graph g = Graph.builder().input("x", DType.FLOAT32, "B", "S", 8)
        .initializer("w", ModelRunnerTest.random(r, 0.4, 8, 6))
        .initializer("b", bias)
        .node("MatMul", "mm", List.of("x", "w"), List.of("m"), Map.of())
        .node("Add", "bias", List.of("b", "m"), List.of("y"), Map.of())
        .output("y").build();
    Epilogues.Epilogue e = Epilogues.of(g, DeviceOps.standard()).get(node(g, "mm"));
    assertEquals(List.of(node(g, "bias")), e.nodes());
    assertEquals(bias.getFloat32(5), e.bias()[5]);
    assertFalse(e.relu());

    Tensor x = ModelRunnerTest.random(r, 1, 2, 5, 8);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), PARAMS);
    assertEquals(Plan.Where.FUSED, plan.placement(node(g, "bias")).where());
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    try (dev.systole.host.run.Session s = dev.systole.host.run.Session.owning(
        dev.systole.driver.Devices.open("emulator", dev.systole.driver.Ticker.system(),
            m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      Tensor got = runner.run(Map.of("x", x)).outputs().get("y");
      float range = 0;
      for (int i = 0; i < want.numel(); i++) {
        range = Math.max(range, Math.abs(want.getFloat32(i)));
      }
      for (int i = 0; i < want.numel(); i++) {
        assertEquals(want.getFloat32(i), got.getFloat32(i), 0.03 * range, "element " + i);
      }
    }
  }

  @Test
  void aRewriteKeepsTheOpaqueNodesAndTheOpsetImportsItDoesNotTouch() {
    Graph g = Graph.builder().input("x", DType.FLOAT32, 2, 4)
        .node("Identity", "id", List.of("x"), List.of("a"), Map.of())
        .node("com.microsoft", "Gelu", "gelu", List.of("a"), List.of("y"), Map.of())
        .output("y").build();
    Graph removed = new RemoveIdentities().apply(g);
    Node gelu = removed.nodes().get(0);
    assertEquals("com.microsoft", gelu.domain());
    assertFalse(gelu.known());
    assertEquals(List.of("x"), gelu.inputs());
    assertEquals(g.opsetImports(), removed.opsetImports());
  }

  @Test
  void needsCalibrationAsksTheRegistry() {
    Graph floatConv = Graph.builder().input("x", DType.FLOAT32, 1, 1, 4, 4)
        .initializer("w", Tensor.allocate(DType.FLOAT32, 1, 1, 3, 3))
        .node("Conv", "c", List.of("x", "w"), List.of("y"), Map.of())
        .output("y").build();
    assertTrue(Model.needsCalibration(floatConv));
    Graph onlyCpu = Graph.builder().input("x", DType.FLOAT32, 4)
        .node("Hardmax", "s", List.of("x"), List.of("y"), Map.of())
        .output("y").build();
    assertFalse(Model.needsCalibration(onlyCpu));
  }
}
