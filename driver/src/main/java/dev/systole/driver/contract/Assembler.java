package dev.systole.driver.contract;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads instructions written the way {@link Instruction#toString()} prints them:
 * {@code MNEMONIC field=value ...}, fields in any order and omitted fields zero. Values are
 * decimal or {@code 0x} hex, buffers by name ({@code buf=ACC}), wait sets by unit names joined
 * with {@code +} ({@code wait=LOAD+EXEC}). {@code .word W0 W1 W2 W3} gives the four raw 64-bit
 * words, for programs that must hold an unknown opcode or reserved bits. Comments start with
 * {@code #} or {@code ;}.
 */
public final class Assembler {
  private Assembler() {}

  /**
   * Parses one instruction.
   *
   * @throws IllegalArgumentException naming the token and what was expected
   */
  public static Instruction parse(String line) {
    String text = stripComment(line).strip();
    if (text.isEmpty()) {
      throw new IllegalArgumentException("empty line (expected an instruction)");
    }
    String[] tokens = text.split("\\s+");
    if (tokens[0].equals(".word")) {
      if (tokens.length != Instruction.WORDS + 1) {
        throw new IllegalArgumentException(".word takes " + Instruction.WORDS
            + " 64-bit words, found " + (tokens.length - 1) + ": " + text);
      }
      long[] words = new long[Instruction.WORDS];
      for (int i = 0; i < words.length; i++) {
        words[i] = parseNumber(tokens[i + 1], ".word");
      }
      return Instruction.ofWords(words);
    }
    Opcode op;
    try {
      op = Opcode.valueOf(tokens[0].toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown instruction \"" + tokens[0]
          + "\" (expected one of " + java.util.Arrays.toString(Opcode.values()) + " or .word)");
    }
    Instruction in = Instruction.of(op);
    Set<String> seen = new HashSet<>();
    for (int i = 1; i < tokens.length; i++) {
      String tok = tokens[i];
      int eq = tok.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(op + ": \"" + tok + "\" is not field=value");
      }
      String name = tok.substring(0, eq);
      InstrField f = op.field(name);
      if (f == null || f == Isa.OPCODE) {
        throw new IllegalArgumentException(op + " has no field \"" + name + "\" (expected one of "
            + fieldNames(op) + ")");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException(op + ": field " + name + " given twice");
      }
      in = in.with(f, parseValue(f, tok.substring(eq + 1), op));
    }
    return in;
  }

  /** Parses a program: one instruction per non-blank, non-comment line. */
  public static List<Instruction> parseProgram(String text) {
    List<Instruction> out = new ArrayList<>();
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (stripComment(lines[i]).isBlank()) {
        continue;
      }
      try {
        out.add(parse(lines[i]));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static String stripComment(String line) {
    int cut = line.length();
    for (char c : new char[] {'#', ';'}) {
      int i = line.indexOf(c);
      if (i >= 0) {
        cut = Math.min(cut, i);
      }
    }
    return line.substring(0, cut);
  }

  private static String fieldNames(Opcode op) {
    List<String> names = new ArrayList<>();
    for (InstrField f : op.fields()) {
      if (f != Isa.OPCODE) {
        names.add(f.name());
      }
    }
    return String.join(", ", names);
  }

  private static long parseValue(InstrField f, String text, Opcode op) {
    String what = op + " " + f.name();
    switch (f.kind()) {
      case BUFFER -> {
        for (Buffer b : Buffer.values()) {
          if (b.name().equalsIgnoreCase(text)) {
            return b.id();
          }
        }
        return parseNumber(text, what);
      }
      case WAIT -> {
        long mask = 0;
        for (String part : text.split("\\+")) {
          Unit unit = null;
          for (Unit u : Unit.values()) {
            if (u.waitBit() >= 0 && u.name().equalsIgnoreCase(part)) {
              unit = u;
            }
          }
          mask |= unit != null ? unit.waitMask() : parseNumber(part, what);
        }
        return mask;
      }
      default -> {
        return parseNumber(text, what);
      }
    }
  }

  private static long parseNumber(String text, String what) {
    try {
      String t = text.replace("_", "");
      boolean negative = t.startsWith("-");
      if (negative) {
        t = t.substring(1);
      }
      long v = t.startsWith("0x") || t.startsWith("0X") ? Long.parseUnsignedLong(t.substring(2), 16)
          : Long.parseLong(t);
      return negative ? -v : v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + ": \"" + text + "\" is not a number", e);
    }
  }
}
