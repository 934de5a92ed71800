package dev.systole.host.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuEngineTest {
  @Test
  void theJarsPlatformsAreKnownForTheMessageOfOneWithout() {
    List<String> platforms = CpuEngine.platforms();
    assertTrue(platforms.contains("linux-x64") && platforms.contains("osx-aarch64"),
        platforms.toString());
    assertTrue(platforms.stream().allMatch(p -> p.matches("(linux|osx|win)-(x64|aarch64)")),
        platforms.toString());
  }

  @Test
  void aModelOnnxRuntimeRefusesIsAModelExceptionWithItsMessage() {
    byte[] garbage = "not a model".getBytes(StandardCharsets.UTF_8);
    ModelException e = assertThrows(ModelException.class,
        () -> CpuEngine.get().load("garbage.onnx", garbage));
    assertTrue(e.getMessage().startsWith("garbage.onnx: ONNX Runtime cannot load the model: "),
        e.getMessage());
    assertTrue(!e.getMessage().contains("ORT_"), "no error-code prefix: " + e.getMessage());
  }

  @Test
  void aSliceIsAModelOfItsOwnWithTypedInputsAndOutputs() {
    Graph g = Graph.builder().input("x", DType.FLOAT32, "N", 3)
        .node("Relu", "relu", List.of("x"), List.of("a"), Map.of())
        .node("Sigmoid", "sigmoid", List.of("a"), List.of("y"), Map.of())
        .output("y").build();
    byte[] slice = Onnx.slice(g, "second", List.of(g.nodes().get(1)), List.of("a"),
        List.of("y"), Map.of("a", new long[] {2, 3}));
    Graph read = Onnx.read("second", slice);
    assertEquals(DType.FLOAT32, read.inputs().get(0).dtype());
    assertEquals("float32 2x3", read.inputs().get(0).typeString());
    assertEquals(DType.FLOAT32, read.outputs().get(0).dtype());
    try (CpuProgram p = CpuEngine.get().load("second", slice);
        ai.onnxruntime.OnnxTensor a = OrtTensors.toOrt(CpuEngine.get(),
            Tensor.ofFloat32(new float[] {0, 1, -1, 2, 0, 3}, 2, 3));
        CpuProgram.Outputs out = p.run(Map.of("a", a), List.of("y"))) {
      Tensor y = OrtTensors.toTensor("y", out.values().get("y"));
      assertEquals(0.5f, y.getFloat32(0), 1e-6);
      assertEquals(1 / (1 + Math.exp(1)), y.getFloat32(2), 1e-6);
    }
  }
}
