package dev.systole.host.partition;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of device ops: for an ONNX node of the default domain, the {@link DeviceOp} that
 * may lower it. The partitioner, the calibration decision and the compile report all ask here,
 * so what the device runs is said once.
 */
final class DeviceOps {
  private static final DeviceOps STANDARD = new DeviceOps(List.of(new ConvOp(), new GemmOp(),
      new MaxPoolOp(), new AddOp(), new FlattenView(), new IntegerConvOp(),
      new IntegerGemmOp(), new MeanOp(), new TableOp(), new MulOp(), new ConcatOp(),
      new SliceOp(), new ScaleOp(), new AveragePoolOp(), new NormOp(), new TransposeView(),
      new SoftmaxOp(), new MaskedSoftmaxOp(), new ResizeOp(), new ConvTransposeOp(),
      new MaxReduceOp()));

  private final Map<String, DeviceOp> byType = new LinkedHashMap<>();

  DeviceOps(List<DeviceOp> ops) {
    for (DeviceOp op : ops) {
      for (String type : op.opTypes()) {
        if (byType.put(type, op) != null) {
          throw new IllegalArgumentException("two device ops lower " + type);
        }
      }
    }
  }

  /** The device ops of the contract's accelerator. */
  static DeviceOps standard() {
    return STANDARD;
  }

  /**
   * The device op for {@code n}, if the device has one for its op (and {@code n} is known to
   * the reader, or the op takes nodes it only knows by type).
   */
  Optional<DeviceOp> of(Node n) {
    if (!n.domain().isEmpty()) {
      return Optional.empty();
    }
    DeviceOp op = byType.get(n.opType());
    return op == null || !n.known() && !op.takesOpaque() ? Optional.empty() : Optional.of(op);
  }

  /** Whether some node of {@code g} is a float layer the device runs from calibrated ranges. */
  boolean needsCalibration(Graph g) {
    for (Node n : g.nodes()) {
      Optional<DeviceOp> op = of(n);
      if (op.isPresent() && op.get().quantizes(n, g)) {
        return true;
      }
    }
    return false;
  }
}
