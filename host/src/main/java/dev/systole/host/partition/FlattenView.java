package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.List;

/**
 * A Flatten (or a Reshape to the same {@code [N, C*H*W]}) of a feature map the open device
 * program produces, read only by GEMMs the device runs: no layer at all, just a change of view.
 * A Reshape that begins a channel shuffle ({@link ChannelShuffle}) becomes the 1x1 convolution
 * that permutes the channels.
 * The device keeps the map NHWC, so the GEMMs' weights are reordered to the NHWC feature order
 * ({@link FloatLayers#gemm}). A Reshape, Flatten, Squeeze or Unsqueeze of rows of features the
 * open program makes is a new view of the same buffer ({@link Strided}) wherever strides can
 * say it. Anything else the view would have to move is left to the CPU.
 */
final class FlattenView implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Flatten", "Reshape", "Squeeze", "Unsqueeze");
  }

  /** A view takes its input as the program holds it. */
  @Override
  public boolean readsViews() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String in = n.input(0);
    long[] s = p.shape(in);
    long[] o = p.shape(n.output(0));
    Strided rows = p.view(in);
    if (rows != null && p.isFloat(in)) {
      if (o == null) {
        return Verdict.refuse(null);
      }
      Strided v = rows.reshape(o);
      boolean copy = v == null;
      if (copy && !p.gathers(rows)) {
        return Verdict.refuse("a reshape of a transposed value that the device cannot gather"
            + " into order (its last axis is not contiguous, or longer than D and not a"
            + " multiple of it)");
      }
      Op op = new Op(this, Op.Kind.VIEW, n, List.of(in));
      op.copyInput = copy;
      if (copy) {
        v = Strided.dense(o);
      }
      op.inputLayout = Boundary.Layout.ROWS;
      op.outputLayout = Boundary.Layout.ROWS;
      op.view = v;
      return Verdict.accept(op);
    }
    if (!n.opType().equals("Flatten") && !n.opType().equals("Reshape")) {
      return Verdict.refuse(null);
    }
    if (n.opType().equals("Reshape") && p.deviceParams().hasVectorUnit()) {
      ChannelShuffle.Chain shuffle = ChannelShuffle.from(n, p);
      if (shuffle != null && p.producedAsFeatureMap(in)) {
        Op op = new Op(this, Op.Kind.CONV, n, List.of(in));
        op.nodes.addAll(shuffle.nodes().subList(1, shuffle.nodes().size()));
        op.output = shuffle.output();
        return Verdict.accept(op);
      }
    }
    if (!p.producedAsFeatureMap(in) || o == null || o.length != 2 || o[0] != s[0]
        || o[1] != s[1] * s[2] * s[3] || p.isGraphOutput(n.output(0))) {
      return Verdict.refuse(null);
    }
    List<Node> users = p.consumers(n.output(0));
    for (Node u : users) {
      boolean gemm = p.deviceOp(u).filter(d -> d instanceof GemmOp).isPresent();
      if (!gemm || !p.lower(u).accepted() || !u.input(0).equals(n.output(0))) {
        return Verdict.refuse(null);
      }
    }
    return users.isEmpty() ? Verdict.refuse(null)
        : Verdict.accept(new Op(this, Op.Kind.VIEW, n, List.of(in)));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String in = op.inputs.get(0);
    if (op.kind == Op.Kind.CONV) {
      int[] perm = ChannelShuffle.from(op.anchor, s.partitioner()).permutation();
      return s.builder().conv(op.anchor.name(), s.input(op, in),
          FloatLayers.permutation(op, s, perm));
    }
    s.record(op.output, s.quant(in), s.encoding(in));
    return s.input(op, in);
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return n.opType().equals("Reshape") && g.dtype(n.input(0))
        == dev.systole.host.tensor.DType.FLOAT32;
  }
}
