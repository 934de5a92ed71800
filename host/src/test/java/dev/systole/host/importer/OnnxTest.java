package dev.systole.host.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Dim;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxTest {
  @TempDir
  Path tmp;

  /** A small CNN with a symbolic batch, every attribute kind and every element type. */
  static Graph cnn() {
    Random r = new Random(7);
    float[] w = new float[4 * 3 * 3 * 3];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextFloat() - 0.5f;
    }
    return Graph.builder().name("cnn").opset(13)
        .input("image", DType.FLOAT32, "N", 3, 8, 8)
        .initializer("w", Tensor.ofFloat32(w, 4, 3, 3, 3))
        .initializer("b", Tensor.ofFloat32(new float[] {0.1f, -0.2f, 0.3f, 0f}, 4))
        .initializer("shape", Tensor.ofInt64(new long[] {0, -1}, 2))
        .initializer("q", Tensor.ofInt8(new byte[] {-128, 5, 127}, 3))
        .initializer("u", Tensor.ofUint8(new byte[] {(byte) 255, 0}, 2))
        .initializer("i", Tensor.ofInt32(new int[] {Integer.MIN_VALUE, 9}, 2))
        .initializer("m", Tensor.ofBool(new boolean[] {true, false}, 2))
        .node("Conv", "conv", List.of("image", "w", "b"), List.of("c"), Map.of(
            "pads", Attribute.ofInts(1, 1, 1, 1), "auto_pad", Attribute.of("NOTSET")))
        .node("Relu", List.of("c"), List.of("r"))
        .node("MaxPool", "pool", List.of("r"), List.of("p"),
            Map.of("kernel_shape", Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2)))
        .node("Reshape", "flat", List.of("p", "shape"), List.of("f"), Map.of())
        .node("Constant", "k", List.of(), List.of("k"),
            Map.of("value", Attribute.of(Tensor.ofFloat32(new float[] {2f}))))
        .node("Mul", List.of("f", "k"), List.of("g"))
        .node("Softmax", "sm", List.of("g"), List.of("probs"), Map.of("axis", Attribute.of(1L)))
        .node("Clip", "clip", List.of("probs", "lo"), List.of("clipped"), Map.of())
        .node("Constant", "lo_c", List.of(), List.of("lo"),
            Map.of("value_float", Attribute.of(0.01f)))
        .valueInfo(ValueInfo.of("c", DType.FLOAT32, "N", 4, 8, 8))
        .output(ValueInfo.of("clipped", DType.FLOAT32, "N", 64))
        .output("k")
        .build();
  }

  @Test
  void aGraphRoundTripsThroughTheWriterAndReader() throws IOException {
    Graph g = cnn();
    Path file = tmp.resolve("cnn.onnx");
    Onnx.write(g, file);
    Graph back = Onnx.read(file);

    assertEquals(g.name(), back.name());
    assertEquals(g.opset(), back.opset());
    assertEquals(g.inputs(), back.inputs());
    assertEquals(g.outputs(), back.outputs());
    assertEquals(g.valueInfos(), back.valueInfos());
    assertEquals(g.initializers(), back.initializers());
    assertEquals(g.nodes(), back.nodes());
    assertEquals(List.of(Dim.symbol("N"), Dim.of(3), Dim.of(8), Dim.of(8)),
        back.inputs().get(0).shape());
    assertArrayEquals(Onnx.write(g), Onnx.write(back), "writing is deterministic");
  }

  @Test
  void nodesComeOutSortedNamedAndWithDefaults() {
    Graph g = cnn();
    List<String> order = g.nodes().stream().map(Node::name).toList();
    assertTrue(order.indexOf("lo_c") < order.indexOf("clip"), "Constant lo_c sorted before clip"
        + " reads it: " + order);
    assertEquals("Relu_1", g.nodes().get(1).name());
    Node conv = g.nodes().get(0);
    assertEquals(1L, conv.intAttr("group"));
    assertArrayEquals(new long[] {1, 1}, conv.intsAttr("strides"));
    assertArrayEquals(new long[] {1, 1}, conv.intsAttr("dilations"));
    assertArrayEquals(new long[] {3, 3}, conv.intsAttr("kernel_shape"));
    assertEquals(11, conv.version());
  }

  @Test
  void tensorsRoundTripInEveryDtypeAndReadTypedDataFields() throws IOException {
    for (Tensor t : cnn().initializers().values()) {
      assertEquals(t, Onnx.readTensor("t", Onnx.writeTensor("x", t)));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt64(1, 3);
    out.writeInt32(2, 3);
    for (int v : new int[] {-1, 7, -128}) {
      out.writeInt32(5, v);
    }
    out.flush();
    assertEquals(Tensor.ofInt8(new byte[] {-1, 7, -128}, 3),
        Onnx.readTensor("int32_data", bytes.toByteArray()));
  }

  @Test
  void truncatedFilesFailClearly() {
    byte[] model = Onnx.write(cnn());
    for (int cut : new int[] {1, 2, 10, model.length / 3, model.length / 2, model.length - 1}) {
      ModelException e = assertThrows(ModelException.class,
          () -> Onnx.read("cut.onnx", Arrays.copyOf(model, cut)), "cut at " + cut);
      assertTrue(e.getMessage().startsWith("cut.onnx: "), e.getMessage());
    }
    ModelException e = assertThrows(ModelException.class,
        () -> Onnx.read("cut.onnx", Arrays.copyOf(model, model.length / 2)));
    assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("no graph"),
        e.getMessage());
  }

  @Test
  void otherFilesAndGarbageFailClearly() throws IOException {
    ByteArrayOutputStream npy = new ByteArrayOutputStream();
    Npy.write(npy, Tensor.ofFloat32(new float[] {1, 2}, 2));
    byte[][] inputs = {npy.toByteArray(), "ir_version: 8\ngraph {}".getBytes(StandardCharsets.UTF_8),
        new byte[0], new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}};
    for (byte[] b : inputs) {
      ModelException e = assertThrows(ModelException.class, () -> Onnx.read("x.onnx", b));
      assertTrue(e.getMessage().startsWith("x.onnx: not"), e.getMessage());
    }
    Random r = new Random(1);
    byte[] model = Onnx.write(cnn());
    for (int i = 0; i < 500; i++) {
      byte[] bent = model.clone();
      for (int k = 0; k < 1 + r.nextInt(4); k++) {
        bent[r.nextInt(bent.length)] = (byte) r.nextInt(256);
      }
      try {
        Onnx.read("bent.onnx", bent);
      } catch (ModelException e) {
        assertTrue(e.getMessage().startsWith("bent.onnx: "), e.getMessage());
      }
    }
  }

  @Test
  void opsSystoleDoesNotInterpretAreKeptOpaqueWithTheReason() {
    Graph g = Graph.builder()
        .input("x", DType.FLOAT32, 2)
        .node("Relu", List.of("x"), List.of("a"))
        .node("Erf", "erf1", List.of("a"), List.of("b"), Map.of())
        .node("LSTM", "rnn", List.of("b"), List.of("c"), Map.of())
        .node("Erf", "erf2", List.of("c"), List.of("d"), Map.of())
        .node("com.microsoft", "QLinearAdd", "qa", List.of("d"), List.of("e"), Map.of())
        .output("e").build();
    Map<String, String> problems = new java.util.LinkedHashMap<>();
    g.nodes().forEach(n -> problems.put(n.name(), n.problem()));
    assertNull(problems.get("Relu_0"));
    assertEquals("an op Systole does not interpret", problems.get("erf1"));
    assertEquals("an op Systole does not interpret", problems.get("rnn"));
    assertEquals("an op of domain 'com.microsoft'", problems.get("qa"));
    assertEquals("com.microsoft.QLinearAdd node 'qa'", g.nodes().get(4).toString());
    assertNull(g.type("e"), "an opaque node's outputs are typed by the CPU engine");
  }

  @Test
  void anOpVersionSystoleDoesNotImplementIsNamed() {
    Node bn = Graph.builder().opset(8)
        .input("x", DType.FLOAT32, 1, 2)
        .input("s", DType.FLOAT32, 2).input("b", DType.FLOAT32, 2)
        .input("m", DType.FLOAT32, 2).input("v", DType.FLOAT32, 2)
        .node("BatchNormalization", "bn", List.of("x", "s", "b", "m", "v"), List.of("y"),
            Map.of())
        .output("y").build().nodes().get(0);
    assertEquals("version 7, in force at opset 8 (Systole interprets versions 9, 14, 15)",
        bn.problem());
    assertEquals(18, Graph.builder().opset(18).build().opset(),
        "a newer opset than Systole's table is read: its nodes resolve to the newest versions"
        + " it knows, and ONNX Runtime checks the model");
  }

  @Test
  void aMissingInputNamesTheNode() {
    ModelException e = assertThrows(ModelException.class, () -> Graph.builder()
        .input("x", DType.FLOAT32, 2, 2)
        .node("MatMul", "mm", List.of("x", "weights"), List.of("y"), Map.of())
        .output("y").build());
    assertEquals("MatMul node 'mm': input 'weights' is neither a graph input, an initializer"
        + " nor the output of a node", e.getMessage());
    assertEquals("mm", e.node().orElseThrow());
  }

  @Test
  void badAttributesAreRefusedByName() {
    assertEquals("Conv node 'c': attribute 'strides' has [1, 0] (expected every value from 1"
        + " to 1048576)",
        convError(Map.of("strides", Attribute.ofInts(1, 0))));
    assertEquals("Conv node 'c': attribute 'group' is float (expected int)",
        convError(Map.of("group", Attribute.of(2f))));
    assertEquals("Conv node 'c': attribute 'auto_pad' is \"SAME\" (expected one of NOTSET,"
        + " SAME_UPPER, SAME_LOWER, VALID)", convError(Map.of("auto_pad", Attribute.of("SAME"))));
    Node unknown = Graph.builder()
        .input("x", DType.FLOAT32, 1, 1, 5, 5)
        .initializer("w", Tensor.allocate(DType.FLOAT32, 1, 1, 3, 3))
        .node("Conv", "c", List.of("x", "w"), List.of("y"), Map.of("stride",
            Attribute.ofInts(1, 1)))
        .output("y").build().nodes().get(0);
    assertTrue(unknown.problem().startsWith("attribute 'stride', which version 11 of Conv does"
        + " not have (it has auto_pad,"), unknown.problem());
    assertEquals("Conv node 'c': attribute 'pads' has 2 values (expected 4 for an input with 2"
        + " spatial axes)", convError(Map.of("pads", Attribute.ofInts(1, 1))));
  }

  private static String convError(Map<String, Attribute> attrs) {
    return assertThrows(ModelException.class, () -> Graph.builder()
        .input("x", DType.FLOAT32, 1, 1, 5, 5)
        .initializer("w", Tensor.allocate(DType.FLOAT32, 1, 1, 3, 3))
        .node("Conv", "c", List.of("x", "w"), List.of("y"), attrs)
        .output("y").build()).getMessage();
  }

  @Test
  void aModelOfOtherDomainsOnlyNeedNotImportTheDefaultDomain() throws IOException {
    String training = "ai.onnx.preview.training";
    Graph g = Onnx.read("adagrad.onnx", model(training, training, "Adagrad"));
    Node adagrad = g.nodes().get(0);
    assertFalse(adagrad.known());
    assertEquals("an op of domain '" + training + "'", adagrad.problem());
    assertEquals(1L, g.opsetImports().get(training));
    Graph back = Onnx.read("back.onnx", Onnx.write(g));
    assertArrayEquals(adagrad.proto(), back.nodes().get(0).proto(),
        "the node goes back out as it was read");
    assertEquals(1L, back.opsetImports().get(training));

    ModelException e = assertThrows(ModelException.class,
        () -> Onnx.read("relu.onnx", model("com.example", "", "Relu")));
    assertEquals("relu.onnx: the model imports no opset of the default ONNX domain, which its"
        + " Relu node 'n' uses (it imports [com.example])", e.getMessage());
  }

  /**
   * A ModelProto of one node {@code x -> y} of {@code domain} and {@code opType}, importing
   * version 1 of {@code imported} only.
   */
  private static byte[] model(String imported, String domain, String opType) throws IOException {
    byte[] node = proto(out -> {
      out.writeString(1, "x");
      out.writeString(2, "y");
      out.writeString(3, "n");
      out.writeString(4, opType);
      out.writeString(7, domain);
    });
    byte[] input = proto(out -> {
      out.writeString(1, "x");
      out.writeByteArray(2, proto(type -> type.writeByteArray(1,
          proto(tensor -> tensor.writeInt32(1, 1)))));
    });
    byte[] graph = proto(out -> {
      out.writeByteArray(1, node);
      out.writeString(2, "g");
      out.writeByteArray(11, input);
      out.writeByteArray(12, proto(o -> o.writeString(1, "y")));
    });
    return proto(out -> {
      out.writeInt64(1, 7);
      out.writeByteArray(7, graph);
      out.writeByteArray(8, proto(o -> {
        o.writeString(1, imported);
        o.writeInt64(2, 1);
      }));
    });
  }

  private interface Fields {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] proto(Fields fields) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    fields.write(out);
    out.flush();
    return bytes.toByteArray();
  }

  @Test
  void externalDataAndUnsupportedTypesAreRefused() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt64(1, 2);
    out.writeInt32(2, 1);
    out.writeString(8, "big");
    out.writeInt32(14, 1);
    out.flush();
    ModelException e = assertThrows(ModelException.class,
        () -> Onnx.readTensor("t.pb", bytes.toByteArray()));
    assertTrue(e.getMessage().startsWith("t.pb: tensor 'big' keeps its data in an external file"),
        e.getMessage());

    bytes.reset();
    out = CodedOutputStream.newInstance(bytes);
    out.writeInt32(2, 8);
    out.writeString(8, "s");
    out.flush();
    e = assertThrows(ModelException.class, () -> Onnx.readTensor("s.pb", bytes.toByteArray()));
    assertEquals("s.pb: tensor 's' is of type STRING (expected float32, float16, float64, uint8,"
        + " int8, int32, int64 or bool)", e.getMessage());
  }
  /** Bytes this thread allocates while {@code read} runs, whatever it throws. */
  private static long allocatedBy(Runnable read) {
    var threads = (com.sun.management.ThreadMXBean)
        java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    try {
      read.run();
    } catch (ModelException e) {
      // what is measured is the allocation; the messages are checked separately
    }
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  private static byte[] floatTensor(String name, long[] dims, byte[] raw) throws IOException {
    return proto(out -> {
      for (long d : dims) {
        out.writeInt64(1, d);
      }
      out.writeInt32(2, 1);
      out.writeString(8, name);
      out.writeByteArray(9, raw);
    });
  }

  @Test
  void aTensorDeclaringMoreThanItHoldsIsRefusedBeforeItIsMade() throws IOException {
    byte[] bytes = floatTensor("w", new long[] {500_000_000}, new byte[4]);
    ModelException e = assertThrows(ModelException.class, () -> Onnx.readTensor("t.pb", bytes));
    assertEquals("t.pb: tensor 'w' has 4 bytes of raw data for shape 500000000 of float32"
        + " (expected 2000000000)", e.getMessage());
    long allocated = allocatedBy(() -> Onnx.readTensor("t.pb", bytes));
    assertTrue(allocated < (16 << 20), allocated + " bytes allocated");
  }

  @Test
  void aSparseInitializerMayNotExpandWithoutBound() throws IOException {
    byte[] values = floatTensor("w", new long[] {1}, new byte[] {0, 0, (byte) 0x80, 0x3f});
    byte[] indices = proto(out -> {
      out.writeInt64(1, 1);
      out.writeInt32(2, 7);
      out.writeByteArray(9, new byte[8]);
    });
    byte[] sparse = proto(out -> {
      out.writeByteArray(1, values);
      out.writeByteArray(2, indices);
      out.writeInt64(3, 400_000_000);
    });
    byte[] model = proto(out -> {
      out.writeInt64(1, 8);
      out.writeByteArray(7, proto(g -> g.writeByteArray(15, sparse)));
      out.writeByteArray(8, proto(o -> o.writeInt64(2, 17)));
    });
    ModelException e = assertThrows(ModelException.class, () -> Onnx.read("s.onnx", model));
    assertEquals("s.onnx: sparse initializer 'w' is 1600000000 bytes dense from 12 bytes stored"
        + " (expected at most 16777216 + 32 times the bytes stored: a tensor that empty is more"
        + " likely a damaged file than weights) (reading graph > sparse_initializer)",
        e.getMessage());
    long allocated = allocatedBy(() -> Onnx.read("s.onnx", model));
    assertTrue(allocated < (16 << 20), allocated + " bytes allocated");
  }

  @Test
  void subgraphsNestedTooDeepAreRefused() throws IOException {
    byte[] graph = new byte[0];
    for (int i = 0; i < OnnxReader.MAX_SUBGRAPH_DEPTH + 1; i++) {
      byte[] inner = graph;
      int level = i;
      byte[] attribute = proto(a -> {
        a.writeString(1, "then_branch");
        a.writeInt32(20, 5);
        a.writeByteArray(6, inner);
      });
      graph = proto(g -> g.writeByteArray(1, proto(n -> {
        n.writeString(1, "c");
        n.writeString(2, "o" + level);
        n.writeString(4, "If");
        n.writeByteArray(5, attribute);
      })));
    }
    byte[] outer = graph;
    byte[] model = proto(out -> {
      out.writeInt64(1, 8);
      out.writeByteArray(7, outer);
      out.writeByteArray(8, proto(o -> o.writeInt64(2, 17)));
    });
    ModelException e = assertThrows(ModelException.class, () -> Onnx.read("deep.onnx", model));
    assertTrue(e.getMessage().startsWith("deep.onnx: not a valid ONNX model: subgraphs (the bodies"
        + " of If, Loop and Scan) nested more than 16 deep (expected at most 16 levels)"),
        e.getMessage());
  }
}
