package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceException;
import dev.systole.driver.DeviceInfo;
import dev.systole.driver.DeviceNotFoundException;
import dev.systole.host.cli.diag.Boards;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.cli.diag.Sizes;
import dev.systole.host.bitstream.Repository;
import dev.systole.host.cli.diag.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code systole validate}: the bring-up test suite, one line per test. */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = {"Run the board tests: link, build, scratch, dma-integrity, dma-bandwidth,"
        + " hbm, interrupt, selftest, counters, reset. Each prints PASS, WARN, FAIL or SKIP with"
        + " a reason and its figures.",
        "Overwrites card memory and resets the device. Exits 0 when no test failed, 1 when one"
            + " did, 3 if the device does not open, 5 if it is not there."})
final class ValidateCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--tests", paramLabel = "NAME", split = ",",
      description = "Run only these tests (default: all).")
  List<String> tests;

  @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys/bus/pci/devices",
      description = "Directory of PCI functions, for a board's link (default ${DEFAULT-VALUE}).")
  Path sysfs;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
      description = "Deadline of each program and of each interrupt (default ${DEFAULT-VALUE}"
          + " s).")
  double timeoutSeconds;

  @Option(names = "--dma-max", paramLabel = "BYTES", defaultValue = "64M",
      description = "Largest DMA transfer of dma-integrity and dma-bandwidth (default"
          + " ${DEFAULT-VALUE}; at most a quarter of HBM).")
  String dmaMax;

  @Option(names = "--hbm-range", paramLabel = "START:LEN",
      description = "Card memory for the hbm test, e.g. 0x40000000:256M; repeatable (default: a"
          + " sample at the start of each channel's region).")
  List<String> hbmRanges = new ArrayList<>();

  @Option(names = "--hbm-sample", paramLabel = "BYTES", defaultValue = "64K",
      description = "Without --hbm-range, the bytes tested per channel region (default"
          + " ${DEFAULT-VALUE}).")
  String hbmSample;

  @Option(names = "--manifests", paramLabel = "DIR",
      description = "Where the build test looks for the manifest of the build the device"
          + " reports; repeatable (default: the repository's bitstreams/).")
  List<Path> manifests;

  @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<String> selected;
    List<long[]> ranges = new ArrayList<>();
    Validation.Options options;
    try {
      selected = tests == null ? Validation.TESTS : Validation.select(tests);
      for (String r : hbmRanges) {
        int colon = r.indexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException("--hbm-range \"" + r + "\" (expected START:LEN,"
              + " e.g. 0x40000000:256M)");
        }
        ranges.add(new long[] {Sizes.parse("--hbm-range start", r.substring(0, colon)),
            Sizes.parse("--hbm-range length", r.substring(colon + 1))});
      }
      if (!(timeoutSeconds > 0)) {
        throw new IllegalArgumentException("--timeout " + timeoutSeconds + " (expected > 0)");
      }
      boolean terminal = System.console() != null && !json;
      Consumer<String> progress = terminal ? text -> {
        out.print("\r\033[K  " + text);
        out.flush();
      } : text -> { };
      options = new Validation.Options(Duration.ofMillis((long) (timeoutSeconds * 1000)),
          Sizes.parse("--dma-max", dmaMax), ranges, Sizes.parse("--hbm-sample", hbmSample),
          System.nanoTime(), progress, manifests != null ? manifests
              : Repository.manifestDirs());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    boolean terminal = System.console() != null && !json;
    List<Validation.Outcome> outcomes = new ArrayList<>();
    Consumer<Validation.Outcome> each = o -> {
      outcomes.add(o);
      if (!json) {
        out.print(terminal ? "\r\033[K" : "");
        out.printf(Locale.ROOT, "  %-4s  %-13s %s%n", o.verdict(), o.test(), o.reason());
        out.flush();
      }
    };
    String name = device.name;
    DeviceInfo info = null;
    String openError = null;
    try (Device d = device.open(json ? DeviceOption.silent() : out)) {
      name = d.name();
      info = d.info();
      Optional<Boards.DeviceLink> link = Boards.linkOf(name, device.root(), sysfs);
      boolean physical = link.isPresent() && !link.get().source().startsWith("sim board");
      if (!json) {
        out.printf("validate %s (%s backend, contract %d.%d, array %dx%d, HBM %s in %d"
            + " channels)%n", name, info.backend(), info.versionMajor(), info.versionMinor(),
            info.params().arrayRows(), info.params().arrayCols(),
            Sizes.format(info.params().hbmBytes()), info.params().hbmChannels());
      }
      new Validation(d, link, physical, options).run(selected, each);
    } catch (DeviceNotFoundException e) {
      throw e;
    } catch (DeviceException e) {
      if (!outcomes.isEmpty()) {
        throw e;
      }
      openError = e.getMessage();
      if (!json) {
        out.println("validate " + name + ": the device did not open: " + openError);
      }
      for (String t : selected) {
        each.accept(t.equals("link") ? Validation.linkOnly(Boards.linkOf(name, device.root(),
            sysfs)) : new Validation.Outcome(t, Validation.Verdict.SKIP, "not run: the device"
            + " did not open", Map.of(), 0));
      }
    }
    Map<Validation.Verdict, Integer> count = new LinkedHashMap<>();
    for (Validation.Verdict v : Validation.Verdict.values()) {
      count.put(v, 0);
    }
    outcomes.forEach(o -> count.merge(o.verdict(), 1, Integer::sum));
    boolean failed = count.get(Validation.Verdict.FAIL) > 0;
    if (json) {
      out.println(Json.write(json(name, info, openError, options.seed(), outcomes, count,
          failed)));
    } else {
      out.printf("%d tests: %d passed, %d warned, %d failed, %d skipped%n", outcomes.size(),
          count.get(Validation.Verdict.PASS), count.get(Validation.Verdict.WARN),
          count.get(Validation.Verdict.FAIL), count.get(Validation.Verdict.SKIP));
    }
    out.flush();
    return openError != null ? ExitCodes.DEVICE_ERROR : failed ? ExitCodes.CHECK_FAILED
        : ExitCodes.OK;
  }

  private static Map<String, Object> json(String name, DeviceInfo info, String openError,
      long seed, List<Validation.Outcome> outcomes, Map<Validation.Verdict, Integer> count,
      boolean failed) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("schema", 1);
    doc.put("command", "validate");
    doc.put("device", name);
    doc.put("backend", info == null ? null : info.backend());
    doc.put("opened", openError == null);
    doc.put("open_error", openError);
    doc.put("seed", seed);
    List<Object> list = new ArrayList<>();
    for (Validation.Outcome o : outcomes) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", o.test());
      m.put("verdict", o.verdict().name().toLowerCase(Locale.ROOT));
      m.put("reason", o.reason());
      m.put("seconds", o.seconds());
      m.put("figures", o.figures());
      list.add(m);
    }
    doc.put("tests", list);
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("passed", count.get(Validation.Verdict.PASS));
    summary.put("warned", count.get(Validation.Verdict.WARN));
    summary.put("failed", count.get(Validation.Verdict.FAIL));
    summary.put("skipped", count.get(Validation.Verdict.SKIP));
    doc.put("summary", summary);
    doc.put("ok", openError == null && !failed);
    return doc;
  }
}
