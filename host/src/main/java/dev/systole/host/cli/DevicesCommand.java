package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.PcieLink;
import dev.systole.driver.xdma.XdmaNodes;
import dev.systole.host.cli.diag.Boards;
import dev.systole.host.cli.diag.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code systole devices}: every board in sysfs, every sim board named, and the emulator, without
 * opening any of them, so that it also works on a board too broken to open.
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
    description = {"List the Xilinx boards in sysfs (PCI address, vendor:device, driver, xdma"
        + " nodes, PCIe link now and at most), the sim boards given with --xdma-root, and the"
        + " emulator.",
        "Exits 0 if a board or sim board was found, 5 if only the emulator is there."})
final class DevicesCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys/bus/pci/devices",
      description = "Directory of PCI functions (default ${DEFAULT-VALUE}).")
  Path sysfs;

  @Option(names = "--dev", paramLabel = "DIR", defaultValue = "/dev",
      description = "Directory of the xdma driver's nodes (default ${DEFAULT-VALUE}).")
  Path dev;

  @Option(names = "--xdma-root", paramLabel = "DIR",
      description = "A sim board's directory; repeatable.")
  List<Path> simBoards = new ArrayList<>();

  @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<PciBoard> boards = Boards.pci(sysfs, dev);
    List<Boards.Sim> sims = simBoards.stream().map(Boards::sim).toList();
    DeviceParams emulator = DeviceParams.defaults();
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("schema", 1);
      doc.put("command", "devices");
      Map<String, Object> lookedIn = new LinkedHashMap<>();
      lookedIn.put("sysfs", sysfs.toString());
      lookedIn.put("dev", dev.toString());
      doc.put("looked_in", lookedIn);
      List<Object> pci = new ArrayList<>();
      for (PciBoard b : boards) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.address());
        m.put("vendor", String.format("0x%04x", b.vendor()));
        m.put("device", String.format("0x%04x", b.device()));
        m.put("driver", b.driver().orElse(null));
        m.put("name", b.board().isPresent() ? "xdma:" + b.board().getAsInt() : null);
        List<String> nodes = b.board().isPresent() ? nodeNames(b) : List.of();
        m.put("nodes", nodes);
        m.put("missing_nodes", b.board().isPresent() ? Boards.missing(nodes)
            : List.of());
        m.put("link", link(b.link()));
        pci.add(m);
      }
      doc.put("boards", pci);
      List<Object> simList = new ArrayList<>();
      for (Boards.Sim s : sims) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("directory", s.directory().toString());
        m.put("name", "xdma:0");
        m.put("serving", s.serving());
        m.put("pid", s.pid().isPresent() ? s.pid().getAsLong() : null);
        m.put("engine", s.engine().orElse(null));
        m.put("faults", s.faults());
        m.put("nodes", s.nodes());
        m.put("missing_nodes", s.missingNodes());
        m.put("link", link(s.link()));
        simList.add(m);
      }
      doc.put("sim_boards", simList);
      Map<String, Object> emulatorJson = new LinkedHashMap<>();
      emulatorJson.put("name", "emulator");
      emulatorJson.put("params", emulator.toString());
      doc.put("emulator", emulatorJson);
      out.println(Json.write(doc));
    } else {
      printText(out, boards, sims, emulator);
    }
    out.flush();
    boolean any = boards.stream().anyMatch(b -> b.board().isPresent())
        || sims.stream().anyMatch(Boards.Sim::serving);
    return any ? ExitCodes.OK : ExitCodes.NO_DEVICE;
  }

  private static List<String> nodeNames(PciBoard b) {
    String prefix = "xdma" + b.board().getAsInt() + "_";
    return b.nodes().stream().map(p -> p.getFileName().toString().substring(prefix.length()))
        .toList();
  }

  private static Map<String, Object> link(PcieLink l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", Boards.state(l));
    m.put("current_speed", l.currentSpeed().orElse(null));
    m.put("current_width", l.currentWidth().isPresent() ? l.currentWidth().getAsInt() : null);
    m.put("max_speed", l.maxSpeed().orElse(null));
    m.put("max_width", l.maxWidth().isPresent() ? l.maxWidth().getAsInt() : null);
    return m;
  }

  private void printText(PrintWriter out, List<PciBoard> boards, List<Boards.Sim> sims,
      DeviceParams emulator) {
    out.println("PCI boards (Xilinx functions, vendor 0x" + Integer.toHexString(
        XdmaNodes.XILINX_VENDOR) + ", in " + sysfs + "; xdma nodes in " + dev + ")");
    if (boards.isEmpty()) {
      out.println("  none: no function with vendor 0x10ee in " + sysfs + (java.nio.file.Files
          .isDirectory(sysfs) ? "" : " (the directory does not exist: no sysfs here)"));
    }
    for (PciBoard b : boards) {
      String name = b.board().isPresent() ? "xdma:" + b.board().getAsInt() : "-";
      out.printf("  %-13s %04x:%04x  driver %-8s %s%n", b.address(), b.vendor(), b.device(),
          b.driver().orElse("(none)"), name);
      if (b.board().isPresent()) {
        List<String> nodes = nodeNames(b);
        List<String> missing = Boards.missing(nodes);
        out.println("      nodes  " + (nodes.isEmpty() ? "none" : String.join(" ", nodes))
            + (missing.isEmpty() ? "" : "; MISSING " + String.join(" ", missing)
                + " (xdma:" + b.board().getAsInt() + " cannot open)"));
      } else {
        out.println("      nodes  none: " + (b.driver().isPresent() ? "bound to "
            + b.driver().get() + ", not xdma" : "no driver bound (load the xdma driver)"));
      }
      out.println("      link   " + Boards.describe(b.link()));
    }
    out.println("Sim boards (--xdma-root)");
    if (sims.isEmpty()) {
      out.println("  none given");
    }
    for (Boards.Sim s : sims) {
      out.printf("  %s  xdma:0 with --xdma-root %s%n", s.directory(), s.directory());
      out.println("      served " + (s.serving() ? "by process " + s.pid().getAsLong()
          : s.pid().isPresent() ? "NO: process " + s.pid().getAsLong() + " has exited"
              : "NO: no simboard.pid (start one with systole simboard --dir DIR)")
          + s.engine().map(e -> ", " + e + " engine").orElse("")
          + (s.faults().isEmpty() ? "" : ", faults " + String.join(", ", s.faults())));
      out.println("      nodes  " + (s.nodes().isEmpty() ? "none" : String.join(" ", s.nodes()))
          + (s.missingNodes().isEmpty() ? "" : "; MISSING " + String.join(" ",
              s.missingNodes())));
      out.println("      link   " + Boards.describe(s.link()));
    }
    out.println("Emulator");
    out.println("  emulator  " + emulator + " (always there; emulator:PARAM=VALUE,... for other"
        + " builds)");
  }
}
