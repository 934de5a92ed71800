package dev.systole.host.cli;

import dev.systole.host.bitstream.BitstreamBuild;
import dev.systole.host.bitstream.Board;
import dev.systole.host.bitstream.BuildParams;
import dev.systole.host.bitstream.Manifest;
import dev.systole.host.bitstream.Repository;
import dev.systole.host.bitstream.Vivado;
import dev.systole.spec.ContractSpec;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole bitstream}: the Vivado flow of a board, as {@code bitstreams/build} runs it. */
@Command(name = "bitstream", mixinStandardHelpOptions = true,
    description = "Build a bitstream for a board with Vivado (bitstreams/build runs this).",
    subcommands = {BitstreamCommand.Build.class})
final class BitstreamCommand implements Runnable {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code systole bitstream build BOARD}. */
  @Command(name = "build", mixinStandardHelpOptions = true,
      description = {"Build a bitstream for BOARD (u55c) from this clone: checks the parameters"
          + " and Vivado first, runs bitstreams/BOARD/build.tcl in Vivado batch mode, and writes"
          + " the bitstream, the flash image, the utilization and timing reports and a manifest"
          + " into a folder named by the build id.",
          "Exits 0 when the build met timing, 1 when it did not (the outputs are written and the"
              + " manifest says so), 3 when Vivado is missing, of another version, or fails, 4"
              + " on a bad parameter."})
  static final class Build implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "BOARD", description = "The board: u55c.")
    String board;

    @Option(names = "--params", paramLabel = "PARAM=VALUE,...", defaultValue = "",
        description = "Contract parameters to change from their defaults, e.g."
            + " ARRAY=32,CLOCK_KHZ=250000 (every parameter is in the manifest).")
    String params;

    @Option(names = "--jobs", paramLabel = "N",
        description = "Parallel jobs of Vivado's runs (default: this machine's cores).")
    Integer jobs;

    @Option(names = "--vivado", paramLabel = "FILE", defaultValue = "vivado",
        description = "The vivado program (default: vivado on the PATH).")
    String vivado;

    @Option(names = "--out", paramLabel = "DIR",
        description = "Where build folders go (default: bitstreams/builds in the repository).")
    Path out;

    /** The clock the build id is read from. */
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
      PrintWriter w = spec.commandLine().getOut();
      int n = jobs == null ? Runtime.getRuntime().availableProcessors() : jobs;
      if (n < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--jobs " + n
            + " (expected 1 or more)");
      }
      Path root = Repository.require();
      Board b = Board.named(board);
      ContractSpec contract = BitstreamBuild.contract(root);
      Map<String, Long> resolved = BitstreamBuild.params(contract, BitstreamBuild.fixed(root), b,
          params);
      Path flow = b.flow(root);
      Path script = flow.resolve("build.tcl");
      if (!Files.isRegularFile(script)) {
        throw new IllegalArgumentException("no " + script + ": the " + b.name() + " flow is"
            + " missing from this clone");
      }
      Vivado v = Vivado.find(vivado);
      String version = v.requireVersion(b);
      BitstreamBuild.Inputs in = new BitstreamBuild.Inputs(b, resolved,
          BitstreamBuild.buildId(clock), clock.instant(), version, contract.versionMajor(),
          contract.versionMinor(), BitstreamBuild.commit(root));
      Path dir = BitstreamBuild.prepare(contract, in,
          out != null ? out : root.resolve("bitstreams/builds"));
      w.printf("bitstream build %s: %s (%s), contract %d.%d, %s%n", dir.getFileName(),
          b.title(), b.part(), contract.versionMajor(), contract.versionMinor(),
          BuildParams.format(resolved));
      w.printf("  Vivado %s (%s), %d jobs, commit %s%n", version, v.executable(), n,
          in.commit());
      w.println("  running " + root.relativize(script) + " in " + dir + " (its log: "
          + dir.resolve("build.log") + "); the default build takes hours");
      w.flush();
      v.batch("build", script, List.of(dir.resolve("params.tcl").toString(), dir.toString(),
          Integer.toString(n)), dir);
      Manifest m = BitstreamBuild.seal(dir, in);
      String wns = m.wnsNs() == null ? "WNS unknown (no Design Timing Summary in "
          + BitstreamBuild.TIMING + ")" : String.format(Locale.ROOT, "WNS %+.3f ns, WHS %+.3f ns",
          m.wnsNs(), m.whsNs() == null ? Double.NaN : m.whsNs());
      for (Map.Entry<String, Manifest.Output> o : m.outputs().entrySet()) {
        w.printf("  %-22s sha256 %s%n", o.getKey(), o.getValue().sha256());
      }
      w.println("  manifest               " + dir.resolve(Manifest.FILE));
      if (m.timingMet()) {
        w.println("timing met (" + wns + "); build id " + m.buildIdHex()
            + ": BUILD_ID of a board programmed with it");
        w.flush();
        return ExitCodes.OK;
      }
      w.println("TIMING NOT MET (" + wns + "): the bitstream is written, and its manifest says"
          + " timing_met false; a board may fail at " + resolved.get("CLOCK_KHZ") + " kHz");
      w.flush();
      return ExitCodes.CHECK_FAILED;
    }
  }
}
