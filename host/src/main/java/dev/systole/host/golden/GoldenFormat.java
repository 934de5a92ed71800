package dev.systole.host.golden;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Param;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text form of a {@link GoldenProgram}: readable in a review, diffable, and free of any
 * Java-specific encoding, so a C++ testbench or a script can replay it too.
 *
 * <pre>
 * # description lines
 * name gemm_16x16x16
 * requires ARRAY_ROWS=16 ARRAY_COLS=16
 * program 0x0
 *   LOAD buf=ABUF ...
 *   HALT
 * end
 * data 0x10000          (hex bytes, any line breaks)
 *   00010203...
 * end
 * expect ok             (or: expect error BUF_RANGE at 3)
 * expect data 0x20000
 *   ...
 * end
 * expect counter INSTRET 5
 * </pre>
 *
 * <p>Reading is strict where a lenient reader would lose something: a statement a program makes
 * once (its name, program, status, a counter's value, a parameter it requires) is refused the
 * second time, and blocks of data or of expected data may not overlap, since two statements of
 * one thing either contradict each other or leave a reader to pick one silently. Unknown names
 * are refused with the known ones listed.
 */
public final class GoldenFormat {
  private static final HexFormat HEX = HexFormat.of();
  private static final int HEX_LINE_BYTES = 32;

  private GoldenFormat() {}

  public static String write(GoldenProgram g) {
    StringBuilder sb = new StringBuilder();
    for (String line : g.description().split("\n")) {
      sb.append("# ").append(line).append('\n');
    }
    sb.append("name ").append(g.name()).append('\n');
    if (!g.requires().isEmpty()) {
      sb.append("requires");
      g.requires().forEach((p, v) -> sb.append(' ').append(p).append('=').append(v));
      sb.append('\n');
    }
    sb.append(String.format("program 0x%x%n", g.programAddress()));
    for (Instruction in : g.program()) {
      sb.append("  ").append(in).append('\n');
    }
    sb.append("end\n");
    for (GoldenProgram.Region r : g.inputs()) {
      region(sb, "data", r);
    }
    if (g.expectedError() == ErrorCode.NONE) {
      sb.append("expect ok\n");
    } else {
      sb.append("expect error ").append(g.expectedError()).append(" at ")
          .append(g.expectedErrorPc()).append('\n');
    }
    for (GoldenProgram.Region r : g.expectedData()) {
      region(sb, "expect data", r);
    }
    g.expectedCounters().forEach((c, v) -> sb.append("expect counter ").append(c).append(' ')
        .append(v).append('\n'));
    return sb.toString();
  }

  private static void region(StringBuilder sb, String keyword, GoldenProgram.Region r) {
    sb.append(String.format("%s 0x%x%n", keyword, r.address()));
    byte[] b = r.bytes();
    for (int i = 0; i < b.length; i += HEX_LINE_BYTES) {
      sb.append("  ").append(HEX.formatHex(b, i, Math.min(b.length, i + HEX_LINE_BYTES)))
          .append('\n');
    }
    sb.append("end\n");
  }

  /**
   * Parses a golden file.
   *
   * @param source names the file in error messages
   * @throws IllegalArgumentException naming the source, the line and the problem
   */
  public static GoldenProgram parse(String source, String text) {
    String[] lines = text.split("\n", -1);
    StringBuilder description = new StringBuilder();
    String name = null;
    Map<Param, Long> requires = new EnumMap<>(Param.class);
    Long programAddress = null;
    List<Instruction> program = new ArrayList<>();
    List<GoldenProgram.Region> inputs = new ArrayList<>();
    List<GoldenProgram.Region> expected = new ArrayList<>();
    Map<Counter, Long> counters = new EnumMap<>(Counter.class);
    ErrorCode error = null;
    long errorPc = 0;
    /** The line that set each single-valued statement, to name both when one is repeated. */
    Map<String, Integer> said = new java.util.HashMap<>();
    int i = 0;
    try {
      while (i < lines.length) {
        String line = lines[i].strip();
        int lineNo = i + 1;
        i++;
        if (line.isEmpty()) {
          continue;
        }
        if (line.startsWith("#")) {
          description.append(description.length() == 0 ? "" : "\n")
              .append(line.substring(1).strip());
          continue;
        }
        String[] t = line.split("\\s+");
        try {
          switch (t[0]) {
            case "name" -> {
              once(said, "name", lineNo);
              name = arg(t, 1);
            }
            case "requires" -> {
              for (int k = 1; k < t.length; k++) {
                require(t[k], requires, said, lineNo);
              }
            }
            case "program" -> {
              once(said, "program", lineNo);
              programAddress = number(arg(t, 1));
              int start = i;
              i = blockEnd(lines, i, lineNo);
              for (int k = start; k < i - 1; k++) {
                String code = lines[k].replaceFirst("[#;].*", "");
                if (!code.isBlank()) {
                  try {
                    program.add(Assembler.parse(lines[k]));
                  } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("line " + (k + 1) + ": " + e.getMessage(),
                        e);
                  }
                }
              }
            }
            case "data" -> {
              long addr = number(arg(t, 1));
              int start = i;
              i = blockEnd(lines, i, lineNo);
              inputs.add(region(inputs, addr, hex(lines, start, i - 1), "data"));
            }
            case "expect" -> {
              switch (arg(t, 1)) {
                case "ok" -> {
                  once(said, "expect ok / expect error", lineNo);
                  error = ErrorCode.NONE;
                }
                case "error" -> {
                  once(said, "expect ok / expect error", lineNo);
                  error = named(ErrorCode.class, arg(t, 2), "error code");
                  if (error == ErrorCode.NONE) {
                    throw new IllegalArgumentException(
                        "expect error NONE (expected a code other than NONE, or expect ok)");
                  }
                  if (!arg(t, 3).equals("at")) {
                    throw new IllegalArgumentException("expected: expect error CODE at PC");
                  }
                  errorPc = number(arg(t, 4));
                }
                case "data" -> {
                  long addr = number(arg(t, 2));
                  int start = i;
                  i = blockEnd(lines, i, lineNo);
                  expected.add(region(expected, addr, hex(lines, start, i - 1), "expect data"));
                }
                case "counter" -> counter(t, counters, said, lineNo);
                default -> throw new IllegalArgumentException("unknown expectation \"" + t[1]
                    + "\" (expected ok, error, data or counter)");
              }
            }
            default -> throw new IllegalArgumentException("unknown keyword \"" + t[0]
                + "\" (expected name, requires, program, data or expect)");
          }
        } catch (IllegalArgumentException e) {
          String msg = e.getMessage();
          throw new IllegalArgumentException(msg != null && msg.startsWith("line ") ? msg
              : "line " + lineNo + ": " + msg, e);
        }
      }
      if (name == null || programAddress == null || error == null) {
        throw new IllegalArgumentException("missing " + (name == null ? "name"
            : programAddress == null ? "program" : "expect ok / expect error"));
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    return new GoldenProgram(name, description.toString(), requires, programAddress, program,
        inputs, error, errorPc, expected, counters);
  }

  /** One {@code PARAM=VALUE} of a {@code requires} line, into {@code requires}. */
  private static void require(String assignment, Map<Param, Long> requires,
      Map<String, Integer> said, int lineNo) {
    String[] kv = assignment.split("=", 2);
    if (kv.length != 2) {
      throw new IllegalArgumentException("\"" + assignment + "\" is not PARAM=VALUE");
    }
    Param p = named(Param.class, kv[0].toUpperCase(Locale.ROOT), "parameter");
    long v = number(kv[1]);
    if (v < p.min() || v > p.max()) {
      throw new IllegalArgumentException(String.format(
          "requires %s=%d (expected %d to %d)", p, v, p.min(), p.max()));
    }
    once(said, "requires " + p, lineNo);
    requires.put(p, v);
  }

  /** An {@code expect counter NAME VALUE} line, into {@code counters}. */
  private static void counter(String[] t, Map<Counter, Long> counters,
      Map<String, Integer> said, int lineNo) {
    Counter c = named(Counter.class, arg(t, 2), "counter");
    once(said, "expect counter " + c, lineNo);
    counters.put(c, number(arg(t, 3)));
  }

  /**
   * Refuses a second statement of what a program may say once ({@code name}, its status, a
   * counter's value, a parameter it requires): two could only agree by chance, and a reader
   * keeping either one would silently drop the other.
   */
  private static void once(Map<String, Integer> said, String what, int lineNo) {
    Integer first = said.putIfAbsent(what, lineNo);
    if (first != null) {
      throw new IllegalArgumentException(what + " is given twice, on line " + first
          + " and again here (expected once)");
    }
  }

  /** The constant of {@code type} called {@code name}, or an error listing the names. */
  private static <E extends Enum<E>> E named(Class<E> type, String name, String what) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name());
    }
    throw new IllegalArgumentException("unknown " + what + " \"" + name + "\" (expected one of "
        + String.join(", ", names) + ")");
  }

  /**
   * A region of card memory, refused if it shares bytes with one given before: two blocks that
   * both write, or both expect, the same address contradict each other or repeat themselves.
   */
  private static GoldenProgram.Region region(List<GoldenProgram.Region> before, long address,
      byte[] bytes, String keyword) {
    if (Long.compareUnsigned(address + bytes.length, address) < 0) {
      throw new IllegalArgumentException(String.format("%s 0x%x (%d bytes) runs past the last"
          + " address, 0x%x", keyword, address, bytes.length, -1L));
    }
    for (GoldenProgram.Region r : before) {
      if (Long.compareUnsigned(address, r.address() + r.bytes().length) < 0
          && Long.compareUnsigned(r.address(), address + bytes.length) < 0) {
        throw new IllegalArgumentException(String.format("%s 0x%x (%d bytes) overlaps the %s"
            + " block at 0x%x (%d bytes) (expected each address once)", keyword, address,
            bytes.length, keyword, r.address(), r.bytes().length));
      }
    }
    return new GoldenProgram.Region(address, bytes);
  }

  private static String arg(String[] t, int k) {
    if (k >= t.length) {
      throw new IllegalArgumentException("\"" + String.join(" ", t) + "\" is missing a value");
    }
    return t[k];
  }

  private static long number(String s) {
    try {
      return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + s + "\" is not a number", e);
    }
  }

  /** Index of the line after the {@code end} that closes a block starting at {@code from}. */
  private static int blockEnd(String[] lines, int from, int openedAt) {
    for (int k = from; k < lines.length; k++) {
      if (lines[k].strip().equals("end")) {
        return k + 1;
      }
    }
    throw new IllegalArgumentException("block opened on line " + openedAt + " has no end");
  }

  private static byte[] hex(String[] lines, int from, int to) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int k = from; k < to; k++) {
      String s = lines[k].strip().replace(" ", "");
      if (s.isEmpty()) {
        continue;
      }
      try {
        out.writeBytes(HEX.parseHex(s));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + (k + 1) + ": not hex bytes: " + s, e);
      }
    }
    return out.toByteArray();
  }
}
