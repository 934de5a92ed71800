package dev.systole.host.onnx;

import com.google.protobuf.CodedOutputStream;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Dim;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Encodes a {@link Graph} as an ONNX ModelProto, the inverse of {@link OnnxReader}: nodes in the
 * graph's order with their attributes (defaults included, which ONNX allows and which mean the
 * same), initializers as raw little-endian data, and inputs, outputs and value infos with their
 * declared types. Each message is encoded to bytes before its parent, which writes it as a
 * length-delimited field; the copies are cheap next to the models this is for (tests and tools
 * that build small models in Java).
 */
final class OnnxWriter {
  /** IR version 8 goes with opsets 15 to 17, the newest this writes. */
  static final long IR_VERSION = 8;

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
      out.writeInt64(1, IR_VERSION);
      out.writeString(2, "systole");
      out.writeByteArray(7, graph(g));
      out.writeByteArray(8, message(o -> {
        o.writeString(1, "");
        o.writeInt64(2, g.opset());
      }));
    });
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
      for (ValueInfo v : g.inputs()) {
        out.writeByteArray(11, valueInfo(v));
      }
      for (ValueInfo v : g.outputs()) {
        out.writeByteArray(12, valueInfo(v));
      }
      for (ValueInfo v : g.valueInfos().values()) {
        out.writeByteArray(13, valueInfo(v));
      }
    });
  }

  private static byte[] node(Node n) {
    return message(out -> {
      for (String in : n.inputs()) {
        out.writeString(1, in);
      }
      for (String o : n.outputs()) {
        out.writeString(2, o);
      }
      out.writeString(3, n.name());
      out.writeString(4, n.opType());
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
