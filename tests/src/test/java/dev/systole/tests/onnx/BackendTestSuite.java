package dev.systole.tests.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.onnx.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The ONNX backend tests (a directory per test: {@code model.onnx} and {@code test_data_set_N/}
 * with {@code input_i.pb} and {@code output_i.pb} TensorProtos) run through a {@link GraphRunner}.
 * A test is Systole's to pass when every op in it is one Systole claims; which ops a model holds is
 * read here with a few lines of protobuf, independently of Systole's reader, so a reader that
 * wrongly refuses a model shows as a failure rather than as "not supported".
 */
final class BackendTestSuite {
  /** The tolerances of ONNX's backend test runner. */
  static final double RTOL = 1e-3;
  static final double ATOL = 1e-7;
  /**
   * How the reader says a value is of a type Systole does not have (float64, a sequence): the
   * ops may be claimed, the types are not.
   */
  private static final List<String> TYPE_ERRORS = List.of(
      "(expected float32, uint8, int8, int32, int64 or bool)", "(Systole reads tensors only)",
      "tensor has a segment");
  /** How the CPU engine says ONNX Runtime refuses a model (an op version it lacks, say). */
  private static final String ORT_REFUSES = "ONNX Runtime cannot load the model";

  /** Tags (field number << 3 | wire type) of the few fields read here. */
  private static final int GRAPH_TAG = 7 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int NODE_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OP_TYPE_TAG = 4 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int DOMAIN_TAG = 7 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_TAG = 8 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_DOMAIN_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int OPSET_VERSION_TAG = 2 << 3 | WireFormat.WIRETYPE_VARINT;

  enum Status { PASS, FAIL, NOT_SUPPORTED, EXCLUDED }

  record Result(String test, Status status, String detail) {}

  /**
   * A claimed-op test whose expected output Systole does not give, on purpose: it must fail, and
   * is then counted excluded for {@code reason}.
   */
  record Exclusion(String reason) {}

  /** Compares a float output with the expected one: null if it passes, else what differed. */
  @FunctionalInterface
  interface FloatCheck {
    String check(float[] got, float[] expected);
  }

  private final GraphRunner runner;
  private final Map<String, Exclusion> exclusions;
  private final FloatCheck floatCheck;

  BackendTestSuite(GraphRunner runner, Map<String, Exclusion> exclusions) {
    this(runner, exclusions, BackendTestSuite::withinTolerance);
  }

  /** A suite whose float outputs pass {@code floatCheck} rather than ONNX's tolerances. */
  BackendTestSuite(GraphRunner runner, Map<String, Exclusion> exclusions,
      FloatCheck floatCheck) {
    this.runner = runner;
    this.exclusions = exclusions;
    this.floatCheck = floatCheck;
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

  /**
   * One test. Systole claims every op at opsets 11 to 17, and older op versions only in part, so
   * a model of claimed ops at an older opset that the reader refuses for an op version is not
   * supported rather than failed.
   */
  Result run(String name, Path dir) throws IOException {
    byte[] model = Files.readAllBytes(dir.resolve("model.onnx"));
    ModelOps ops = modelOps(model);
    Set<String> unclaimed = new TreeSet<>(ops.opTypes());
    unclaimed.removeAll(Graph.supportedOps());
    if (!unclaimed.isEmpty()) {
      return new Result(name, Status.NOT_SUPPORTED, "ops " + String.join(", ", unclaimed));
    }
    Exclusion exclusion = exclusions.get(name);
    String failure;
    try {
      Graph graph = Onnx.read(name, model);
      for (ValueInfo v : concat(graph.inputs(), graph.outputs())) {
        if (v.dtype() == null) {
          return new Result(name, Status.NOT_SUPPORTED, "types: '" + v.name() + "' is not a"
              + " tensor of a type Systole takes");
        }
      }
      failure = runDataSets(dir, graph);
    } catch (ModelException e) {
      failure = "error: " + e.getMessage();
      if (e.getMessage().contains(ORT_REFUSES)) {
        return new Result(name, Status.NOT_SUPPORTED, "opset " + ops.opset() + ": "
            + e.getMessage().substring(e.getMessage().indexOf(ORT_REFUSES)));
      }
      for (String typeError : TYPE_ERRORS) {
        if (exclusion == null && e.getMessage().contains(typeError)) {
          return new Result(name, Status.NOT_SUPPORTED, "types: " + e.getMessage());
        }
      }
    }
    if (exclusion != null) {
      return failure != null ? new Result(name, Status.EXCLUDED, exclusion.reason)
          : new Result(name, Status.FAIL, "excluded (" + exclusion.reason + ") but it passes:"
              + " remove the exclusion");
    }
    return failure == null ? new Result(name, Status.PASS, "")
        : new Result(name, Status.FAIL, failure);
  }

  private static List<ValueInfo> concat(List<ValueInfo> a, List<ValueInfo> b) {
    List<ValueInfo> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** Runs every data set; returns null if all match, else what differed. */
  private String runDataSets(Path dir, Graph graph) throws IOException {
    List<Path> sets;
    try (Stream<Path> s = Files.list(dir)) {
      sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted()
          .toList();
    }
    if (sets.isEmpty()) {
      return "no test_data_set_* directory";
    }
    for (Path set : sets) {
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      Map<String, long[]> shapes = new HashMap<>();
      for (int i = 0; i < graph.inputs().size(); i++) {
        ValueInfo in = graph.inputs().get(i);
        Tensor t = Onnx.readTensor(set.resolve("input_" + i + ".pb"));
        inputs.put(in.name(), t);
        shapes.put(in.name(), t.shape());
      }
      Map<String, long[]> inferred = graph.inferShapes(shapes, inputs);
      Map<String, Tensor> outputs = runner.run(graph, inputs);
      for (int i = 0; i < graph.outputs().size(); i++) {
        String out = graph.outputs().get(i).name();
        Tensor expected = Onnx.readTensor(set.resolve("output_" + i + ".pb"));
        Tensor got = outputs.get(out);
        String where = set.getFileName() + " output '" + out + "': ";
        if (!Arrays.equals(inferred.get(out), expected.shape())) {
          return where + "shape inference gives "
              + (inferred.get(out) == null ? "nothing" : Tensor.shapeString(inferred.get(out)))
              + ", expected " + expected.shapeString();
        }
        String diff = compare(got, expected, floatCheck);
        if (diff != null) {
          return where + diff;
        }
      }
    }
    return null;
  }

  /** Null if {@code got} matches: integers and bools exactly, floats as {@code floatCheck} says. */
  static String compare(Tensor got, Tensor expected, FloatCheck floatCheck) {
    if (got == null) {
      return "no output";
    }
    if (got.dtype() != expected.dtype() || !Arrays.equals(got.shape(), expected.shape())) {
      return "got " + got + ", expected " + expected;
    }
    if (got.dtype() != DType.FLOAT32) {
      byte[] g = got.toByteArray();
      byte[] e = expected.toByteArray();
      int es = got.dtype().size();
      for (int i = 0; i < g.length; i++) {
        if (g[i] != e[i] && !(got.dtype() == DType.BOOL && (g[i] != 0) == (e[i] != 0))) {
          return "element " + i / es + " differs (integer outputs must match exactly)";
        }
      }
      return null;
    }
    return floatCheck.check(got.toFloatArray(), expected.toFloatArray());
  }

  /** ONNX's backend tolerances, element by element. */
  static String withinTolerance(float[] g, float[] e) {
    for (int i = 0; i < g.length; i++) {
      boolean ok = Float.isNaN(e[i]) ? Float.isNaN(g[i])
          : g[i] == e[i] || Math.abs((double) g[i] - e[i]) <= ATOL + RTOL * Math.abs(e[i]);
      if (!ok) {
        return String.format("element %d is %s, expected %s (rtol %g, atol %g)",
            i, g[i], e[i], RTOL, ATOL);
      }
    }
    return null;
  }

  /** The op types of a model's main graph and the opset of its default domain. */
  record ModelOps(List<String> opTypes, long opset) {}

  /** Op types are given as domain.op for domains other than the default. */
  static ModelOps modelOps(byte[] model) {
    List<String> ops = new ArrayList<>();
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
            if (t == NODE_TAG) {
              ops.add(opType(CodedInputStream.newInstance(graph.readByteArray())));
            } else {
              graph.skipField(t);
            }
          }
        } else {
          in.skipField(tag);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the ops of a test model", e);
    }
    return new ModelOps(ops, opset);
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
