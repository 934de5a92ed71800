package dev.systole.host.model;

import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.Window;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A model partitioned for one set of input shapes: the steps that run it, in order, each either
 * one node on the host CPU or one device program (a {@link Segment}) covering a run of nodes
 * whose activations stay in card memory, and where every node of the model ended up.
 *
 * <p>A plan is specific to the input shapes (the batch size among them) because the partition
 * depends on them: a GEMM's rows, a window's output size, whether two values may share a device
 * program. It holds no device state; a {@link ModelRunner} loads its segments onto a session.
 */
public final class Plan {
  /** Where a node of the model runs. */
  public enum Where {
    /** A layer of a device program. */
    DEVICE,
    /** Folded into a device layer (a BatchNormalization, a Relu, a Flatten of a feature map). */
    FUSED,
    /** On the host CPU. */
    CPU
  }

  /**
   * Where one node runs: for {@link Where#FUSED}, {@code into} is the node it joined (null for a
   * change of view); for a node on the CPU that the device runs in other forms, {@code reason}
   * says why not this one (else null). {@code hostPatches} is true for a device convolution
   * whose input the host gathers into patches on the way in ({@link Boundary.Layout#PATCHES}),
   * so that the device runs it as a 1x1 convolution.
   */
  public record Placement(Where where, int segment, Node into, String reason,
      boolean hostPatches) {}

  /** One step of a run. */
  sealed interface Step permits CpuStep, Segment {}

  /** A node run by the CPU interpreter; {@code index} is its position in the graph's nodes. */
  record CpuStep(int index, Node node) implements Step {}

  /**
   * A value a device program reads from the host; {@code window} is the convolution window whose
   * patches cross for {@link Boundary.Layout#PATCHES} (else null).
   */
  record Import(String value, DeviceGraph.Node node, Encoding encoding, Boundary.Layout layout,
      long[] shape, Window window) {
    /** The device bytes of {@code t}, this import's host value. */
    byte[] toDevice(Tensor t) {
      return layout == Boundary.Layout.PATCHES
          ? Boundary.toPatches(t, encoding, window, node.zeroPoint())
          : Boundary.toDevice(t, encoding, layout);
    }
  }

  /**
   * A value a device program hands back to the host: device node {@code node}'s output, as the
   * model value {@code value} of ONNX shape {@code shape}; {@code hwc} is the device feature map's
   * height, width and channels for the NHWC layouts.
   */
  record Export(String value, DeviceGraph.Node node, Encoding encoding, Boundary.Layout layout,
      long[] shape, int[] hwc) {}

  /**
   * One device program: the graph of layers, how many rows (images, or GEMM rows) it runs, the
   * values it reads and writes, and for each of its layers the model node it came from.
   */
  record Segment(int index, DeviceGraph graph, int rows, List<Import> imports,
      List<Export> exports, Map<DeviceGraph.Node, Node> origin) implements Step {}

  private final List<Step> steps;
  private final Map<Node, Placement> placements;
  private final Map<String, long[]> shapes;

  Plan(List<Step> steps, Map<Node, Placement> placements, Map<String, long[]> shapes) {
    this.steps = List.copyOf(steps);
    this.placements = Map.copyOf(placements);
    this.shapes = shapes;
  }

  List<Step> steps() {
    return steps;
  }

  /** Where {@code node} runs. */
  public Placement placement(Node node) {
    Placement p = placements.get(node);
    if (p == null) {
      throw new IllegalArgumentException(node + " is not in this plan's model");
    }
    return p;
  }

  /** The concrete shape of every value of the model for this plan's inputs. */
  public long[] shape(String value) {
    long[] s = shapes.get(value);
    return s == null ? null : s.clone();
  }

  /** The device programs, in the order they run. */
  List<Segment> segments() {
    return steps.stream().filter(s -> s instanceof Segment).map(s -> (Segment) s).toList();
  }

  /** How many device programs a run of this plan starts. */
  public int deviceProgramCount() {
    return segments().size();
  }
}
