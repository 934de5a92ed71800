package dev.systole.host.partition;

import dev.systole.host.compile.ConcatLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * A float Concat along the channels of feature maps (axis 1 of NCHW) or the features of rows
 * (axis 1 of a matrix): addressing only, each input stored at its channel offset, through a
 * table where its quantization is not the output's. One input must come from a device layer.
 */
final class ConcatOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Concat");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a concatenation needs the vector unit (this device has"
          + " VECTOR_UNIT = 0)");
    }
    int rank = p.rank(n.output(0));
    long axis = n.intAttr("axis");
    if (rank != 4 && rank != 2 || Math.floorMod(axis, rank) != 1) {
      return Verdict.refuse("a concatenation along axis " + axis + " of rank " + rank
          + " (the device joins the channels of feature maps or the features of rows)");
    }
    List<String> ins = new ArrayList<>();
    boolean fromDevice = false;
    for (int i = 0; i < n.inputs().size(); i++) {
      String v = n.input(i);
      if (!p.isFloat(v) || p.isConstant(v)) {
        return Verdict.refuse("input '" + v + "' is " + (p.isConstant(v) ? "a constant"
            : p.typeLabel(v)));
      }
      fromDevice |= p.producedOnDevice(v);
      ins.add(v);
    }
    if (!fromDevice) {
      return Verdict.refuse("no input comes from a device layer");
    }
    return Verdict.accept(new Op(this, Op.Kind.MAP, n, ins));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    QuantParams qy = s.partitioner().params(op.output);
    List<DeviceGraph.Node> ins = new ArrayList<>();
    List<byte[]> tables = new ArrayList<>();
    for (String v : op.inputs) {
      ins.add(s.input(op, v));
      tables.add(Functions.rescale(s.inputQuant(v), qy));
    }
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().concat(op.anchor.name(), ins, new ConcatLayer(tables, qy.zeroPoint()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.output(0)) == DType.FLOAT32;
  }
}
