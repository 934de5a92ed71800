package dev.systole.host.importer;

import com.google.protobuf.CodedOutputStream;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Dim;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.graph.ValueType;
import dev.systole.host.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Encodes a {@link Graph} as an ONNX ModelProto, the inverse of {@link OnnxReader}: nodes in the
 * graph's order with their attributes (defaults included, which ONNX allows and which mean the
 * same), initializers as raw little-endian data, and inputs, outputs and value infos with their
 * declared types. Each message is encoded to bytes before its parent, which writes it as a
 * length-delimited field; the copies are cheap next to the models this is for (tests and tools
 * that build small models in Java).
 */
final class OnnxWriter {
  private OnnxWriter() {}

  private interface Body {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Body body) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      body.write(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory", e);
    }
  }

  static byte[] model(Graph g) {
    return message(out -> {
      out.writeInt64(1, g.irVersion());
      out.writeString(2, "systole");
      out.writeByteArray(7, graph(g));
      opsets(out, g);
    });
  }

  private static void opsets(CodedOutputStream out, Graph g) throws IOException {
    for (Map.Entry<String, Long> e : g.opsetImports().entrySet()) {
      out.writeByteArray(8, message(o -> {
        o.writeString(1, e.getKey());
        o.writeInt64(2, e.getValue());
      }));
    }
    for (byte[] f : g.functions()) {
      out.writeByteArray(25, f);
    }
  }

  private static byte[] graph(Graph g) {
    return message(out -> {
      for (Node n : g.nodes()) {
        out.writeByteArray(1, node(n));
      }
      out.writeString(2, g.name());
      for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
        out.writeByteArray(5, tensor(e.getKey(), e.getValue()));
      }
      for (byte[] t : g.opaqueInitializers().values()) {
        out.writeByteArray(5, t);
      }
      for (ValueInfo v : g.inputs()) {
        byte[] proto = g.inputProto(v.name());
        out.writeByteArray(11, proto != null ? proto : valueInfo(v));
      }
      for (ValueInfo v : g.outputs()) {
        out.writeByteArray(12, v.dtype() == null ? message(o -> o.writeString(1, v.name()))
            : valueInfo(v));
      }
      for (ValueInfo v : g.valueInfos().values()) {
        out.writeByteArray(13, valueInfo(v));
      }
    });
  }

  /**
   * A model of its own made of some of {@code g}'s nodes, in order: the initializers they read,
   * {@code inputs} as its graph inputs
   * (typed: a value with a shape in {@code shapes} with its {@link ValueType} and that shape, so
   * that what follows it is inferred for that shape; else a graph input of {@code g} as it was
   * declared, and any other value with its type alone) and {@code outputs}
   * as its outputs, with their types where they are known (their shapes the reader infers);
   * with {@code g}'s IR version, opset imports and local functions.
   */
  static byte[] slice(Graph g, String name, List<Node> nodes, List<String> inputs,
      List<String> outputs, Map<String, long[]> shapes) {
    Set<String> read = new LinkedHashSet<>();
    nodes.forEach(n -> read.addAll(n.reads()));
    byte[] graph = message(out -> {
      for (Node n : nodes) {
        out.writeByteArray(1, node(n));
      }
      out.writeString(2, name);
      for (String v : read) {
        Tensor t = g.initializers().get(v);
        byte[] opaque = g.opaqueInitializers().get(v);
        if (t != null) {
          out.writeByteArray(5, tensor(v, t));
        } else if (opaque != null) {
          out.writeByteArray(5, opaque);
        }
      }
      for (String v : inputs) {
        byte[] proto = g.inputProto(v);
        ValueType known = g.hasValue(v) ? g.type(v) : null;
        if (proto != null && shapes.containsKey(v) && known != null && !known.sequence()) {
          proto = typed(v, known, shapes.get(v));
        } else if (proto == null) {
          ValueType type = g.type(v);
          if (type == null) {
            throw new IllegalArgumentException("value '" + v + "' of graph '" + g.name()
                + "' has no known type (expected one to declare it as an input)");
          }
          proto = typed(v, type, type.sequence() ? null : shapes.get(v));
        }
        out.writeByteArray(11, proto);
      }
      for (String v : outputs) {
        ValueType type = g.hasValue(v) ? g.type(v) : null;
        out.writeByteArray(12, type == null ? message(o -> o.writeString(1, v))
            : typed(v, type, null));
      }
    });
    return message(out -> {
      out.writeInt64(1, g.irVersion());
      out.writeString(2, "systole");
      out.writeByteArray(7, graph);
      opsets(out, g);
    });
  }

  /** A ValueInfoProto of {@code type}, with {@code shape} if it is not null. */
  private static byte[] typed(String name, ValueType type, long[] shape) {
    byte[] tensorType = message(t -> {
      t.writeInt32(1, type.elemType());
      if (shape != null) {
        t.writeByteArray(2, message(sh -> {
          for (long d : shape) {
            sh.writeByteArray(1, message(dim -> dim.writeInt64(1, d)));
          }
        }));
      }
    });
    return message(out -> {
      out.writeString(1, name);
      out.writeByteArray(2, type.sequence()
          ? message(t -> t.writeByteArray(4, message(seq -> seq.writeByteArray(1,
              message(e -> e.writeByteArray(1, tensorType))))))
          : message(t -> t.writeByteArray(1, tensorType)));
    });
  }

  private static byte[] node(Node n) {
    if (n.proto() != null) {
      return n.proto();
    }
    return message(out -> {
      for (String in : n.inputs()) {
        out.writeString(1, in);
      }
      for (String o : n.outputs()) {
        out.writeString(2, o);
      }
      out.writeString(3, n.name());
      out.writeString(4, n.opType());
      if (!n.domain().isEmpty()) {
        out.writeString(7, n.domain());
      }
      for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
        out.writeByteArray(5, attribute(e.getKey(), e.getValue()));
      }
    });
  }

  private static byte[] attribute(String name, Attribute a) {
    return message(out -> {
      out.writeString(1, name);
      switch (a.kind()) {
        case FLOAT -> {
          out.writeInt32(20, 1);
          out.writeFloat(2, a.asFloat());
        }
        case INT -> {
          out.writeInt32(20, 2);
          out.writeInt64(3, a.asInt());
        }
        case STRING -> {
          out.writeInt32(20, 3);
          out.writeString(4, a.asString());
        }
        case TENSOR -> {
          out.writeInt32(20, 4);
          out.writeByteArray(5, tensor("", a.asTensor()));
        }
        case FLOATS -> {
          out.writeInt32(20, 6);
          for (float f : a.asFloats()) {
            out.writeFloat(7, f);
          }
        }
        case INTS -> {
          out.writeInt32(20, 7);
          for (long i : a.asInts()) {
            out.writeInt64(8, i);
          }
        }
        case STRINGS -> {
          out.writeInt32(20, 8);
          for (String s : a.asStrings()) {
            out.writeString(9, s);
          }
        }
      }
    });
  }

  static byte[] tensor(String name, Tensor t) {
    return message(out -> {
      for (long d : t.shape()) {
        out.writeInt64(1, d);
      }
      out.writeInt32(2, OnnxTypes.code(t.dtype()));
      if (!name.isEmpty()) {
        out.writeString(8, name);
      }
      out.writeByteArray(9, t.toByteArray());
    });
  }

  private static byte[] valueInfo(ValueInfo v) {
    return message(out -> {
      out.writeString(1, v.name());
      out.writeByteArray(2, message(type -> type.writeByteArray(1, message(tensorType -> {
        tensorType.writeInt32(1, OnnxTypes.code(v.dtype()));
        if (v.hasShape()) {
          tensorType.writeByteArray(2, message(shape -> {
            for (Dim d : v.shape()) {
              shape.writeByteArray(1, message(dim -> {
                if (d.isKnown()) {
                  dim.writeInt64(1, d.value());
                } else if (d.symbol() != null) {
                  dim.writeString(2, d.symbol());
                }
              }));
            }
          }));
        }
      }))));
    });
  }
}
