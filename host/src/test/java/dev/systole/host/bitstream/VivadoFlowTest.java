package dev.systole.host.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Param;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.xdma.RegisterWindow;
import dev.systole.host.run.HbmAllocator;
import dev.systole.spec.ContractSpec;
import dev.systole.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bitstream flow's TCL, checked as far as a machine without Vivado allows: every script and
 * constraint file parses in tclsh, and build.tcl (with bd.tcl and package_ip.tcl) and program.tcl
 * run in tclsh against a stand-in that records each Vivado command. The recording is then held to
 * the host's own constants: the register window where XdmaDevice maps it, each HBM pseudo-channel
 * at the address the host's allocator calls that channel, every contract parameter set on the
 * accelerator IP, the build id, the part, the outputs the manifest is made from.
 */
class VivadoFlowTest {
  private static final Path ROOT = Tools.root();
  private static final ContractSpec SPEC = ContractSpec.load(ROOT.resolve(
      "fpga/spec/contract.toml"));
  private static final java.util.Map<String, Long> FIXED = BitstreamBuildTest.FIXED;
  private static final Path FLOW = ROOT.resolve("bitstreams/u55c");

  @TempDir
  Path tmp;

  @BeforeAll
  static void needTclsh() {
    Tools.require("tclsh", "tcl");
  }

  /** Runs tclsh with {@code args}; returns its exit code and output. */
  private static String[] tclsh(List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("tclsh"));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tclsh did not finish");
    return new String[] {Integer.toString(p.exitValue()), out};
  }

  /** The parameters systole_ip declares, as the IP packager would make them. */
  private static List<String> ipParams() throws Exception {
    String sv = Files.readString(ROOT.resolve("fpga/rtl/systole_ip.sv"));
    Matcher m = Pattern.compile("parameter int unsigned (\\w+)").matcher(sv);
    List<String> names = new ArrayList<>();
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  private Path standin() throws Exception {
    Path f = tmp.resolve("vivado-standin.tcl");
    try (var in = VivadoFlowTest.class.getResourceAsStream("vivado-standin.tcl")) {
      Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return f;
  }

  /** Runs build.tcl under the stand-in; returns {exit code, output, recorded calls}. */
  private String[] build(Map<String, Long> params, int buildId, List<String> ipParams)
      throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve(AddressMap.FILE), AddressMap.tcl(SPEC, Board.U55C, params,
        buildId));
    Path log = tmp.resolve("calls.log");
    String[] r = tclsh(List.of(standin().toString(), log.toString(), String.join(" ", ipParams),
        FLOW.resolve("build.tcl").toString(), out.resolve(AddressMap.FILE).toString(),
        out.toString(), "4"));
    return new String[] {r[0], r[1], Files.exists(log) ? Files.readString(log) : ""};
  }

  @Test
  void everyScriptAndConstraintFileParses() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.walk(ROOT.resolve("bitstreams"))) {
      files = s.filter(p -> p.toString().endsWith(".tcl") || p.toString().endsWith(".xdc"))
          .filter(p -> !p.toString().contains("/builds/")).sorted().toList();
    }
    assertTrue(files.size() >= 6, files.toString());
    StringBuilder script = new StringBuilder();
    for (Path f : files) {
      script.append("set f [open {").append(f).append("}]; if {![info complete [read $f]]} {"
          + " puts {INCOMPLETE ").append(f.getFileName()).append("} }; close $f\n");
    }
    Path check = tmp.resolve("parse.tcl");
    Files.writeString(check, script);
    String[] r = tclsh(List.of(check.toString()));
    assertEquals("0", r[0], r[1]);
    assertEquals("", r[1].strip(), "scripts whose braces or quotes do not close");
  }

  @Test
  void theBlockDesignsAddressMapIsTheHostsAndEveryParameterReachesTheIp() throws Exception {
    Map<String, Long> params = BuildParams.resolve(SPEC, FIXED, "ARRAY=32,CLOCK_KHZ=250000");
    int buildId = 0x9abcdef0;
    String[] r = build(params, buildId, ipParams());
    assertEquals("0", r[0], r[1]);
    String calls = r[2];
    assertTrue(r[1].contains("systole: building u55c (xcu55c-fsvh2892-2L-e), build 0x9abcdef0"),
        r[1]);
    assertTrue(calls.contains("create_project -force systole " + tmp.resolve("out/project")
        + " -part xcu55c-fsvh2892-2L-e"), calls);

    // The register window: at the BAR offset where XdmaDevice maps xdmaN_user, the contract's
    // size, and the XDMA core's AXI-Lite BAR translated to that address.
    assertTrue(calls.contains(String.format("assign_bd_address -target_address_space"
        + " xdma/M_AXI_LITE systole/s_axil/reg0 -offset 0x%x -range 0x%x",
        RegisterWindow.BAR_OFFSET, Contract.REGISTER_WINDOW_BYTES)), calls);
    assertTrue(calls.contains(String.format("CONFIG.pciebar2axibar_axil_master 0x%x",
        RegisterWindow.BAR_OFFSET)), calls);
    assertTrue(calls.contains(String.format("CONFIG.pf0_device_id %X", SimBoard.PCI_DEVICE_ID)),
        "the device ID a sim board reports is the bitstream's: " + calls);
    assertTrue(calls.contains("CONFIG.pl_link_cap_max_link_width X16"), calls);

    // HBM: every master sees pseudo-channel i at the addresses the host calls channel i.
    long hbmBytes = params.get("HBM_MB") << 20;
    int channels = params.get("HBM_CHANNELS").intValue();
    HbmAllocator hbm = new HbmAllocator(hbmBytes, channels);
    Pattern seg = Pattern.compile("assign_bd_address -target_address_space (\\S+)"
        + " hbm/SAXI_(\\d\\d)/HBM_MEM(\\d\\d) -offset 0x([0-9a-f]+) -range 0x([0-9a-f]+)");
    Map<String, Integer> perMaster = new java.util.TreeMap<>();
    Matcher m = seg.matcher(calls);
    while (m.find()) {
      int channel = Integer.parseInt(m.group(3));
      long offset = Long.parseLong(m.group(4), 16);
      long range = Long.parseLong(m.group(5), 16);
      assertEquals(channel, hbm.channelOf(offset), m.group());
      assertEquals(channel, hbm.channelOf(offset + range - 1), m.group());
      assertEquals(hbmBytes / channels, range, m.group());
      perMaster.merge(m.group(1) + " via SAXI_" + m.group(2), 1, Integer::sum);
    }
    assertEquals(Map.of("systole/m_fetch via SAXI_08", channels, "systole/m_load via SAXI_16",
        channels, "systole/m_store via SAXI_24", channels, "xdma/M_AXI via SAXI_00", channels),
        perMaster, "each master reaches every channel through a port of its own");

    // Every contract parameter with a register, and the build id, set on the accelerator IP.
    for (Param p : Param.values()) {
      assertTrue(calls.contains("CONFIG." + BuildParams.ipName(p.name()) + " "
          + params.get(p.name())), p + " on the IP: " + calls);
    }
    assertTrue(calls.contains("CONFIG.BuildId " + Integer.toUnsignedLong(buildId)), calls);
    assertTrue(calls.contains("CONFIG.CLKOUT1_REQUESTED_OUT_FREQ 250.000"), calls);
    assertTrue(calls.contains("connect_bd_net systole/irq_o xdma/usr_irq_req"), calls);
    assertTrue(calls.contains("connect_bd_net hbm_cattrip_or/Res hbm_cattrip"), calls);

    // The files the IP is packaged from are files.f's, and the outputs the manifest needs.
    for (String f : Files.readAllLines(ROOT.resolve("fpga/rtl/files.f"))) {
      if (!f.isBlank()) {
        assertTrue(calls.contains(ROOT.resolve("fpga/rtl").resolve(f.strip()).toString()), f);
      }
    }
    Path out = tmp.resolve("out");
    assertTrue(calls.contains("add_files -fileset constrs_1 -norecurse {" + FLOW.resolve(
        "u55c.xdc") + " " + FLOW.resolve("timing.xdc") + "}"), calls);
    assertTrue(calls.contains("write_bitstream -force " + out.resolve("systole_u55c.bit")),
        calls);
    assertTrue(calls.contains("-loadbit {up 0x01002000 " + out.resolve("systole_u55c.bit")
        + "} -file " + out.resolve("systole_u55c.mcs")), calls);
    assertTrue(calls.contains("-file " + out.resolve(BitstreamBuild.TIMING)), calls);
    assertTrue(calls.contains("-file " + out.resolve(BitstreamBuild.UTILIZATION)), calls);
  }

  @Test
  void aParameterTheRtlCannotBuildStopsTheBuildUnlessAtItsDefault() throws Exception {
    List<String> withoutWbuf = ipParams().stream().filter(p -> !p.equals("WbufRows")).toList();
    String[] atDefault = build(BuildParams.resolve(SPEC, FIXED, ""), 1, withoutWbuf);
    assertEquals("0", atDefault[0], atDefault[1]);
    assertTrue(atDefault[1].contains("systole_ip has no parameter WbufRows; WBUF_ROWS is built"
        + " at its default"), atDefault[1]);

    String[] changed = build(BuildParams.resolve(SPEC, FIXED, "WBUF_ROWS=2048"), 1, withoutWbuf);
    assertNotEquals("0", changed[0]);
    assertTrue(changed[1].contains("contract parameter WBUF_ROWS = 2048, but systole_ip has no"
        + " parameter WbufRows"), changed[1]);
    assertTrue(!changed[2].contains("launch_runs"), "nothing is run after the refusal");
  }

  @Test
  void programLoadsOverJtagOrWritesTheFlashAndBoots() throws Exception {
    Path log = tmp.resolve("program.log");
    String[] jtag = tclsh(List.of(standin().toString(), log.toString(), "",
        FLOW.resolve("program.tcl").toString(), "jtag", "/b/systole_u55c.bit",
        Board.U55C.part(), "localhost:3121"));
    assertEquals("0", jtag[0], jtag[1]);
    String calls = Files.readString(log);
    assertTrue(calls.contains("connect_hw_server -url localhost:3121"), calls);
    assertTrue(calls.contains("set_property PROGRAM.FILE /b/systole_u55c.bit xcu55c_0"), calls);
    assertTrue(calls.contains("program_hw_devices xcu55c_0"), calls);
    assertTrue(!calls.contains("program_hw_cfgmem"), calls);

    String[] flash = tclsh(List.of(standin().toString(), log.toString(), "",
        FLOW.resolve("program.tcl").toString(), "flash", "/b/systole_u55c.mcs",
        Board.U55C.part(), "localhost:3121", Board.U55C.flashPart()));
    assertEquals("0", flash[0], flash[1]);
    calls = Files.readString(log);
    assertTrue(calls.contains("get_cfgmem_parts mt25qu01g-spi-x1_x2_x4"), calls);
    assertTrue(calls.contains("set_property PROGRAM.FILES /b/systole_u55c.mcs cfgmem_0"),
        calls);
    assertTrue(calls.contains("program_hw_cfgmem -hw_cfgmem cfgmem_0"), calls);
    assertTrue(calls.contains("boot_hw_device xcu55c_0"), calls);

    String[] bad = tclsh(List.of(standin().toString(), log.toString(), "",
        FLOW.resolve("program.tcl").toString(), "usb", "/b/x.bit", Board.U55C.part(),
        "localhost:3121"));
    assertNotEquals("0", bad[0]);
    assertTrue(bad[1].contains("mode usb (expected jtag or flash)"), bad[1]);
  }
}
