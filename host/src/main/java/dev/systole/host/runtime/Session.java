package dev.systole.host.runtime;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.RunResult;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.host.compiler.GemmCompiler;
import dev.systole.host.compiler.GemmLayer;
import dev.systole.host.compiler.LayerGraph;
import dev.systole.host.compiler.WeightLayout;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 */
public final class Session implements AutoCloseable {
  /** Default rows of one device run; larger batches are split. */
  public static final int DEFAULT_MAX_ROWS = 4096;

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
   * {@code maxRows} rows, each given {@code timeout} to finish.
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
        synchronized (g) {
          if (g.unloaded) {
            throw new IllegalStateException("graph was unloaded from " + device.name());
          }
        }
        c.stagingIn.setBytes(0, slice);
        device.dmaWrite(c.input.address(), c.stagingIn, 0, inBytes);
        long started = System.nanoTime();
        device.start(c.code.address(), c.program.instructions().size());
        RunResult result = device.await(timeout).throwIfFailed();
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
    ByteBuf stagingIn = null;
    ByteBuf stagingOut = null;
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
      stagingIn = Staging.allocate(rows * graph.inFeatures());
      stagingOut = Staging.allocate(rows * graph.outFeatures() * graph.outputElementBytes());
      LoadedGraph.Compiled c = new LoadedGraph.Compiled(program, codeRegion, input, outputs,
          stagingIn, stagingOut);
      synchronized (deviceLock) {
        checkOpen();
        upload(codeRegion.address(), ByteBuffer.wrap(code));
        synchronized (g) {
          LoadedGraph.Compiled raced = g.programs.putIfAbsent(rows, c);
          if (raced == null && !g.unloaded) {
            return c;
          }
          release(c);
          if (g.unloaded) {
            throw new IllegalStateException("graph was unloaded from " + device.name());
          }
          return raced;
        }
      }
    } catch (RuntimeException e) {
      if (stagingIn != null && stagingIn.refCnt() > 0) {
        stagingIn.release();
      }
      if (stagingOut != null && stagingOut.refCnt() > 0) {
        stagingOut.release();
      }
      for (HbmAllocator.Region r : regions) {
        if (hbm.regions().contains(r)) {
          hbm.free(r);
        }
      }
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
      closed = true;
    }
    submitter.shutdown();
    if (ownsDevice) {
      device.close();
    }
  }
}
