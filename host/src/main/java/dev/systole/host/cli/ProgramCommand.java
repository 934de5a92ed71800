package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.PciSysfs;
import dev.systole.host.bitstream.BitstreamBuild;
import dev.systole.host.bitstream.Board;
import dev.systole.host.bitstream.Manifest;
import dev.systole.host.bitstream.Repository;
import dev.systole.host.bitstream.Vivado;
import dev.systole.host.cli.diag.Boards;
import dev.systole.host.cli.diag.Examination;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code systole program}: what {@code xbutil program} is to XRT, for the XDMA driver. The board's
 * PCI function is removed before the FPGA is reconfigured (a function that vanishes under its
 * driver can hang the host or raise a surprise-down error), Vivado's hardware manager loads the
 * bitstream over JTAG or writes the flash and boots from it, and a rescan brings the function
 * back for the xdma driver to bind; the command ends with {@code examine}'s verdict on the
 * result. The rescan happens even when Vivado fails, so a board is never left off the bus.
 */
@Command(name = "program", mixinStandardHelpOptions = true,
    description = {"Load a bitstream into a board over JTAG through Vivado's hardware manager"
        + " (or write it to the board's flash and boot from it), taking the board's PCIe"
        + " function off the bus while it changes and rescanning after, then examine it.",
        "Exits 0 when the programmed board examines healthy, 1 when examine finds a problem, 3"
            + " when Vivado or the board fails, 4 for a bitstream or manifest it refuses, 5 when"
            + " the board named is not there."})
final class ProgramCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--bitstream", paramLabel = "DIR|FILE", required = true,
      description = "A build folder (with manifest.json), or a .bit (.mcs with --flash) file;"
          + " a manifest.json beside the file is read if there is one.")
  Path bitstream;

  @Option(names = "--flash", description = "Write the flash image (.mcs) to the board's"
      + " configuration flash and boot from it, instead of loading the .bit over JTAG; it"
      + " then survives a power cycle.")
  boolean flash;

  @Option(names = "--device", paramLabel = "NAME",
      description = "The board to program, xdma:N (default: the only Xilinx function in sysfs).")
  String device;

  @Option(names = "--pci", paramLabel = "ADDRESS",
      description = "The board's PCI address, e.g. 0000:03:00.0, for a board not bound to xdma.")
  String pci;

  @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys/bus/pci/devices",
      description = "Directory of PCI functions (default ${DEFAULT-VALUE}).")
  Path sysfs;

  @Option(names = "--xdma-root", paramLabel = "DIR", defaultValue = "/dev",
      description = "Directory of the xdma driver's nodes (default ${DEFAULT-VALUE}).")
  Path xdmaRoot;

  @Option(names = "--vivado", paramLabel = "FILE", defaultValue = "vivado",
      description = "The vivado program (default: vivado on the PATH).")
  String vivado;

  @Option(names = "--hw-server", paramLabel = "HOST:PORT", defaultValue = "localhost:3121",
      description = "Vivado's hardware server, which reaches the board's JTAG (default"
          + " ${DEFAULT-VALUE}).")
  String hwServer;

  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "60",
      description = "How long the board may take to come back after the rescan (default"
          + " ${DEFAULT-VALUE} s).")
  double waitSeconds;

  @Option(names = "--manifests", paramLabel = "DIR",
      description = "Where examine looks for manifests afterwards (default: the repository's"
          + " bitstreams/ and the bitstream's own folder).")
  List<Path> manifests;

  /** Deadlines. */
  Ticker ticker = Ticker.system();
  /** Waits between looks at sysfs, and during a reset. */
  PciSysfs.Pause pause = PciSysfs.Pause.sleep();

  /** The file to load, and the manifest that describes it if there is one. */
  record Image(Path file, Optional<Manifest> manifest, Optional<Path> manifestFile) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (!(waitSeconds > 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--wait " + waitSeconds
          + " (expected > 0)");
    }
    if (device != null && pci != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--device and --pci both"
          + " name the board (expected one of them)");
    }
    Image image = image();
    Board board = image.manifest().map(m -> Board.named(m.board())).orElse(Board.U55C);
    PcieBus bus = new PcieBus(sysfs, xdmaRoot, ticker, pause);
    Optional<PciBoard> target = target(bus);
    Vivado v = Vivado.find(vivado);
    Path root = Repository.require();
    Path script = board.flow(root).resolve("program.tcl");

    out.printf("program: about to %s the %s (%s) with %s%n", flash ? "write the flash of"
        : "load over JTAG", board.title(), board.part(), image.file());
    image.manifest().ifPresentOrElse(m -> out.printf("  build     %s, built %s from commit %s,"
        + " contract %s, Vivado %s, timing %s%n", m.buildIdHex(), m.date(), m.commit(),
        m.contract(), m.vivado(), m.timingMet() ? "met" : "NOT MET"),
        () -> out.println("  build     unknown: no manifest.json beside " + image.file()
            + "; its contract and build id cannot be checked"));
    image.manifest().filter(m -> !m.timingMet()).ifPresent(m -> out.println("  WARNING   this"
        + " build did not meet timing" + (m.wnsNs() == null ? "" : String.format(Locale.ROOT,
            " (WNS %+.3f ns)", m.wnsNs())) + ": it may fail at its clock"));
    out.println("  target    " + target.map(b -> PcieBus.describe(b) + ", removed from the"
        + " bus while the FPGA is reconfigured, found again after").orElse("no Xilinx function"
        + " in " + sysfs + " (a blank or unprogrammed card): JTAG only, then a rescan"));
    out.println("  Vivado    " + v.executable() + ", hardware server " + hwServer);
    out.flush();

    Path work = workDir();
    List<String> args = new ArrayList<>(List.of(flash ? "flash" : "jtag",
        image.file().toAbsolutePath().toString(), board.part(), hwServer));
    if (flash) {
      args.add(board.flashPart());
    }
    target.ifPresent(b -> bus.sysfs().remove(b.address()));
    PciBoard back;
    try {
      v.batch("program", script, args, work);
    } finally {
      out.println("  rescanning the PCI bus");
      out.flush();
      back = bus.rescanAndWait(target.map(PciBoard::address),
          Duration.ofMillis((long) (waitSeconds * 1000)));
    }
    String name = "xdma:" + back.board().getAsInt();
    out.println("  back      " + PcieBus.describe(back));
    out.flush();
    List<Path> dirs = new ArrayList<>(manifests != null ? manifests
        : Repository.manifestDirs());
    if (manifests == null) {
      image.manifestFile().ifPresent(f -> dirs.add(f.getParent()));
    }
    System.setProperty(XdmaProvider.ROOT_PROPERTY, xdmaRoot.toString());
    Examination e;
    try (Device d = Devices.open(name, ticker, line -> { })) {
      e = Examination.of(d, Boards.linkOf(name, xdmaRoot, sysfs), dirs);
      int reported = d.info().buildId();
      if (image.manifest().isPresent() && reported != image.manifest().get().buildId()) {
        e.problems().add(String.format("the board reports build 0x%08x, not the %s just"
            + " programmed: the load did not take, or the board booted another image", reported,
            image.manifest().get().buildIdHex()));
      }
    }
    e.print(out);
    out.flush();
    return e.problems().isEmpty() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
  }

  /** The file to load and its manifest, checked: contract major version and checksum. */
  private Image image() {
    Path manifestFile;
    Path file;
    String suffix = flash ? ".mcs" : ".bit";
    if (Files.isDirectory(bitstream)) {
      manifestFile = bitstream.resolve(Manifest.FILE);
      if (!Files.isRegularFile(manifestFile)) {
        throw new IllegalArgumentException("--bitstream " + bitstream + " has no "
            + Manifest.FILE + " (expected a build folder of bitstreams/build, or a " + suffix
            + " file)");
      }
    } else if (Files.isRegularFile(bitstream)) {
      manifestFile = bitstream.toAbsolutePath().getParent().resolve(Manifest.FILE);
    } else {
      throw new IllegalArgumentException("--bitstream " + bitstream + " does not exist (expected"
          + " a build folder or a " + suffix + " file)");
    }
    Optional<Manifest> manifest = Files.isRegularFile(manifestFile)
        ? Optional.of(Manifest.read(manifestFile)) : Optional.empty();
    if (Files.isDirectory(bitstream)) {
      Manifest m = manifest.get();
      String name = m.output(suffix).orElseThrow(() -> new IllegalArgumentException(
          manifestFile + " lists no " + suffix + " output (expected the build's "
              + (flash ? "flash image" : "bitstream") + ")"));
      file = bitstream.resolve(name);
    } else {
      file = bitstream;
      if (!file.getFileName().toString().endsWith(suffix)) {
        throw new IllegalArgumentException("--bitstream " + file + " is not a " + suffix
            + " file (expected " + (flash ? "the flash image, .mcs, with --flash" : "a .bit;"
                + " for a .mcs add --flash") + ")");
      }
    }
    if (manifest.isPresent()) {
      Manifest m = manifest.get();
      if (m.contractMajor() != Contract.VERSION_MAJOR) {
        throw new IllegalArgumentException(String.format("%s is a build of contract %s, and this"
            + " host speaks %d.%d (expected a build of contract %d.x): build one from this"
            + " checkout with bitstreams/build, or use the host of that build", manifestFile,
            m.contract(), Contract.VERSION_MAJOR, Contract.VERSION_MINOR,
            Contract.VERSION_MAJOR));
      }
      Board.named(m.board());
      String name = file.getFileName().toString();
      Manifest.Output expected = m.outputs().get(name);
      if (expected == null) {
        throw new IllegalArgumentException(manifestFile + " does not list " + name
            + " (expected it among its outputs: " + String.join(", ", m.outputs().keySet())
            + ")");
      }
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(file + " does not exist (its manifest lists it)");
      }
      String actual = BitstreamBuild.sha256(file);
      if (!actual.equals(expected.sha256())) {
        throw new IllegalArgumentException(String.format("%s has SHA-256 %s, not the %s its"
            + " manifest records: it is not the file that build wrote", file, actual,
            expected.sha256()));
      }
    }
    return new Image(file, manifest, manifest.isPresent() ? Optional.of(manifestFile)
        : Optional.empty());
  }

  /** The board's PCI function: --pci, --device, or the only Xilinx function there is. */
  private Optional<PciBoard> target(PcieBus bus) {
    if (pci != null) {
      return Optional.of(bus.byAddress(pci).orElseThrow(() -> new dev.systole.driver
          .DeviceNotFoundException("--pci " + pci + ": no such Xilinx function (" + bus.listing()
              + ")")));
    }
    if (device != null) {
      return Optional.of(bus.byName(device).orElseThrow(() -> new dev.systole.driver
          .DeviceNotFoundException("--device " + device + ": no function is bound to xdma as"
              + " that board (" + bus.listing() + "); name it with --pci ADDRESS")));
    }
    List<PciBoard> all = bus.boards();
    if (all.size() > 1) {
      throw new IllegalArgumentException("there are " + all.size() + " Xilinx functions ("
          + bus.listing() + "); say which with --device xdma:N or --pci ADDRESS");
    }
    return all.stream().findFirst();
  }

  private static Path workDir() {
    try {
      return Files.createTempDirectory("systole-program");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a folder for Vivado's log: " + e.getMessage(),
          e);
    }
  }
}
