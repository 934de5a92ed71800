package dev.systole.host.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.spec.ContractSpec;
import dev.systole.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build's parameters from the contract, its folder and params.tcl, and the manifest written
 * from a fake build folder (the outputs Vivado would leave) and read back.
 */
class BitstreamBuildTest {
  static final ContractSpec SPEC = ContractSpec.load(Tools.root().resolve(
      "fpga/spec/contract.toml"));
  static final java.util.Map<String, Long> FIXED = BuildParams.fixed(
      Tools.root().resolve("fpga/rtl/systole_ip.sv"));
  static final Instant START = Instant.parse("2026-01-02T03:04:05Z");

  @TempDir
  Path tmp;

  /** The timing summary table as report_timing_summary writes it, with the given slacks. */
  static String timingReport(String wns, String whs) {
    return "Timing Report\n\n------------------------------------------------------------------\n"
        + "| Design Timing Summary\n| ---------------------\n"
        + "------------------------------------------------------------------\n\n"
        + "    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)"
        + "      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)"
        + "  TPWS Failing Endpoints  TPWS Total Endpoints  \n"
        + "    -------      -------  ---------------------  -------------------      -------"
        + "      -------  ---------------------  -------------------     --------     --------"
        + "  ----------------------  --------------------  \n"
        + "    " + wns + "        0.000                      0               412345        "
        + whs + "        0.000                      0               412345        0.000"
        + "        0.000                       0                150000  \n\n\n"
        + "All user specified timing constraints are met.\n";
  }

  /** What Vivado would leave in {@code dir}: the four outputs. */
  static void fakeOutputs(Path dir, String wns) throws Exception {
    Files.write(dir.resolve("systole_u55c.bit"), new byte[] {0x00, 0x09, 0x0f, (byte) 0xf0});
    Files.writeString(dir.resolve("systole_u55c.mcs"), ":020000040000FA\n");
    Files.writeString(dir.resolve(BitstreamBuild.UTILIZATION), "| CLB LUTs | 109000 |\n");
    Files.writeString(dir.resolve(BitstreamBuild.TIMING), timingReport(wns, "0.010"));
  }

  static BitstreamBuild.Inputs inputs(Map<String, Long> params) {
    return new BitstreamBuild.Inputs(Board.U55C, params, (int) START.getEpochSecond(), START,
        "2023.2", SPEC.versionMajor(), SPEC.versionMinor(), "0123abcd");
  }

  @Test
  void everyContractParameterIsInTheBuildAtItsDefaultUnlessChanged() {
    Map<String, Long> p = BuildParams.resolve(SPEC, FIXED, "");
    assertEquals(SPEC.params().stream().map(ContractSpec.Param::name).toList(),
        List.copyOf(p.keySet()), "all of the spec's parameters, in its order");
    for (ContractSpec.Param q : SPEC.params()) {
      assertEquals(FIXED.getOrDefault(q.name(), q.defaultValue()), p.get(q.name()), q.name());
    }
    assertEquals(Map.of(), FIXED, "systole_ip builds every parameter of the contract");
    assertEquals(1L, p.get("VECTOR_UNIT"), "the default build has the vector unit");
    assertEquals(0L, BuildParams.resolve(SPEC, FIXED, "VECTOR_UNIT=0,LUT_ROWS=0")
        .get("LUT_ROWS"));
    Map<String, Long> changed = BuildParams.resolve(SPEC, FIXED, "array=8, CLOCK_KHZ=0x3d090");
    assertEquals(8L, changed.get("ARRAY_ROWS"));
    assertEquals(8L, changed.get("ARRAY_COLS"));
    assertEquals(250_000L, changed.get("CLOCK_KHZ"));
    assertEquals("ArrayRows", BuildParams.ipName("ARRAY_ROWS"));
    assertEquals("HbmMb", BuildParams.ipName("HBM_MB"));
  }

  @Test
  void aParameterTheIpFixesIsInTheManifestAtThatValueAndRefusedOtherwise() throws Exception {
    Path ip = tmp.resolve("systole_ip.sv");
    Files.writeString(ip, "module systole_ip #(\n  parameter int unsigned ArrayRows = "
        + "systole_pkg::ArrayRowsDefault,\n  parameter int unsigned VectorUnit  = 0,\n"
        + "  parameter int unsigned BuildId     = 0\n) ();\nendmodule\n");
    Map<String, Long> fixed = BuildParams.fixed(ip);
    assertEquals(Map.of("VECTOR_UNIT", 0L), fixed);
    assertEquals(0L, BuildParams.resolve(SPEC, fixed, "").get("VECTOR_UNIT"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> BuildParams.resolve(SPEC,
        fixed, "VECTOR_UNIT=1")).getMessage().contains("this RTL builds only VECTOR_UNIT = 0"));
  }

  @Test
  void badParametersAreRefusedNamingTheValueAndWhatWasExpected() {
    assertEquals("parameter \"FOO\" is not in the contract (expected one of "
        + String.join(", ", SPEC.params().stream().map(ContractSpec.Param::name).toList()) + ")",
        assertThrows(IllegalArgumentException.class,
            () -> BuildParams.resolve(SPEC, FIXED, "FOO=1")).getMessage());
    assertEquals("parameter ARRAY_ROWS = 3 is out of range (expected 4 to 64)",
        assertThrows(IllegalArgumentException.class,
            () -> BuildParams.resolve(SPEC, FIXED, "ARRAY_ROWS=3")).getMessage());
    assertEquals("parameter CLOCK_KHZ = \"fast\" is not a number (expected a decimal or 0x"
        + " hexadecimal integer)", assertThrows(IllegalArgumentException.class,
            () -> BuildParams.resolve(SPEC, FIXED, "CLOCK_KHZ=fast")).getMessage());
    assertEquals("parameter \"ARRAY\" (expected PARAM=VALUE, e.g. ARRAY_ROWS=8)",
        assertThrows(IllegalArgumentException.class,
            () -> BuildParams.resolve(SPEC, FIXED, "ARRAY")).getMessage());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BitstreamBuild.params(SPEC, FIXED, Board.U55C, "HBM_MB=1024"));
    assertTrue(e.getMessage().startsWith("HBM_MB=1024, HBM_CHANNELS=32: the AMD Alveo U55C has"
        + " 16384 MiB of HBM in 32 pseudo-channels"), e.getMessage());
    assertEquals("no bitstream flow for board \"u280\" (expected u55c)",
        assertThrows(IllegalArgumentException.class, () -> Board.named("u280")).getMessage());
  }

  @Test
  void aBuildFolderIsNamedByItsIdAndTheNextSecondIfTaken() throws Exception {
    Clock clock = Clock.fixed(START, ZoneOffset.UTC);
    int id = BitstreamBuild.buildId(clock);
    assertEquals(0x695735a5, id);
    BitstreamBuild.Inputs in = new BitstreamBuild.Inputs(Board.U55C,
        BuildParams.resolve(SPEC, FIXED, ""), id, START, "2023.2", 1, 0, "c");
    Path first = BitstreamBuild.prepare(SPEC, in, tmp.resolve("builds"));
    Path second = BitstreamBuild.prepare(SPEC, in, tmp.resolve("builds"));
    assertEquals("695735a5", first.getFileName().toString());
    assertEquals("695735a6", second.getFileName().toString());
    String tcl = Files.readString(second.resolve(AddressMap.FILE));
    assertTrue(tcl.contains("variable build_id 0x695735a6\n"), tcl);
    assertTrue(tcl.startsWith("# Generated by dev.systole.host.bitstream.AddressMap"), tcl);
    assertFalse(Files.exists(second.resolve(AddressMap.FILE + ".tmp")));
  }

  @Test
  void theManifestOfAFakeBuildHoldsEverythingAndReadsBack() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("695735a5"));
    fakeOutputs(dir, "0.123");
    Map<String, Long> params = BuildParams.resolve(SPEC, FIXED, "ARRAY=8");
    Manifest m = BitstreamBuild.seal(dir, inputs(params));

    String text = Files.readString(dir.resolve(Manifest.FILE));
    assertTrue(text.startsWith("{\n  \"schema\": 1,\n  \"board\": \"u55c\",\n  \"part\":"
        + " \"xcu55c-fsvh2892-2L-e\",\n  \"build_id\": \"0x695735a5\",\n  \"date\":"
        + " \"2026-01-02T03:04:05Z\",\n  \"vivado\": \"2023.2\",\n  \"contract\": \""
        + SPEC.versionMajor() + "." + SPEC.versionMinor() + "\",\n"
        + "  \"commit\": \"0123abcd\",\n  \"params\": {\n    \"ARRAY_ROWS\": 8,"), text);
    assertTrue(text.contains("\"timing\": {\n    \"met\": true,\n    \"wns_ns\": 0.123,\n"
        + "    \"whs_ns\": 0.01\n  }"), text);
    byte[] bit = Files.readAllBytes(dir.resolve("systole_u55c.bit"));
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bit));
    assertTrue(text.contains("\"systole_u55c.bit\": {\n      \"sha256\": \"" + sha
        + "\",\n      \"bytes\": 4\n    }"), text);
    for (String out : List.of("systole_u55c.mcs", "utilization.rpt", "timing_summary.rpt")) {
      assertTrue(text.contains("\"" + out + "\": {"), out + " in " + text);
    }
    for (ContractSpec.Param p : SPEC.params()) {
      assertTrue(text.contains("\"" + p.name() + "\": "), p.name() + " in " + text);
    }

    Manifest back = Manifest.read(dir.resolve(Manifest.FILE));
    assertEquals(m, back);
    assertEquals(0x695735a5, back.buildId());
    assertEquals(params, back.params());
    assertEquals(0.123, back.wnsNs(), 1e-9);
    assertFalse(Files.exists(dir.resolve(Manifest.FILE + ".tmp")));
  }

  @Test
  void aBuildThatMissedTimingIsMarked() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("695735a5"));
    fakeOutputs(dir, "-0.412");
    Manifest m = BitstreamBuild.seal(dir, inputs(BuildParams.resolve(SPEC, FIXED, "")));
    assertFalse(m.timingMet());
    assertEquals(-0.412, m.wnsNs(), 1e-9);
    assertTrue(Files.readString(dir.resolve(Manifest.FILE)).contains("\"met\": false"));
  }

  @Test
  void aTimingReportWithoutItsSummaryTableIsNotMet() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("695735a5"));
    fakeOutputs(dir, "0.1");
    Files.writeString(dir.resolve(BitstreamBuild.TIMING), "Vivado crashed here\n");
    Manifest m = BitstreamBuild.seal(dir, inputs(BuildParams.resolve(SPEC, FIXED, "")));
    assertFalse(m.timingMet());
    assertNull(m.wnsNs());
  }

  @Test
  void anUnfinishedBuildGetsNoManifest() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("695735a5"));
    fakeOutputs(dir, "0.1");
    Files.delete(dir.resolve("systole_u55c.mcs"));
    VivadoException e = assertThrows(VivadoException.class,
        () -> BitstreamBuild.seal(dir, inputs(BuildParams.resolve(SPEC, FIXED, ""))));
    assertTrue(e.getMessage().startsWith("the build wrote no systole_u55c.mcs in " + dir),
        e.getMessage());
    assertFalse(Files.exists(dir.resolve(Manifest.FILE)));
  }

  @Test
  void timingSlacksAreReadFromTheSummaryTable() {
    TimingSummary t = TimingSummary.parse(timingReport("-0.050", "0.020")).orElseThrow();
    assertEquals(-0.05, t.wnsNs(), 1e-9);
    assertEquals(0.02, t.whsNs(), 1e-9);
    assertFalse(t.met());
    assertTrue(TimingSummary.parse(timingReport("0.000", "0.001")).orElseThrow().met());
    assertTrue(TimingSummary.parse("no table").isEmpty());
  }

  @Test
  void aBrokenManifestIsRefusedNamingFileAndField() throws Exception {
    Path f = tmp.resolve(Manifest.FILE);
    Files.writeString(f, "{\"schema\": 1, \"board\": \"u55c\"}", StandardCharsets.UTF_8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Manifest.read(f));
    assertEquals(f + ": no \"build_id\" string (expected one in every manifest)",
        e.getMessage());
    Files.writeString(f, "{\"schema\": 1,", StandardCharsets.UTF_8);
    e = assertThrows(IllegalArgumentException.class, () -> Manifest.read(f));
    assertTrue(e.getMessage().startsWith(f + ": not JSON: "), e.getMessage());
  }

  @Test
  void manifestsAreFoundByBuildIdAndBrokenOnesSkipped() throws Exception {
    Path builds = tmp.resolve("bitstreams/builds");
    Path a = Files.createDirectories(builds.resolve("695735a5"));
    fakeOutputs(a, "0.1");
    BitstreamBuild.seal(a, inputs(BuildParams.resolve(SPEC, FIXED, "")));
    Path broken = Files.createDirectories(builds.resolve("00000001"));
    Files.writeString(broken.resolve(Manifest.FILE), "{}");
    Manifests.Lookup l = Manifests.find(List.of(tmp.resolve("bitstreams")), 0x695735a5);
    assertEquals(a.resolve(Manifest.FILE), l.match().orElseThrow().file());
    assertEquals(1, l.read());
    assertEquals(1, l.unreadable().size(), l.unreadable().toString());
    assertTrue(Manifests.find(List.of(tmp.resolve("bitstreams")), 0x1234).match().isEmpty());
    assertTrue(Manifests.find(List.of(tmp.resolve("nowhere")), 0x695735a5).match().isEmpty());
  }
}
