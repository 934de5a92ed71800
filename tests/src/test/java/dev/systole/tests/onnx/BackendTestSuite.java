package dev.systole.tests.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The ONNX backend tests (a directory per test: {@code model.onnx} and {@code test_data_set_N/}
 * with {@code input_i.pb} and {@code output_i.pb}) run through a {@link GraphRunner}. Which ops a
 * model holds, and the types its inputs and outputs declare, are read here with a few lines of
 * protobuf, independently of Systole's reader, so a reader that wrongly refuses a model, or reads
 * a data file wrongly, shows as a failure rather than as "not supported".
 *
 * <p>A test is not supported, rather than failed, for one of two reasons, each said precisely: a
 * data file holds a value {@link Onnx#readTensor} does not read (a sequence, an optional, a map,
 * or a tensor of an element type Systole has no {@link DType} for: which input or output, and its
 * type), or ONNX Runtime refuses the model (an opset older than 7, an op or a type it does not
 * implement: its message). With {@link Scope#CLAIMED_OPS}, a model with an op Systole does not
 * interpret is not supported either, as it was before every op ran through ONNX Runtime.
 */
final class BackendTestSuite {
  /** The tolerances of ONNX's backend test runner. */
  static final double RTOL = 1e-3;
  static final double ATOL = 1e-7;
  /** How the CPU engine says ONNX Runtime refuses a model (an op version it lacks, say). */
  static final String ORT_REFUSES = "ONNX Runtime cannot load the model";
  /** The longest ONNX Runtime message kept in a result's detail. */
  private static final int MESSAGE_CHARS = 200;
  /** ONNX Runtime's words for an op it has no kernel for, at a version, for these types. */
  private static final Pattern NO_KERNEL =
      Pattern.compile("Could not find an implementation for (\\w+)\\((\\d+)\\)");
  /** ONNX Runtime's words for an op it does not know at all. */
  private static final Pattern NO_OP =
      Pattern.compile("([\\w.]+):(\\w+)\\(-?\\d+\\) is not a registered function/op");

  /** ONNX's {@code TensorProto.DataType} names, by code, as ONNX prints them in types. */
  private static final String[] ELEM_NAMES = {"undefined", "float", "uint8", "int8", "uint16",
      "int16", "int32", "int64", "string", "bool", "float16", "double", "uint32", "uint64",
      "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
      "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
  /** The element types {@link Onnx#readTensor} reads: those Systole has a {@link DType} for. */
  private static final Set<Integer> READABLE = Set.of(1, 2, 3, 6, 7, 9, 10, 11);

  /** Tags (field number << 3 | wire type) of the few fields read here. */
  private static final int GRAPH_TAG = 7 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int NODE_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int INITIALIZER_TAG = 5 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int INPUT_TAG = 11 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OUTPUT_TAG = 12 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int SPARSE_INITIALIZER_TAG =
      15 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OP_TYPE_TAG = 4 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int DOMAIN_TAG = 7 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_TAG = 8 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_DOMAIN_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_VERSION_TAG = 2 << 3 | WireFormat.WIRETYPE_VARINT;

  enum Status { PASS, FAIL, NOT_SUPPORTED, EXCLUDED }

  /** Which tests a suite runs: every one, or only those of ops Systole interprets. */
  enum Scope { EVERY_OP, CLAIMED_OPS }

  /**
   * One test's result.
   *
   * @param claimed whether every op of the model is one Systole interprets
   *     ({@link Graph#supportedOps()})
   * @param reason for a test not supported, its kind without the test's particulars (for a
   *     count by kind); else ""
   */
  record Result(String test, Status status, String detail, boolean claimed, String reason) {}

  /**
   * A test whose expected outputs ONNX Runtime does not give, on purpose: it must fail, with a
   * detail containing {@code failure} (the mismatch the reason predicts), and is then counted
   * excluded for {@code reason}.
   */
  record Exclusion(String reason, String failure) {}

  /**
   * Compares a float output of test {@code test} with the expected one: null if it passes, else
   * what differed.
   */
  @FunctionalInterface
  interface FloatCheck {
    String check(String test, double[] got, double[] expected);
  }

  /**
   * Checks that a graph loads where it would run, without running it: for a test whose data
   * Systole cannot read, so that its model still goes through the path under test.
   */
  @FunctionalInterface
  interface LoadCheck {
    void load(Graph graph);
  }

  private final GraphRunner runner;
  private final Map<String, Exclusion> exclusions;
  private final FloatCheck floatCheck;
  private final Scope scope;
  private final LoadCheck loadCheck;

  /**
   * A suite of every test, through {@code runner}, floats within ONNX's tolerances but for the
   * absolute tolerances {@code atol} gives some tests; {@code loadCheck} loads the models whose
   * data cannot be read.
   */
  BackendTestSuite(GraphRunner runner, LoadCheck loadCheck, Map<String, Exclusion> exclusions,
      Map<String, Double> atol) {
    this(runner, exclusions, (test, got, expected) -> withinTolerance(got, expected, RTOL,
        atol.getOrDefault(test, ATOL)), Scope.EVERY_OP, loadCheck);
  }

  /** A suite of the tests of {@code scope} whose float outputs pass {@code floatCheck}. */
  BackendTestSuite(GraphRunner runner, Map<String, Exclusion> exclusions, FloatCheck floatCheck,
      Scope scope, LoadCheck loadCheck) {
    this.runner = runner;
    this.exclusions = exclusions;
    this.floatCheck = floatCheck;
    this.scope = scope;
    this.loadCheck = loadCheck;
  }

  /** Runs every test of the suite in {@code suiteDir}, naming each {@code <suite>/<test>}. */
  List<Result> runAll(Path suiteDir) throws IOException {
    List<Result> results = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(suiteDir)) {
      for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("model.onnx"))).sorted()
          .toList()) {
        results.add(run(suiteDir.getFileName() + "/" + dir.getFileName(), dir));
      }
    }
    return results;
  }

  /** One test. */
  Result run(String name, Path dir) throws IOException {
    byte[] model = Files.readAllBytes(dir.resolve("model.onnx"));
    ModelInfo info = modelInfo(model);
    Set<String> unclaimed = new TreeSet<>(info.opTypes());
    unclaimed.removeAll(Graph.supportedOps());
    boolean claimed = unclaimed.isEmpty();
    if (!claimed && scope == Scope.CLAIMED_OPS) {
      return new Result(name, Status.NOT_SUPPORTED, "ops " + String.join(", ", unclaimed),
          false, "ops Systole does not interpret");
    }
    Exclusion exclusion = exclusions.get(name);
    String failure;
    try {
      Graph graph = Onnx.read(name, model);
      String lost = lostValues(info, graph);
      if (lost != null) {
        return new Result(name, Status.FAIL, lost, claimed, "");
      }
      List<Declared> unreadable = unreadable(info);
      if (!unreadable.isEmpty()) {
        return notReadable(name, graph, unreadable, claimed);
      }
      failure = runDataSets(name, dir, graph);
    } catch (ModelException e) {
      String m = e.getMessage();
      if (m.contains(ORT_REFUSES)) {
        return new Result(name, Status.NOT_SUPPORTED, "ONNX Runtime ("
            + (info.opset() >= 0 ? "opset " + info.opset() : "no default-domain opset") + "): "
            + ortMessage(m), claimed, "ONNX Runtime: " + ortReason(m, info.opset()));
      }
      failure = "error: " + m;
    } catch (RuntimeException e) {
      failure = "error: " + e;
    }
    if (exclusion != null) {
      if (failure == null) {
        return new Result(name, Status.FAIL, "excluded (" + exclusion.reason + ") but it"
            + " passes: remove the exclusion", claimed, "");
      }
      return failure.contains(exclusion.failure)
          ? new Result(name, Status.EXCLUDED, exclusion.reason + " (" + failure + ")", claimed,
              "")
          : new Result(name, Status.FAIL, "excluded (" + exclusion.reason + ") but it fails"
              + " otherwise than that predicts: " + failure, claimed, "");
    }
    return failure == null ? new Result(name, Status.PASS, "", claimed, "")
        : new Result(name, Status.FAIL, failure, claimed, "");
  }

  /**
   * A test whose data holds values Systole does not read: not supported, once its model has
   * loaded where it would run (else that is the failure).
   */
  private Result notReadable(String name, Graph graph, List<Declared> unreadable,
      boolean claimed) {
    List<String> each = unreadable.stream().map(d -> d.role() + " '" + d.name() + "' is "
        + d.type()).toList();
    Set<String> kinds = new TreeSet<>(unreadable.stream().map(Declared::kind).toList());
    String detail = String.join(", ", each) + ": Onnx.readTensor reads TensorProtos of"
        + " float32, float16, float64, uint8, int8, int32, int64 and bool only";
    try {
      loadCheck.load(graph);
    } catch (ModelException e) {
      if (!e.getMessage().contains(ORT_REFUSES)) {
        return new Result(name, Status.FAIL, "error: " + e.getMessage(), claimed, "");
      }
      detail += "; ONNX Runtime also refuses the model: " + ortMessage(e.getMessage());
    }
    return new Result(name, Status.NOT_SUPPORTED, detail, claimed,
        "data: " + String.join(", ", kinds));
  }

  /**
   * What the reader lost or reordered of the model's inputs (those no initializer gives) and
   * outputs, which the data files follow by position; null if nothing.
   */
  private static String lostValues(ModelInfo info, Graph graph) {
    List<String> inputs = info.inputs().stream().map(Declared::name).toList();
    List<String> outputs = info.outputs().stream().map(Declared::name).toList();
    List<String> readInputs = graph.inputs().stream().map(ValueInfo::name).toList();
    List<String> readOutputs = graph.outputs().stream().map(ValueInfo::name).toList();
    if (!inputs.equals(readInputs)) {
      return "the reader gives inputs " + readInputs + ", the model declares " + inputs;
    }
    return outputs.equals(readOutputs) ? null
        : "the reader gives outputs " + readOutputs + ", the model declares " + outputs;
  }

  /** ONNX Runtime's words in a CPU engine message, without their boilerplate, shortened. */
  static String ortMessage(String message) {
    String m = message.substring(message.indexOf(ORT_REFUSES) + ORT_REFUSES.length())
        .replaceFirst("^: ", "")
        .replaceFirst("^Load model from memory failed:", "")
        .replaceFirst("^\\[ONNXRuntimeError\\] : \\d+ : [A-Z_]+ : ", "")
        .replaceAll("\\s+", " ").strip();
    return m.length() <= MESSAGE_CHARS ? m : m.substring(0, MESSAGE_CHARS - 3) + "...";
  }

  /**
   * The kind of an ONNX Runtime refusal of a model at {@code opset}, from the CPU engine's
   * whole message, without the particulars (names, the node, source lines).
   */
  static String ortReason(String ort, long opset) {
    if (opset >= 0 && opset < 7) {
      return "opset before 7 (ONNX Runtime has kernels from opset 7 on)";
    }
    Matcher kernel = NO_KERNEL.matcher(ort);
    if (kernel.find()) {
      return "no kernel for " + kernel.group(1) + "(" + kernel.group(2) + ") of these types";
    }
    Matcher op = NO_OP.matcher(ort);
    if (op.find()) {
      return "no op of domain " + op.group(1);
    }
    if (ort.contains("layout_ == 0 was false")) {
      return "no batchwise layout (layout=1) of RNN, GRU, LSTM";
    }
    return ortMessage(ort).replaceAll("'[^']*'", "'…'").replaceAll("\\d+", "N");
  }

  /** Runs every data set; returns null if all match, else what differed. */
  private String runDataSets(String name, Path dir, Graph graph) throws IOException {
    List<Path> sets;
    try (Stream<Path> s = Files.list(dir)) {
      sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted()
          .toList();
    }
    if (sets.isEmpty()) {
      return "no test_data_set_* directory";
    }
    for (Path set : sets) {
      long inputFiles = count(set, "input_");
      long outputFiles = count(set, "output_");
      if (inputFiles != graph.inputs().size() || outputFiles != graph.outputs().size()) {
        return String.format("%s has %d input and %d output files for a model of %d inputs and"
            + " %d outputs", set.getFileName(), inputFiles, outputFiles, graph.inputs().size(),
            graph.outputs().size());
      }
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      Map<String, long[]> shapes = new HashMap<>();
      for (int i = 0; i < graph.inputs().size(); i++) {
        ValueInfo in = graph.inputs().get(i);
        Tensor t = Onnx.readTensor(set.resolve("input_" + i + ".pb"));
        inputs.put(in.name(), t);
        shapes.put(in.name(), t.shape());
      }
      Map<String, long[]> inferred = graph.hasOpaqueNodes()
          ? graph.inferShapesPartially(shapes, inputs) : graph.inferShapes(shapes, inputs);
      Map<String, Tensor> outputs = runner.run(graph, inputs);
      for (int i = 0; i < graph.outputs().size(); i++) {
        String out = graph.outputs().get(i).name();
        Tensor expected = Onnx.readTensor(set.resolve("output_" + i + ".pb"));
        Tensor got = outputs.get(out);
        String where = set.getFileName() + " output '" + out + "': ";
        // Systole's shape inference covers the nodes it interprets: all of a graph without
        // opaque nodes, which must give every output's shape, else the outputs that come
        // from interpreted nodes alone. The outputs' shapes are checked against the expected
        // ones in compare() in any case.
        long[] shape = inferred.get(out);
        if ((shape != null || !graph.hasOpaqueNodes())
            && !Arrays.equals(shape, expected.shape())) {
          return where + "shape inference gives "
              + (shape == null ? "nothing" : Tensor.shapeString(shape))
              + ", expected " + expected.shapeString();
        }
        String diff = compare(name, got, expected);
        if (diff != null) {
          return where + diff;
        }
      }
    }
    return null;
  }

  private static long count(Path set, String prefix) throws IOException {
    try (Stream<Path> files = Files.list(set)) {
      return files.map(f -> f.getFileName().toString())
          .filter(f -> f.startsWith(prefix) && f.endsWith(".pb")).count();
    }
  }

  /**
   * Null if {@code got} matches: integers and bools exactly, floats (float32, float16 and
   * float64) as the suite's {@link FloatCheck} says.
   */
  private String compare(String test, Tensor got, Tensor expected) {
    if (got == null) {
      return "no output";
    }
    if (got.dtype() != expected.dtype() || !Arrays.equals(got.shape(), expected.shape())) {
      return "got " + got + ", expected " + expected;
    }
    return switch (got.dtype()) {
      case FLOAT32, FLOAT16, FLOAT64 -> floatCheck.check(test, doubles(got), doubles(expected));
      default -> {
        byte[] g = got.toByteArray();
        byte[] e = expected.toByteArray();
        int es = got.dtype().size();
        for (int i = 0; i < g.length; i++) {
          if (g[i] != e[i] && !(got.dtype() == DType.BOOL && (g[i] != 0) == (e[i] != 0))) {
            yield "element " + i / es + " differs (integer outputs must match exactly)";
          }
        }
        yield null;
      }
    };
  }

  private static double[] doubles(Tensor t) {
    if (t.dtype() == DType.FLOAT64) {
      return t.toDoubleArray();
    }
    float[] f = t.dtype() == DType.FLOAT16 ? t.float16ToFloatArray() : t.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Within {@code rtol} and {@code atol}, element by element, as ONNX's runner checks. */
  static String withinTolerance(double[] g, double[] e, double rtol, double atol) {
    for (int i = 0; i < g.length; i++) {
      boolean ok = Double.isNaN(e[i]) ? Double.isNaN(g[i])
          : g[i] == e[i] || Math.abs(g[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
      if (!ok) {
        return String.format(Locale.ROOT, "element %d is %s, expected %s (rtol %g,"
            + " atol %g)", i, g[i], e[i], rtol, atol);
      }
    }
    return null;
  }

  /**
   * A graph input (one no initializer gives) or output as the model declares it: its role
   * ("input 0", "output 1"), its name, its type in ONNX's words ({@code tensor(float)},
   * {@code seq(tensor(string))}), and the kind of value its data files hold when
   * {@link Onnx#readTensor} cannot read them (e.g. {@code sequence (SequenceProto)}), else null.
   */
  record Declared(String role, String name, String type, String kind) {}

  /**
   * What this suite reads of a model: the op types of its main graph, the opset of its default
   * domain, and its declared inputs and outputs.
   */
  record ModelInfo(List<String> opTypes, long opset, List<Declared> inputs,
      List<Declared> outputs) {}

  private static List<Declared> unreadable(ModelInfo info) {
    List<Declared> all = new ArrayList<>(info.inputs());
    all.addAll(info.outputs());
    return all.stream().filter(d -> d.kind() != null).toList();
  }

  /** Op types are given as domain.op for domains other than the default. */
  static ModelInfo modelInfo(byte[] model) {
    List<String> ops = new ArrayList<>();
    List<byte[]> inputs = new ArrayList<>();
    List<byte[]> outputs = new ArrayList<>();
    Set<String> initialized = new HashSet<>();
    long opset = -1;
    try {
      CodedInputStream in = CodedInputStream.newInstance(model);
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (tag == OPSET_TAG) {
          CodedInputStream id = CodedInputStream.newInstance(in.readByteArray());
          String domain = "";
          long version = -1;
          int t;
          while ((t = id.readTag()) != 0) {
            switch (t) {
              case OPSET_DOMAIN_TAG -> domain = id.readString();
              case OPSET_VERSION_TAG -> version = id.readInt64();
              default -> id.skipField(t);
            }
          }
          opset = domain.isEmpty() || domain.equals("ai.onnx") ? version : opset;
        } else if (tag == GRAPH_TAG) {
          CodedInputStream graph = CodedInputStream.newInstance(in.readByteArray());
          int t;
          while ((t = graph.readTag()) != 0) {
            switch (t) {
              case NODE_TAG -> ops.add(opType(CodedInputStream.newInstance(
                  graph.readByteArray())));
              case INITIALIZER_TAG -> initialized.add(stringField(graph.readByteArray(), 8));
              case SPARSE_INITIALIZER_TAG -> initialized.add(stringField(
                  bytesField(graph.readByteArray(), 1), 8));
              case INPUT_TAG -> inputs.add(graph.readByteArray());
              case OUTPUT_TAG -> outputs.add(graph.readByteArray());
              default -> graph.skipField(t);
            }
          }
        } else {
          in.skipField(tag);
        }
      }
      return new ModelInfo(ops, opset, declared("input", inputs, initialized),
          declared("output", outputs, Set.of()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the ops and types of a test model", e);
    }
  }

  private static List<Declared> declared(String role, List<byte[]> valueInfos,
      Set<String> initialized) throws IOException {
    List<Declared> out = new ArrayList<>();
    for (byte[] v : valueInfos) {
      String name = stringField(v, 1);
      if (initialized.contains(name)) {
        continue;
      }
      byte[] type = bytesField(v, 2);
      out.add(new Declared(role + " " + out.size(), name,
          type == null ? "of no declared type" : typeString(type),
          type == null ? null : unreadableKind(type)));
    }
    return out;
  }

  /** A TypeProto in ONNX's words: {@code tensor(float)}, {@code map(int64,seq(tensor(float)))}. */
  private static String typeString(byte[] type) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(type);
    int tag;
    while ((tag = in.readTag()) != 0) {
      int field = WireFormat.getTagFieldNumber(tag);
      switch (field) {
        case 1, 8 -> {
          byte[] t = in.readByteArray();
          return (field == 1 ? "tensor(" : "sparse_tensor(") + elemName(intField(t, 1)) + ")";
        }
        case 4, 9 -> {
          byte[] elem = bytesField(in.readByteArray(), 1);
          return (field == 4 ? "seq(" : "optional(")
              + (elem == null ? "?" : typeString(elem)) + ")";
        }
        case 5 -> {
          byte[] map = in.readByteArray();
          byte[] value = bytesField(map, 2);
          return "map(" + elemName(intField(map, 1)) + ","
              + (value == null ? "?" : typeString(value)) + ")";
        }
        default -> in.skipField(tag);
      }
    }
    return "of no declared type";
  }

  /**
   * What a data file of this type holds that {@link Onnx#readTensor} does not read, or null
   * for a tensor of an element type Systole has.
   */
  private static String unreadableKind(byte[] type) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(type);
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> {
          int elem = intField(in.readByteArray(), 1);
          return READABLE.contains(elem) ? null : "tensor(" + elemName(elem) + ")";
        }
        case 4 -> {
          return "sequence (SequenceProto)";
        }
        case 5 -> {
          return "map (MapProto)";
        }
        case 8 -> {
          return "sparse tensor (SparseTensorProto)";
        }
        case 9 -> {
          return "optional (OptionalProto)";
        }
        default -> in.skipField(tag);
      }
    }
    return null;
  }

  private static String elemName(int code) {
    return code >= 0 && code < ELEM_NAMES.length ? ELEM_NAMES[code] : "type " + code;
  }

  /** The first length-delimited field {@code number} of a message, or null. */
  private static byte[] bytesField(byte[] message, int number) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message);
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) == number
          && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        return in.readByteArray();
      }
      in.skipField(tag);
    }
    return null;
  }

  private static String stringField(byte[] message, int number) throws IOException {
    byte[] b = message == null ? null : bytesField(message, number);
    return b == null ? "" : new String(b, StandardCharsets.UTF_8);
  }

  /** The varint field {@code number} of a message, or 0. */
  private static int intField(byte[] message, int number) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message);
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) == number
          && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
        return in.readInt32();
      }
      in.skipField(tag);
    }
    return 0;
  }

  private static String opType(CodedInputStream node) throws IOException {
    String op = "";
    String domain = "";
    int t;
    while ((t = node.readTag()) != 0) {
      switch (t) {
        case OP_TYPE_TAG -> op = node.readString();
        case DOMAIN_TAG -> domain = node.readString();
        default -> node.skipField(t);
      }
    }
    return domain.isEmpty() || domain.equals("ai.onnx") ? op : domain + "." + op;
  }
}
