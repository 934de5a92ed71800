package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.simboard.Fault;
import dev.systole.driver.rtl.RtlEngine;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.simboard.SimEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code systole simboard}: serves a sim board until the process is killed (SIGTERM or SIGINT,
 * which close the board through a shutdown hook) or its thread is interrupted.
 */
@Command(name = "simboard", mixinStandardHelpOptions = true,
    description = {"Serve a sim board: the device nodes of XDMA board 0 (xdma0_user, xdma0_h2c_0,"
        + " xdma0_c2h_0, xdma0_events_0) in a directory, with an accelerator engine behind them,"
        + " until killed.",
        "Prints one line once the nodes are ready; fpga/sim/PROTOCOL.md describes them."})
final class SimboardCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--dir", paramLabel = "DIR", required = true,
      description = "Directory for the nodes (created if missing).")
  Path dir;

  /** What runs behind the nodes. */
  enum Engine {
    EMULATOR,
    RTL
  }

  @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "emulator",
      converter = EngineConverter.class,
      description = "emulator (the Java engine) or rtl (the RTL under Verilator)."
          + " Default: ${DEFAULT-VALUE}.")
  Engine engine;

  @Option(names = "--mem", paramLabel = "MODEL", defaultValue = "fixed",
      converter = MemoryConverter.class,
      description = "With --engine rtl, the HBM model: fixed (the latency the timing model is"
          + " exact for) or hbm (banks, rows, refresh). Default: ${DEFAULT-VALUE}.")
  RtlEngine.Memory memory;

  @Option(names = "--fault", paramLabel = "NAME", split = ",", converter = FaultConverter.class,
      description = "Inject a fault: hang, link-down, spurious-irq, dma-fail, dma-short,"
          + " dma-corrupt, hbm-stuck-bit, no-irq or link-degraded (fpga/sim/PROTOCOL.md says"
          + " what each does). Repeatable.")
  List<Fault> faults = new ArrayList<>();

  @Option(names = "--params", paramLabel = "PARAM=VALUE,...", defaultValue = "",
      description = "Build parameters, e.g. ARRAY=8,HBM_MB=1024 (default: the default build;"
          + " HBM is a sparse file, so 16 GiB costs only what is written).")
  String buildParams;

  @Option(names = "--build-id", paramLabel = "ID", defaultValue = "0",
      description = "What BUILD_ID reports, as a board built with that id does (decimal or 0x"
          + " hex; default 0, the emulator's). With the emulator engine only.")
  String buildId;

  static final class EngineConverter implements CommandLine.ITypeConverter<Engine> {
    @Override
    public Engine convert(String value) {
      try {
        return Engine.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("\"" + value
            + "\" is not an engine (expected emulator or rtl)");
      }
    }
  }

  static final class MemoryConverter implements CommandLine.ITypeConverter<RtlEngine.Memory> {
    @Override
    public RtlEngine.Memory convert(String value) {
      try {
        return RtlEngine.Memory.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  static final class FaultConverter implements CommandLine.ITypeConverter<Fault> {
    @Override
    public Fault convert(String value) {
      try {
        return Fault.fromLabel(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  private int parseBuildId() {
    long id;
    try {
      id = buildId.startsWith("0x") || buildId.startsWith("0X")
          ? Long.parseLong(buildId.substring(2), 16) : Long.parseLong(buildId);
    } catch (NumberFormatException e) {
      id = -1;
    }
    if (id < 0 || id > 0xFFFF_FFFFL) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--build-id " + buildId
          + " (expected a 32-bit number, decimal or 0x hex)");
    }
    if (id != 0 && engine == Engine.RTL) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--build-id with --engine"
          + " rtl: the RTL's build id is its BuildId parameter, 0 in the sim build (expected"
          + " --engine emulator)");
    }
    return (int) id;
  }

  @Override
  public Integer call() throws Exception {
    DeviceParams params = DeviceParams.defaults().with(buildParams);
    Set<Fault> injected = EnumSet.noneOf(Fault.class);
    injected.addAll(faults);
    int id = parseBuildId();
    SimBoard board = SimBoard.start(dir, params, injected, engine == Engine.RTL
        ? RtlEngine.factory(memory) : SimEngine.emulator(id));
    Thread hook = new Thread(board::close, "systole-simboard-close");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      PrintWriter out = spec.commandLine().getOut();
      out.printf("sim board serving %s (%s engine, array %dx%d, HBM %d MiB%s)%n", dir,
          board.engine() + (engine == Engine.RTL ? ", " + memory.name().toLowerCase(Locale.ROOT)
              + " memory" : ""), params.arrayRows(), params.arrayCols(), params.hbmMb(),
          injected.isEmpty() ? "" : ", faults " + injected.stream().map(Fault::label)
              .collect(Collectors.joining(", ")));
      out.flush();
      board.awaitStopped();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Runtime.getRuntime().removeShutdownHook(hook);
    } finally {
      board.close();
    }
    return ExitCodes.OK;
  }
}
