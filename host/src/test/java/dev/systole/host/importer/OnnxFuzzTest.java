package dev.systole.host.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.ReaderContract;
import java.util.List;

/**
 * The ONNX reader on any bytes, as a model and as a single tensor: a graph or a tensor, or a
 * {@link ModelException} that names the source, and never more memory than the bytes justify.
 * A model read is written back and read again to the same graph. The corpus holds the bundled
 * example model, the small models the tests run on ONNX Runtime, and every input that once broke
 * the reader.
 */
class OnnxFuzzTest {
  private static final String SOURCE = "model.onnx";

  @FuzzTest(maxDuration = "5m")
  void readModel(byte[] data) {
    Graph g = ReaderContract.check(SOURCE, data, List.of(ModelException.class),
        () -> Onnx.read(SOURCE, data));
    if (g == null) {
      return;
    }
    byte[] written = Onnx.write(g);
    Graph back = Onnx.read(SOURCE, written);
    assertEquals(g.nodes().size(), back.nodes().size());
    assertEquals(g.inputs().size(), back.inputs().size());
    assertEquals(g.outputs().size(), back.outputs().size());
  }

  @FuzzTest(maxDuration = "5m")
  void readTensor(byte[] data) {
    Tensor t = ReaderContract.check(SOURCE, data, List.of(ModelException.class),
        () -> Onnx.readTensor(SOURCE, data));
    if (t == null) {
      return;
    }
    Tensor back = Onnx.readTensor(SOURCE, Onnx.writeTensor("t", t));
    assertEquals(t.dtype(), back.dtype());
    assertEquals(t.data(), back.data());
  }
}
