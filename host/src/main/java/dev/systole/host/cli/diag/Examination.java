package dev.systole.host.cli.diag;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceInfo;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.host.bitstream.BuildParams;
import dev.systole.host.bitstream.Manifest;
import dev.systole.host.bitstream.Manifests;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What {@code systole examine} finds on a device: identification against the host's contract,
 * parameters, status, interrupts, counters, the kernel clock and the link, each read once and
 * judged in words. Problems (a wrong magic, another major version, a dead clock, a link that is
 * down) make the examination fail; warnings (a degraded link, a program left running, a minor
 * version the host does not know) are reported and do not.
 *
 * <p>A device that cannot be opened is examined too, as far as it can be: its link and the reason
 * it did not open are what a user needs to see then.
 */
public final class Examination {
  /** How long the clock is watched: long enough that a sim board's window refresh is noise. */
  private static final long CLOCK_WATCH_MILLIS = 100;

  private final Map<String, Object> json = new LinkedHashMap<>();
  private final List<String> lines = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  private Examination(String name) {
    json.put("schema", 1);
    json.put("command", "examine");
    json.put("device", name);
  }

  public List<String> problems() {
    return problems;
  }

  public List<String> warnings() {
    return warnings;
  }

  /** The examination as the JSON object DIAGNOSTICS.md documents. */
  public Map<String, Object> json() {
    json.put("problems", problems);
    json.put("warnings", warnings);
    return json;
  }

  /** The examination as text: sections, then a verdict line. */
  public void print(PrintWriter out) {
    lines.forEach(out::println);
    if (problems.isEmpty() && warnings.isEmpty()) {
      out.println("verdict: healthy");
    } else {
      out.println("verdict: " + (problems.isEmpty() ? "working, with " : problems.size()
          + " problem" + (problems.size() == 1 ? "" : "s") + (warnings.isEmpty() ? "" : ", "))
          + (warnings.isEmpty() ? "" : warnings.size() + " warning" + (warnings.size() == 1 ? ""
              : "s")));
      problems.forEach(p -> out.println("  PROBLEM  " + p));
      warnings.forEach(w -> out.println("  WARNING  " + w));
    }
  }

  /** A device that did not open: its link, and why. */
  public static Examination unopened(String name, String error,
      Optional<Boards.DeviceLink> link) {
    Examination e = new Examination(name);
    e.json.put("opened", false);
    e.json.put("open_error", error);
    e.lines.add("examine " + name + ": the device did not open");
    e.lines.add("  " + error);
    e.problems.add("cannot open " + name + ": " + error);
    e.link(link, "xdma");
    return e;
  }

  /** Reads everything from an open device; no manifests are looked for. */
  public static Examination of(Device d, Optional<Boards.DeviceLink> link) {
    return of(d, link, List.of());
  }

  /**
   * Reads everything from an open device, and finds the manifest of the build it reports among
   * those under {@code manifestDirs}.
   */
  public static Examination of(Device d, Optional<Boards.DeviceLink> link,
      List<Path> manifestDirs) {
    Examination e = new Examination(d.name());
    e.json.put("opened", true);
    e.json.put("open_error", null);
    DeviceInfo info = d.info();
    e.lines.add("examine " + d.name() + " (" + info.backend() + " backend)");
    e.identification(d, info);
    e.build(d, info.buildId(), manifestDirs);
    e.parameters(info.params());
    e.status(d);
    e.interrupts(d);
    e.counters(d, info.params());
    e.link(link, info.backend());
    return e;
  }

  private void add(String label, String text) {
    lines.add(String.format("  %-13s %s", label, text));
  }

  private void identification(Device d, DeviceInfo info) {
    lines.add("identification");
    int magic = d.read(Reg.MAGIC);
    boolean magicOk = magic == Contract.MAGIC;
    add("magic", String.format("0x%08x %s", magic, magicOk ? "(\"SYST\", a Systole accelerator)"
        : "WRONG (expected 0x" + Integer.toHexString(Contract.MAGIC) + ")"));
    if (!magicOk) {
      problems.add(String.format("MAGIC reads 0x%08x, not 0x%08x: not a Systole accelerator, or"
          + " the link is down", magic, Contract.MAGIC));
    }
    String host = Contract.VERSION_MAJOR + "." + Contract.VERSION_MINOR;
    String dev = info.versionMajor() + "." + info.versionMinor();
    String verdict;
    if (info.versionMajor() != Contract.VERSION_MAJOR) {
      verdict = "MISMATCH: the host speaks " + host + "; load a bitstream of contract "
          + Contract.VERSION_MAJOR + ".x";
      problems.add("the device implements contract " + dev + " and the host speaks " + host);
    } else if (info.versionMinor() > Contract.VERSION_MINOR) {
      verdict = "newer than the host's " + host + ": additions the host will not use";
      warnings.add("the device implements contract " + dev + ", newer than the host's " + host);
    } else {
      verdict = info.versionMinor() == Contract.VERSION_MINOR ? "matches the host's" : "older"
          + " than the host's " + host + ", same major version: compatible";
    }
    add("contract", dev + ", " + verdict);
    add("build id", String.format("0x%08x%s", info.buildId(), info.buildId() == 0
        ? " (0: the emulator, or a build without an id)" : ""));
    json.put("identification", map("magic", hex(magic), "magic_ok", magicOk, "contract", dev,
        "host_contract", host, "contract_ok", info.versionMajor() == Contract.VERSION_MAJOR,
        "build_id", hex(info.buildId())));
  }

  private void build(Device d, int buildId, List<Path> dirs) {
    lines.add("build");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", hex(buildId));
    m.put("searched", dirs.stream().map(Path::toString).toList());
    if (buildId == 0) {
      add("manifest", "none: build id 0 is the emulator's, or a build's without an id");
      m.put("known", false);
      m.put("manifest", null);
      json.put("build", m);
      return;
    }
    Manifests.Lookup found = Manifests.find(dirs, buildId);
    found.unreadable().forEach(u -> add("skipped", "an unreadable manifest: " + u));
    if (found.match().isEmpty()) {
      add("manifest", String.format("unknown: build 0x%08x is none of the %d manifest%s in %s"
          + " (a build made elsewhere: pass --manifests DIR with its folder)", buildId,
          found.read(), found.read() == 1 ? "" : "s", dirs.isEmpty() ? "(no folder given)"
              : dirs.stream().map(Path::toString).collect(Collectors.joining(", "))));
      m.put("known", false);
      m.put("manifest", null);
      json.put("build", m);
      return;
    }
    Manifest b = found.match().get().manifest();
    add("manifest", found.match().get().file().toString());
    add("board", b.board() + " (" + b.part() + "), Vivado " + b.vivado() + ", contract "
        + b.contract());
    add("built", b.date() + " from commit " + b.commit());
    String wns = b.wnsNs() == null ? "WNS unknown" : String.format(Locale.ROOT, "WNS %+.3f ns",
        b.wnsNs());
    add("timing", b.timingMet() ? "met (" + wns + ")" : "NOT MET (" + wns + ")");
    if (!b.timingMet()) {
      warnings.add("build " + b.buildIdHex() + " did not meet timing (" + wns + "): it may fail"
          + " at its clock; rebuild it, or build it at a lower CLOCK_KHZ");
    }
    add("as built", BuildParams.format(b.params()));
    BuildCheck.Comparison c = BuildCheck.compare(d, b);
    add("registers", c.differences().isEmpty() ? "agree with the manifest (" + c.compared()
        + " parameters)" : "DIFFER from the manifest: " + String.join("; ", c.differences()));
    c.notes().forEach(n -> add("note", n));
    if (!c.differences().isEmpty()) {
      warnings.add("the device's parameter registers differ from its build's manifest ("
          + String.join("; ", c.differences()) + "): the manifest is of another build with the"
          + " same id, or was edited");
    }
    m.put("known", true);
    m.put("manifest", found.match().get().file().toString());
    m.put("board", b.board());
    m.put("part", b.part());
    m.put("date", b.date());
    m.put("commit", b.commit());
    m.put("vivado", b.vivado());
    m.put("contract", b.contract());
    m.put("timing_met", b.timingMet());
    m.put("wns_ns", b.wnsNs());
    m.put("params", new LinkedHashMap<>(b.params()));
    m.put("registers_match", c.differences().isEmpty());
    json.put("build", m);
  }

  private void parameters(DeviceParams p) {
    lines.add("parameters");
    add("array", String.format("%d x %d int8 MACs (%d per cycle)", p.arrayRows(), p.arrayCols(),
        p.macsPerCycle()));
    add("buffers", String.format("ABUF %d rows (%s), WBUF %d rows (%s), ACC %d rows (%s)",
        p.abufRows(), Sizes.format((long) p.abufRows() * p.lanes()), p.wbufRows(),
        Sizes.format((long) p.wbufRows() * p.lanes()), p.accRows(),
        Sizes.format((long) p.accRows() * p.lanes() * 4)));
    add("HBM", String.format("%s in %d channels of %s", Sizes.format(p.hbmBytes()),
        p.hbmChannels(), Sizes.format(p.hbmBytes() / p.hbmChannels())));
    add("clock", String.format(Locale.ROOT, "%.1f MHz", p.clockKhz() / 1000.0));
    add("vector unit", p.hasVectorUnit() ? String.format("yes, LUT %d rows (%d tables)",
        p.lutRows(), p.lutRows() / p.tableRows()) : "none (VECTOR_UNIT = 0): activations,"
        + " depthwise convolutions and the other vector layers run on the CPU");
    Map<String, Object> m = new LinkedHashMap<>();
    for (Param q : Param.values()) {
      m.put(q.name(), p.get(q));
    }
    json.put("parameters", m);
  }

  private void status(Device d) {
    lines.add("status");
    int status = d.read(Reg.STATUS);
    int code = d.read(Reg.ERROR_CODE);
    long errorPc = d.read(Reg.ERROR_PC) & 0xFFFFFFFFL;
    long pc = d.read(Reg.PC) & 0xFFFFFFFFL;
    String words = Registers.status(status, code, errorPc);
    add("STATUS", String.format("0x%08x %s%s", status, status == 0 ? ""
        : Registers.brief(Reg.STATUS, status) + ": ", words));
    add("PC", pc + (RegField.STATUS_BUSY.isSet(status) ? " (the instruction at issue now)"
        : " (the last instruction that issued)"));
    if (RegField.STATUS_BUSY.isSet(status)) {
      warnings.add("a program is running (STATUS BUSY, at instruction " + pc + "): another"
          + " process, or a program left hanging; systole reg write CTRL 0x2 --force resets it");
    }
    json.put("status", map("STATUS", hex(status), "busy", RegField.STATUS_BUSY.isSet(status),
        "done", RegField.STATUS_DONE.isSet(status), "error", RegField.STATUS_ERROR.isSet(status),
        "ERROR_CODE", code, "ERROR_PC", errorPc, "PC", pc, "words", words));
  }

  private void interrupts(Device d) {
    lines.add("interrupts");
    int enable = d.read(Reg.INT_ENABLE);
    int pending = d.read(Reg.INT_STATUS);
    boolean line = (enable & pending) != 0;
    add("INT_ENABLE", String.format("0x%x %s", enable, Registers.brief(Reg.INT_ENABLE, enable)));
    add("INT_STATUS", String.format("0x%x %s", pending, pending == 0 ? "nothing pending"
        : Registers.brief(Reg.INT_STATUS, pending) + " pending"));
    add("line", line ? "HIGH (an enabled cause is pending)" : "low");
    json.put("interrupts", map("INT_ENABLE", hex(enable), "INT_STATUS", hex(pending), "line",
        line ? "high" : "low"));
  }

  private void counters(Device d, DeviceParams p) {
    lines.add("counters");
    Map<Counter, Long> c = d.counters();
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<Counter, Long> e : c.entrySet()) {
      add(e.getKey().name(), String.format("%,d", e.getValue()));
      m.put(e.getKey().name(), e.getValue());
    }
    json.put("counters", m);
    long before = d.counters().get(Counter.TOTAL_CYCLES);
    long t0 = System.nanoTime();
    try {
      Thread.sleep(CLOCK_WATCH_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long after = d.counters().get(Counter.TOTAL_CYCLES);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double mhz = (after - before) / seconds / 1e6;
    double expected = p.clockKhz() / 1000.0;
    String words;
    if (after <= before) {
      words = "NOT RUNNING: TOTAL_CYCLES stayed at " + before + " for " + CLOCK_WATCH_MILLIS
          + " ms";
      problems.add("the kernel clock is not running (TOTAL_CYCLES does not advance)");
    } else if (Math.abs(mhz - expected) > 0.1 * expected) {
      words = String.format(Locale.ROOT, "running at %.3f MHz, not the %.1f MHz CLOCK_KHZ says"
          + " (a simulator's clock, or a clock set up wrong)", mhz, expected);
      warnings.add(String.format(Locale.ROOT, "the kernel clock runs at %.3f MHz, CLOCK_KHZ says"
          + " %.1f MHz", mhz, expected));
    } else {
      words = String.format(Locale.ROOT, "running at %.1f MHz, as CLOCK_KHZ says", mhz);
    }
    add("clock", words);
    json.put("clock", map("running", after > before, "measured_mhz", mhz, "expected_mhz",
        expected));
  }

  private void link(Optional<Boards.DeviceLink> link, String backend) {
    lines.add("link");
    if (link.isEmpty()) {
      add("PCIe", backend.equals("emulator") ? "none: the emulator runs in this process"
          : "unknown: no link state for this device (not in sysfs, nor a sim board's pci/)");
      json.put("link", null);
      return;
    }
    Boards.DeviceLink l = link.get();
    String state = Boards.state(l.link());
    add("PCIe", Boards.describe(l.link()));
    add("from", l.source());
    switch (state) {
      case "down" -> problems.add("the PCIe link is down (" + l.link().now() + ", at most "
          + l.link().max() + "): the board is gone from the bus, in reset, or not programmed");
      case "degraded" -> warnings.add("the PCIe link trained at " + l.link().now() + ", below the "
          + l.link().max() + " it supports: check the slot's lanes and speed");
      default -> { }
    }
    Map<String, Object> m = map("source", l.source(), "state", state);
    m.put("current_speed", l.link().currentSpeed().orElse(null));
    m.put("current_width", l.link().currentWidth().isPresent()
        ? l.link().currentWidth().getAsInt() : null);
    m.put("max_speed", l.link().maxSpeed().orElse(null));
    m.put("max_width", l.link().maxWidth().isPresent() ? l.link().maxWidth().getAsInt() : null);
    json.put("link", m);
  }

  static String hex(int v) {
    return String.format("0x%08x", v);
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
