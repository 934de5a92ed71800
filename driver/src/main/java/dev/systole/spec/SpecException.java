package dev.systole.spec;

/**
 * A contract spec file that cannot be used: names the file, the line, the field and the problem, so
 * the build that reads it fails with a message a person can act on.
 */
public final class SpecException extends RuntimeException {
  private final String file;
  private final int line;
  private final String field;

  public SpecException(String file, int line, String field, String problem) {
    super(format(file, line, field, problem));
    this.file = file;
    this.line = line;
    this.field = field;
  }

  private static String format(String file, int line, String field, String problem) {
    StringBuilder sb = new StringBuilder(file);
    if (line > 0) {
      sb.append(':').append(line);
    }
    if (field != null && !field.isEmpty()) {
      sb.append(": ").append(field);
    }
    return sb.append(": ").append(problem).toString();
  }

  public String file() {
    return file;
  }

  public int line() {
    return line;
  }

  public String field() {
    return field;
  }
}
