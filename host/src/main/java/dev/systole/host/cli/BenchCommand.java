package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.cli.diag.Sizes;
import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.MatmulPlan;
import dev.systole.host.compile.Requant;
import dev.systole.host.compile.Window;
import dev.systole.host.run.LoadedDeviceGraph;
import dev.systole.host.run.LoadedGraph;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code systole bench}: measurements that print their figures. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks that print their figures.",
    subcommands = {BenchCommand.Gemm.class, BenchCommand.Conv.class, BenchCommand.Dma.class,
        BenchModelCommand.class})
final class BenchCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code systole bench dma}: DMA throughput and the cost of register and small accesses. */
  @Command(name = "dma", mixinStandardHelpOptions = true,
      description = {"Measure DMA throughput host to card and card to host from 4 KiB to the"
          + " largest size, each next to a plain memory copy of the same size in the same run,"
          + " and the cost of one register read, one register write and one 4-byte DMA read."})
  static final class Dma implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    /** The largest transfer: one staging buffer, indexed by an int. */
    private static final int MAX_MIB = 1024;

    @Option(names = "--max-mib", defaultValue = "256",
        description = "Largest transfer in MiB, 1 to " + MAX_MIB + " (default ${DEFAULT-VALUE}).")
    int maxMib;

    @Option(names = "--address", defaultValue = "0x10000000",
        description = "Card address of the transfers (default ${DEFAULT-VALUE}).")
    String address;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (maxMib < 1 || maxMib > MAX_MIB) {
        throw new IllegalArgumentException("--max-mib " + maxMib + " (expected 1 to " + MAX_MIB
            + ")");
      }
      long card = Sizes.parse("--address", address);
      try (dev.systole.driver.Device d = device.open(out)) {
        DmaCommand.checkRange(d, card, (long) maxMib << 20);
        out.printf(Locale.ROOT, "bench dma on %s%n", d.name());
        out.printf(Locale.ROOT, "  %10s %12s %12s %12s %8s %8s%n", "size", "h2c MB/s",
            "c2h MB/s", "copy MB/s", "h2c/copy", "c2h/copy");
        long max = (long) maxMib << 20;
        for (long size = 4096; size <= max; size *= 4) {
          int n = (int) size;
          int iterations = (int) Math.max(3, Math.min(200, (64L << 20) / size));
          io.netty.buffer.ByteBuf a = dev.systole.host.run.Staging.allocate(n);
          io.netty.buffer.ByteBuf b = dev.systole.host.run.Staging.allocate(n);
          try {
            a.setZero(0, n);
            long[] h2c = new long[iterations];
            long[] c2h = new long[iterations];
            long[] copy = new long[iterations];
            for (int i = 0; i < iterations; i++) {
              long t0 = System.nanoTime();
              d.dmaWrite(card, a, 0, n);
              long t1 = System.nanoTime();
              d.dmaRead(card, b, 0, n);
              long t2 = System.nanoTime();
              b.setBytes(0, a, 0, n);
              long t3 = System.nanoTime();
              h2c[i] = t1 - t0;
              c2h[i] = t2 - t1;
              copy[i] = t3 - t2;
            }
            double mh = size / (BenchRuns.percentile(h2c, 50) / 1e9) / 1e6;
            double mc = size / (BenchRuns.percentile(c2h, 50) / 1e9) / 1e6;
            double mm = size / (BenchRuns.percentile(copy, 50) / 1e9) / 1e6;
            out.printf(Locale.ROOT, "  %10s %12.0f %12.0f %12.0f %8.2f %8.2f%n", bytes(size), mh,
                mc, mm, mh / mm, mc / mm);
            out.flush();
          } finally {
            a.release();
            b.release();
          }
        }
        int reps = 20_000;
        long[] reads = new long[reps];
        long[] writes = new long[reps];
        long[] small = new long[Math.min(reps, 5000)];
        io.netty.buffer.ByteBuf four = dev.systole.host.run.Staging.allocate(4);
        try {
          for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            d.read(dev.systole.driver.contract.Reg.SCRATCH);
            long t1 = System.nanoTime();
            d.write(dev.systole.driver.contract.Reg.SCRATCH, i);
            long t2 = System.nanoTime();
            reads[i] = t1 - t0;
            writes[i] = t2 - t1;
          }
          for (int i = 0; i < small.length; i++) {
            long t0 = System.nanoTime();
            d.dmaRead(card, four, 0, 4);
            small[i] = System.nanoTime() - t0;
          }
        } finally {
          four.release();
        }
        out.printf(Locale.ROOT, "  register read   median %d ns, p99 %d ns%n",
            BenchRuns.percentile(reads, 50), BenchRuns.percentile(reads, 99));
        out.printf(Locale.ROOT, "  register write  median %d ns, p99 %d ns%n",
            BenchRuns.percentile(writes, 50), BenchRuns.percentile(writes, 99));
        out.printf(Locale.ROOT, "  4-byte DMA read median %d ns, p99 %d ns%n",
            BenchRuns.percentile(small, 50), BenchRuns.percentile(small, 99));
      }
      return ExitCodes.OK;
    }

    private static String bytes(long n) {
      return n >= 1 << 20 ? (n >> 20) + " MiB" : (n >> 10) + " KiB";
    }
  }

  /** {@code systole bench conv}: one convolution layer, run many times through a session. */
  @Command(name = "conv", mixinStandardHelpOptions = true,
      description = {"Run a random int8 convolution (requantized to int8, padding k/2 on every"
          + " side) on a batch of H x W x C images through a session and print device cycles,"
          + " the timing model's estimate, device time, array utilization and host wall time"
          + " per run (median, p99)."})
  static final class Conv implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Option(names = "--h", defaultValue = "56", description = "Input height (default 56).")
    int h;

    @Option(names = "--w", defaultValue = "56", description = "Input width (default 56).")
    int w;

    @Option(names = "--c", defaultValue = "64", description = "Input channels (default 64).")
    int c;

    @Option(names = "--oc", defaultValue = "64", description = "Output channels (default 64).")
    int oc;

    @Option(names = "--k", defaultValue = "3", description = "Kernel size (default 3).")
    int k;

    @Option(names = "--stride", defaultValue = "1", description = "Stride (default 1).")
    int stride;

    @Option(names = "--batch", defaultValue = "1", description = "Images per run (default 1).")
    int batch;

    @Option(names = "--iterations", defaultValue = "10", description = "Measured runs"
        + " (default 10).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured runs first"
        + " (default 2).")
    int warmup;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (h < 1 || w < 1 || c < 1 || oc < 1 || k < 1 || stride < 1 || batch < 1
          || iterations < 1 || warmup < 0 || k / 2 > Window.MAX_PAD) {
        throw new IllegalArgumentException(String.format("--h %d --w %d --c %d --oc %d --k %d"
            + " --stride %d --batch %d --iterations %d --warmup %d (expected sizes, batch and"
            + " iterations >= 1, k <= %d, warmup >= 0)", h, w, c, oc, k, stride, batch,
            iterations, warmup, 2 * Window.MAX_PAD + 1));
      }
      Random r = new Random(42);
      byte[] weights = new byte[oc * c * k * k];
      r.nextBytes(weights);
      long reduction = (long) c * k * k;
      int shift = 31 + (int) Math.ceil(Math.log(Math.sqrt(reduction) * 60) / Math.log(2));
      ConvLayer conv = new ConvLayer(c, oc, Window.of(k, stride, k / 2), weights, new int[oc],
          Requant.uniform(oc, 1 << 30, shift, 0, true));
      DeviceGraph.Builder b = DeviceGraph.builder();
      DeviceGraph.Node y = b.conv("conv", b.input("x", new DeviceGraph.Shape(h, w, c), 0), conv);
      DeviceGraph graph = b.output(y).build();
      byte[] x = new byte[batch * h * w * c];
      r.nextBytes(x);
      Map<String, Tensor> input = Map.of("x", Tensor.ofInt8(x, batch, h, w, c));
      try (Session session = Session.owning(device.open(out))) {
        DeviceParams p = session.device().info().params();
        LoadedDeviceGraph g = session.load(graph);
        for (int i = 0; i < warmup; i++) {
          session.execute(g, input);
        }
        BenchRuns<Session.GraphResult> measured = BenchRuns.measure(iterations,
            () -> session.execute(g, input), Session.GraphResult::hostNanos,
            Session.GraphResult::overheadNanos);
        long cycles = measured.last().deviceCycles();
        GraphCompiler.Program program = g.program(Math.min(batch, g.batchPerRun()));
        long estimate = 0;
        for (long b0 = 0; b0 < batch; b0 += g.batchPerRun()) {
          estimate += g.program((int) Math.min(g.batchPerRun(), batch - b0)).estimatedCycles();
        }
        long useful = batch * (long) y.shape().height() * y.shape().width() * oc * reduction;
        double utilization = BenchRuns.utilization(useful, cycles, p);
        double deviceSeconds = cycles * p.secondsPerCycle();
        MatmulPlan plan = program.nodes().get(0).matmul();
        measured.printHeadline(out, String.format(Locale.ROOT, "conv %dx%dx%d -> %dx%dx%d, %dx%d"
            + " kernel stride %d pad %d, batch %d", h, w, c, y.shape().height(),
            y.shape().width(), oc, k, k, stride, k / 2, batch), session.device());
        out.printf(Locale.ROOT, "  program            %d instructions, %d run(s) per batch,"
            + " %s, tiles of up to %d pixels%n", program.instructions().size(),
            measured.last().runs(),
            plan.order().name().toLowerCase(Locale.ROOT).replace('_', ' '), plan.mTile());
        out.printf(Locale.ROOT, "  device cycles      %,d per batch (timing model %,d)%n",
            cycles, estimate);
        out.printf(Locale.ROOT, "  device time        %.3f ms at %d MHz, %.0f images/s%n",
            deviceSeconds * 1e3, p.clockKhz() / 1000, batch / deviceSeconds);
        BenchRuns.printUtilization(out, utilization, p);
        out.printf(Locale.ROOT, "  host wall time     %s per batch%n", measured.wallTimes());
      }
      return ExitCodes.OK;
    }
  }

  /** {@code systole bench gemm}: one GEMM, run many times through a session. */
  @Command(name = "gemm", mixinStandardHelpOptions = true,
      description = {"Run a random int8 GEMM M x K times K x N through a session and print"
          + " device cycles, device time at the contract's clock, array utilization, host wall"
          + " time per run (median, p99), host overhead (wall time minus the time spent waiting"
          + " for the device) and, on the emulator, its throughput."})
  static final class Gemm implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Option(names = "--m", defaultValue = "512", description = "Rows of A (default 512).")
    int m;

    @Option(names = "--n", defaultValue = "512", description = "Columns of B (default 512).")
    int n;

    @Option(names = "--k", defaultValue = "512", description = "Columns of A (default 512).")
    int k;

    @Option(names = "--iterations", defaultValue = "20", description = "Measured runs"
        + " (default 20).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "3", description = "Unmeasured runs first"
        + " (default 3).")
    int warmup;

    @Option(names = "--requant", description = "Requantize to int8 (default: int32 output).")
    boolean requant;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (m < 1 || n < 1 || k < 1 || iterations < 1 || warmup < 0) {
        throw new IllegalArgumentException(String.format("--m %d --n %d --k %d --iterations %d"
            + " --warmup %d (expected dimensions and iterations >= 1, warmup >= 0)", m, n, k,
            iterations, warmup));
      }
      Random r = new Random(42);
      byte[] w = new byte[k * n];
      r.nextBytes(w);
      byte[] x = new byte[m * k];
      r.nextBytes(x);
      Requant q = requant ? Requant.uniform(n, 1 << 30, 40, 0, false) : null;
      LayerGraph graph = LayerGraph.of(new GemmLayer(k, n, w, requant ? new int[n] : null, q));
      Tensor input = Tensor.ofInt8(x, m, k);
      try (Session session = Session.owning(device.open(json ? DeviceOption.silent() : out))) {
        DeviceParams p = session.device().info().params();
        LoadedGraph g = session.load(graph);
        for (int i = 0; i < warmup; i++) {
          session.execute(g, input);
        }
        boolean simulated = session.device().name().startsWith("sim");
        long clockBefore = simulated
            ? session.device().counters().get(dev.systole.driver.contract.Counter.TOTAL_CYCLES) : 0;
        long timedStart = System.nanoTime();
        BenchRuns<Session.Result> measured = BenchRuns.measure(iterations,
            () -> session.execute(g, input), Session.Result::hostNanos,
            Session.Result::overheadNanos);
        long cycles = measured.last().deviceCycles();
        long timedNanos = System.nanoTime() - timedStart;
        // A simulated board's clock advances only as the simulator clocks it: its rate over the
        // timed runs is the simulator's speed.
        double simRate = simulated ? (session.device().counters().get(
            dev.systole.driver.contract.Counter.TOTAL_CYCLES) - clockBefore) / (timedNanos / 1e9)
            : 0;
        GraphCompiler.Program program = g.program(Math.min(m, g.rowsPerRun()));
        long useful = (long) m * n * k;
        double utilization = BenchRuns.utilization(useful, cycles, p);
        double deviceSeconds = cycles * p.secondsPerCycle();
        double wallMedian = measured.wall(50) / 1e9;
        double gops = 2.0 * useful / wallMedian / 1e9;
        boolean emulator = session.device().info().backend().equals("emulator");
        if (json) {
          Map<String, Object> doc = new LinkedHashMap<>();
          doc.put("bench", "gemm");
          doc.put("m", m);
          doc.put("n", n);
          doc.put("k", k);
          doc.put("output", requant ? "int8" : "int32");
          doc.putAll(BenchRuns.deviceJson(session.device()));
          doc.put("instructions", program.instructions().size());
          doc.putAll(BenchRuns.cyclesJson(cycles, utilization, p));
          doc.put("wall_median_seconds", wallMedian);
          doc.put("wall_p99_seconds", measured.wall(99) / 1e9);
          doc.put("overhead_median_seconds", measured.overhead(50) / 1e9);
          doc.put("overhead_p99_seconds", measured.overhead(99) / 1e9);
          doc.put("host_gops", gops);
          doc.put("sim_cycles_per_second", simRate);
          doc.put("iterations", iterations);
          out.println(Json.writeCompact(doc));
        } else {
          measured.printHeadline(out, String.format(Locale.ROOT, "gemm %dx%dx%d int8 -> %s", m, k,
              n, requant ? "int8" : "int32"), session.device());
          out.printf(Locale.ROOT, "  program            %d instructions%n",
              program.instructions().size());
          out.printf(Locale.ROOT, "  device cycles      %,d per run%n", cycles);
          out.printf(Locale.ROOT, "  device time        %.3f ms at %d MHz%n",
              deviceSeconds * 1e3, p.clockKhz() / 1000);
          BenchRuns.printUtilization(out, utilization, p);
          out.printf(Locale.ROOT, "  host wall time     %s per run%n", measured.wallTimes());
          out.printf(Locale.ROOT, "  host overhead      %s per run (wall time minus waiting for"
              + " the device)%n", measured.overheadTimes());
          if (simulated) {
            out.printf(Locale.ROOT, "  simulation speed   %,.0f cycles/s (clock cycles the"
                + " simulator ran per wall second)%n", simRate);
          }
          if (emulator) {
            out.printf(Locale.ROOT, "  emulator           %.2f GOPS on the host (2*M*N*K / median"
                + " wall time)%n", gops);
          }
        }
      }
      return ExitCodes.OK;
    }
  }
}
