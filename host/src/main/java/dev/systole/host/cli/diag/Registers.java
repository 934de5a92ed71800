package dev.systole.host.cli.diag;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Register names and offsets as a user types them, and register values in words. Everything comes
 * from the generated contract view ({@link Reg}, {@link RegField}), so a register added to the
 * spec is known here without an edit.
 */
public final class Registers {
  /**
   * Registers whose writes act on the device beyond storing a value: CTRL starts, resets and
   * clears; INT_ENABLE and INT_STATUS move the interrupt line a waiting host depends on. Writing
   * them under a running program can abort it or make its host miss its end.
   */
  public static final Set<Reg> CONTROL = EnumSet.of(Reg.CTRL, Reg.INT_ENABLE, Reg.INT_STATUS);

  private Registers() {}

  /** What a user named: a register at an offset (null if none is there), or a 64-bit counter. */
  public record Target(int offset, Reg reg, Counter counter) {
    public String label() {
      if (counter != null) {
        return String.format("%s (0x%03x/0x%03x, 64-bit counter)", counter, counter.lo().offset(),
            counter.hi().offset());
      }
      return reg != null ? String.format("%s (0x%03x, %s)", reg, offset,
          reg.access().name().toLowerCase(Locale.ROOT)) : String.format("0x%03x (no register)",
          offset);
    }
  }

  /**
   * A register name ({@code STATUS}, any case), a counter name ({@code CYCLES}) or an offset
   * ({@code 0x44} or {@code 68}).
   *
   * @throws IllegalArgumentException for a name the contract does not have, or an offset outside
   *     the window or not a multiple of 4, naming the valid range
   */
  public static Target parse(String text) {
    String t = text.strip();
    String upper = t.toUpperCase(Locale.ROOT);
    for (Reg r : Reg.values()) {
      if (r.name().equals(upper)) {
        return new Target(r.offset(), r, null);
      }
    }
    for (Counter c : Counter.values()) {
      if (c.name().equals(upper)) {
        return new Target(c.lo().offset(), null, c);
      }
    }
    long offset;
    try {
      offset = Long.decode(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("no register \"" + text + "\" (expected a register name"
          + " of the contract, " + Arrays.stream(Reg.values()).map(Reg::name)
              .collect(Collectors.joining(", ")) + ", a counter name such as CYCLES, or an offset"
          + " such as 0x044)");
    }
    checkOffset(offset);
    return new Target((int) offset, Reg.atOffset(offset), null);
  }

  /** Refuses an offset outside the register window or not 4-byte aligned. */
  static void checkOffset(long offset) {
    if (offset < 0 || offset > Contract.REGISTER_WINDOW_BYTES - 4 || (offset & 3) != 0) {
      throw new IllegalArgumentException(String.format("register offset %s (expected a multiple"
          + " of 4 in 0x000..0x%03x, the %d-byte register window)", offset < 0 ? "-0x"
          + Long.toHexString(-offset) : "0x" + Long.toHexString(offset),
          Contract.REGISTER_WINDOW_BYTES - 4, Contract.REGISTER_WINDOW_BYTES));
    }
  }

  /**
   * A 32-bit value as typed: decimal or 0x hexadecimal, 0 to 0xFFFFFFFF, or a negative decimal
   * down to -2^31 as its two's complement.
   */
  public static int parseValue(String text) {
    long v;
    try {
      v = Long.decode(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("register value \"" + text + "\" is not a number"
          + " (expected decimal or 0x hexadecimal)");
    }
    if (v < Integer.MIN_VALUE || v > 0xFFFFFFFFL) {
      throw new IllegalArgumentException(String.format("register value %s does not fit 32 bits"
          + " (expected -2147483648 to 0xffffffff)", text.strip()));
    }
    return (int) v;
  }

  /** Each field of {@code reg} with its value, in bit order; empty for a one-value register. */
  public static List<String> fields(Reg reg, int value) {
    List<String> out = new ArrayList<>();
    for (RegField f : reg.fields()) {
      String bits = f.width() == 1 ? "[" + f.lsb() + "]" : "[" + (f.lsb() + f.width() - 1) + ":"
          + f.lsb() + "]";
      out.add(String.format("%-8s %-6s = %d  %s", bits, f.fieldName(), f.get(value), f.doc()));
    }
    return out;
  }

  /** The set one-bit fields and the multi-bit ones, {@code DONE ERROR} or {@code MAJOR=1 MINOR=0}. */
  public static String brief(Reg reg, int value) {
    List<String> parts = new ArrayList<>();
    for (RegField f : reg.fields()) {
      if (f.width() == 1) {
        if (f.isSet(value)) {
          parts.add(f.fieldName());
        }
      } else {
        parts.add(f.fieldName() + "=" + f.get(value));
      }
    }
    return parts.isEmpty() ? "none" : String.join(" ", parts);
  }

  /** STATUS in words: what the device is doing and how its last program ended. */
  public static String status(int status, int errorCode, long errorPc) {
    boolean busy = RegField.STATUS_BUSY.isSet(status);
    boolean done = RegField.STATUS_DONE.isSet(status);
    boolean error = RegField.STATUS_ERROR.isSet(status);
    if (busy) {
      return "BUSY: a program is running";
    }
    if (!done) {
      return "idle: no program has run since power-on or the last soft reset";
    }
    if (!error) {
      return "idle: the last program halted cleanly";
    }
    ErrorCode code = ErrorCode.fromCode(errorCode);
    return "idle: the last program failed with " + (code == null ? "unknown error code "
        + errorCode : code.name() + " (" + code.doc() + ")") + " at instruction " + errorPc;
  }
}
