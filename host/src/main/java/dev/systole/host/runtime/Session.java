package dev.systole.host.runtime;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.RunResult;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Opcode;
import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.GemmCompiler;
import dev.systole.host.compiler.GemmLayer;
import dev.systole.host.compiler.GraphCompiler;
import dev.systole.host.compiler.LayerGraph;
import dev.systole.host.compiler.WeightLayout;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The runtime's entry point: a device, the card memory placed on it, and the graphs loaded onto
 * it. {@link #load} places a graph's weights once; {@link #run} stages an input batch, runs the
 * program compiled for that batch size (compiled on first use, then cached with its card memory
 * and staging buffers) and returns the output.
 *
 * <p>Many threads may call {@link #run} at once: each run holds the device from the moment its
 * input is copied in until its output is copied out, so runs never see each other's data; only
 * the device is serialized, compilation is not. {@link #submit} runs on the session's own thread
 * and returns a future. Batches larger than {@link #maxRowsPerRun()} are split along the batch
 * dimension and their outputs joined in order.
 *
 * <p>The same holds for {@link DeviceGraph}s ({@link #load(DeviceGraph)}): a network of
 * convolutions, GEMMs, pooling and adds runs as one program per batch, its named NHWC inputs
 * staged in and its named outputs read back, every tensor in between kept in card memory.
 * {@link #profile} also measures each layer's device cycles, by running the program cut off after
 * each layer.
 */
public final class Session implements AutoCloseable {
  /** Default rows of one device run; larger batches are split. */
  public static final int DEFAULT_MAX_ROWS = 4096;
  /** The most instructions in one program of a device graph (8 MiB of code); batches split. */
  public static final int MAX_PROGRAM_INSTRUCTIONS = 1 << 18;

  // Where things go in HBM: the LOAD port reads inputs and weights, the STORE port writes each
  // layer's output (read by the next layer's LOADs while it writes its own), and the fetch port
  // reads the program, so each stream gets a pseudo-channel of its own (see HbmAllocator).
  private static final int WEIGHT_CHANNEL = 0;
  private static final int INPUT_CHANNEL = 1;
  private static final int OUTPUT_CHANNEL = 2;

  private final Device device;
  private final boolean ownsDevice;
  private final DeviceParams params;
  private final HbmAllocator hbm;
  private final Object deviceLock = new Object();
  private final List<LoadedGraph> graphs = new ArrayList<>();
  private final List<LoadedDeviceGraph> deviceGraphs = new ArrayList<>();
  private final ExecutorService submitter;
  private final int maxRows;
  private final Duration timeout;
  private boolean closed;

  private Session(Device device, boolean ownsDevice, int maxRows, Duration timeout) {
    if (maxRows < 1) {
      throw new IllegalArgumentException("max rows per run " + maxRows + " (expected >= 1)");
    }
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.params = device.info().params();
    this.hbm = new HbmAllocator(params.hbmBytes(), params.hbmChannels());
    this.maxRows = maxRows;
    this.timeout = timeout;
    this.submitter = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "systole-session-" + device.name());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens the named device ({@code auto}, {@code emulator}, ...) for this session alone.
   *
   * @param announce told which device {@code auto} chose
   */
  public static Session open(String deviceName, Consumer<String> announce) {
    return new Session(Devices.open(deviceName, Ticker.system(), announce), true,
        DEFAULT_MAX_ROWS, Duration.ofSeconds(60));
  }

  /** A session that owns {@code device} and closes it when the session closes. */
  public static Session owning(Device device) {
    return new Session(device, true, DEFAULT_MAX_ROWS, Duration.ofSeconds(60));
  }

  /** A session on a device the caller owns and closes. */
  public static Session on(Device device) {
    return on(device, DEFAULT_MAX_ROWS, Duration.ofSeconds(60));
  }

  /**
   * A session on a device the caller owns, with batches split into runs of at most
   * {@code maxRows} rows; a run that issues no instruction for {@code timeout} is taken for a
   * hang (see {@link Device#awaitProgress}).
   */
  public static Session on(Device device, int maxRows, Duration timeout) {
    return new Session(device, false, maxRows, timeout);
  }

  public Device device() {
    return device;
  }

  public int maxRowsPerRun() {
    return maxRows;
  }

  /** Card memory in use and its layout, for reports. */
  public HbmAllocator memory() {
    return hbm;
  }

  /** Places the graph's weights and constants in card memory, where they stay until unload. */
  public LoadedGraph load(LayerGraph graph) {
    List<HbmAllocator.Region> weights = new ArrayList<>();
    List<HbmAllocator.Region> constants = new ArrayList<>();
    int d = params.lanes();
    try {
      synchronized (deviceLock) {
        checkOpen();
        for (int i = 0; i < graph.layers().size(); i++) {
          GemmLayer l = graph.layers().get(i);
          byte[] tiles = WeightLayout.tiles(l, d);
          HbmAllocator.Region w = hbm.allocate("weights of layer " + i, tiles.length,
              Staging.ALIGNMENT, WEIGHT_CHANNEL);
          weights.add(w);
          upload(w.address(), ByteBuffer.wrap(tiles));
          byte[] c = WeightLayout.constants(l, d);
          HbmAllocator.Region r = hbm.allocate("constants of layer " + i, Math.max(1, c.length),
              Staging.ALIGNMENT, WEIGHT_CHANNEL);
          constants.add(r);
          if (c.length > 0) {
            upload(r.address(), ByteBuffer.wrap(c));
          }
        }
        LoadedGraph g = new LoadedGraph(graph, weights, constants);
        graphs.add(g);
        return g;
      }
    } catch (RuntimeException e) {
      weights.forEach(hbm::free);
      constants.forEach(hbm::free);
      throw e;
    }
  }

  /** Frees the graph's card memory, programs and staging buffers. */
  public void unload(LoadedGraph g) {
    synchronized (deviceLock) {
      synchronized (g) {
        if (g.unloaded) {
          return;
        }
        g.unloaded = true;
        for (LoadedGraph.Compiled c : g.programs.values()) {
          release(c);
        }
        g.programs.clear();
      }
      g.weights.forEach(hbm::free);
      g.constants.forEach(hbm::free);
      graphs.remove(g);
    }
  }

  /** The outcome of one {@link #execute}: the output and what it cost. */
  public record Result(Tensor output, int runs, long deviceCycles, long hostNanos,
      long deviceWaitNanos) {
    /** Wall time on the host not spent waiting for the device. */
    public long overheadNanos() {
      return hostNanos - deviceWaitNanos;
    }
  }

  /** Runs the graph on an int8 batch {@code [rows, inFeatures]} and returns its output. */
  public Tensor run(LoadedGraph g, Tensor input) {
    return execute(g, input).output();
  }

  /** {@link #run} on the session's thread. */
  public CompletableFuture<Tensor> submit(LoadedGraph g, Tensor input) {
    return CompletableFuture.supplyAsync(() -> run(g, input), submitter);
  }

  /** Runs the graph and reports device cycles and host time with the output. */
  public Result execute(LoadedGraph g, Tensor input) {
    long begin = System.nanoTime();
    LayerGraph graph = g.graph();
    if (input.dtype() != DType.INT8 || input.rank() != 2
        || input.dim(1) != graph.inFeatures()) {
      throw new IllegalArgumentException("input is " + input.dtype().name().toLowerCase()
          + " " + input.shapeString() + " (expected int8 Nx" + graph.inFeatures() + ")");
    }
    long rows = input.dim(0);
    if (rows < 1) {
      throw new IllegalArgumentException("input has no rows (expected int8 Nx"
          + graph.inFeatures() + " with N >= 1)");
    }
    int eb = graph.outputElementBytes();
    Tensor output = Tensor.allocate(eb == 1 ? DType.INT8 : DType.INT32, rows,
        graph.outFeatures());
    ByteBuffer in = input.data();
    ByteBuffer outData = output.data();
    long cycles = 0;
    long wait = 0;
    int runs = 0;
    for (long r0 = 0; r0 < rows; r0 += maxRows, runs++) {
      int n = (int) Math.min(maxRows, rows - r0);
      LoadedGraph.Compiled c = compiled(g, n);
      int inBytes = n * graph.inFeatures();
      int outBytes = n * graph.outFeatures() * eb;
      ByteBuffer slice = in.duplicate().position((int) (r0 * graph.inFeatures()))
          .limit((int) (r0 * graph.inFeatures()) + inBytes);
      synchronized (deviceLock) {
        checkOpen();
        checkLoaded(g, () -> g.unloaded);
        c.stagingIn.setBytes(0, slice);
        device.dmaWrite(c.input.address(), c.stagingIn, 0, inBytes);
        long started = System.nanoTime();
        device.start(c.code.address(), c.program.instructions().size());
        RunResult result = device.awaitProgress(timeout).throwIfFailed();
        wait += System.nanoTime() - started;
        cycles += result.cycles();
        device.dmaRead(c.outputs.get(c.outputs.size() - 1).address(), c.stagingOut, 0,
            outBytes);
        c.stagingOut.getBytes(0, outData.duplicate().position((int) (r0 * graph.outFeatures()
            * eb)).limit((int) (r0 * graph.outFeatures() * eb) + outBytes));
      }
    }
    return new Result(output, runs, cycles, System.nanoTime() - begin, wait);
  }

  /** The program for batches of {@code rows}: from the cache, or compiled and placed now. */
  LoadedGraph.Compiled compiled(LoadedGraph g, int rows) {
    synchronized (g) {
      LoadedGraph.Compiled c = g.programs.get(rows);
      if (c != null) {
        return c;
      }
    }
    LayerGraph graph = g.graph();
    List<HbmAllocator.Region> regions = new ArrayList<>();
    List<ByteBuf> staging = new ArrayList<>();
    try {
      HbmAllocator.Region input = hbm.allocate("input of " + rows + " rows", (long) rows
          * graph.inFeatures(), Staging.ALIGNMENT, INPUT_CHANNEL);
      regions.add(input);
      List<HbmAllocator.Region> outputs = new ArrayList<>();
      List<Long> outAddresses = new ArrayList<>();
      for (int i = 0; i < graph.layers().size(); i++) {
        GemmLayer l = graph.layers().get(i);
        HbmAllocator.Region o = hbm.allocate("output of layer " + i + " for " + rows + " rows",
            (long) rows * l.outFeatures() * (l.int8Output() ? 1 : 4), Staging.ALIGNMENT,
            OUTPUT_CHANNEL + i % 2);
        regions.add(o);
        outputs.add(o);
        outAddresses.add(o.address());
      }
      GemmCompiler.Program program = GemmCompiler.compile(graph, rows, params,
          new GemmCompiler.Addresses(input.address(),
              g.weights.stream().map(HbmAllocator.Region::address).toList(),
              g.constants.stream().map(HbmAllocator.Region::address).toList(), outAddresses));
      byte[] code = Instruction.encode(program.instructions());
      HbmAllocator.Region codeRegion = hbm.allocate("program for " + rows + " rows",
          code.length, Staging.ALIGNMENT, hbm.channels() - 1);
      regions.add(codeRegion);
      ByteBuf stagingIn = Staging.allocate(rows * graph.inFeatures());
      staging.add(stagingIn);
      ByteBuf stagingOut = Staging.allocate(rows * graph.outFeatures()
          * graph.outputElementBytes());
      staging.add(stagingOut);
      LoadedGraph.Compiled c = new LoadedGraph.Compiled(program, codeRegion, input, outputs,
          stagingIn, stagingOut);
      synchronized (deviceLock) {
        checkOpen();
        upload(codeRegion.address(), ByteBuffer.wrap(code));
        return cache(g, () -> g.unloaded, g.programs, rows, c, this::release);
      }
    } catch (RuntimeException e) {
      discard(staging, regions);
      throw e;
    }
  }

  private void release(LoadedGraph.Compiled c) {
    c.stagingIn.release();
    c.stagingOut.release();
    hbm.free(c.code);
    hbm.free(c.input);
    c.outputs.forEach(hbm::free);
  }

  /**
   * Places the graph's weights and constants in card memory, where they stay until unload. The
   * graph is compiled once for a batch of one here, so a graph the device cannot run (a pooling
   * window larger than its buffers, say) is refused now, with the reason.
   */
  public LoadedDeviceGraph load(DeviceGraph graph) {
    int d = params.lanes();
    int n = graph.nodes().size();
    HbmAllocator.Region[] weights = new HbmAllocator.Region[n];
    HbmAllocator.Region[] constants = new HbmAllocator.Region[n];
    int perItem = GraphCompiler.estimate(graph, 1, params).instructions().size();
    int batchPerRun = Math.max(1, Math.min(maxRows, MAX_PROGRAM_INSTRUCTIONS / perItem));
    try {
      synchronized (deviceLock) {
        checkOpen();
        for (DeviceGraph.Node node : graph.layers()) {
          byte[] w = GraphCompiler.weights(node, d);
          if (w.length > 0) {
            weights[node.index()] = hbm.allocate("weights of '" + node.name() + "'", w.length,
                Staging.ALIGNMENT, WEIGHT_CHANNEL);
            upload(weights[node.index()].address(), ByteBuffer.wrap(w));
          }
          byte[] c = GraphCompiler.constants(node, d);
          if (c.length > 0) {
            constants[node.index()] = hbm.allocate("constants of '" + node.name() + "'",
                c.length, Staging.ALIGNMENT, WEIGHT_CHANNEL);
            upload(constants[node.index()].address(), ByteBuffer.wrap(c));
          }
        }
        LoadedDeviceGraph g = new LoadedDeviceGraph(graph, weights, constants, batchPerRun);
        deviceGraphs.add(g);
        return g;
      }
    } catch (RuntimeException e) {
      Arrays.stream(weights).filter(r -> r != null).forEach(hbm::free);
      Arrays.stream(constants).filter(r -> r != null).forEach(hbm::free);
      throw e;
    }
  }

  /** Frees the graph's card memory, programs and staging buffers. */
  public void unload(LoadedDeviceGraph g) {
    synchronized (deviceLock) {
      synchronized (g) {
        if (g.unloaded) {
          return;
        }
        g.unloaded = true;
        g.programs.values().forEach(this::release);
        g.programs.clear();
      }
      Arrays.stream(g.weights).filter(r -> r != null).forEach(hbm::free);
      Arrays.stream(g.constants).filter(r -> r != null).forEach(hbm::free);
      deviceGraphs.remove(g);
    }
  }

  /** One layer's device cycles in a profiled run, next to the timing model's estimate. */
  public record LayerCycles(DeviceGraph.Node node, long measured, long estimated,
      long usefulMacs) {
    /** Useful MACs over what the array could do in the measured cycles. */
    public double utilization(DeviceParams p) {
      return measured == 0 ? 0 : usefulMacs / ((double) measured * p.macsPerCycle());
    }
  }

  /**
   * The outcome of running a device graph: its outputs by name, the device runs and cycles it
   * took, host time, and with {@link #profile} each layer's cycles (summed over the runs).
   */
  public record GraphResult(Map<String, Tensor> outputs, int runs, long deviceCycles,
      long hostNanos, long deviceWaitNanos, List<LayerCycles> layers) {
    /** Wall time on the host not spent waiting for the device. */
    public long overheadNanos() {
      return hostNanos - deviceWaitNanos;
    }
  }

  /**
   * Runs the graph on a batch: one int8 tensor per graph input, by name, {@code [N, H, W, C]}
   * (or {@code [N, C]} for a 1 x 1 input), all with the same N. Returns each graph output by name:
   * {@code [N, H, W, C]}, or {@code [N, F]} for a GEMM's, int8 or int32.
   */
  public Map<String, Tensor> run(LoadedDeviceGraph g, Map<String, Tensor> inputs) {
    return execute(g, inputs).outputs();
  }

  /** {@link #run(LoadedDeviceGraph, Map)}, with device cycles and host time. */
  public GraphResult execute(LoadedDeviceGraph g, Map<String, Tensor> inputs) {
    return runGraph(g, inputs, false);
  }

  /**
   * {@link #execute(LoadedDeviceGraph, Map)}, and then, for each run, the program cut off after
   * each layer (the FENCE after it made a HALT): the differences of their cycle counts are the
   * layers' device cycles, which add up to the program's. Costs a run per layer.
   */
  public GraphResult profile(LoadedDeviceGraph g, Map<String, Tensor> inputs) {
    return runGraph(g, inputs, true);
  }

  private GraphResult runGraph(LoadedDeviceGraph g, Map<String, Tensor> inputs,
      boolean profile) {
    long begin = System.nanoTime();
    DeviceGraph graph = g.graph();
    long batch = checkInputs(graph, inputs);
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    for (DeviceGraph.Node o : graph.outputs()) {
      DeviceGraph.Shape s = o.shape();
      DType t = o.int8Output() ? DType.INT8 : DType.INT32;
      outputs.put(o.name(), o.flat() ? Tensor.allocate(t, batch, s.size())
          : Tensor.allocate(t, batch, s.height(), s.width(), s.channels()));
    }
    List<DeviceGraph.Node> layers = graph.layers();
    long[] measured = new long[layers.size()];
    long[] estimated = new long[layers.size()];
    long[] macs = new long[layers.size()];
    long cycles = 0;
    long wait = 0;
    int runs = 0;
    for (long b0 = 0; b0 < batch; b0 += g.batchPerRun, runs++) {
      int n = (int) Math.min(g.batchPerRun, batch - b0);
      LoadedDeviceGraph.Compiled c = compiled(g, n);
      synchronized (deviceLock) {
        checkOpen();
        checkLoaded(g, () -> g.unloaded);
        for (int i = 0; i < graph.inputs().size(); i++) {
          DeviceGraph.Node in = graph.inputs().get(i);
          int bytes = (int) in.outputBytes(n);
          int from = (int) (b0 * in.shape().size());
          ByteBuf staging = c.stagingIn.get(i);
          staging.setBytes(0, inputs.get(in.name()).data().duplicate().position(from)
              .limit(from + bytes));
          device.dmaWrite(c.tensors.get(in.index()).address(), staging, 0, bytes);
        }
        long started = System.nanoTime();
        device.start(c.code.address(), c.program.instructions().size());
        RunResult result = device.awaitProgress(timeout).throwIfFailed();
        wait += System.nanoTime() - started;
        cycles += result.cycles();
        if (profile) {
          long before = 0;
          for (int i = 0; i < layers.size(); i++) {
            GraphCompiler.NodePlan plan = c.program.nodes().get(i);
            long upTo = i + 1 == layers.size() ? result.cycles() : runCutAfter(c, plan.end());
            measured[i] += upTo - before;
            estimated[i] += plan.estimatedCycles();
            macs[i] += plan.usefulMacs();
            before = upTo;
          }
        }
        for (int i = 0; i < graph.outputs().size(); i++) {
          DeviceGraph.Node o = graph.outputs().get(i);
          int bytes = (int) o.outputBytes(n);
          int eb = o.int8Output() ? 1 : 4;
          int to = (int) (b0 * o.shape().size() * eb);
          ByteBuf staging = c.stagingOut.get(i);
          device.dmaRead(c.tensors.get(o.index()).address(), staging, 0, bytes);
          staging.getBytes(0, outputs.get(o.name()).data().duplicate().position(to)
              .limit(to + bytes));
        }
      }
    }
    List<LayerCycles> perLayer = new ArrayList<>();
    if (profile) {
      for (int i = 0; i < layers.size(); i++) {
        perLayer.add(new LayerCycles(layers.get(i), measured[i], estimated[i], macs[i]));
      }
    }
    return new GraphResult(outputs, runs, cycles, System.nanoTime() - begin, wait,
        List.copyOf(perLayer));
  }

  /** Runs the program with its instruction {@code end} (a FENCE) made a HALT; its cycles. */
  private long runCutAfter(LoadedDeviceGraph.Compiled c, int end) {
    long at = c.code.address() + (long) end * Contract.INSTRUCTION_BYTES;
    upload(at, ByteBuffer.wrap(Instruction.encode(List.of(Instruction.of(Opcode.HALT)))));
    try {
      device.start(c.code.address(), end + 1);
      return device.awaitProgress(timeout).throwIfFailed().cycles();
    } finally {
      upload(at, ByteBuffer.wrap(Instruction.encode(List.of(c.program.instructions().get(end)))));
    }
  }

  /** The batch of the inputs, after checking names, dtypes and shapes against the graph. */
  private static long checkInputs(DeviceGraph graph, Map<String, Tensor> inputs) {
    List<String> names = graph.inputs().stream().map(DeviceGraph.Node::name).toList();
    for (String name : inputs.keySet()) {
      if (!names.contains(name)) {
        throw new IllegalArgumentException("unknown input '" + name + "' (expected " + names
            + ")");
      }
    }
    long batch = -1;
    String first = null;
    for (DeviceGraph.Node in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        throw new IllegalArgumentException("missing input '" + in.name() + "' (expected "
            + names + ")");
      }
      DeviceGraph.Shape s = in.shape();
      boolean nhwc = t.rank() == 4 && t.dim(1) == s.height() && t.dim(2) == s.width()
          && t.dim(3) == s.channels();
      boolean flat = t.rank() == 2 && s.height() == 1 && s.width() == 1
          && t.dim(1) == s.channels();
      if (t.dtype() != DType.INT8 || !(nhwc || flat) || t.dim(0) < 1) {
        throw new IllegalArgumentException("input '" + in.name() + "' is "
            + t.dtype().name().toLowerCase() + " " + t.shapeString() + " (expected int8 Nx"
            + s + (s.height() == 1 && s.width() == 1 ? " or Nx" + s.channels() : "")
            + ", N >= 1)");
      }
      if (batch >= 0 && t.dim(0) != batch) {
        throw new IllegalArgumentException("input '" + in.name() + "' has a batch of "
            + t.dim(0) + " but '" + first + "' has " + batch + " (expected the same batch for"
            + " every input)");
      }
      batch = t.dim(0);
      first = in.name();
    }
    return batch;
  }

  /** The program for a batch of {@code batch}: from the cache, or compiled and placed now. */
  LoadedDeviceGraph.Compiled compiled(LoadedDeviceGraph g, int batch) {
    synchronized (g) {
      LoadedDeviceGraph.Compiled c = g.programs.get(batch);
      if (c != null) {
        return c;
      }
    }
    DeviceGraph graph = g.graph();
    List<HbmAllocator.Region> regions = new ArrayList<>();
    List<ByteBuf> staging = new ArrayList<>();
    try {
      int n = graph.nodes().size();
      long[] outputs = new long[n];
      long[] weights = new long[n];
      long[] constants = new long[n];
      List<HbmAllocator.Region> tensors = new ArrayList<>();
      for (DeviceGraph.Node node : graph.nodes()) {
        HbmAllocator.Region r = hbm.allocate((node.kind() == DeviceGraph.Kind.INPUT ? "input '"
            : "output of '") + node.name() + "' for a batch of " + batch,
            node.outputBytes(batch), Staging.ALIGNMENT, node.kind() == DeviceGraph.Kind.INPUT
                ? INPUT_CHANNEL : OUTPUT_CHANNEL + node.index() % 2);
        regions.add(r);
        tensors.add(r);
        outputs[node.index()] = r.address();
        weights[node.index()] = g.weights[node.index()] == null ? 0
            : g.weights[node.index()].address();
        constants[node.index()] = g.constants[node.index()] == null ? 0
            : g.constants[node.index()].address();
      }
      GraphCompiler.Program program = GraphCompiler.compile(graph, batch, params,
          new GraphCompiler.Placement(outputs, weights, constants));
      byte[] code = Instruction.encode(program.instructions());
      HbmAllocator.Region codeRegion = hbm.allocate("program for a batch of " + batch,
          code.length, Staging.ALIGNMENT, hbm.channels() - 1);
      regions.add(codeRegion);
      List<ByteBuf> in = new ArrayList<>();
      for (DeviceGraph.Node node : graph.inputs()) {
        in.add(Staging.allocate((int) node.outputBytes(batch)));
        staging.add(in.get(in.size() - 1));
      }
      List<ByteBuf> out = new ArrayList<>();
      for (DeviceGraph.Node node : graph.outputs()) {
        out.add(Staging.allocate((int) node.outputBytes(batch)));
        staging.add(out.get(out.size() - 1));
      }
      LoadedDeviceGraph.Compiled c = new LoadedDeviceGraph.Compiled(program, codeRegion,
          List.copyOf(tensors), List.copyOf(in), List.copyOf(out));
      synchronized (deviceLock) {
        checkOpen();
        upload(codeRegion.address(), ByteBuffer.wrap(code));
        return cache(g, () -> g.unloaded, g.programs, batch, c, this::release);
      }
    } catch (RuntimeException e) {
      discard(staging, regions);
      throw e;
    }
  }

  private void release(LoadedDeviceGraph.Compiled c) {
    c.stagingIn.forEach(ByteBuf::release);
    c.stagingOut.forEach(ByteBuf::release);
    hbm.free(c.code);
    c.tensors.forEach(hbm::free);
  }

  /**
   * Caches a program just compiled and uploaded for batches of {@code key} in the graph's
   * {@code programs}, which {@code graph}'s monitor guards along with the flag {@code unloaded}
   * reads. Programs compile outside every lock, so meanwhile another thread may have cached one
   * for the same batch size (it wins: {@code compiled} is released and the cached one returned),
   * or the graph may have been unloaded ({@code compiled} is released and the unload reported).
   * The caller holds the device lock, so an unload cannot free the graph between the upload and
   * this.
   */
  private <C> C cache(Object graph, BooleanSupplier unloaded, Map<Integer, C> programs, int key,
      C compiled, Consumer<C> release) {
    synchronized (graph) {
      C raced = unloaded.getAsBoolean() ? null : programs.putIfAbsent(key, compiled);
      if (raced == null && !unloaded.getAsBoolean()) {
        return compiled;
      }
      release.accept(compiled);
      checkLoaded(graph, unloaded);
      return raced;
    }
  }

  /**
   * Undoes a compilation that failed part way: releases the staging buffers and frees the card
   * memory it got, skipping any that a release of the whole program already gave back.
   */
  private void discard(List<ByteBuf> staging, List<HbmAllocator.Region> regions) {
    staging.stream().filter(b -> b.refCnt() > 0).forEach(ByteBuf::release);
    for (HbmAllocator.Region r : regions) {
      if (hbm.regions().contains(r)) {
        hbm.free(r);
      }
    }
  }

  /** Throws if the graph was unloaded; {@code graph}'s monitor guards the flag it reads. */
  private void checkLoaded(Object graph, BooleanSupplier unloaded) {
    synchronized (graph) {
      if (unloaded.getAsBoolean()) {
        throw new IllegalStateException("graph was unloaded from " + device.name());
      }
    }
  }

  /** Copies bytes to card memory through a staging buffer. */
  private void upload(long address, ByteBuffer bytes) {
    ByteBuf buf = Staging.allocate(bytes.remaining());
    try {
      buf.setBytes(0, bytes);
      device.dmaWrite(address, buf, 0, buf.capacity());
    } finally {
      buf.release();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("session on " + device.name() + " is closed");
    }
  }

  /** Unloads every graph, releases every buffer, and closes the device if the session opened it. */
  @Override
  public void close() {
    synchronized (deviceLock) {
      if (closed) {
        return;
      }
      for (LoadedGraph g : new ArrayList<>(graphs)) {
        unload(g);
      }
      for (LoadedDeviceGraph g : new ArrayList<>(deviceGraphs)) {
        unload(g);
      }
      closed = true;
    }
    submitter.shutdown();
    if (ownsDevice) {
      device.close();
    }
  }
}
