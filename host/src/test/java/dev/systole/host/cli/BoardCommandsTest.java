package dev.systole.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.simboard.SimEngine;
import dev.systole.driver.xdma.PciSysfs;
import dev.systole.host.bitstream.BitstreamBuild;
import dev.systole.host.bitstream.Board;
import dev.systole.host.bitstream.Manifest;
import dev.systole.testing.Tools;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * bitstream build, program, reset, and the build section of examine and validate, as a user runs
 * them: against a stand-in for vivado (a script that records what it was asked and writes what a
 * build would), a fake sysfs tree shaped like the kernel's, and sim boards whose BUILD_ID and
 * parameters match a manifest, differ from it, or match none.
 */
class BoardCommandsTest {
  /** The contract version this host speaks, as messages print it. */
  private static final String HOST = dev.systole.driver.contract.Contract.VERSION_MAJOR + "."
      + dev.systole.driver.contract.Contract.VERSION_MINOR;

  private static final DeviceParams PARAMS = DeviceParams.defaults().with(Map.of(Param.HBM_MB,
      64L));
  private static final int BUILD = 0x695735a5;
  private static final String BOARD_PCI = "0000:03:00.0";
  private static final String BRIDGE_PCI = "0000:00:01.1";

  @TempDir
  Path tmp;

  private final List<SimBoard> boards = new ArrayList<>();
  private final List<Duration> pauses = new ArrayList<>();
  /** The time the commands see: it moves only when they pause. */
  private long nanos;

  private void pause(Duration d) {
    pauses.add(d);
    nanos += d.toNanos();
  }

  @AfterEach
  void stop() {
    boards.forEach(SimBoard::close);
    System.clearProperty(XdmaProvider.ROOT_PROPERTY);
  }

  record Run(int code, String out, String err) {}

  /** Runs the command line with pauses recorded and the build clock fixed. */
  private Run systole(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        K k = CommandLine.defaultFactory().create(cls);
        if (k instanceof ProgramCommand p) {
          p.pause = BoardCommandsTest.this::pause;
          p.ticker = () -> nanos;
        } else if (k instanceof ResetCommand r) {
          r.pause = BoardCommandsTest.this::pause;
          r.ticker = () -> nanos;
        } else if (k instanceof BitstreamCommand.Build b) {
          b.clock = Clock.fixed(Instant.ofEpochSecond(BUILD), ZoneOffset.UTC);
        }
        return k;
      }
    };
    CommandLine cl = SystoleCli.commandLine(factory);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private Path simBoard(int buildId) throws Exception {
    SimBoard b = SimBoard.start(tmp.resolve("board"), PARAMS, Set.of(),
        SimEngine.emulator(buildId));
    boards.add(b);
    return b.directory();
  }

  /** A sysfs tree: the board below a bridge, bound to xdma; returns .../bus/pci/devices. */
  private Path sysfs() throws Exception {
    Path sys = tmp.resolve("sys");
    Path bridge = Files.createDirectories(sys.resolve("devices/pci0000:00").resolve(BRIDGE_PCI));
    Path board = Files.createDirectories(bridge.resolve(BOARD_PCI));
    Files.write(bridge.resolve("config"), new byte[256]);
    Files.writeString(board.resolve("vendor"), "0x10ee\n");
    Files.writeString(board.resolve("device"), "0x903f\n");
    Files.writeString(board.resolve("remove"), "");
    Files.createDirectories(sys.resolve("bus/pci/drivers/xdma"));
    Files.createSymbolicLink(board.resolve("driver"), Path.of("../../../../bus/pci/drivers/xdma"));
    Path devices = Files.createDirectories(sys.resolve("bus/pci/devices"));
    Files.writeString(sys.resolve("bus/pci/rescan"), "");
    Files.createSymbolicLink(devices.resolve(BRIDGE_PCI), Path.of("../../../devices/pci0000:00",
        BRIDGE_PCI));
    Files.createSymbolicLink(devices.resolve(BOARD_PCI), Path.of("../../../devices/pci0000:00",
        BRIDGE_PCI, BOARD_PCI));
    return devices;
  }

  /**
   * A stand-in for vivado: records each call's arguments in calls.log, answers -version with
   * {@code version}, and for a build writes the four outputs into its OUT_DIR with {@code wns}.
   */
  private Path vivado(String version, String wns) throws Exception {
    Path log = tmp.resolve("calls.log");
    Path script = tmp.resolve("vivado");
    Files.writeString(script, "#!/bin/sh\n"
        + "echo \"$*\" >> '" + log + "'\n"
        + "if [ \"$1\" = -version ]; then echo 'Vivado v" + version + " (64-bit)'; exit 0; fi\n"
        + "while [ $# -gt 0 ] && [ \"$1\" != -tclargs ]; do shift; done\nshift\n"
        + "if [ -d \"$2\" ]; then\n"
        + "  printf 'BIT' > \"$2/systole_u55c.bit\"\n"
        + "  printf ':00000001FF\\n' > \"$2/systole_u55c.mcs\"\n"
        + "  echo '| CLB LUTs | 1 |' > \"$2/utilization.rpt\"\n"
        + "  printf '    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints  "
        + "    WHS(ns)\\n    -------      -------\\n    " + wns + " 0.0 0 10 0.020 0.0 0 10 0.1"
        + " 0.0 0 10\\n' > \"$2/timing_summary.rpt\"\n"
        + "fi\n");
    script.toFile().setExecutable(true);
    return script;
  }

  private String calls() throws Exception {
    Path log = tmp.resolve("calls.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** A build folder with a bitstream and the manifest of a build with these parameters. */
  private Path build(int buildId, String contract, Map<String, Long> params) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("bitstreams/builds").resolve(
        String.format("%08x", buildId)));
    Files.writeString(dir.resolve("systole_u55c.bit"), "BIT");
    Map<String, Manifest.Output> outputs = new LinkedHashMap<>();
    outputs.put("systole_u55c.bit", new Manifest.Output(BitstreamBuild.sha256(
        dir.resolve("systole_u55c.bit")), 3));
    String[] v = contract.split("\\.");
    new Manifest("u55c", Board.U55C.part(), buildId, "2026-01-02T03:04:05Z", "2023.2",
        Integer.parseInt(v[0]), Integer.parseInt(v[1]), "0123abcd", params, true, 0.05, 0.01,
        outputs).write(dir);
    return dir;
  }

  private static Map<String, Long> paramsOf(DeviceParams p) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Param q : Param.values()) {
      m.put(q.name(), p.get(q));
    }
    return m;
  }

  // ---- bitstream build ----

  @Test
  void aBuildChecksVivadoRunsTheFlowAndWritesTheManifest() throws Exception {
    Path vivado = vivado("2023.2", "0.125");
    Run r = systole("bitstream", "build", "u55c", "--vivado", vivado.toString(), "--jobs", "3",
        "--out", tmp.resolve("builds").toString(), "--params", "CLOCK_KHZ=250000");
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    Path dir = tmp.resolve("builds/695735a5");
    assertTrue(r.out().startsWith("bitstream build 695735a5: AMD Alveo U55C"
        + " (xcu55c-fsvh2892-2L-e), contract " + HOST + ", ARRAY_ROWS=16,"), r.out());
    assertTrue(r.out().contains("timing met (WNS +0.125 ns, WHS +0.020 ns); build id"
        + " 0x695735a5"), r.out());
    String calls = calls();
    assertTrue(calls.startsWith("-version\n-mode batch -nojournal -notrace -log "
        + dir.resolve("build.log") + " -source " + Tools.root().resolve(
            "bitstreams/u55c/build.tcl") + " -tclargs " + dir.resolve("params.tcl") + " " + dir
        + " 3\n"), calls);
    Manifest m = Manifest.read(dir.resolve(Manifest.FILE));
    assertEquals(BUILD, m.buildId());
    assertEquals(250_000L, m.params().get("CLOCK_KHZ"));
    assertTrue(m.timingMet());
    assertEquals(List.of("systole_u55c.bit", "systole_u55c.mcs", "utilization.rpt",
        "timing_summary.rpt"), List.copyOf(m.outputs().keySet()));
    assertTrue(m.commit().matches("[0-9a-f]{40}(-dirty)?|unknown"), m.commit());
  }

  @Test
  void aBuildThatMissesTimingSaysSoAndExitsOne() throws Exception {
    Run r = systole("bitstream", "build", "u55c", "--vivado", vivado("2023.2", "-0.300")
        .toString(), "--out", tmp.resolve("builds").toString());
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("TIMING NOT MET (WNS -0.300 ns"), r.out());
    assertFalse(Manifest.read(tmp.resolve("builds/695735a5").resolve(Manifest.FILE))
        .timingMet());
  }

  @Test
  void aBuildFailsEarlyWithoutTheRightVivado() throws Exception {
    Run wrong = systole("bitstream", "build", "u55c", "--vivado", vivado("2022.1", "0.1")
        .toString(), "--out", tmp.resolve("builds").toString());
    assertEquals(ExitCodes.DEVICE_ERROR, wrong.code());
    assertTrue(wrong.err().contains("Vivado 2022.1 (" + tmp.resolve("vivado") + ") is not a"
        + " version the u55c flow was written for (expected 2023.2)"), wrong.err());
    assertFalse(Files.exists(tmp.resolve("builds")), "nothing made before the check");
    assertEquals("-version\n", calls(), "only asked its version");

    Run missing = systole("bitstream", "build", "u55c", "--vivado",
        tmp.resolve("no/vivado").toString());
    assertEquals(ExitCodes.DEVICE_ERROR, missing.code());
    assertTrue(missing.err().contains("--vivado " + tmp.resolve("no/vivado") + " is not an"
        + " executable file"), missing.err());

    Run badParam = systole("bitstream", "build", "u55c", "--params", "HBM_MB=1024");
    assertEquals(ExitCodes.BAD_INPUT, badParam.code());
    assertTrue(badParam.err().contains("HBM_MB=1024, HBM_CHANNELS=32: the AMD Alveo U55C has"),
        badParam.err());
    Run badBoard = systole("bitstream", "build", "u250");
    assertEquals(ExitCodes.BAD_INPUT, badBoard.code());
    assertTrue(badBoard.err().contains("no bitstream flow for board \"u250\" (expected u55c)"),
        badBoard.err());
  }

  @Test
  void aSimBoardsBuildIdMustBeA32BitNumber() {
    Run r = systole("simboard", "--dir", tmp.resolve("sb").toString(), "--build-id",
        "0x1ffffffff");
    assertEquals(ExitCodes.USAGE, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--build-id 0x1ffffffff (expected a 32-bit number, decimal or 0x"
        + " hex)"), r.err());
    assertFalse(Files.exists(tmp.resolve("sb")), "no board started");
  }

  // ---- program ----

  @Test
  void programRemovesLoadsRescansAndExaminesTheBoard() throws Exception {
    Path devices = sysfs();
    Path board = simBoard(BUILD);
    Path dir = build(BUILD, "1.0", paramsOf(PARAMS));
    Path vivado = vivado("2023.2", "0.1");
    Run r = systole("program", "--bitstream", dir.toString(), "--sysfs", devices.toString(),
        "--xdma-root", board.toString(), "--vivado", vivado.toString(), "--manifests",
        tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.startsWith("program: about to load over JTAG the AMD Alveo U55C"
        + " (xcu55c-fsvh2892-2L-e) with " + dir.resolve("systole_u55c.bit") + "\n"
        + "  build     0x695735a5, built 2026-01-02T03:04:05Z from commit 0123abcd, contract"
        + " 1.0, Vivado 2023.2, timing met\n"
        + "  target    PCI 0000:03:00.0 (10ee:903f, driver xdma, xdma:0), removed from the bus"),
        out);
    assertTrue(out.contains("  back      PCI 0000:03:00.0 (10ee:903f, driver xdma, xdma:0)"),
        out);
    assertTrue(out.contains("  manifest      " + dir.resolve(Manifest.FILE)), out);
    assertTrue(out.contains("  registers     agree with the manifest (" + Param.values().length
        + " parameters)"), out);
    assertTrue(out.contains("\nverdict: "), out);
    assertTrue(calls().contains(" -source " + Tools.root().resolve("bitstreams/u55c/program.tcl")
        + " -tclargs jtag " + dir.resolve("systole_u55c.bit").toAbsolutePath()
        + " xcu55c-fsvh2892-2L-e localhost:3121\n"), calls());
    assertEquals("1", Files.readString(devices.resolve(BOARD_PCI).resolve("remove")));
    assertEquals("1", Files.readString(tmp.resolve("sys/bus/pci/rescan")));
  }

  @Test
  void programNoticesABoardThatKeptAnotherBuild() throws Exception {
    Path devices = sysfs();
    Path board = simBoard(0x1234);
    Path dir = build(BUILD, "1.0", paramsOf(PARAMS));
    Run r = systole("program", "--bitstream", dir.toString(), "--sysfs", devices.toString(),
        "--xdma-root", board.toString(), "--vivado", vivado("2023.2", "0.1").toString());
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("PROBLEM  the board reports build 0x00001234, not the"
        + " 0x695735a5 just programmed"), r.out());
  }

  @Test
  void programRefusesAnotherContractOrAFileItsManifestDoesNotDescribe() throws Exception {
    Path devices = sysfs();
    Path other = build(BUILD, "2.0", paramsOf(PARAMS));
    Path vivado = vivado("2023.2", "0.1");
    Run r = systole("program", "--bitstream", other.toString(), "--sysfs", devices.toString(),
        "--vivado", vivado.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(other.resolve(Manifest.FILE) + " is a build of contract 2.0, and"
        + " this host speaks " + HOST + " (expected a build of contract 1.x)"), r.err());

    Path dir = build(BUILD + 1, "1.0", paramsOf(PARAMS));
    Files.writeString(dir.resolve("systole_u55c.bit"), "TIB");
    r = systole("program", "--bitstream", dir.resolve("systole_u55c.bit").toString(), "--sysfs",
        devices.toString(), "--vivado", vivado.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("its manifest records: it is not the file that build wrote"),
        r.err());

    r = systole("program", "--bitstream", tmp.resolve("nothing").toString(), "--sysfs",
        devices.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("--bitstream " + tmp.resolve("nothing") + " does not exist"),
        r.err());
    assertEquals("", Files.readString(devices.resolve(BOARD_PCI).resolve("remove")),
        "no board was taken off the bus for a refused bitstream");
    assertEquals("", calls(), "vivado was not run");
  }

  @Test
  void aFailedLoadStillRescansSoTheBoardIsNotLeftOffTheBus() throws Exception {
    Path devices = sysfs();
    Path board = simBoard(BUILD);
    Path dir = build(BUILD, "1.0", paramsOf(PARAMS));
    Path vivado = tmp.resolve("vivado");
    Files.writeString(vivado, "#!/bin/sh\necho 'ERROR: [Labtools 27-2269] No devices"
        + " detected on target'\nexit 1\n");
    vivado.toFile().setExecutable(true);
    Run r = systole("program", "--bitstream", dir.toString(), "--sysfs", devices.toString(),
        "--xdma-root", board.toString(), "--vivado", vivado.toString());
    assertEquals(ExitCodes.DEVICE_ERROR, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("Vivado exited with 1 running program.tcl"), r.err());
    assertTrue(r.err().contains("No devices detected on target"), r.err());
    assertEquals("1", Files.readString(tmp.resolve("sys/bus/pci/rescan")));
  }

  // ---- reset ----

  @Test
  void aSoftResetReportsTheStateAfter() {
    Run r = systole("reset", "--device", "emulator:HBM_MB=64");
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("reset emulator:HBM_MB=64: soft reset (CTRL.SOFT_RESET); before"
        + " it STATUS 0x00000000"), r.out());
    assertTrue(r.out().contains("  after     MAGIC 0x53595354, STATUS 0x00000000"), r.out());
    assertTrue(r.out().endsWith("verdict: emulator:HBM_MB=64 is idle and answers\n"), r.out());
  }

  @Test
  void aHotResetRemovesResetsTheBusRescansAndReports() throws Exception {
    Path devices = sysfs();
    Path board = simBoard(BUILD);
    Run r = systole("reset", "--hot", "--device", "xdma:0", "--sysfs", devices.toString(),
        "--xdma-root", board.toString());
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    assertTrue(r.out().startsWith("reset xdma:0: hot reset of PCI 0000:03:00.0 (10ee:903f,"
        + " driver xdma, xdma:0) below bridge 0000:00:01.1"), r.out());
    assertTrue(r.out().contains("build 0x695735a5"), r.out());
    assertEquals(List.of(PciSysfs.RESET_HOLD, PciSysfs.RESET_SETTLE), pauses);
    assertEquals("1", Files.readString(devices.resolve(BOARD_PCI).resolve("remove")));
    assertEquals("1", Files.readString(tmp.resolve("sys/bus/pci/rescan")));
    assertEquals(0, Files.readAllBytes(devices.resolve(BRIDGE_PCI).resolve("config"))[0x3E],
        "the Secondary Bus Reset bit is cleared again");
  }

  @Test
  void aHotResetNeedsABoardBoundToXdma() throws Exception {
    Path devices = sysfs();
    Path board = devices.resolve(BOARD_PCI);
    Files.delete(board.resolve("driver"));
    Files.createSymbolicLink(board.resolve("driver"), Path.of("../../../../bus/pci/drivers/vfio"));
    Run r = systole("reset", "--hot", "--device", "xdma:0", "--sysfs", devices.toString(),
        "--xdma-root", tmp.resolve("nodes").toString());
    assertEquals(ExitCodes.NO_DEVICE, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("no PCI function is bound to xdma as that board (Xilinx"
        + " functions in " + devices + ": PCI 0000:03:00.0 (10ee:903f, driver vfio))"), r.err());
    assertEquals("", Files.readString(board.resolve("remove")));
    Run e = systole("reset", "--hot", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, e.code(), e.out() + e.err());
    assertTrue(e.err().contains("--device emulator (expected xdma:N"), e.err());
  }

  @Test
  void aBoardThatDoesNotComeBackIsReportedAtTheDeadline() throws Exception {
    Path devices = sysfs();
    Run r = systole("reset", "--hot", "--device", "xdma:0", "--sysfs", devices.toString(),
        "--xdma-root", Files.createDirectories(tmp.resolve("nodes")).toString(), "--wait", "5");
    assertEquals(ExitCodes.DEVICE_ERROR, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("after the rescan, PCI 0000:03:00.0 did not come back bound to"
        + " xdma with its nodes within 5 s (now: PCI 0000:03:00.0 (10ee:903f, driver xdma, xdma:0),"
        + " missing nodes [user, h2c_0, c2h_0, events_0])"), r.err());
    long polls = pauses.stream().filter(d -> d.equals(PcieBus.POLL)).count();
    assertEquals(25, polls, "polled every 200 ms for the 5 s: " + pauses);
  }

  // ---- examine and validate: the build a board reports ----

  @Test
  void examineShowsTheBuildOfAMatchingManifest() throws Exception {
    Path board = simBoard(BUILD);
    Path dir = build(BUILD, "1.0", paramsOf(PARAMS));
    Run r = systole("examine", "--device", "xdma:0", "--xdma-root", board.toString(),
        "--manifests", tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("build\n  manifest      " + dir.resolve(Manifest.FILE) + "\n"
        + "  board         u55c (xcu55c-fsvh2892-2L-e), Vivado 2023.2, contract 1.0\n"
        + "  built         2026-01-02T03:04:05Z from commit 0123abcd\n"
        + "  timing        met (WNS +0.050 ns)\n"), r.out());
    Run json = systole("examine", "--json", "--device", "xdma:0", "--xdma-root",
        board.toString(), "--manifests", tmp.resolve("bitstreams").toString());
    assertTrue(json.out().contains("\"build\": {\n    \"id\": \"0x695735a5\","), json.out());
    assertTrue(json.out().contains("\"known\": true"), json.out());
    assertTrue(json.out().contains("\"registers_match\": true"), json.out());

    Run v = systole("validate", "--tests", "build", "--device", "xdma:0", "--xdma-root",
        board.toString(), "--manifests", tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("  PASS  build         " + Param.values().length
        + " parameters equal the manifest's (" + dir.resolve(Manifest.FILE)), v.out());
  }

  @Test
  void registersThatDifferFromTheManifestAreNamed() throws Exception {
    Path board = simBoard(BUILD);
    Map<String, Long> params = paramsOf(PARAMS);
    params.put("ACC_ROWS", 2048L);
    build(BUILD, "1.0", params);
    Run r = systole("examine", "--device", "xdma:0", "--xdma-root", board.toString(),
        "--manifests", tmp.resolve("bitstreams").toString());
    assertTrue(r.out().contains("registers     DIFFER from the manifest: ACC_ROWS: the device's"
        + " register says 4096, the manifest 2048"), r.out());
    assertTrue(r.out().contains("WARNING  the device's parameter registers differ"), r.out());
    Run v = systole("validate", "--tests", "build", "--device", "xdma:0", "--xdma-root",
        board.toString(), "--manifests", tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.CHECK_FAILED, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("  FAIL  build         the parameter registers differ"), v.out());
  }

  @Test
  void aBuildMatchingNoManifestIsUnknownNotAnError() throws Exception {
    Path board = simBoard(0x00c0ffee);
    build(BUILD, "1.0", paramsOf(PARAMS));
    Run r = systole("examine", "--device", "xdma:0", "--xdma-root", board.toString(),
        "--manifests", tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("  manifest      unknown: build 0x00c0ffee is none of the 1"
        + " manifest in " + tmp.resolve("bitstreams")), r.out());
    Run v = systole("validate", "--tests", "build", "--device", "xdma:0", "--xdma-root",
        board.toString(), "--manifests", tmp.resolve("bitstreams").toString());
    assertEquals(ExitCodes.OK, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("  SKIP  build         build 0x00c0ffee is none of the 1"
        + " manifests in "), v.out());
  }
}
