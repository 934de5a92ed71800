package dev.systole.host.partition;

import dev.systole.host.compile.AddLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.Arrays;
import java.util.List;

/**
 * A float Add or Sub of two values of the same shape, one of them from a device layer: the
 * contract's VADD, each operand with its own scale (a residual connection; for a Sub, the second
 * operand's multiplier negated). An Add or Sub of a value and a scalar constant begins a function
 * by table ({@link TableOp}), and of a constant per channel is a per-channel affine map
 * ({@link ScaleOp}). An integer Add stays on the CPU: ONNX's wraps around where VADD saturates.
 */
final class AddOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Add", "Sub");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String a = n.input(0);
    String b = n.input(1);
    if (!p.isFloat(a) || !p.isFloat(b)) {
      return Verdict.refuse("an integer " + n.opType() + " (it wraps; VADD saturates)");
    }
    if (p.isConstant(a) || p.isConstant(b)) {
      return p.constant(p.isConstant(a) ? a : b).numel() == 1 ? TableOp.lowerChain(this, n, p)
          : ScaleOp.lowerAffine(this, n, p);
    }
    if (!Arrays.equals(p.shape(a), p.shape(b)) || p.rank(a) < 2) {
      return Verdict.refuse("operands of different shapes (broadcasting)");
    }
    if (!p.producedOnDevice(a) && !p.producedOnDevice(b)) {
      return Verdict.refuse("neither operand comes from a device layer");
    }
    return Verdict.accept(new Op(this, Op.Kind.ADD, n, List.of(a, b)));
  }

  @Override
  public java.util.Set<Epilogues.Part> epilogue() {
    return java.util.EnumSet.of(Epilogues.Part.ACTIVATION);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    if (op.chain != null) {
      return TableOp.buildChain(op, s);
    }
    if (op.inputs.size() == 1) {
      return ScaleOp.buildAffine(op, s);
    }
    DeviceGraph.Node a = s.input(op, op.inputs.get(0));
    DeviceGraph.Node b = s.input(op, op.inputs.get(1));
    QuantParams qa = s.quant(op.inputs.get(0));
    QuantParams qb = s.quant(op.inputs.get(1));
    QuantParams qy = s.partitioner().params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    AddLayer add = AddLayer.ofScales(qa.scale(), qb.scale(), qy.scale(), qy.zeroPoint(),
        op.relu);
    return s.builder().add(op.anchor.name(), a, b, op.anchor.opType().equals("Sub")
        ? add.difference() : add);
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32 && g.dtype(n.input(1)) == DType.FLOAT32;
  }
}
