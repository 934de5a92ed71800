package dev.systole.spec;

import java.util.List;

/**
 * Reads the subset of TOML the contract is written in: {@code [table]}, {@code [[array]]} and
 * {@code [[parent.child]]} headers, {@code key = value} with integers (decimal or {@code 0x} hex,
 * {@code _} between digits, optional sign), basic strings with the usual escapes, and booleans.
 * Comments run from {@code #} to the end of the line.
 *
 * <p>A subset keeps the reader small enough to trust and keeps the file readable by any TOML tool,
 * while no dependency enters the build for it. Anything outside the subset is an error with the
 * line, never a guess.
 */
final class TomlReader {
  private final String file;

  private TomlReader(String file) {
    this.file = file;
  }

  static TomlTable parse(String file, String text) {
    return new TomlReader(file).parse(text);
  }

  private TomlTable parse(String text) {
    TomlTable root = new TomlTable(file);
    TomlTable current = root;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int lineNo = i + 1;
      String line = stripComment(lines[i], lineNo).strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("[[")) {
        if (!line.endsWith("]]")) {
          throw new SpecException(file, lineNo, "", "array header must end with ]]");
        }
        current = arrayHeader(root, line.substring(2, line.length() - 2).strip(), lineNo);
      } else if (line.startsWith("[")) {
        if (!line.endsWith("]")) {
          throw new SpecException(file, lineNo, "", "table header must end with ]");
        }
        String name = line.substring(1, line.length() - 1).strip();
        checkKey(name, lineNo);
        current = root.addTable(name, lineNo);
      } else {
        int eq = line.indexOf('=');
        if (eq < 0) {
          throw new SpecException(file, lineNo, "", "expected key = value, found: " + line);
        }
        String key = line.substring(0, eq).strip();
        checkKey(key, lineNo);
        current.put(key, value(line.substring(eq + 1).strip(), current.qualify(key), lineNo), lineNo);
      }
    }
    return root;
  }

  private TomlTable arrayHeader(TomlTable root, String name, int lineNo) {
    String[] parts = name.split("\\.", -1);
    for (String p : parts) {
      checkKey(p, lineNo);
    }
    if (parts.length == 1) {
      return root.addArrayElement(parts[0], lineNo);
    }
    if (parts.length == 2) {
      List<TomlTable> parents = root.lastArray(parts[0]);
      if (parents == null || parents.isEmpty()) {
        throw new SpecException(
            file, lineNo, name, "[[" + name + "]] comes before any [[" + parts[0] + "]]");
      }
      return parents.get(parents.size() - 1).addArrayElement(parts[1], lineNo);
    }
    throw new SpecException(file, lineNo, name, "only two levels of [[a.b]] are supported");
  }

  private void checkKey(String key, int lineNo) {
    if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new SpecException(
          file, lineNo, key, "not a valid key (expected letters, digits and _)");
    }
  }

  private String stripComment(String line, int lineNo) {
    boolean inString = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (inString && c == '\\') {
        i++;
      } else if (c == '"') {
        inString = !inString;
      } else if (c == '#' && !inString) {
        return line.substring(0, i);
      }
    }
    if (inString) {
      throw new SpecException(file, lineNo, "", "unterminated string");
    }
    return line;
  }

  private Object value(String raw, String field, int lineNo) {
    if (raw.isEmpty()) {
      throw new SpecException(file, lineNo, field, "missing value after =");
    }
    if (raw.startsWith("\"")) {
      return string(raw, field, lineNo);
    }
    if (raw.equals("true") || raw.equals("false")) {
      return Boolean.valueOf(raw);
    }
    return integer(raw, field, lineNo);
  }

  private String string(String raw, String field, int lineNo) {
    StringBuilder sb = new StringBuilder();
    int i = 1;
    for (; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '"') {
        break;
      }
      if (c == '\\') {
        if (++i >= raw.length()) {
          break;
        }
        char e = raw.charAt(i);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case '"' -> sb.append('"');
          case '\\' -> sb.append('\\');
          default -> throw new SpecException(file, lineNo, field, "unknown escape \\" + e);
        }
      } else {
        sb.append(c);
      }
    }
    if (i >= raw.length()) {
      throw new SpecException(file, lineNo, field, "unterminated string");
    }
    if (i != raw.length() - 1) {
      throw new SpecException(
          file, lineNo, field, "unexpected text after string: " + raw.substring(i + 1));
    }
    return sb.toString();
  }

  private Long integer(String raw, String field, int lineNo) {
    String s = raw;
    boolean negative = false;
    if (s.startsWith("+") || s.startsWith("-")) {
      negative = s.charAt(0) == '-';
      s = s.substring(1);
    }
    int radix = 10;
    if (s.startsWith("0x") || s.startsWith("0X")) {
      radix = 16;
      s = s.substring(2);
    }
    if (s.isEmpty() || s.startsWith("_") || s.endsWith("_") || s.contains("__")) {
      throw new SpecException(file, lineNo, field, "not a value: " + raw
          + " (expected an integer, \"string\", true or false)");
    }
    try {
      long v = Long.parseLong(s.replace("_", ""), radix);
      return negative ? -v : v;
    } catch (NumberFormatException e) {
      throw new SpecException(file, lineNo, field, "not a value: " + raw
          + " (expected an integer, \"string\", true or false)");
    }
  }
}
