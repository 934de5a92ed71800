package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;

/**
 * A model partitioned for one set of input shapes: the steps that run it, in order, each either
 * a CPU segment (a {@link CpuSegment}: consecutive nodes the CPU engine runs as one model of
 * their own) or one device program (a {@link Segment}) covering a run of nodes whose
 * activations stay in card memory, and where every node of the model ended up.
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
    CPU,
    /**
     * Computed once for the plan's input shapes (shape arithmetic: a Shape and what follows
     * from it), a constant of the plan.
     */
    CONSTANT
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
  public sealed interface Step permits CpuStep, CpuSegment, Segment {}

  /** A node for the CPU, as the partitioner places it, before CPU segments are formed. */
  public record CpuStep(Node node) implements Step {}

  /**
   * Nodes the CPU engine runs as one model: the values it reads from earlier steps (graph
   * inputs among them; the initializers it reads are part of its model) and the ones later
   * steps or the caller read from it.
   */
  public record CpuSegment(int index, List<Node> nodes, List<String> inputs, List<String> outputs)
      implements Step {}

  /**
   * A value a device program reads from the host; {@code window} is the convolution window whose
   * patches cross for {@link Boundary.Layout#PATCHES} (else null).
   */
  public record Import(String value, DeviceGraph.Node node, Encoding encoding, Boundary.Layout layout,
      long[] shape, Window window) {
    /** The device bytes of {@code t}, this import's host value. */
    public byte[] toDevice(Tensor t) {
      return layout == Boundary.Layout.PATCHES
          ? Boundary.toPatches(value, t, encoding, window, node.zeroPoint())
          : Boundary.toDevice(value, t, encoding, layout);
    }
  }

  /**
   * A value a device program hands back to the host: device node {@code node}'s output, as the
   * model value {@code value} of ONNX shape {@code shape}; {@code hwc} is the device feature map's
   * height, width and channels for the NHWC layouts; {@code order}, for rows of features the
   * program holds out of ONNX's order (a transposed view), is the device index of each element
   * in ONNX's order, else null.
   */
  public record Export(String value, DeviceGraph.Node node, Encoding encoding, Boundary.Layout layout,
      long[] shape, int[] hwc, int[] order) {
    /** The host tensor of the device bytes {@code bytes} of this export. */
    public Tensor fromDevice(java.nio.ByteBuffer bytes) {
      return Boundary.fromDevice(bytes, encoding, layout, shape, hwc, order);
    }
  }

  /**
   * One device program: the graph of layers, how many rows (images, or GEMM rows) it runs, the
   * values it reads and writes, and for each of its layers the model node it came from.
   */
  public record Segment(int index, DeviceGraph graph, int rows, List<Import> imports,
      List<Export> exports, Map<DeviceGraph.Node, Node> origin) implements Step {}

  private final Graph graph;
  private final List<Step> steps;
  private final Map<String, Placement> placements;
  private final Map<String, long[]> shapes;
  /** The values whose shapes a float run measured, which may depend on the inputs' values. */
  private final Set<String> measured;

  /**
   * A plan that runs {@code graph} (the model's graph with its shape arithmetic folded for
   * these shapes); {@code constant} names the model's nodes that folding removed.
   */
  Plan(Graph graph, List<Step> steps, Map<Node, Placement> placements, Set<String> constant,
      Map<String, long[]> shapes, Set<String> measured) {
    this.graph = graph;
    this.steps = cpuSegments(graph, steps);
    Map<String, Placement> byName = new java.util.HashMap<>();
    placements.forEach((n, p) -> byName.put(n.name(), p));
    constant.forEach(n -> byName.put(n, new Placement(Where.CONSTANT, -1, null, null, false)));
    this.placements = Map.copyOf(byName);
    this.shapes = shapes;
    this.measured = Set.copyOf(measured);
  }

  /**
   * {@code steps} with each run of consecutive {@link CpuStep}s made one {@link CpuSegment}.
   * A segment none of whose values is read afterwards computes nothing anyone sees, and is
   * left out.
   */
  private static List<Step> cpuSegments(Graph graph, List<Step> steps) {
    List<List<Node>> runs = new ArrayList<>();
    List<Object> shape = new ArrayList<>();
    for (Step s : steps) {
      if (s instanceof CpuStep c) {
        if (shape.isEmpty() || !(shape.get(shape.size() - 1) instanceof List<?>)) {
          List<Node> run = new ArrayList<>();
          runs.add(run);
          shape.add(run);
        }
        runs.get(runs.size() - 1).add(c.node());
      } else {
        shape.add(s);
      }
    }
    Set<String> constants = new HashSet<>(graph.initializers().keySet());
    constants.addAll(graph.opaqueInitializers().keySet());
    Set<String> graphOutputs = new HashSet<>();
    graph.outputs().forEach(o -> graphOutputs.add(o.name()));
    List<Step> out = new ArrayList<>();
    int cpuIndex = 0;
    for (int i = 0; i < shape.size(); i++) {
      if (!(shape.get(i) instanceof List<?> raw)) {
        out.add((Step) shape.get(i));
        continue;
      }
      @SuppressWarnings("unchecked")
      List<Node> nodes = (List<Node>) raw;
      Set<String> produced = new LinkedHashSet<>();
      Set<String> inputs = new LinkedHashSet<>();
      for (Node n : nodes) {
        for (String r : n.reads()) {
          if (!produced.contains(r) && !constants.contains(r)) {
            inputs.add(r);
          }
        }
        n.outputs().stream().filter(o -> !o.isEmpty()).forEach(produced::add);
      }
      Set<String> later = new HashSet<>(graphOutputs);
      for (int j = i + 1; j < shape.size(); j++) {
        if (shape.get(j) instanceof List<?> next) {
          for (Object n : next) {
            later.addAll(((Node) n).reads());
          }
        } else if (shape.get(j) instanceof Segment seg) {
          seg.imports().forEach(imp -> later.add(imp.value()));
        }
      }
      List<String> outputs = produced.stream().filter(later::contains).toList();
      if (!outputs.isEmpty()) {
        out.add(new CpuSegment(cpuIndex++, List.copyOf(nodes), List.copyOf(inputs), outputs));
      }
    }
    return List.copyOf(out);
  }

  /** The CPU segments, in the order they run. */
  public List<CpuSegment> cpuSegments() {
    return steps.stream().filter(s -> s instanceof CpuSegment).map(s -> (CpuSegment) s)
        .toList();
  }

  /** How many CPU segments a run of this plan runs. */
  public int cpuSegmentCount() {
    return cpuSegments().size();
  }

  public List<Step> steps() {
    return steps;
  }

  /**
   * The graph this plan runs: the model's, with the shape arithmetic these input shapes fix
   * folded to constants. Its CPU segments are slices of it.
   */
  public Graph graph() {
    return graph;
  }

  /** Where {@code node} (of the model's graph or of {@link #graph()}) runs. */
  public Placement placement(Node node) {
    Placement p = placements.get(node.name());
    if (p == null) {
      throw new IllegalArgumentException(node + " is not in this plan's model");
    }
    return p;
  }

  /** The concrete shape of every value of the model for this plan's inputs, by name. */
  public Map<String, long[]> shapes() {
    return java.util.Collections.unmodifiableMap(shapes);
  }

  /**
   * Whether {@code value}'s shape follows from the inputs' shapes alone (Systole's shape
   * inference gave it), so every run of this plan has it; a shape only a float run measured
   * (after an op Systole does not interpret) may change with the inputs' values.
   */
  public boolean shapeFixed(String value) {
    return shapes.containsKey(value) && !measured.contains(value);
  }

  /** The concrete shape of a value of the model for this plan's inputs. */
  public long[] shape(String value) {
    long[] s = shapes.get(value);
    return s == null ? null : s.clone();
  }

  /** The device programs, in the order they run. */
  public List<Segment> segments() {
    return steps.stream().filter(s -> s instanceof Segment).map(s -> (Segment) s).toList();
  }

  /** How many device programs a run of this plan starts. */
  public int deviceProgramCount() {
    return segments().size();
  }
}
