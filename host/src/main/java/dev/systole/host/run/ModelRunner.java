package dev.systole.host.run;

import dev.systole.host.partition.Macs;
import dev.systole.host.partition.Boundary;
import dev.systole.host.partition.Plan;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuProgram;
import dev.systole.host.cpu.OrtTensors;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Runs a {@link Model} on a {@link Session}: the plan's CPU segments in the CPU engine (ONNX
 * Runtime) and its device programs on the session's device, with the values crossing between
 * them converted at the edges (quantized, transposed to NHWC and back). A value going from one
 * CPU segment to another stays in ONNX Runtime's memory; only values crossing to or from the
 * device are copied out of it.
 *
 * <p>Each device program is loaded (its weights placed in card memory) the first time a plan
 * needs it, and stays loaded with the plan's CPU engine programs while the plan is among the
 * session's {@link Session#programLimit()} most recently run; the session compiles it once per
 * batch size and caches it. So the first run of a batch size pays for partitioning,
 * quantization, weight upload and compilation, and every later run of that size only moves
 * activations and runs, while a caller running ever new batch sizes holds the resources of only
 * the last few. A plan a run is using is never unloaded under it. Runs may come from several
 * threads; the session serializes their use of the device.
 */
public final class ModelRunner implements AutoCloseable {
  private final Model model;
  private final Session session;
  /** What each plan has loaded, the least recently run first. */
  private final Map<Plan, Loaded> plans = new LinkedHashMap<>(16, 0.75f, true);
  private volatile Progress progress = Progress.NONE;
  private boolean closed;

  /** A plan's device programs and CPU engine programs, and the runs using them. */
  private static final class Loaded {
    final Map<Plan.Segment, LoadedDeviceGraph> devices = new IdentityHashMap<>();
    final Map<Plan.CpuSegment, CpuProgram> cpus = new IdentityHashMap<>();
    int runs;
  }

  private ModelRunner(Model model, Session session) {
    this.model = model;
    this.session = session;
  }

  /** A runner of {@code model} on {@code session}, which the caller keeps and closes. */
  public static ModelRunner on(Session session, Model model) {
    return new ModelRunner(model, session);
  }

  public Model model() {
    return model;
  }

  /**
   * Reports each run's steps (CPU segments and device programs, the first run compiling them)
   * to {@code p}.
   */
  public ModelRunner reporting(Progress p) {
    this.progress = p;
    return this;
  }

  public Session session() {
    return session;
  }

  /** One device layer's cycles in a profiled run. */
  public record LayerProfile(Node node, DeviceGraph.Node layer, int program, long measured,
      long estimated, long usefulMacs) {}

  /** Host time of one CPU segment: its nodes, in order, and the time they took together. */
  public record CpuTime(List<Node> nodes, long nanos) {}

  /**
   * The outputs of a run by name, in the model's order, and what the run cost: device runs and
   * cycles, wall time on the host, the part of it spent in device programs (staging and DMA
   * included), each CPU node's time, and with {@link #profile} each device layer's cycles.
   */
  public record Result(Map<String, Tensor> outputs, int devicePrograms, int deviceRuns,
      long deviceCycles, long usefulMacs, long hostNanos, long deviceNanos,
      List<CpuTime> cpu, List<LayerProfile> layers) {}

  /**
   * Runs the model.
   *
   * @param inputs one tensor per model input, by name
   * @throws dev.systole.host.graph.ModelException if an input is missing, unknown, or of the
   *     wrong type or shape, naming it with the expected and the given type and shape
   */
  public Result run(Map<String, Tensor> inputs) {
    return run(inputs, false);
  }

  /** {@link #run}, plus each device layer's measured cycles (one extra device run per layer). */
  public Result profile(Map<String, Tensor> inputs) {
    return run(inputs, true);
  }

  private Result run(Map<String, Tensor> inputs, boolean profile) {
    long begin = System.nanoTime();
    Plan plan = model.plan(inputs, session.device().info().params());
    Loaded held = hold(plan);
    try {
      return run(plan, held, inputs, profile, begin);
    } finally {
      done(held);
    }
  }

  private Result run(Plan plan, Loaded held, Map<String, Tensor> inputs, boolean profile,
      long begin) {
    List<CpuTime> cpu = new ArrayList<>();
    List<LayerProfile> layers = new ArrayList<>();
    long cycles = 0;
    long macs = 0;
    long deviceNanos = 0;
    int runs = 0;
    int programs = 0;
    int done = 0;
    int total = plan.steps().size();
    try (Values env = new Values(inputs)) {
      for (ValueInfo o : model.graph().outputs()) {
        Tensor constant = plan.graph().initializers().get(o.name());
        if (constant != null && !inputs.containsKey(o.name())) {
          env.put(o.name(), constant);
        }
      }
      for (Plan.Step step : plan.steps()) {
        progress.update("run", done++, total);
        if (step instanceof Plan.CpuSegment c) {
          long t0 = System.nanoTime();
          runCpu(plan, held, c, env);
          cpu.add(new CpuTime(c.nodes(), System.nanoTime() - t0));
          continue;
        }
        Plan.Segment seg = (Plan.Segment) step;
        long t0 = System.nanoTime();
        LoadedDeviceGraph g = loaded(held, seg);
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (Plan.Import imp : seg.imports()) {
          byte[] codes = imp.toDevice(env.tensor(imp.value()));
          DeviceGraph.Shape s = imp.node().shape();
          in.put(imp.node().name(), Tensor.ofInt8(codes, seg.rows(), s.height(), s.width(),
              s.channels()));
        }
        Session.GraphResult r = profile ? session.profile(g, in) : session.execute(g, in);
        for (Plan.Export exp : seg.exports()) {
          Tensor t = r.outputs().get(exp.node().name());
          env.put(exp.value(), exp.fromDevice(t.data()));
        }
        for (Session.LayerCycles lc : r.layers()) {
          layers.add(new LayerProfile(seg.origin().get(lc.node()), lc.node(), seg.index(),
              lc.measured(), lc.estimated(), lc.usefulMacs()));
        }
        deviceNanos += System.nanoTime() - t0;
        cycles += r.deviceCycles();
        runs += r.runs();
        programs++;
        for (DeviceGraph.Node layer : seg.graph().layers()) {
          macs += Macs.useful(layer, seg.rows());
        }
      }
      progress.update("run", total, total);
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (ValueInfo o : model.graph().outputs()) {
        outputs.put(o.name(), env.tensor(o.name()));
      }
      return new Result(outputs, programs, runs, cycles, macs, System.nanoTime() - begin,
          deviceNanos, List.copyOf(cpu), List.copyOf(layers));
    }
  }

  /**
   * Runs CPU segment {@code c}. Its outputs of a known tensor type whose shape follows from the
   * inputs' shapes ({@link Plan#shapeFixed}) are written into tensors in native memory made for
   * them (pinned), which the device's staging and a later segment both read in place; the
   * others ONNX Runtime allocates, and the host copies once if the device reads them.
   */
  private void runCpu(Plan plan, Loaded held, Plan.CpuSegment c, Values env) {
    CpuProgram p = program(plan, held, c);
    Map<String, OnnxTensorLike> in = new LinkedHashMap<>();
    for (String v : c.inputs()) {
      in.put(v, env.ort(v));
    }
    Map<String, Tensor> hosts = new LinkedHashMap<>();
    Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
    for (String v : c.outputs()) {
      DType t = model.graph().dtype(v);
      long[] shape = plan.shape(v);
      if (t != null && plan.shapeFixed(v)) {
        Tensor host = Tensor.allocateDirect(t, shape);
        hosts.put(v, host);
        pinned.put(v, OrtTensors.toOrt(CpuEngine.get(), host));
      }
    }
    pinned.values().forEach(env::own);
    CpuProgram.Outputs out = p.run(in, c.outputs(), pinned);
    env.own(out);
    out.values().forEach(env::put);
    hosts.forEach(env::put);
  }

  /**
   * The values of one run by name: host tensors (the inputs, the device's outputs) and ONNX
   * Runtime values (the CPU segments' outputs), each converted to the other kind once, when a
   * step of the other kind first reads it. Closing releases every ONNX Runtime value.
   */
  private static final class Values implements AutoCloseable {
    private final Map<String, Tensor> tensors = new HashMap<>();
    private final Map<String, OnnxValue> ort = new HashMap<>();
    private final List<AutoCloseable> owned = new ArrayList<>();

    Values(Map<String, Tensor> inputs) {
      tensors.putAll(inputs);
    }

    void put(String name, Tensor t) {
      tensors.put(name, t);
    }

    void put(String name, OnnxValue v) {
      ort.put(name, v);
    }

    void own(AutoCloseable c) {
      owned.add(c);
    }

    Tensor tensor(String name) {
      Tensor t = tensors.get(name);
      if (t == null) {
        OnnxValue v = ort.get(name);
        if (v == null) {
          throw new IllegalStateException("value '" + name + "' was not computed before it was"
              + " read");
        }
        t = OrtTensors.toTensor(name, v);
        tensors.put(name, t);
      }
      return t;
    }

    OnnxTensorLike ort(String name) {
      OnnxValue v = ort.get(name);
      if (v == null) {
        Tensor t = tensors.get(name);
        if (t == null) {
          throw new IllegalStateException("value '" + name + "' was not computed before it was"
              + " read");
        }
        OnnxTensor o = OrtTensors.toOrt(CpuEngine.get(), t);
        owned.add(o);
        ort.put(name, o);
        v = o;
      }
      if (!(v instanceof OnnxTensorLike like)) {
        throw new IllegalStateException("value '" + name + "' is not a tensor");
      }
      return like;
    }

    @Override
    public void close() {
      for (AutoCloseable c : owned) {
        try {
          c.close();
        } catch (Exception e) {
          throw new IllegalStateException("releasing an ONNX Runtime value: " + e.getMessage(),
              e);
        }
      }
    }
  }


  /** Marks {@code plan} as run now and in use, unloading plans past the limit no run uses. */
  private synchronized Loaded hold(Plan plan) {
    if (closed) {
      throw new IllegalStateException("model runner is closed");
    }
    Loaded l = plans.computeIfAbsent(plan, p -> new Loaded());
    l.runs++;
    trim();
    return l;
  }

  private synchronized void done(Loaded l) {
    l.runs--;
    trim();
  }

  /** Unloads the least recently run plans no run uses, down to the session's limit. */
  private void trim() {
    int over = plans.size() - session.programLimit();
    Iterator<Loaded> it = plans.values().iterator();
    while (over > 0 && it.hasNext()) {
      Loaded l = it.next();
      if (l.runs == 0) {
        it.remove();
        unload(l);
        over--;
      }
    }
  }

  private void unload(Loaded l) {
    l.devices.values().forEach(session::unload);
    l.devices.clear();
    l.cpus.values().forEach(CpuProgram::close);
    l.cpus.clear();
  }

  private synchronized LoadedDeviceGraph loaded(Loaded held, Plan.Segment seg) {
    if (closed) {
      throw new IllegalStateException("model runner is closed");
    }
    return held.devices.computeIfAbsent(seg, s -> session.load(s.graph()));
  }

  /** The CPU engine's program for segment {@code c}, made on first use. */
  private synchronized CpuProgram program(Plan plan, Loaded held, Plan.CpuSegment c) {
    if (closed) {
      throw new IllegalStateException("model runner is closed");
    }
    return held.cpus.computeIfAbsent(c, s -> CpuEngine.get().load(
        model.graph().name() + " (cpu segment " + s.index() + ")",
        Onnx.slice(plan.graph(), model.graph().name() + "_cpu" + s.index(), s.nodes(),
            s.inputs(), s.outputs(), plan.shapes())));
  }

  /**
   * One plan the runner keeps loaded: the input shapes it is for, its device graphs (each with
   * the batch sizes of its cached programs), the card memory they hold and its CPU engine
   * programs.
   *
   * @param inputs the model inputs' shapes, in the model's order
   * @param deviceGraphs device graphs loaded, of the plan's {@code segments}
   * @param batches the batch sizes whose programs are cached, over its device graphs
   * @param residentBytes card memory of the weights and constants of its device graphs
   * @param programBytes card memory of its cached programs (code and tensors)
   * @param cpuPrograms CPU engine programs made, of the plan's {@code cpuSegments}
   */
  public record LoadedPlan(Map<String, List<Long>> inputs, int deviceGraphs, int segments,
      List<Integer> batches, long residentBytes, long programBytes, int cpuPrograms,
      int cpuSegments) {
    /** One line: {@code image 4x3x32x32: 2 of 2 device graphs, programs for batch 4, ...}. */
    public String describe() {
      StringBuilder b = new StringBuilder();
      inputs.forEach((name, shape) -> b.append(b.isEmpty() ? "" : ", ").append(name).append(' ')
          .append(shape.stream().map(String::valueOf).collect(
              Collectors.joining("x"))));
      return String.format(Locale.ROOT, "%s: %d of %d device graph%s loaded"
          + " (programs for batch %s; card memory %s of weights, %s of programs),"
          + " %d of %d cpu segment%s made", b, deviceGraphs, segments, segments == 1 ? "" : "s",
          batches.isEmpty() ? "none" : batches.stream().map(String::valueOf).collect(
              Collectors.joining(", ")),
          OutOfDeviceMemoryException.size(residentBytes),
          OutOfDeviceMemoryException.size(programBytes), cpuPrograms, cpuSegments,
          cpuSegments == 1 ? "" : "s");
    }
  }

  /**
   * What the runner keeps loaded, the least recently run plan first, at most the session's
   * {@link Session#programLimit()} plans (each device graph in them keeps at most as many
   * programs).
   */
  public synchronized List<LoadedPlan> loaded() {
    List<LoadedPlan> out = new ArrayList<>();
    for (Map.Entry<Plan, Loaded> e : plans.entrySet()) {
      Plan plan = e.getKey();
      Loaded l = e.getValue();
      Map<String, List<Long>> inputs = new LinkedHashMap<>();
      for (ValueInfo v : model.graph().inputs()) {
        long[] s = plan.shape(v.name());
        if (s != null) {
          inputs.put(v.name(), Arrays.stream(s).boxed().toList());
        }
      }
      TreeSet<Integer> batches = new TreeSet<>();
      long resident = 0;
      long programs = 0;
      for (LoadedDeviceGraph g : l.devices.values()) {
        batches.addAll(g.cachedBatches());
        resident += g.residentBytes();
        programs += g.cachedProgramBytes();
      }
      out.add(new LoadedPlan(Collections.unmodifiableMap(inputs), l.devices.size(),
          plan.segments().size(), List.copyOf(batches), resident, programs, l.cpus.size(),
          plan.cpuSegmentCount()));
    }
    return List.copyOf(out);
  }

  /** How many device programs are loaded (over the plans kept loaded). */
  public synchronized int loadedPrograms() {
    return plans.values().stream().mapToInt(l -> l.devices.size()).sum();
  }

  /** How many plans (sets of input shapes, so batch sizes) keep their programs loaded. */
  public synchronized int loadedPlans() {
    return plans.size();
  }

  /** Unloads the device programs; the session stays open. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    plans.values().forEach(this::unload);
    plans.clear();
  }
}
