package dev.systole.host.importer;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Dim;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.graph.ValueType;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decodes ONNX's protobuf messages by hand over protobuf-java's {@link CodedInputStream}, reading
 * only the fields Systole uses (by their numbers in {@code onnx.proto}) and skipping the rest.
 * What Systole does not interpret is kept as the bytes it was read from, for the CPU engine:
 * every node's NodeProto, initializers of other element types, the graph inputs' ValueInfoProtos
 * and the model's local functions; a node with subgraphs is scanned for the outer values they
 * read, which become its implicit inputs.
 * This costs a few hundred lines against generated classes, but needs no protoc at build time,
 * and every way bytes can be wrong is met here, where the message can say which field of which
 * node was being read: a file cut short, a field of the wrong wire type, a tensor whose data does
 * not fill its shape, an element type Systole lacks, external data. No protobuf exception reaches
 * the caller; each becomes a {@link ModelException} that starts with the source's name.
 *
 * <p>A size in the file is a claim until the bytes are counted: a tensor is made only after its
 * data is known to fill it, so a few bytes that declare gigabytes allocate nothing, and a sparse
 * initializer may expand only so far beyond what it stores. The scan of subgraphs for the values
 * they read is recursive, which keeps it short, and stops at a depth no real model reaches.
 */
final class OnnxReader {
  /** The oldest IR version read: 3 brought opset imports. */
  static final long MIN_IR_VERSION = 3;

  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int VARINT = WireFormat.WIRETYPE_VARINT;
  private static final int FIXED32 = WireFormat.WIRETYPE_FIXED32;

  /**
   * A sparse initializer's dense form may be this many bytes whatever it stores, and
   * {@link #SPARSE_EXPANSION} times its stored bytes beyond that: room for pruned weights of any
   * realistic sparsity, while a few bytes that declare a vast shape of zeros are refused before
   * the zeros are made.
   */
  static final long SPARSE_FREE_BYTES = 16L << 20;
  static final long SPARSE_EXPANSION = 32;
  /**
   * How deep subgraphs (an If's branches, a Loop's body) may nest. Models nest a few levels;
   * the limit keeps the recursive scan of their outer reads far from the end of the stack.
   */
  static final int MAX_SUBGRAPH_DEPTH = 16;

  private final String source;
  /** What is being read, outermost first, for messages. */
  private final List<String> where = new ArrayList<>();
  /** The first node of the main graph in the default domain, for messages; null if none. */
  private String defaultDomainNode;

  /** Where external data files are looked for: the model's directory, or null. */
  private final Path directory;

  private OnnxReader(String source, Path directory) {
    this.source = source;
    this.directory = directory;
  }

  /**
   * @param directory the directory of the model's file, where tensors kept in external files
   *     are read from; null for a model read from memory (such tensors are then refused)
   */
  static Graph readModel(String source, byte[] bytes, Path directory) {
    OnnxReader r = new OnnxReader(source, directory);
    return r.run(() -> r.model(CodedInputStream.newInstance(bytes)));
  }

  static Tensor readTensor(String source, byte[] bytes) {
    OnnxReader r = new OnnxReader(source, null);
    return r.run(() -> r.tensor(CodedInputStream.newInstance(bytes)));
  }

  private interface Body<T> {
    T read() throws IOException;
  }

  private <T> T run(Body<T> body) {
    try {
      return body.read();
    } catch (IOException | RuntimeException e) {
      if (e instanceof ModelException m && m.getMessage().startsWith(source + ": ")) {
        throw m;
      }
      if (e instanceof RuntimeException r && !(r instanceof IllegalArgumentException)
          && !(r instanceof ModelException)) {
        // Not a judgement on the bytes but a fault of this reader: it goes up as it is.
        throw r;
      }
      String what = e instanceof ModelException ? e.getMessage()
          : "not a valid ONNX model: " + (e instanceof InvalidProtocolBufferException p
              ? encoding(p) : e.getMessage());
      String at = where.isEmpty() ? "" : " (reading " + String.join(" > ", where) + ")";
      ModelException wrapped = e instanceof ModelException m && m.node().isPresent()
          ? ModelException.withNode(m.node().get(), source + ": " + what + at)
          : new ModelException(source + ": " + what + at, e);
      throw wrapped;
    }
  }

  /**
   * What protobuf found wrong with the encoding, in words of its own: protobuf's messages name
   * its classes and its API, which mean nothing to a person holding a model file.
   */
  private static String encoding(InvalidProtocolBufferException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("ended unexpectedly")) {
      return "the data ends in the middle of a field (is the file truncated?)";
    }
    if (m.contains("negative size")) {
      return "a field declares a negative length";
    }
    if (m.contains("malformed varint")) {
      return "a number is encoded in more than 10 bytes";
    }
    if (m.contains("invalid tag") || m.contains("invalid wire type")
        || m.contains("end-group tag")) {
      return "a field has an invalid tag or wire type";
    }
    if (m.contains("UTF-8")) {
      return "a string is not valid UTF-8";
    }
    if (m.contains("too large") || m.contains("size limit")) {
      return "a field is longer than the data that holds it";
    }
    if (m.contains("recursion")) {
      return "messages are nested too deep";
    }
    return "its protobuf encoding is broken";
  }

  private ModelException error(String message) {
    return new ModelException(message);
  }

  private static void expect(int tag, int wireType, String field) throws IOException {
    if (WireFormat.getTagWireType(tag) != wireType) {
      throw new ModelException(String.format("field %s (number %d) has wire type %d (expected %d)",
          field, WireFormat.getTagFieldNumber(tag), WireFormat.getTagWireType(tag), wireType));
    }
  }

  /** Enters a length-delimited sub-message; returns the old limit for {@link #exit}. */
  private int enter(CodedInputStream in, int tag, String field) throws IOException {
    expect(tag, LEN, field);
    int length = in.readRawVarint32();
    if (length < 0) {
      throw error("field " + field + " has a negative length " + length);
    }
    return in.pushLimit(length);
  }

  private void exit(CodedInputStream in, int oldLimit) throws IOException {
    if (!in.isAtEnd()) {
      throw error("a sub-message does not end where its length says");
    }
    in.popLimit(oldLimit);
  }

  private String string(CodedInputStream in, int tag, String field) throws IOException {
    expect(tag, LEN, field);
    return in.readStringRequireUtf8();
  }

  // ---------------------------------------------------------------------------- ModelProto

  private Graph model(CodedInputStream in) throws IOException {
    in.setSizeLimit(Integer.MAX_VALUE);
    long irVersion = -1;
    Map<String, Long> opsets = new LinkedHashMap<>();
    List<byte[]> functions = new ArrayList<>();
    Graph.Builder graph = null;
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> {
          expect(tag, VARINT, "ir_version");
          irVersion = in.readInt64();
        }
        case 8 -> {
          int old = enter(in, tag, "opset_import");
          String domain = "";
          long version = -1;
          int t;
          while ((t = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(t)) {
              case 1 -> domain = string(in, t, "opset_import.domain");
              case 2 -> {
                expect(t, VARINT, "opset_import.version");
                version = in.readInt64();
              }
              default -> in.skipField(t);
            }
          }
          exit(in, old);
          opsets.put(domain.equals("ai.onnx") ? "" : domain, version);
        }
        case 7 -> {
          int old = enter(in, tag, "graph");
          where.add("graph");
          graph = graph(in);
          where.remove(where.size() - 1);
          exit(in, old);
        }
        case 25 -> {
          expect(tag, LEN, "functions");
          functions.add(in.readByteArray());
        }
        default -> in.skipField(tag);
      }
    }
    if (irVersion < 0 || graph == null) {
      throw error("not an ONNX model: it has no " + (irVersion < 0 ? "ir_version" : "graph")
          + " (expected a ModelProto)");
    }
    if (irVersion < MIN_IR_VERSION) {
      throw error("IR version " + irVersion + " (expected " + MIN_IR_VERSION + " or later)");
    }
    // A model of other domains' ops only (ONNX's training ops, say) need not import the
    // default domain; the graph then has the builder's default opset, which no node uses.
    if (!opsets.containsKey("") && defaultDomainNode != null) {
      throw error("the model imports no opset of the default ONNX domain, which its "
          + defaultDomainNode + " uses (it imports " + opsets.keySet() + ")");
    }
    graph.irVersion(irVersion);
    opsets.forEach(graph::opsetImport);
    functions.forEach(graph::function);
    return graph.build();
  }

  // ---------------------------------------------------------------------------- GraphProto

  private Graph.Builder graph(CodedInputStream in) throws IOException {
    Graph.Builder b = Graph.builder();
    List<Declared> inputs = new ArrayList<>();
    Set<String> initializers = new HashSet<>();
    int index = 0;
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> {
          expect(tag, LEN, "node");
          byte[] proto = in.readByteArray();
          where.add("node " + index++);
          CodedInputStream nodeIn = CodedInputStream.newInstance(proto);
          node(nodeIn, b, proto);
          where.remove(where.size() - 1);
        }
        case 2 -> b.name(string(in, tag, "graph.name"));
        case 5 -> {
          expect(tag, LEN, "initializer");
          byte[] proto = in.readByteArray();
          where.add("initializer");
          TensorRead t = namedTensor(CodedInputStream.newInstance(proto), true);
          where.remove(where.size() - 1);
          if (t.value() != null) {
            b.initializer(t.name(), t.value());
          } else {
            b.opaqueInitializer(t.name(), t.external() == null ? proto
                : inline(proto, t.external()), new ValueType(t.code(), false));
          }
          initializers.add(t.name());
        }
        case 15 -> {
          where.add("sparse_initializer");
          Named<Tensor> t = sparse(CodedInputStream.newInstance(readBytes(in, tag,
              "sparse_initializer")));
          where.remove(where.size() - 1);
          b.initializer(t.name, t.value);
          initializers.add(t.name);
        }
        case 11 -> {
          expect(tag, LEN, "input");
          byte[] proto = in.readByteArray();
          inputs.add(new Declared(valueInfo(CodedInputStream.newInstance(proto), "input"),
              proto));
        }
        case 12 -> {
          Declared d = valueInfo(in, tag, "output");
          if (d.info().dtype() != null) {
            b.output(d.info());
          } else {
            b.output(d.info().name());
          }
        }
        case 13 -> {
          Declared d = valueInfo(in, tag, "value_info");
          if (d.info().dtype() != null) {
            b.valueInfo(d.info());
          }
        }
        default -> in.skipField(tag);
      }
    }
    for (Declared v : inputs) {
      if (!initializers.contains(v.info().name())) {
        b.input(v.info(), v.proto(), v.type());
      }
    }
    return b;
  }

  private record Named<T>(String name, T value) {}

  /**
   * A sparse initializer (SparseTensorProto: values, indices, dims) as the dense tensor it
   * stands for, zeros elsewhere; the indices are either linear ([NNZ]) or coordinates
   * ([NNZ, rank]).
   */
  private Named<Tensor> sparse(CodedInputStream in) throws IOException {
    TensorRead values = null;
    Tensor indices = null;
    List<Long> dims = new ArrayList<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> values = namedTensor(CodedInputStream.newInstance(readBytes(in, tag,
            "sparse.values")), false);
        case 2 -> indices = namedTensor(CodedInputStream.newInstance(readBytes(in, tag,
            "sparse.indices")), false).value();
        case 3 -> readInt64s(in, tag, dims);
        default -> in.skipField(tag);
      }
    }
    if (values == null || indices == null) {
      throw error("a sparse initializer has no " + (values == null ? "values" : "indices"));
    }
    String label = "sparse initializer '" + values.name() + "'";
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    Tensor v = values.value();
    long numel;
    try {
      numel = Tensor.checkedNumel(v.dtype(), shape);
    } catch (IllegalArgumentException e) {
      throw error(label + ": " + e.getMessage());
    }
    long nnz = v.numel();
    boolean linear = indices.rank() == 1;
    if (indices.dtype() != DType.INT64 || (linear ? indices.dim(0) != nnz
        : indices.rank() != 2 || indices.dim(0) != nnz || indices.dim(1) != shape.length)) {
      throw error(String.format("%s has %s indices for %d values of shape %s (expected int64"
          + " [%d] or [%d, %d])", label, indices.shapeString(), nnz, Tensor.shapeString(shape),
          nnz, nnz, shape.length));
    }
    long stored = v.byteSize() + indices.byteSize();
    long denseBytes = numel * v.dtype().size();
    if (denseBytes > SPARSE_FREE_BYTES + SPARSE_EXPANSION * stored) {
      throw error(String.format("%s is %d bytes dense from %d bytes stored (expected at most"
          + " %d + %d times the bytes stored: a tensor that empty is more likely a damaged file"
          + " than weights)", label, denseBytes, stored, SPARSE_FREE_BYTES, SPARSE_EXPANSION));
    }
    long[] at = new long[(int) nnz];
    for (int k = 0; k < nnz; k++) {
      long a = 0;
      if (linear) {
        a = indices.getInt64(k);
      } else {
        for (int d = 0; d < shape.length; d++) {
          long i = indices.getInt64((long) k * shape.length + d);
          if (i < 0 || i >= shape[d]) {
            throw error(label + ": index " + i + " of axis " + d + " is outside its " + shape[d]);
          }
          a = a * shape[d] + i;
        }
      }
      if (a < 0 || a >= numel) {
        throw error(label + ": index " + a + " is outside its " + numel + " elements");
      }
      at[k] = a;
    }
    Tensor dense = Tensor.allocate(v.dtype(), shape);
    int size = v.dtype().size();
    ByteBuffer from = v.data();
    ByteBuffer to = dense.data();
    for (int k = 0; k < nnz; k++) {
      for (int byt = 0; byt < size; byt++) {
        to.put((int) (at[k] * size + byt), from.get(k * size + byt));
      }
    }
    return new Named<>(values.name(), dense);
  }

  /**
   * A declared value: what Systole reads of it, its type (null if none is declared), and, for a
   * graph input, the bytes it was read from.
   */
  private record Declared(ValueInfo info, ValueType type, byte[] proto) {
    Declared(Declared d, byte[] proto) {
      this(d.info, d.type, proto);
    }
  }

  // ----------------------------------------------------------------------------- NodeProto

  private void node(CodedInputStream in, Graph.Builder b, byte[] proto) throws IOException {
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    String name = "";
    String opType = "";
    String domain = "";
    Map<String, Attribute> attributes = new LinkedHashMap<>();
    List<String> unread = new ArrayList<>();
    Set<String> implicit = new LinkedHashSet<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> inputs.add(string(in, tag, "node.input"));
        case 2 -> outputs.add(string(in, tag, "node.output"));
        case 3 -> {
          name = string(in, tag, "node.name");
          where.set(where.size() - 1, "node '" + name + "'");
        }
        case 4 -> opType = string(in, tag, "node.op_type");
        case 7 -> domain = string(in, tag, "node.domain");
        case 5 -> {
          int old = enter(in, tag, "node.attribute");
          int depth = where.size();
          Named<Object> a;
          try {
            a = attribute(in, implicit);
          } catch (ModelException e) {
            while (where.size() > depth) {
              where.remove(where.size() - 1);
            }
            a = new Named<>("?", e.getMessage());
            in.skipRawBytes(in.getBytesUntilLimit());
          }
          exit(in, old);
          if (a.value instanceof Attribute attr) {
            attributes.put(a.name, attr);
          } else {
            unread.add("attribute '" + a.name + "' is " + a.value);
          }
        }
        default -> in.skipField(tag);
      }
    }
    if (opType.isEmpty()) {
      throw error("a node has no op_type");
    }
    if (defaultDomainNode == null && (domain.isEmpty() || domain.equals("ai.onnx"))) {
      defaultDomainNode = opType + " node" + (name.isEmpty() ? "" : " '" + name + "'");
    }
    Set<String> own = new HashSet<>(inputs);
    implicit.removeAll(own);
    String problem = unread.isEmpty() ? null : String.join("; ", unread);
    b.node(domain, opType, name, inputs, outputs, attributes,
        new Graph.Builder.Source(proto, List.copyOf(implicit), problem));
  }

  /**
   * An attribute, as a {@link Attribute}, or as a String saying what kind it is when Systole has
   * no such kind (graphs, sparse tensors, lists of tensors, tensors of other element types); a
   * node with such an attribute is opaque. The outer values a graph attribute reads are added
   * to {@code implicit}.
   */
  private Named<Object> attribute(CodedInputStream in, Set<String> implicit) throws IOException {
    String name = "";
    int type = 0;
    Float f = null;
    Long i = null;
    byte[] s = null;
    TensorRead t = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    List<String> strings = new ArrayList<>();
    String other = null;
    int tag;
    while ((tag = in.readTag()) != 0) {
      int field = WireFormat.getTagFieldNumber(tag);
      switch (field) {
        case 1 -> {
          name = string(in, tag, "attribute.name");
          where.add("attribute '" + name + "'");
        }
        case 20 -> {
          expect(tag, VARINT, "attribute.type");
          type = in.readEnum();
        }
        case 2 -> {
          expect(tag, FIXED32, "attribute.f");
          f = in.readFloat();
        }
        case 3 -> {
          expect(tag, VARINT, "attribute.i");
          i = in.readInt64();
        }
        case 4 -> {
          expect(tag, LEN, "attribute.s");
          s = in.readByteArray();
        }
        case 5 -> {
          int old = enter(in, tag, "attribute.t");
          t = namedTensor(in, true);
          exit(in, old);
        }
        case 7 -> readFloats(in, tag, floats);
        case 8 -> readInt64s(in, tag, ints);
        case 9 -> {
          expect(tag, LEN, "attribute.strings");
          strings.add(new String(in.readByteArray(), StandardCharsets.UTF_8));
        }
        case 6, 11 -> {
          expect(tag, LEN, field == 6 ? "attribute.g" : "attribute.graphs");
          outerReads(in.readByteArray(), implicit);
          other = field == 6 ? "a graph" : "a list of graphs";
        }
        case 10, 14, 15, 22, 23 -> {
          other = switch (field) {
            case 10 -> "a list of tensors";
            case 22 -> "a sparse tensor";
            case 23 -> "a list of sparse tensors";
            default -> "a type";
          };
          in.skipField(tag);
        }
        case 21 -> throw error("attribute '" + name + "' refers to a function's attribute"
            + " (ref_attr_name), which only functions may do");
        default -> in.skipField(tag);
      }
    }
    if (where.size() > 0 && where.get(where.size() - 1).startsWith("attribute")) {
      where.remove(where.size() - 1);
    }
    if (other != null) {
      return new Named<>(name, other);
    }
    if (type == 0) {
      type = f != null ? 1 : i != null ? 2 : s != null ? 3 : t != null ? 4
          : !floats.isEmpty() ? 6 : !ints.isEmpty() ? 7 : !strings.isEmpty() ? 8 : 0;
    }
    if (type == 4 && t != null && t.value() == null) {
      return new Named<>(name, "a tensor of " + ValueType.elemName(t.code()));
    }
    Attribute value = switch (type) {
      case 1 -> Attribute.of(f == null ? 0f : f);
      case 2 -> Attribute.of(i == null ? 0L : i);
      case 3 -> Attribute.of(s == null ? "" : new String(s, StandardCharsets.UTF_8));
      case 4 -> {
        if (t == null) {
          throw error("attribute '" + name + "' is of type TENSOR but has no tensor");
        }
        yield Attribute.of(t.value());
      }
      case 6 -> {
        float[] v = new float[floats.size()];
        for (int k = 0; k < v.length; k++) {
          v[k] = floats.get(k);
        }
        yield Attribute.ofFloats(v);
      }
      case 7 -> Attribute.ofInts(ints.stream().mapToLong(Long::longValue).toArray());
      case 8 -> Attribute.ofStrings(strings);
      case 0 -> throw error("attribute '" + name + "' has no value");
      default -> null;
    };
    return new Named<>(name, value != null ? value : "of attribute type " + type);
  }

  /**
   * Adds to {@code outer} the values a subgraph (a serialized GraphProto) reads without defining
   * them: those of the scopes around it, which its node takes as implicit inputs. Nested
   * subgraphs count with what they read from outside themselves.
   */
  private void outerReads(byte[] graph, Set<String> outer) throws IOException {
    outerReads(graph, outer, 1);
  }

  private void outerReads(byte[] graph, Set<String> outer, int depth) throws IOException {
    if (depth > MAX_SUBGRAPH_DEPTH) {
      // Not a ModelException, which would only make the node opaque: the whole model is refused.
      throw new IllegalArgumentException("subgraphs (the bodies of If, Loop and Scan) nested"
          + " more than " + MAX_SUBGRAPH_DEPTH + " deep (expected at most " + MAX_SUBGRAPH_DEPTH
          + " levels)");
    }
    Set<String> defined = new HashSet<>();
    Set<String> reads = new LinkedHashSet<>();
    CodedInputStream in = CodedInputStream.newInstance(graph);
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> {
          CodedInputStream node = CodedInputStream.newInstance(readBytes(in, tag, "node"));
          int t;
          while ((t = node.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(t)) {
              case 1 -> reads.add(string(node, t, "node.input"));
              case 2 -> defined.add(string(node, t, "node.output"));
              case 5 -> {
                CodedInputStream attr = CodedInputStream.newInstance(
                    readBytes(node, t, "node.attribute"));
                int a;
                while ((a = attr.readTag()) != 0) {
                  int field = WireFormat.getTagFieldNumber(a);
                  if (field == 6 || field == 11) {
                    outerReads(readBytes(attr, a, "attribute.g"), reads, depth + 1);
                  } else {
                    attr.skipField(a);
                  }
                }
              }
              default -> node.skipField(t);
            }
          }
        }
        case 5, 11 -> defined.add(nameField(readBytes(in, tag, "graph value"),
            WireFormat.getTagFieldNumber(tag) == 5 ? 8 : 1));
        case 15 -> {
          CodedInputStream sparse = CodedInputStream.newInstance(
              readBytes(in, tag, "sparse_initializer"));
          int t;
          while ((t = sparse.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(t) == 1) {
              defined.add(nameField(readBytes(sparse, t, "sparse.values"), 8));
            } else {
              sparse.skipField(t);
            }
          }
        }
        default -> in.skipField(tag);
      }
    }
    for (String r : reads) {
      if (!r.isEmpty() && !defined.contains(r)) {
        outer.add(r);
      }
    }
  }

  private static byte[] readBytes(CodedInputStream in, int tag, String field)
      throws IOException {
    expect(tag, LEN, field);
    return in.readByteArray();
  }

  /** The string field {@code number} of a message (a name), or "". */
  private String nameField(byte[] message, int number) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message);
    String name = "";
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) == number) {
        name = string(in, tag, "name");
      } else {
        in.skipField(tag);
      }
    }
    return name;
  }

  // --------------------------------------------------------------------------- TensorProto

  private Tensor tensor(CodedInputStream in) throws IOException {
    return namedTensor(in, false).value();
  }

  /**
   * A tensor read: its name, its value, and its element type code; the value is null when the
   * type is one Systole has no {@link DType} for and {@code lenient} is set (else that is an
   * error).
   */
  private record TensorRead(String name, Tensor value, int code, byte[] external) {}

  /**
   * A TensorProto that kept its data in an external file, with that data inline as raw_data
   * instead: the form every model the CPU engine is handed from memory must have.
   */
  private static byte[] inline(byte[] proto, byte[] data) throws IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(proto.length
        + data.length + 16);
    com.google.protobuf.CodedOutputStream out =
        com.google.protobuf.CodedOutputStream.newInstance(bytes);
    CodedInputStream in = CodedInputStream.newInstance(proto);
    int tag;
    while ((tag = in.readTag()) != 0) {
      int field = WireFormat.getTagFieldNumber(tag);
      if (field == 13 || field == 14 || field == 9) {
        in.skipField(tag);
      } else {
        in.skipField(tag, out);
      }
    }
    out.writeByteArray(9, data);
    out.flush();
    return bytes.toByteArray();
  }

  /**
   * The bytes a tensor keeps in an external file, as its external_data entries say: the file
   * named by {@code location} in the model's directory, from {@code offset} on, {@code length}
   * bytes (or to the end).
   */
  private byte[] externalData(String label, Map<String, String> entries) throws IOException {
    String location = entries.get("location");
    if (location == null || location.isEmpty()) {
      throw error(label + " keeps its data in an external file but names none (expected a"
          + " 'location' entry)");
    }
    if (directory == null) {
      throw error(label + " keeps its data in external file '" + location + "' (read the model"
          + " from its file, so that the data can be found beside it)");
    }
    Path dir = directory.toAbsolutePath().normalize();
    Path file = dir.resolve(location).normalize();
    if (!file.startsWith(dir) || Path.of(location).isAbsolute()) {
      throw error(label + " keeps its data in '" + location + "', outside the model's directory"
          + " (expected a path relative to it)");
    }
    long offset;
    long length;
    try {
      offset = Long.parseLong(entries.getOrDefault("offset", "0"));
      length = Long.parseLong(entries.getOrDefault("length", "-1"));
    } catch (NumberFormatException e) {
      throw error(label + ": external data offset '" + entries.get("offset") + "' or length '"
          + entries.get("length") + "' is not a whole number");
    }
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw error(label + " keeps its data in " + file + ", which is not a file");
    }
    long size = java.nio.file.Files.size(file);
    long end = length < 0 ? size : offset + length;
    if (offset < 0 || end > size || end < offset || end - offset > Integer.MAX_VALUE - 8) {
      throw error(String.format("%s keeps bytes %d to %d of %s, which has %d", label, offset,
          end, file, size));
    }
    byte[] data = new byte[(int) (end - offset)];
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        if (ch.read(buf, offset + buf.position()) < 0) {
          throw error(label + ": " + file + " ended early");
        }
      }
    }
    return data;
  }

  private TensorRead namedTensor(CodedInputStream in, boolean lenient) throws IOException {
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = "";
    byte[] raw = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    List<Double> doubles = new ArrayList<>();
    boolean external = false;
    Map<String, String> externalData = new LinkedHashMap<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> readInt64s(in, tag, dims);
        case 2 -> {
          expect(tag, VARINT, "tensor.data_type");
          dataType = in.readInt32();
        }
        case 3 -> throw error("tensor has a segment (segmented tensors are not supported)");
        case 4 -> readFloats(in, tag, floats);
        case 5, 7 -> readInt64s(in, tag, ints);
        case 8 -> {
          name = string(in, tag, "tensor.name");
          where.add("tensor '" + name + "'");
        }
        case 9 -> {
          expect(tag, LEN, "tensor.raw_data");
          raw = in.readByteArray();
        }
        case 13 -> {
          external = true;
          CodedInputStream entry = CodedInputStream.newInstance(readBytes(in, tag,
              "tensor.external_data"));
          String key = "";
          String value = "";
          int t;
          while ((t = entry.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(t)) {
              case 1 -> key = string(entry, t, "external_data.key");
              case 2 -> value = string(entry, t, "external_data.value");
              default -> entry.skipField(t);
            }
          }
          externalData.put(key, value);
        }
        case 14 -> {
          expect(tag, VARINT, "tensor.data_location");
          external |= in.readEnum() == 1;
        }
        case 10 -> readDoubles(in, tag, doubles);
        case 6, 11 -> {
          if (!lenient || OnnxTypes.dtype(dataType) != null) {
            throw error("tensor '" + name + "' is of type " + OnnxTypes.name(dataType)
                + " (expected " + OnnxTypes.SUPPORTED + ")");
          }
          in.skipField(tag);
        }
        default -> in.skipField(tag);
      }
    }
    if (!where.isEmpty() && where.get(where.size() - 1).startsWith("tensor")) {
      where.remove(where.size() - 1);
    }
    String label = name.isEmpty() ? "a tensor" : "tensor '" + name + "'";
    byte[] outside = null;
    if (external) {
      outside = externalData(label, externalData);
      raw = outside;
    }
    DType dtype = OnnxTypes.dtype(dataType);
    if (dtype == null && lenient) {
      return new TensorRead(name, null, dataType, outside);
    }
    if (dtype == null) {
      throw error(label + " is of type " + OnnxTypes.name(dataType) + " (expected "
          + OnnxTypes.SUPPORTED + ")");
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long numel;
    try {
      numel = Tensor.checkedNumel(dtype, shape);
    } catch (IllegalArgumentException e) {
      throw error(label + ": " + e.getMessage());
    }
    // The shape is only a claim until the data is counted: the tensor is made after the bytes or
    // values that fill it are known to be there, so a small file cannot make a large array.
    long byteSize = numel * dtype.size();
    int count = dtype == DType.FLOAT32 ? floats.size()
        : dtype == DType.FLOAT64 ? doubles.size() : ints.size();
    if (raw != null && raw.length != byteSize) {
      throw error(String.format("%s has %d bytes of raw data for shape %s of %s (expected %d)",
          label, raw.length, Tensor.shapeString(shape), dtype.label(), byteSize));
    }
    if (raw == null && count != numel) {
      throw error(String.format("%s has %d values for shape %s of %s (expected %d)",
          label, count, Tensor.shapeString(shape), dtype.label(), numel));
    }
    Tensor t = Tensor.allocate(dtype, shape);
    ByteBuffer data = t.data();
    if (raw != null) {
      data.put(raw);
    } else {
      data.order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < count; k++) {
        switch (dtype) {
          case FLOAT32 -> data.putFloat(floats.get(k));
          case FLOAT64 -> data.putDouble(doubles.get(k));
          case FLOAT16 -> data.putShort((short) ints.get(k).longValue());
          case INT64 -> data.putLong(ints.get(k));
          case INT32 -> data.putInt(ints.get(k).intValue());
          default -> data.put((byte) ints.get(k).longValue());
        }
      }
    }
    return new TensorRead(name, t, dataType, outside);
  }

  private static void readFloats(CodedInputStream in, int tag, List<Float> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == LEN) {
      int old = in.pushLimit(in.readRawVarint32());
      while (!in.isAtEnd()) {
        out.add(in.readFloat());
      }
      in.popLimit(old);
    } else {
      expect(tag, FIXED32, "floats");
      out.add(in.readFloat());
    }
  }

  private static void readDoubles(CodedInputStream in, int tag, List<Double> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == LEN) {
      int old = in.pushLimit(in.readRawVarint32());
      while (!in.isAtEnd()) {
        out.add(in.readDouble());
      }
      in.popLimit(old);
    } else {
      expect(tag, WireFormat.WIRETYPE_FIXED64, "doubles");
      out.add(in.readDouble());
    }
  }

  private static void readInt64s(CodedInputStream in, int tag, List<Long> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == LEN) {
      int old = in.pushLimit(in.readRawVarint32());
      while (!in.isAtEnd()) {
        out.add(in.readInt64());
      }
      in.popLimit(old);
    } else {
      expect(tag, VARINT, "ints");
      out.add(in.readInt64());
    }
  }

  // ------------------------------------------------------------------------ ValueInfoProto

  private Declared valueInfo(CodedInputStream in, int tag, String field) throws IOException {
    int old = enter(in, tag, field);
    Declared d = valueInfo(in, field);
    exit(in, old);
    return d;
  }

  /**
   * A ValueInfoProto, read to its end: a tensor of a {@link DType} in full, anything else
   * (another element type, a sequence, a map) with a null dtype and, for a tensor or a sequence
   * of tensors, its {@link ValueType}.
   */
  private Declared valueInfo(CodedInputStream in, String field) throws IOException {
    String name = "";
    DType dtype = null;
    int code = 0;
    List<Dim> shape = null;
    boolean sequence = false;
    String notTensor = null;
    int t;
    while ((t = in.readTag()) != 0) {
      switch (WireFormat.getTagFieldNumber(t)) {
        case 1 -> {
          name = string(in, t, field + ".name");
          where.add(field + " '" + name + "'");
        }
        case 2 -> {
          int typeLimit = enter(in, t, field + ".type");
          int tt;
          while ((tt = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tt)) {
              case 1 -> {
                int tensorLimit = enter(in, tt, "type.tensor_type");
                int f;
                while ((f = in.readTag()) != 0) {
                  switch (WireFormat.getTagFieldNumber(f)) {
                    case 1 -> {
                      expect(f, VARINT, "tensor_type.elem_type");
                      code = in.readInt32();
                      dtype = OnnxTypes.dtype(code);
                    }
                    case 2 -> {
                      int shapeLimit = enter(in, f, "tensor_type.shape");
                      shape = shape(in);
                      exit(in, shapeLimit);
                    }
                    default -> in.skipField(f);
                  }
                }
                exit(in, tensorLimit);
              }
              case 4 -> {
                notTensor = "a sequence";
                code = sequenceElement(in.readByteArray());
                sequence = code != 0;
              }
              case 5 -> notTensor = "a map";
              case 8 -> notTensor = "a sparse tensor";
              case 9 -> notTensor = "an optional";
              default -> { }
            }
            if (WireFormat.getTagFieldNumber(tt) != 1 && WireFormat.getTagFieldNumber(tt) != 4) {
              in.skipField(tt);
            }
          }
          exit(in, typeLimit);
        }
        default -> in.skipField(t);
      }
    }
    if (!where.isEmpty() && where.get(where.size() - 1).startsWith(field)) {
      where.remove(where.size() - 1);
    }
    if (notTensor != null) {
      return new Declared(new ValueInfo(name, null, null),
          sequence ? new ValueType(code, true) : null, null);
    }
    return new Declared(new ValueInfo(name, dtype, shape),
        code == 0 ? null : new ValueType(code, false), null);
  }

  /** The element type of a sequence of tensors (a TypeProto.Sequence), or 0 if it is not one. */
  private int sequenceElement(byte[] sequence) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(sequence);
    int code = 0;
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) != 1) {
        in.skipField(tag);
        continue;
      }
      CodedInputStream type = CodedInputStream.newInstance(readBytes(in, tag, "elem_type"));
      int t;
      while ((t = type.readTag()) != 0) {
        if (WireFormat.getTagFieldNumber(t) != 1) {
          type.skipField(t);
          continue;
        }
        CodedInputStream tensor = CodedInputStream.newInstance(readBytes(type, t, "tensor"));
        int f;
        while ((f = tensor.readTag()) != 0) {
          if (WireFormat.getTagFieldNumber(f) == 1) {
            code = tensor.readInt32();
          } else {
            tensor.skipField(f);
          }
        }
      }
    }
    return code;
  }

  private List<Dim> shape(CodedInputStream in) throws IOException {
    List<Dim> dims = new ArrayList<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (WireFormat.getTagFieldNumber(tag) != 1) {
        in.skipField(tag);
        continue;
      }
      int old = enter(in, tag, "shape.dim");
      Dim d = Dim.unknown();
      int t;
      while ((t = in.readTag()) != 0) {
        switch (WireFormat.getTagFieldNumber(t)) {
          case 1 -> {
            expect(t, VARINT, "dim_value");
            long v = in.readInt64();
            if (v < 0) {
              throw error("dimension " + dims.size() + " is " + v + " (expected >= 0)");
            }
            d = Dim.of(v);
          }
          case 2 -> {
            String p = string(in, t, "dim_param");
            d = p.isEmpty() ? Dim.unknown() : Dim.symbol(p);
          }
          default -> in.skipField(t);
        }
      }
      exit(in, old);
      dims.add(d);
    }
    return dims;
  }
}
