package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceException;
import dev.systole.driver.DeviceNotFoundException;
import dev.systole.host.cli.diag.Boards;
import dev.systole.host.cli.diag.Examination;
import dev.systole.host.cli.diag.Json;
import java.io.PrintWriter;
import dev.systole.host.bitstream.Repository;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code systole examine}: what a device says about itself, judged in words. */
@Command(name = "examine", mixinStandardHelpOptions = true,
    description = {"Read a device's identification, the build it reports (from its manifest),"
        + " parameters, status, interrupts, counters, kernel clock and PCIe link, and say in"
        + " words what is wrong.",
        "Exits 0 when nothing is wrong (warnings allowed), 1 with a problem, 3 if the device"
            + " does not open, 5 if it is not there."})
final class ExamineCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys/bus/pci/devices",
      description = "Directory of PCI functions, for a board's link (default ${DEFAULT-VALUE}).")
  Path sysfs;

  @Option(names = "--manifests", paramLabel = "DIR",
      description = "Where to look for the manifest of the build the device reports; repeatable"
          + " (default: the repository's bitstreams/).")
  List<Path> manifests;

  @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Examination e;
    boolean opened;
    try (Device d = device.open(json ? DeviceOption.silent() : out)) {
      e = Examination.of(d, Boards.linkOf(d.name(), device.root(), sysfs),
          manifests != null ? manifests : Repository.manifestDirs());
      opened = true;
    } catch (DeviceNotFoundException ex) {
      throw ex;
    } catch (DeviceException ex) {
      e = Examination.unopened(device.name, ex.getMessage(), Boards.linkOf(device.name,
          device.root(), sysfs));
      opened = false;
    }
    if (json) {
      out.println(Json.write(e.json()));
    } else {
      e.print(out);
    }
    out.flush();
    return !opened ? ExitCodes.DEVICE_ERROR : e.problems().isEmpty() ? ExitCodes.OK
        : ExitCodes.CHECK_FAILED;
  }
}
