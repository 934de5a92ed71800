package dev.systole.host.run;

import dev.systole.host.partition.Plan;
import dev.systole.host.partition.Partitioner;
import dev.systole.host.partition.GraphPass;
import dev.systole.host.quantize.Calibration;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Inputs;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.graph.ValueType;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * A model ready to run: its graph, the quantization of its float values, and the plans made for
 * it, one per set of input shapes (so per batch size), made on first use and then reused, so a
 * second run of the same shapes neither partitions nor quantizes again; the
 * {@value #PLAN_LIMIT} most recently used are kept. Device programs are
 * cached the same way by the session that runs them (see {@link ModelRunner}).
 */
public final class Model {
  private final Graph graph;
  private final Calibration calibration;
  private final boolean hostPatches;
  /**
   * The most plans kept. A plan is the graph folded for its shapes and its placements, rebuilt
   * on demand, so forgetting the least recently used only costs a partitioning when its shapes
   * come back, and a caller running ever new batch sizes does not hold a plan for each.
   */
  public static final int PLAN_LIMIT = 16;

  /** In access order, the least recently used first; guarded by itself. */
  private final Map<PlanKey, Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<PlanKey, Plan> eldest) {
      return size() > PLAN_LIMIT;
    }
  };

  private Model(Graph graph, Calibration calibration, boolean hostPatches) {
    this.graph = graph;
    this.calibration = calibration;
    this.hostPatches = hostPatches;
  }

  /**
   * The model of {@code graph} quantized with {@code calibration} ({@link Calibration#none()}
   * for a model with no float layers; its float layers would then run on the CPU). The QDQ
   * patterns of an already quantized model are first rewritten into the QLinear ops they stand
   * for, so {@link #graph()} may differ from {@code graph}.
   */
  public static Model of(Graph graph, Calibration calibration) {
    return new Model(GraphPass.applyAll(GraphProbe.typed(graph)), calibration, true);
  }

  /**
   * This model with every convolution reading its input as an image, none as patches gathered
   * on the host ({@link Boundary.Layout#PATCHES}): the plain lowering, to hold the other to.
   */
  public Model withoutHostPatches() {
    return new Model(graph, calibration, false);
  }

  /** The graph that runs: the one given, with its QDQ patterns rewritten as QLinear ops. */
  public Graph graph() {
    return graph;
  }

  public Calibration calibration() {
    return calibration;
  }

  /**
   * Whether the model has float layers the device could run once they are quantized (as the
   * device ops of {@link DeviceOps} say): such a model needs a calibration.
   */
  public static boolean needsCalibration(Graph model) {
    return Partitioner.needsCalibration(GraphProbe.typed(model));
  }

  /**
   * The plan for inputs like {@code inputs} (their shapes, and the values of int64 inputs, which
   * a model may use as shapes) on a device with {@code params}, made now or taken from the
   * cache. The inputs are checked first ({@link Inputs#check}); for shapes a cached plan was made
   * for, without the shape inference, which those shapes passed then (it took about 0.4 ms of
   * each ResNet-18 run).
   *
   * @throws dev.systole.host.graph.ModelException if the inputs do not fit the model
   */
  public Plan plan(Map<String, Tensor> inputs, DeviceParams params) {
    Map<String, long[]> inputShapes = Inputs.declared(graph, inputs);
    Map<String, Tensor> shapeValues = new LinkedHashMap<>();
    StringJoiner key = new StringJoiner(";");
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      key.add(in.name() + "=" + Arrays.toString(t.shape()));
      if (t.dtype() == DType.INT64) {
        shapeValues.put(in.name(), t);
        key.add(Arrays.toString(t.toLongArray()));
      }
    }
    PlanKey k = new PlanKey(key.toString(), params);
    synchronized (plans) {
      Plan p = plans.get(k);
      if (p != null) {
        return p;
      }
    }
    graph.inferShapesPartially(inputShapes, inputs);
    return planFor(k, inputShapes, shapeValues, inputs, params);
  }

  /** What a plan is made for: the inputs' names, shapes and shape values, and the device. */
  private record PlanKey(String inputs, DeviceParams params) {}

  /**
   * The plan for inputs of these shapes, by input name, on a device with {@code params}, for a
   * model whose shapes do not depend on input values.
   */
  public Plan planForShapes(Map<String, long[]> inputShapes, DeviceParams params) {
    StringJoiner key = new StringJoiner(";");
    for (ValueInfo in : graph.inputs()) {
      long[] s = inputShapes.get(in.name());
      key.add(in.name() + "=" + (s == null ? "?" : Arrays.toString(s)));
    }
    return planFor(new PlanKey(key.toString(), params), inputShapes, Map.of(), null, params);
  }

  private Plan planFor(PlanKey key, Map<String, long[]> inputShapes,
      Map<String, Tensor> shapeValues, Map<String, Tensor> inputs, DeviceParams params) {
    synchronized (plans) {
      Plan p = plans.get(key);
      if (p != null) {
        return p;
      }
    }
    Set<String> measured = new HashSet<>();
    Map<String, long[]> shapes = shapes(inputShapes, shapeValues, inputs, measured);
    Plan made = Partitioner.partition(graph, shapes, measured, calibration::params, params,
        hostPatches);
    synchronized (plans) {
      Plan raced = plans.putIfAbsent(key, made);
      return raced != null ? raced : made;
    }
  }

  /**
   * The shape of every tensor of the graph for these inputs: Systole's inference where it
   * reaches, and where it stops (after an opaque node, or at a shape computed from values), a
   * float run of the graph in the CPU engine, on {@code inputs}, or on zeros of the inputs'
   * shapes when only shapes are given; the values it measures are added to {@code measured}.
   */
  private Map<String, long[]> shapes(Map<String, long[]> inputShapes,
      Map<String, Tensor> shapeValues, Map<String, Tensor> inputs, Set<String> measured) {
    Map<String, long[]> shapes = new HashMap<>(graph.inferShapesPartially(inputShapes,
        shapeValues));
    List<String> missing = new ArrayList<>();
    for (Node n : graph.nodes()) {
      for (String o : n.outputs()) {
        ValueType t = o.isEmpty() ? null : graph.type(o);
        if (t != null && !t.sequence() && !shapes.containsKey(o)) {
          missing.add(o);
        }
      }
    }
    if (missing.isEmpty()) {
      return shapes;
    }
    Map<String, Tensor> run = inputs;
    if (run == null) {
      run = new LinkedHashMap<>();
      for (ValueInfo in : graph.inputs()) {
        if (in.dtype() == null) {
          throw new ModelException("input '" + in.name() + "' is " + in.typeString()
              + "; the shapes after its opaque nodes need a run with its values (run the model"
              + " with inputs instead)");
        }
        run.put(in.name(), Tensor.allocate(in.dtype(), inputShapes.get(in.name())));
      }
    }
    Map<String, long[]> probed = GraphProbe.shapes(graph, run, missing);
    measured.addAll(probed.keySet());
    shapes.putAll(probed);
    return shapes;
  }

  /** How many plans (input shapes) are cached, at most {@link #PLAN_LIMIT}. */
  public int cachedPlans() {
    synchronized (plans) {
      return plans.size();
    }
  }
}
