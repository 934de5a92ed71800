package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.cli.diag.Registers;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole reg}: one register read or written by name or offset, its fields decoded. */
@Command(name = "reg", mixinStandardHelpOptions = true,
    description = "Read or write one register of the device's window, by name or offset.",
    subcommands = {RegCommand.Read.class, RegCommand.Write.class})
final class RegCommand implements Runnable {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  private static Map<String, Object> json(Registers.Target t, long value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", 1);
    m.put("name", t.counter() != null ? t.counter().name() : t.reg() != null ? t.reg().name()
        : null);
    m.put("offset", String.format("0x%03x", t.offset()));
    m.put("access", t.counter() != null ? "ro" : t.reg() != null
        ? t.reg().access().name().toLowerCase(Locale.ROOT) : null);
    m.put("value", value);
    m.put("hex", t.counter() != null ? String.format("0x%016x", value)
        : String.format("0x%08x", value));
    Map<String, Object> fields = new LinkedHashMap<>();
    if (t.reg() != null) {
      for (RegField f : t.reg().fields()) {
        fields.put(f.fieldName(), f.get((int) value));
      }
    }
    m.put("fields", fields);
    return m;
  }

  private static void print(PrintWriter out, Registers.Target t, long value) {
    if (t.counter() != null) {
      out.printf("%s = %,d (0x%x)%n", t.label(), value, value);
      return;
    }
    out.printf("%s = 0x%08x (%d)%s%n", t.label(), (int) value, value, t.reg() == null
        ? ": an offset that names no register reads 0" : "");
    if (t.reg() != null) {
      for (String f : Registers.fields(t.reg(), (int) value)) {
        out.println("  " + f);
      }
    }
  }

  /** {@code systole reg read}. */
  @Command(name = "read", mixinStandardHelpOptions = true,
      description = "Read a register (MAGIC, STATUS, ..., a counter such as CYCLES as 64 bits,"
          + " or an offset such as 0x044) and print its fields.")
  static final class Read implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Parameters(paramLabel = "REG|OFFSET", description = "Register or counter name, or offset.")
    String target;

    @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Registers.Target t = Registers.parse(target);
      try (Device d = device.open(json ? DeviceOption.silent() : out)) {
        long value = t.counter() != null ? d.counters().get(t.counter())
            : d.readRegister(t.offset()) & 0xFFFFFFFFL;
        if (json) {
          out.println(Json.write(json(t, value)));
        } else {
          print(out, t, value);
          if (t.reg() == Reg.STATUS) {
            out.println("  " + Registers.status((int) value, d.read(Reg.ERROR_CODE),
                d.read(Reg.ERROR_PC) & 0xFFFFFFFFL));
          }
        }
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** {@code systole reg write}. */
  @Command(name = "write", mixinStandardHelpOptions = true,
      description = {"Write a register and print what it reads afterwards.",
          "CTRL, INT_ENABLE and INT_STATUS act on the device (start, reset, the interrupt line)"
              + " and need --force."})
  static final class Write implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Parameters(index = "0", paramLabel = "REG|OFFSET", description = "Register name or offset.")
    String target;

    @Parameters(index = "1", paramLabel = "VALUE", description = "32-bit value, decimal or 0x.")
    String value;

    @Option(names = "--force", description = "Write a control register even though it can"
        + " abort or disturb a running program.")
    boolean force;

    @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Registers.Target t = Registers.parse(target);
      int v = Registers.parseValue(value);
      String writable = Arrays.stream(Reg.values()).filter(r -> r.access() != Reg.Access.RO)
          .map(Reg::name).collect(Collectors.joining(", "));
      if (t.counter() != null || t.reg() == null || t.reg().access() == Reg.Access.RO) {
        throw new IllegalArgumentException(String.format("%s %s: a write has no effect"
            + " (expected a writable register: %s)", t.label(), t.reg() == null
            && t.counter() == null ? "names no register" : "is read-only", writable));
      }
      if (Registers.CONTROL.contains(t.reg()) && !force) {
        throw new CommandLine.ParameterException(spec.commandLine(), String.format("%s is a"
            + " control register: writing 0x%x (%s) %s; add --force to write it", t.reg(), v,
            Registers.brief(t.reg(), v), t.reg() == Reg.CTRL ? "acts on the device at once and"
                + " can start, abort or disturb a program" : "moves the interrupt line that a"
                + " host waiting for a running program depends on"));
      }
      try (Device d = device.open(json ? DeviceOption.silent() : out)) {
        d.writeRegister(t.offset(), v);
        long now = d.readRegister(t.offset()) & 0xFFFFFFFFL;
        if (json) {
          Map<String, Object> m = json(t, now);
          m.put("written", v & 0xFFFFFFFFL);
          out.println(Json.write(m));
        } else {
          out.printf("wrote 0x%08x to %s%n", v, t.reg());
          print(out, t, now);
        }
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
