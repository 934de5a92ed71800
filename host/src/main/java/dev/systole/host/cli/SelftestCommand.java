package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code systole selftest}: replays the golden programs on a device, one line each. */
@Command(name = "selftest", mixinStandardHelpOptions = true,
    description = {"Run the golden programs on a device and compare status, memory and counters.",
        "Prints one line per program and ends with 'N passed, M failed'; exits 0 only if all"
            + " pass."})
final class SelftestCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--golden", paramLabel = "DIR",
      description = "Directory of *.golden files and their MANIFEST (one line per file: its"
          + " SHA-256, two spaces, its name, as 'sha256sum *.golden > MANIFEST' writes it); the"
          + " programs run in the manifest's order, and a file missing, unlisted or changed is an"
          + " error (default: the programs bundled with Systole).")
  Path goldenDir;

  @Option(names = "--only", paramLabel = "NAME", split = ",",
      description = "Run only these programs.")
  List<String> only;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
      description = "Deadline for each program (default ${DEFAULT-VALUE} s).")
  double timeoutSeconds;

  /** When the timing counters must match the timing model exactly. */
  enum Timing {
    AUTO,
    EXACT,
    IGNORE
  }

  @Option(names = "--timing", paramLabel = "MODE", defaultValue = "auto",
      converter = TimingConverter.class,
      description = "Check cycle counters against the timing model: auto (on the emulator, and"
          + " on the RTL with its fixed-latency memory: device sim), exact or ignore. Default: ${DEFAULT-VALUE}.")
  Timing timing;

  static final class TimingConverter implements picocli.CommandLine.ITypeConverter<Timing> {
    @Override
    public Timing convert(String value) {
      try {
        return Timing.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException("\"" + value
            + "\" is not a timing mode (expected auto, exact or ignore)");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<GoldenProgram> programs = goldenDir != null ? GoldenSet.fromDirectory(goldenDir)
        : GoldenSet.bundled();
    if (only != null) {
      List<String> known = programs.stream().map(GoldenProgram::name).toList();
      for (String name : only) {
        if (!known.contains(name)) {
          throw new IllegalArgumentException("no golden program named " + name
              + " (expected one of " + String.join(", ", known) + ")");
        }
      }
      programs = programs.stream().filter(p -> only.contains(p.name())).toList();
    }
    int passed = 0;
    int failed = 0;
    int skipped = 0;
    try (Device d = device.open(out)) {
      boolean exact = timing == Timing.EXACT
          || timing == Timing.AUTO && (d.info().backend().equals("emulator")
              || d.name().equals("sim"));
      GoldenRunner runner = new GoldenRunner(Duration.ofMillis((long) (timeoutSeconds * 1000)),
          exact);
      out.println("selftest on " + d.info());
      out.println("cycle counters " + (exact ? "checked against the timing model"
          : "not checked (--timing exact to check them)"));
      for (GoldenProgram g : programs) {
        GoldenRunner.Outcome o = runner.run(d, g);
        out.println(o.line());
        out.flush();
        switch (o.verdict()) {
          case PASS -> passed++;
          case FAIL -> failed++;
          case SKIP -> skipped++;
        }
      }
    }
    out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped
        + " skipped" : ""));
    if (passed == 0 && failed == 0) {
      spec.commandLine().getErr().println("systole selftest: no golden program fits this device;"
          + " the bundled programs are written for the default build (see the SKIP lines)");
      return ExitCodes.CHECK_FAILED;
    }
    return failed == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
  }
}
