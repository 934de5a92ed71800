package dev.systole.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.simboard.Fault;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.host.cli.ExitCodes;
import dev.systole.host.cli.diag.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The diagnostics commands as a user runs them, on the emulator and on sim boards with the
 * emulator engine, healthy and with each fault injected: every fault is caught by the test meant
 * for it, and said in words.
 */
class DiagCliTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults().with(Map.of(Param.HBM_MB,
      64L));
  /** Small transfers and samples: the checks are the same, the run is short. */
  private static final String[] QUICK = {"--dma-max", "1M", "--hbm-sample", "16K"};

  @TempDir
  Path tmp;

  private final List<SimBoard> boards = new ArrayList<>();

  @AfterEach
  void stopBoards() {
    boards.forEach(SimBoard::close);
    System.clearProperty(XdmaProvider.ROOT_PROPERTY);
  }

  private Path board(String name, Fault... faults) throws Exception {
    SimBoard b = SimBoard.start(tmp.resolve(name), PARAMS, Set.of(faults));
    boards.add(b);
    return b.directory();
  }

  private static GemmCliTest.Run systole(String... args) {
    return GemmCliTest.systole(args);
  }

  private static GemmCliTest.Run validate(Path board, String... more) {
    List<String> args = new ArrayList<>(List.of("validate", "--device", "xdma:0", "--xdma-root",
        board.toString()));
    args.addAll(List.of(QUICK));
    args.addAll(List.of(more));
    return systole(args.toArray(String[]::new));
  }

  /** The line of test {@code name} in validate's output. */
  private static String line(GemmCliTest.Run r, String name) {
    Matcher m = Pattern.compile("(?m)^  (PASS|WARN|FAIL|SKIP)  " + Pattern.quote(name)
        + " +.*$").matcher(r.out());
    assertTrue(m.find(), "no line for " + name + " in:\n" + r.out() + r.err());
    return m.group();
  }

  // ---- devices ----

  private static Path function(Path sys, String address, String driver, String width)
      throws Exception {
    Path dir = Files.createDirectories(sys.resolve(address));
    Files.writeString(dir.resolve("vendor"), "0x10ee\n");
    Files.writeString(dir.resolve("device"), "0x903f\n");
    Files.createSymbolicLink(dir.resolve("driver"), Path.of("../../bus/pci/drivers", driver));
    Files.writeString(dir.resolve("current_link_speed"), "8.0 GT/s PCIe\n");
    Files.writeString(dir.resolve("max_link_speed"), "8.0 GT/s PCIe\n");
    Files.writeString(dir.resolve("current_link_width"), width + "\n");
    Files.writeString(dir.resolve("max_link_width"), "16\n");
    return dir;
  }

  @Test
  @SuppressWarnings("unchecked")
  void devicesListsBoardsSimBoardsAndTheEmulator() throws Exception {
    Path sys = Files.createDirectories(tmp.resolve("sys"));
    Path dev = Files.createDirectories(tmp.resolve("dev"));
    function(sys, "0000:03:00.0", "xdma", "8");
    function(sys, "0000:04:00.0", "vfio-pci", "16");
    for (String n : List.of("xdma0_user", "xdma0_h2c_0", "xdma0_c2h_0")) {
      Files.createFile(dev.resolve(n));
    }
    Path sim = board("sim", Fault.LINK_DEGRADED);

    GemmCliTest.Run r = systole("devices", "--sysfs", sys.toString(), "--dev", dev.toString(),
        "--xdma-root", sim.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String out = r.out();
    assertTrue(out.contains("0000:03:00.0  10ee:903f  driver xdma     xdma:0"), out);
    assertTrue(out.contains("nodes  c2h_0 h2c_0 user; MISSING events_0 (xdma:0 cannot open)"),
        out);
    assertTrue(out.contains("link   DEGRADED: 8.0 GT/s PCIe x8, below the 8.0 GT/s PCIe x16"),
        out);
    assertTrue(out.contains("nodes  none: bound to vfio-pci, not xdma"), out);
    assertTrue(out.contains("served by process " + ProcessHandle.current().pid()
        + ", emulator engine, faults link-degraded"), out);
    assertTrue(out.contains("emulator  array 16x16"), out);

    GemmCliTest.Run json = systole("devices", "--json", "--sysfs", sys.toString(), "--dev",
        dev.toString(), "--xdma-root", sim.toString());
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.out().contains("\"missing_nodes\": [\n        \"events_0\"\n      ]"),
        json.out());
    assertTrue(json.out().contains("\"state\": \"degraded\""), json.out());
    assertTrue(json.out().contains("\"serving\": true"), json.out());
    Map<String, Object> lookedIn = (Map<String, Object>) ((Map<String, Object>)
        Json.read(json.out())).get("looked_in");
    assertEquals(List.of("sysfs", "dev"), List.copyOf(lookedIn.keySet()),
        "in the documented order: " + json.out());
    assertEquals(sys.toString(), lookedIn.get("sysfs"));
    assertEquals(dev.toString(), lookedIn.get("dev"));
    assertTrue(json.out().contains("\"emulator\": {\n    \"name\": \"emulator\",\n"
        + "    \"params\": \""), "in the documented order: " + json.out());
  }

  @Test
  void devicesSaysWhatItLookedForWhenThereIsNoBoard() {
    Path missing = tmp.resolve("no-sysfs");
    GemmCliTest.Run r = systole("devices", "--sysfs", missing.toString(), "--dev",
        tmp.toString());
    assertEquals(ExitCodes.NO_DEVICE, r.code(), r.err());
    assertTrue(r.out().contains("none: no function with vendor 0x10ee in " + missing
        + " (the directory does not exist: no sysfs here)"), r.out());
    assertTrue(r.out().contains("Sim boards (--xdma-root)\n  none given"), r.out());
  }

  @Test
  void aBoardThatIsNotThereIsNoDevice() {
    GemmCliTest.Run r = systole("examine", "--device", "xdma:3", "--xdma-root",
        tmp.toString());
    assertEquals(ExitCodes.NO_DEVICE, r.code(), r.out());
    assertTrue(r.err().contains("no board xdma:3: " + tmp.resolve("xdma3_user")
        + " does not exist (is a sim board serving " + tmp + "?"), r.err());
  }

  // ---- examine ----

  @Test
  void examineJudgesAHealthyEmulatorAndSimBoard() throws Exception {
    GemmCliTest.Run r = systole("examine", "--device", "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains(String.format("contract      %d.%d, matches the host's",
        Contract.VERSION_MAJOR, Contract.VERSION_MINOR)), r.out());
    assertTrue(r.out().contains("HBM           16 GiB in 32 channels of 512 MiB"), r.out());
    assertTrue(r.out().contains("vector unit   yes, LUT 256 rows (16 tables)"), r.out());
    assertTrue(r.out().contains("clock         running at"), r.out());
    assertTrue(r.out().strip().endsWith("verdict: healthy"), r.out());

    Path sim = board("sim");
    r = systole("examine", "--device", "xdma:0", "--xdma-root", sim.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("PCIe          8.0 GT/s PCIe x16, the most both ends support"),
        r.out());
    assertTrue(r.out().contains("HBM           64 MiB in 32 channels of 2 MiB"), r.out());

    GemmCliTest.Run json = systole("examine", "--json", "--device", "xdma:0", "--xdma-root",
        sim.toString());
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.out().contains("\"contract_ok\": true"), json.out());
    assertTrue(json.out().contains("\"HBM_MB\": 64"), json.out());
    assertTrue(json.out().contains("\"problems\": []"), json.out());
  }

  @Test
  void examineReportsALostLinkAndADegradedOneInWords() throws Exception {
    GemmCliTest.Run r = systole("examine", "--device", "xdma:0", "--xdma-root",
        board("down", Fault.LINK_DOWN).toString());
    assertEquals(ExitCodes.DEVICE_ERROR, r.code(), r.out());
    assertTrue(r.out().contains("PROBLEM  the PCIe link is down (Unknown x0, at most 8.0 GT/s"
        + " PCIe x16)"), r.out());
    assertTrue(r.out().contains("MAGIC reads 0xffffffff"), r.out());

    r = systole("examine", "--device", "xdma:0", "--xdma-root",
        board("slow", Fault.LINK_DEGRADED).toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("WARNING  the PCIe link trained at 8.0 GT/s PCIe x8, below the"
        + " 8.0 GT/s PCIe x16 it supports"), r.out());
  }

  // ---- validate ----

  @Test
  void validatePassesOnTheEmulatorAndSaysSoInJson() {
    List<String> args = new ArrayList<>(List.of("validate", "--device", "emulator:HBM_MB=64"));
    args.addAll(List.of(QUICK));
    GemmCliTest.Run r = systole(args.toArray(String[]::new));
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    assertTrue(line(r, "link").contains("the emulator runs in this process: no PCIe link"));
    for (String t : List.of("scratch", "dma-integrity", "dma-bandwidth", "hbm", "interrupt",
        "selftest", "counters", "reset")) {
      assertTrue(line(r, t).startsWith("  PASS"), line(r, t));
    }
    assertTrue(line(r, "counters").contains("MACS = 65,536 = 256 x 16 x 16"), r.out());
    assertTrue(line(r, "build").contains("SKIP  build         build id 0: the emulator"),
        line(r, "build"));
    assertTrue(r.out().contains("10 tests: 8 passed, 0 warned, 0 failed, 2 skipped"), r.out());

    GemmCliTest.Run json = systole("validate", "--json", "--device", "emulator:HBM_MB=64",
        "--tests", "scratch,counters");
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.out().contains("\"name\": \"scratch\",\n      \"verdict\": \"pass\""),
        json.out());
    assertTrue(json.out().contains("\"summary\": {\n    \"passed\": 2,"), json.out());
    assertTrue(json.out().contains("\"ok\": true"), json.out());
    assertFalse(json.out().contains("\"name\": \"hbm\""), "only the tests asked for");
  }

  @Test
  void validatePassesEveryTestOnAHealthySimBoard() throws Exception {
    GemmCliTest.Run r = validate(board("healthy"));
    assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
    for (String t : List.of("link", "scratch", "dma-integrity", "dma-bandwidth", "hbm",
        "interrupt", "selftest", "counters", "reset")) {
      assertTrue(line(r, t).startsWith("  PASS"), line(r, t));
    }
    assertTrue(line(r, "link").contains("8.0 GT/s PCIe x16"));
    assertTrue(line(r, "hbm").contains("512 KiB in 32 ranges over 32 channel regions"),
        line(r, "hbm"));
  }

  @Test
  void dmaCorruptionIsCaughtByTheIntegrityTest() throws Exception {
    GemmCliTest.Run r = validate(board("corrupt", Fault.DMA_CORRUPT), "--tests",
        "scratch,dma-integrity");
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(line(r, "scratch").startsWith("  PASS"));
    assertTrue(line(r, "dma-integrity").matches("  FAIL  dma-integrity DMA CORRUPTION: \\d+ of"
        + " \\d+ transfers read back different from what was written; 1 B written to card"
        + " address 0x[0-9a-f]+ came back with 1 byte wrong.*"), line(r, "dma-integrity"));
  }

  @Test
  void aStuckHbmBitIsFoundByTheMemoryTestAtItsAddress() throws Exception {
    GemmCliTest.Run r = validate(board("stuck", Fault.HBM_STUCK_BIT), "--tests",
        "dma-integrity,hbm");
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(line(r, "dma-integrity").startsWith("  PASS"), "DMA itself is fine");
    long at = SimBoard.stuckBitAddress(PARAMS);
    assertTrue(line(r, "hbm").startsWith(String.format("  FAIL  hbm           HBM ERROR at card"
        + " address 0x%x (channel 5): bit 4 reads 0 whenever 1 is written (stuck at 0) under"
        + " walking ones", at)), line(r, "hbm"));
    assertTrue(line(r, "hbm").contains("at 1 address in all"), line(r, "hbm"));
  }

  @Test
  void aChosenHbmRangeIsTestedAndABadOneRefused() throws Exception {
    Path stuck = board("range", Fault.HBM_STUCK_BIT);
    long at = SimBoard.stuckBitAddress(PARAMS);
    long start = at & ~0xFFFFL;
    GemmCliTest.Run r = validate(stuck, "--tests", "hbm", "--hbm-range",
        String.format("0x%x:128K", start));
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(line(r, "hbm").contains(String.format("HBM ERROR at card address 0x%x", at)));
    assertTrue(line(r, "hbm").contains("128 KiB in 1 range over 1 channel region"));

    r = validate(stuck, "--tests", "hbm", "--hbm-range", String.format("0x%x:128K", start + 8));
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertFalse(r.out().contains("hbm "), "refused before any test ran");
    assertTrue(r.err().contains("(expected a start and a length that are multiples of 64, the"
        + " bytes of an ACC row, the length > 0)"), r.err());
    r = validate(stuck, "--tests", "hbm", "--hbm-range", "0x3FF0000:64K");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("(expected a range in 0x0..0x3fc0000: validate keeps the top"
        + " 256 KiB of the 64 MiB of HBM for its programs)"), r.err());
    r = validate(stuck, "--tests", "hbm,memtest");
    assertEquals(ExitCodes.USAGE, r.code(), r.out());
    assertTrue(r.err().contains("no test \"memtest\" (expected some of link, build, scratch,"
        + " dma-integrity, dma-bandwidth, hbm, interrupt, selftest, counters, reset)"), r.err());
  }

  @Test
  void aMissingInterruptIsCaughtByTheInterruptTest() throws Exception {
    GemmCliTest.Run r = validate(board("noirq", Fault.NO_IRQ), "--tests", "interrupt,counters",
        "--timeout", "1");
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(line(r, "interrupt").contains("NO INTERRUPT: run 1 of 10 ended (STATUS 0x2 DONE,"
        + " INT_STATUS 0x1, INT_ENABLE 0x1: the line is high at the device) but no interrupt"
        + " reached the host within 1000 ms"), line(r, "interrupt"));
    assertTrue(line(r, "counters").startsWith("  PASS"), "programs still end");
  }

  @Test
  void aHungProgramIsCaughtByTheSelfTestWithinItsDeadline() throws Exception {
    GemmCliTest.Run r = validate(board("hang", Fault.HANG), "--tests", "scratch,selftest",
        "--timeout", "1");
    assertEquals(ExitCodes.CHECK_FAILED, r.code(), r.out() + r.err());
    assertTrue(line(r, "scratch").startsWith("  PASS"));
    assertTrue(line(r, "selftest").matches("  FAIL  selftest +HUNG: \\w+: xdma:0: program at"
        + " 0x[0-9a-f]+ \\(\\d+ instructions?\\) did not finish within 1000 ms \\(STATUS 0x1, at"
        + " instruction 0\\); the device was reset; stopped after 1 of \\d+ programs"),
        line(r, "selftest"));
  }

  @Test
  void aLostLinkFailsTheLinkTestAndSkipsTheRest() throws Exception {
    GemmCliTest.Run r = validate(board("lost", Fault.LINK_DOWN));
    assertEquals(ExitCodes.DEVICE_ERROR, r.code(), r.out() + r.err());
    assertTrue(line(r, "link").startsWith("  FAIL  link          link DOWN: Unknown x0"),
        line(r, "link"));
    assertTrue(line(r, "hbm").contains("SKIP  hbm           not run: the device did not open"));
  }

  // ---- reg ----

  @Test
  void regReadsByNameOffsetAndCounterAndDecodesFields() throws Exception {
    Path sim = board("reg");
    String[] dev = {"--device", "xdma:0", "--xdma-root", sim.toString()};
    GemmCliTest.Run r = systole(concat(new String[] {"reg", "read", "version"}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains(String.format("VERSION (0x004, ro) = 0x%08x (%d)",
        Contract.VERSION, Contract.VERSION)), r.out());
    assertTrue(r.out().contains("[31:16]  MAJOR  = 1"), r.out());
    r = systole(concat(new String[] {"reg", "read", "0x44"}, dev));
    assertTrue(r.out().contains("STATUS (0x044, ro) = 0x00000000"), r.out());
    assertTrue(r.out().contains("idle: no program has run since power-on"), r.out());
    r = systole(concat(new String[] {"reg", "read", "TOTAL_CYCLES"}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().startsWith("TOTAL_CYCLES (0x140/0x144, 64-bit counter) = "), r.out());

    r = systole(concat(new String[] {"reg", "write", "SCRATCH", "0xCAFEF00D"}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("SCRATCH (0x078, rw) = 0xcafef00d"), r.out());
    r = systole(concat(new String[] {"reg", "read", "--json", "SCRATCH"}, dev));
    assertTrue(r.out().contains("\"value\": " + 0xCAFEF00DL), r.out());
  }

  @Test
  void regRefusesBadOffsetsReadOnlyRegistersAndUnforcedControlWrites() throws Exception {
    GemmCliTest.Run r = systole("reg", "read", "0x46", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("register offset 0x46 (expected a multiple of 4 in 0x000..0xffc,"
        + " the 4096-byte register window)"), r.err());
    r = systole("reg", "read", "0x1000", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("register offset 0x1000 (expected a multiple of 4"), r.err());
    r = systole("reg", "read", "STAUTS", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("no register \"STAUTS\" (expected a register name of the"
        + " contract, MAGIC, VERSION,"), r.err());
    r = systole("reg", "write", "MAGIC", "1", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("MAGIC (0x000, ro) is read-only: a write has no effect"
        + " (expected a writable register: CTRL, PROG_ADDR_LO,"), r.err());
    r = systole("reg", "write", "SCRATCH", "0x1FFFFFFFF", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("does not fit 32 bits"), r.err());

    Path sim = board("ctrl", Fault.HANG);
    String[] dev = {"--device", "xdma:0", "--xdma-root", sim.toString()};
    r = systole(concat(new String[] {"reg", "write", "CTRL", "0x2"}, dev));
    assertEquals(ExitCodes.USAGE, r.code(), r.out());
    assertTrue(r.err().contains("CTRL is a control register: writing 0x2 (SOFT_RESET) acts on"
        + " the device at once and can start, abort or disturb a program; add --force"), r.err());
    r = systole(concat(new String[] {"reg", "write", "CTRL", "0x2", "--force"}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("wrote 0x00000002 to CTRL"), r.out());
  }

  // ---- dma ----

  @Test
  void dmaWritesAFileAndReadsItBackAsBytesAndAsAHexdump() throws Exception {
    Path sim = board("dma");
    String[] dev = {"--device", "xdma:0", "--xdma-root", sim.toString()};
    byte[] data = new byte[100_003];
    new Random(7).nextBytes(data);
    data[0] = 'S';
    data[1] = 'Y';
    Path in = Files.write(tmp.resolve("in.bin"), data);
    GemmCliTest.Run r = systole(concat(new String[] {"dma", "write", "0x123457", in.toString()},
        dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().startsWith(String.format("wrote 100003 bytes of %s to card addresses"
        + " 0x123457..0x%x", in, 0x123457 + data.length - 1)), r.out());
    Path out = tmp.resolve("out.bin");
    r = systole(concat(new String[] {"dma", "read", "0x123457", "100003", "--out",
        out.toString()}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertArrayEquals(data, Files.readAllBytes(out));

    r = systole(concat(new String[] {"dma", "read", "0x123457", "40"}, dev));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals(4, lines.length, r.out());
    assertTrue(lines[0].startsWith(String.format("000000123457  53 59 %02x ", data[2] & 0xFF)),
        lines[0]);
    assertTrue(lines[0].endsWith("|"), lines[0]);
    assertTrue(lines[0].contains("|SY"), lines[0]);
    assertEquals("00000012347f", lines[3]);
    r = systole(concat(new String[] {"dma", "read", "0x3000000", "4K"}, dev));
    assertEquals(List.of("000003000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  "
        + "|................|", "*", "000003001000"), List.of(r.out().split("\n")),
        "zeros print as one line and a star");
  }

  @Test
  void dmaRefusesRangesOutsideHbmAndEmptyFiles() throws Exception {
    GemmCliTest.Run r = systole("dma", "read", "0x3FFFFF0", "32", "--device",
        "emulator:HBM_MB=64");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("card range 0x3fffff0, 32 bytes (expected length >= 1 and 0 <="
        + " address, address + length <= 0x4000000, the 64 MiB of HBM of emulator:HBM_MB=64)"),
        r.err());
    Path empty = Files.createFile(tmp.resolve("empty.bin"));
    r = systole("dma", "write", "0", empty.toString(), "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains(empty + " is empty (expected at least 1 byte)"), r.err());
    r = systole("dma", "read", "lots", "32", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("ADDR \"lots\" is not a byte count"), r.err());
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
