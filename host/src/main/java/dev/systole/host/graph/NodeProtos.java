package dev.systole.host.graph;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Edits of a serialized NodeProto that leave every other field as the model wrote it. */
final class NodeProtos {
  private static final int INPUT = 1;

  private NodeProtos() {}

  /** {@code proto} with its inputs replaced by {@code inputs}. */
  static byte[] withInputs(byte[] proto, List<String> inputs) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(proto.length + 16);
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      for (String in : inputs) {
        out.writeString(INPUT, in);
      }
      CodedInputStream in = CodedInputStream.newInstance(proto);
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (WireFormat.getTagFieldNumber(tag) == INPUT) {
          in.skipField(tag);
        } else {
          in.skipField(tag, out);
        }
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("rewriting a NodeProto in memory", e);
    }
  }
}
