package dev.systole.host.run;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.RunResult;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Opcode;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The runtime's entry point: a device, the card memory placed on it, and the graphs loaded onto
 * it. Every graph goes one way. {@link #load(DeviceGraph)} places its weights once, in the
 * channels {@link HbmPlacement} gives each stream; a run stages the input batch, runs the program
 * compiled for that batch size (compiled on first use, then kept with its card memory and staging
 * buffers by the graph's {@link ProgramCache}) and reads the outputs back. A network of
 * convolutions, GEMMs, pooling and adds runs as one program per batch, its named NHWC inputs
 * staged in and its named outputs read back, every tensor in between kept in card memory.
 * {@link #profile} also measures each layer's device cycles, by running the program cut off
 * after each layer.
 *
 * <p>A chain of GEMM layers ({@link #load(LayerGraph)}, {@link #run(LoadedGraph, Tensor)}) is
 * loaded as the device graph of GEMM nodes it stands for ({@link LayerGraph#deviceGraph()}), and
 * run with a matrix of rows in and out, its rows being the batch. One way for both means a chain
 * and a network are placed, compiled, cached and released by the same code, and get the same
 * program for the same layers.
 *
 * <p>Many threads may run at once: each run holds the device from the moment its input is copied
 * in until its output is copied out, so runs never see each other's data; only the device is
 * serialized, compilation is not. {@link #submit} runs on the session's own thread and returns a
 * future. Batches larger than a graph's {@link LoadedDeviceGraph#batchPerRun()} are split along
 * the batch dimension and their outputs joined in order.
 */
public final class Session implements AutoCloseable {
  /** Default rows (batch items) of one device run; larger batches are split. */
  public static final int DEFAULT_MAX_ROWS = 4096;
  /**
   * The most instructions in one program of a graph whose program grows with every batch item
   * (8 MiB of code); its batches are split to stay within it.
   */
  public static final int MAX_PROGRAM_INSTRUCTIONS = 1 << 18;
  /**
   * Default of the most programs (batch sizes) kept per loaded graph, and of the most plans a
   * {@link ModelRunner} keeps loaded: enough for the few batch sizes a server sees, few enough
   * that a caller running every size from 1 up does not hold card memory and staging for each.
   */
  public static final int DEFAULT_PROGRAM_LIMIT = 8;

  private final Device device;
  private final boolean ownsDevice;
  private final DeviceParams params;
  private final HbmAllocator hbm;
  private final HbmPlacement placement;
  private final Object deviceLock = new Object();
  private final List<LoadedDeviceGraph> graphs = new ArrayList<>();
  private final ExecutorService submitter;
  private final int maxRows;
  private final Duration timeout;
  private final int programLimit;
  private boolean closed;

  private Session(Device device, boolean ownsDevice, int maxRows, Duration timeout,
      int programLimit) {
    if (maxRows < 1) {
      throw new IllegalArgumentException("max rows per run " + maxRows + " (expected >= 1)");
    }
    if (programLimit < 1) {
      throw new IllegalArgumentException("program limit " + programLimit + " (expected >= 1)");
    }
    this.programLimit = programLimit;
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.params = device.info().params();
    this.hbm = new HbmAllocator(params.hbmBytes(), params.hbmChannels());
    this.placement = new HbmPlacement(hbm);
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
        DEFAULT_MAX_ROWS, Duration.ofSeconds(60), DEFAULT_PROGRAM_LIMIT);
  }

  /** A session that owns {@code device} and closes it when the session closes. */
  public static Session owning(Device device) {
    return new Session(device, true, DEFAULT_MAX_ROWS, Duration.ofSeconds(60),
        DEFAULT_PROGRAM_LIMIT);
  }

  /** A session on a device the caller owns and closes. */
  public static Session on(Device device) {
    return on(device, DEFAULT_MAX_ROWS, Duration.ofSeconds(60));
  }

  /**
   * A session on a device the caller owns, with batches split into runs of at most
   * {@code maxRows} rows (batch items); a run that issues no instruction for {@code timeout} is
   * taken for a hang (see {@link Device#awaitProgress}).
   */
  public static Session on(Device device, int maxRows, Duration timeout) {
    return on(device, maxRows, timeout, DEFAULT_PROGRAM_LIMIT);
  }

  /**
   * {@link #on(Device, int, Duration)}, keeping at most {@code programLimit} programs (batch
   * sizes) per loaded graph, and a {@link ModelRunner} at most that many plans loaded, the
   * least recently used going first.
   */
  public static Session on(Device device, int maxRows, Duration timeout, int programLimit) {
    return new Session(device, false, maxRows, timeout, programLimit);
  }

  /** The most programs kept per loaded graph, and plans kept loaded per model runner. */
  public int programLimit() {
    return programLimit;
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

  /** Places the chain's weights and constants in card memory, where they stay until unload. */
  public LoadedGraph load(LayerGraph graph) {
    return new LoadedGraph(graph, load(graph.deviceGraph()));
  }

  /** Frees the chain's card memory, programs and staging buffers. */
  public void unload(LoadedGraph g) {
    unload(g.loaded);
  }

  /** The outcome of one {@link #execute(LoadedGraph, Tensor)}: the output and what it cost. */
  public record Result(Tensor output, int runs, long deviceCycles, long hostNanos,
      long deviceWaitNanos) {
    /** Wall time on the host not spent waiting for the device. */
    public long overheadNanos() {
      return hostNanos - deviceWaitNanos;
    }
  }

  /** Runs the chain on an int8 batch {@code [rows, inFeatures]} and returns its output. */
  public Tensor run(LoadedGraph g, Tensor input) {
    return execute(g, input).output();
  }

  /** {@link #run(LoadedGraph, Tensor)} on the session's thread. */
  public CompletableFuture<Tensor> submit(LoadedGraph g, Tensor input) {
    return CompletableFuture.supplyAsync(() -> run(g, input), submitter);
  }

  /** Runs the chain and reports device cycles and host time with the output. */
  public Result execute(LoadedGraph g, Tensor input) {
    LayerGraph graph = g.graph();
    if (input.dtype() != DType.INT8 || input.rank() != 2
        || input.dim(1) != graph.inFeatures()) {
      throw new IllegalArgumentException("input is " + input.dtype().name().toLowerCase()
          + " " + input.shapeString() + " (expected int8 Nx" + graph.inFeatures() + ")");
    }
    if (input.dim(0) < 1) {
      throw new IllegalArgumentException("input has no rows (expected int8 Nx"
          + graph.inFeatures() + " with N >= 1)");
    }
    DeviceGraph dg = g.loaded.graph();
    GraphResult r = execute(g.loaded, Map.of(dg.inputs().get(0).name(), input));
    return new Result(r.outputs().get(dg.outputs().get(0).name()), r.runs(), r.deviceCycles(),
        r.hostNanos(), r.deviceWaitNanos());
  }

  /**
   * Places the graph's weights and constants in card memory, where they stay until unload. The
   * graph is compiled for a batch of one and of two here, so a graph the device cannot run (a
   * pooling window larger than its buffers, say) is refused now, with the reason, and the batch
   * one run takes is known.
   */
  public LoadedDeviceGraph load(DeviceGraph graph) {
    int batchPerRun = batchPerRun(graph);
    int d = params.lanes();
    int n = graph.nodes().size();
    long[] weights = new long[n];
    long[] constants = new long[n];
    List<HbmAllocator.Region> resident = new ArrayList<>();
    try {
      synchronized (deviceLock) {
        checkOpen();
        for (DeviceGraph.Node node : graph.layers()) {
          byte[] w = GraphCompiler.weights(node, d);
          if (w.length > 0) {
            HbmAllocator.Region r = placement.weights(node, w.length);
            resident.add(r);
            upload(r.address(), ByteBuffer.wrap(w));
            weights[node.index()] = r.address();
          }
          byte[] c = GraphCompiler.constants(node, d);
          if (c.length > 0) {
            HbmAllocator.Region r = placement.constants(node, c.length);
            resident.add(r);
            upload(r.address(), ByteBuffer.wrap(c));
            constants[node.index()] = r.address();
          }
        }
        LoadedDeviceGraph g = new LoadedDeviceGraph(graph, resident, batchPerRun,
            new ProgramCache(graph, device.info(), weights, constants, placement,
                this::uploadCode, programLimit));
        graphs.add(g);
        return g;
      }
    } catch (RuntimeException e) {
      placement.free(resident);
      throw e;
    }
  }

  /**
   * The most batch items one run takes. A convolution's program grows with every image (each
   * image's windows are loaded and multiplied on their own), so a batch is split where the
   * program would pass {@link #MAX_PROGRAM_INSTRUCTIONS}, counting the program of one item for
   * each item (which over-counts its fixed part). A program that a second item leaves as it is
   * grows only by whole blocks of rows, as a GEMM's does, and takes {@link #maxRowsPerRun()}
   * items: counting it per item would split a GEMM of 512 rows into three runs. A graph that
   * runs at one batch only ({@link DeviceGraph#fixedRows()}) takes it whole.
   */
  private int batchPerRun(DeviceGraph graph) {
    if (graph.fixedRows() > 0) {
      GraphCompiler.estimate(graph, graph.fixedRows(), params);
      return graph.fixedRows();
    }
    int one = GraphCompiler.estimate(graph, 1, params).instructions().size();
    int two = GraphCompiler.estimate(graph, 2, params).instructions().size();
    if (two <= one) {
      return maxRows;
    }
    return Math.max(1, Math.min(maxRows, MAX_PROGRAM_INSTRUCTIONS / one));
  }

  /** Frees the graph's card memory, programs and staging buffers. */
  public void unload(LoadedDeviceGraph g) {
    synchronized (deviceLock) {
      if (!graphs.remove(g)) {
        return;
      }
      g.programs.release();
      placement.free(g.resident);
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
    if (graph.fixedRows() > 0 && batch != graph.fixedRows()) {
      throw new IllegalArgumentException("a batch of " + batch + " rows for a graph made for "
          + graph.fixedRows() + " (its products couple the rows of a sequence; expected the"
          + " same rows)");
    }
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
      ProgramCache.Entry c = g.programs.get(n);
      try {
        synchronized (deviceLock) {
          checkOpen();
          g.programs.checkLoaded();
          for (int i = 0; i < graph.inputs().size(); i++) {
            DeviceGraph.Node in = graph.inputs().get(i);
            int bytes = (int) in.outputBytes(n);
            int from = (int) (b0 * in.shape().size());
            ByteBuf staging = c.stagingIn().get(i);
            staging.setBytes(0, inputs.get(in.name()).data().duplicate().position(from)
                .limit(from + bytes));
            device.dmaWrite(c.tensor(in).address(), staging, 0, bytes);
          }
          long started = System.nanoTime();
          device.start(c.code().address(), c.program().instructions().size());
          RunResult result = device.awaitProgress(timeout).throwIfFailed();
          wait += System.nanoTime() - started;
          cycles += result.cycles();
          if (profile) {
            long before = 0;
            for (int i = 0; i < layers.size(); i++) {
              GraphCompiler.NodePlan plan = c.program().nodes().get(i);
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
            ByteBuf staging = c.stagingOut().get(i);
            device.dmaRead(c.tensor(o).address(), staging, 0, bytes);
            staging.getBytes(0, outputs.get(o.name()).data().duplicate().position(to)
                .limit(to + bytes));
          }
        }
      } finally {
        g.programs.done(c);
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
  private long runCutAfter(ProgramCache.Entry c, int end) {
    long at = c.code().address() + (long) end * Contract.INSTRUCTION_BYTES;
    upload(at, ByteBuffer.wrap(device.info().encode(List.of(Instruction.of(Opcode.HALT)))));
    try {
      device.start(c.code().address(), end + 1);
      return device.awaitProgress(timeout).throwIfFailed().cycles();
    } finally {
      upload(at, ByteBuffer.wrap(device.info().encode(List.of(c.program().instructions()
          .get(end)))));
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

  /** Writes a program just compiled to card memory, if the session is still open. */
  private void uploadCode(long address, byte[] code) {
    synchronized (deviceLock) {
      checkOpen();
      upload(address, ByteBuffer.wrap(code));
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
      for (LoadedDeviceGraph g : new ArrayList<>(graphs)) {
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
