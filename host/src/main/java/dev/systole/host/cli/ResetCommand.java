package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceNotFoundException;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.PciSysfs;
import dev.systole.host.cli.diag.Registers;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code systole reset}: the accelerator's soft reset (CTRL.SOFT_RESET: a running program is
 * aborted, every register returns to its reset value, card memory is kept), or with
 * {@code --hot} a PCIe hot reset of the board: its function is removed, the bridge above it
 * resets its bus (secondary bus reset), and a rescan brings it back for the xdma driver. The hot
 * reset reaches a board too stuck to take a register write; it does not reload the FPGA.
 */
@Command(name = "reset", mixinStandardHelpOptions = true,
    description = {"Soft-reset the accelerator (abort any program, registers to their reset"
        + " values, card memory kept), or with --hot reset the board's PCIe link through sysfs"
        + " and rescan; then report the state.",
        "Exits 0 when the device is idle and identifies itself after, 1 when it does not, 3 when"
            + " the device or the reset fails, 5 when it is not there."})
final class ResetCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--hot", description = "A PCIe hot reset (secondary bus reset of the bridge"
      + " above the board) through sysfs, then a rescan; needs root and a board (xdma:N).")
  boolean hot;

  @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys/bus/pci/devices",
      description = "Directory of PCI functions, for --hot (default ${DEFAULT-VALUE}).")
  Path sysfs;

  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
      description = "With --hot, how long the board may take to come back (default"
          + " ${DEFAULT-VALUE} s).")
  double waitSeconds;

  /** Deadlines. */
  Ticker ticker = Ticker.system();
  /** Waits during the reset and between looks at sysfs. */
  PciSysfs.Pause pause = PciSysfs.Pause.sleep();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (!(waitSeconds > 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--wait " + waitSeconds
          + " (expected > 0)");
    }
    if (hot) {
      device.name = hotReset(out);
      try (Device d = device.open(DeviceOption.silent())) {
        return report(out, d);
      }
    }
    try (Device d = device.open(out)) {
      int status = d.read(Reg.STATUS);
      out.printf("reset %s: soft reset (CTRL.SOFT_RESET); before it STATUS 0x%08x %s%n",
          d.name(), status, Registers.status(status, d.read(Reg.ERROR_CODE),
              d.read(Reg.ERROR_PC) & 0xFFFFFFFFL));
      d.reset();
      return report(out, d);
    }
  }

  /** Removes the board, resets the bus below its bridge, rescans; returns its name after. */
  private String hotReset(PrintWriter out) {
    PcieBus bus = new PcieBus(sysfs, device.root(), ticker, pause);
    String name = device.name.equals("auto") ? "xdma:0" : device.name;
    PciBoard board = bus.byName(name).orElseThrow(() -> new DeviceNotFoundException("reset --hot"
        + " " + name + ": no PCI function is bound to xdma as that board (" + bus.listing()
        + "); a hot reset needs a board in sysfs (the emulator and sim boards have no PCIe"
        + " link: reset them without --hot)"));
    Optional<String> bridge = bus.sysfs().bridgeOf(board.address());
    if (bridge.isEmpty()) {
      throw new IllegalArgumentException("reset --hot " + name + ": " + board.address() + " sits"
          + " on a root complex's bus with no bridge above it to reset");
    }
    out.printf("reset %s: hot reset of %s below bridge %s (remove, secondary bus reset,"
        + " rescan)%n", name, PcieBus.describe(board), bridge.get());
    out.flush();
    bus.sysfs().remove(board.address());
    PciBoard back;
    try {
      bus.sysfs().secondaryBusReset(bridge.get(), pause);
    } finally {
      back = bus.rescanAndWait(Optional.of(board.address()),
          Duration.ofMillis((long) (waitSeconds * 1000)));
    }
    out.println("  back      " + PcieBus.describe(back));
    return "xdma:" + back.board().getAsInt();
  }

  /** Says the device's state; 0 if idle and identified. */
  private static int report(PrintWriter out, Device d) {
    List<String> problems = new ArrayList<>();
    int magic = d.read(Reg.MAGIC);
    int status = d.read(Reg.STATUS);
    int code = d.read(Reg.ERROR_CODE);
    long pc = d.read(Reg.PC) & 0xFFFFFFFFL;
    if (magic != Contract.MAGIC) {
      problems.add(String.format("MAGIC reads 0x%08x, not 0x%08x", magic, Contract.MAGIC));
    }
    if (RegField.STATUS_BUSY.isSet(status)) {
      problems.add("STATUS is still BUSY (at instruction " + pc + ")");
    }
    out.printf("  after     MAGIC 0x%08x%s, STATUS 0x%08x %s, PC %d, INT_STATUS 0x%x, build"
        + " 0x%08x%n", magic, magic == Contract.MAGIC ? "" : " (WRONG)", status,
        Registers.status(status, code, d.read(Reg.ERROR_PC) & 0xFFFFFFFFL), pc,
        d.read(Reg.INT_STATUS), d.info().buildId());
    if (problems.isEmpty()) {
      out.println("verdict: " + d.name() + " is idle and answers");
    } else {
      out.println("verdict: " + String.join("; ", problems));
    }
    out.flush();
    return problems.isEmpty() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
  }
}
