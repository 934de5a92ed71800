package dev.systole.host.bitstream;

import dev.systole.host.cli.diag.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.systole.host.io.OutputFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one bitstream build is: the board and part, the Vivado that built it, the contract it
 * implements and every parameter it was built with, its build id (what the bitstream's BUILD_ID
 * register returns), when and from which commit, whether it met timing, and a SHA-256 of each
 * output. Written as {@code manifest.json} into the build's folder once the build is done, whole
 * or not at all; read by {@code systole examine}, {@code validate} and {@code program}.
 *
 * @param board the board's name ({@code u55c})
 * @param part the FPGA part
 * @param buildId the build id
 * @param date when the build started, ISO-8601 in UTC
 * @param vivado the Vivado version, {@code 2023.2}
 * @param contractMajor the contract's major version
 * @param contractMinor the contract's minor version
 * @param commit the git commit built, with {@code -dirty} if the work tree had changes, or
 *     {@code unknown}
 * @param params every contract parameter, by name, in the spec's order
 * @param timingMet whether every timing constraint was met
 * @param wnsNs the worst negative slack (setup) in ns, null if the report did not say
 * @param whsNs the worst hold slack in ns, null if the report did not say
 * @param outputs each output file's name, with its SHA-256 and size
 */
public record Manifest(String board, String part, int buildId, String date, String vivado,
    int contractMajor, int contractMinor, String commit, Map<String, Long> params,
    boolean timingMet, Double wnsNs, Double whsNs, Map<String, Output> outputs) {
  /** The manifest's file name in a build folder. */
  public static final String FILE = "manifest.json";
  /** The version of the manifest's format. */
  public static final int SCHEMA = 1;

  /** An output file: its SHA-256 in hexadecimal and its size. */
  public record Output(String sha256, long bytes) {}

  public Manifest {
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
    outputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }

  /** {@code 0x1234abcd}. */
  public String buildIdHex() {
    return String.format("0x%08x", buildId);
  }

  /** {@code 1.0}. */
  public String contract() {
    return contractMajor + "." + contractMinor;
  }

  /** The output whose name ends with {@code suffix} ({@code .bit}), if any. */
  public java.util.Optional<String> output(String suffix) {
    return outputs.keySet().stream().filter(n -> n.endsWith(suffix)).findFirst();
  }

  /** The manifest as the JSON object that {@code manifest.json} holds. */
  public Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", SCHEMA);
    m.put("board", board);
    m.put("part", part);
    m.put("build_id", buildIdHex());
    m.put("date", date);
    m.put("vivado", vivado);
    m.put("contract", contract());
    m.put("commit", commit);
    m.put("params", new LinkedHashMap<>(params));
    Map<String, Object> timing = new LinkedHashMap<>();
    timing.put("met", timingMet);
    timing.put("wns_ns", wnsNs);
    timing.put("whs_ns", whsNs);
    m.put("timing", timing);
    Map<String, Object> out = new LinkedHashMap<>();
    outputs.forEach((name, o) -> {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("sha256", o.sha256());
      f.put("bytes", o.bytes());
      out.put(name, f);
    });
    m.put("outputs", out);
    return m;
  }

  /**
   * Writes {@code dir/manifest.json} whole or not at all: to a temporary file beside it, then
   * renamed over it.
   */
  public Path write(Path dir) {
    Path file = dir.resolve(FILE);
    try {
      OutputFiles.write(file, o -> o.write((Json.write(json()) + "\n")
          .getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    return file;
  }

  /**
   * Reads a manifest.
   *
   * @throws IllegalArgumentException naming the file and what is missing or malformed
   * @throws UncheckedIOException if it cannot be read
   */
  public static Manifest read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Parses a manifest's JSON text. */
  static Manifest parse(String text) {
    if (!(Json.read(text) instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("not a JSON object (expected a build manifest)");
    }
    long schema = number(m, "schema");
    if (schema != SCHEMA) {
      throw new IllegalArgumentException("schema " + schema + " (expected " + SCHEMA + ")");
    }
    String id = string(m, "build_id");
    int buildId;
    try {
      buildId = (int) Long.parseLong(id.startsWith("0x") ? id.substring(2) : "!", 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("build_id \"" + id + "\" (expected 0x and 8 hex"
          + " digits)", e);
    }
    String contract = string(m, "contract");
    String[] v = contract.split("\\.");
    int major;
    int minor;
    try {
      if (v.length != 2) {
        throw new NumberFormatException(contract);
      }
      major = Integer.parseInt(v[0]);
      minor = Integer.parseInt(v[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("contract \"" + contract + "\" (expected MAJOR.MINOR)",
          e);
    }
    Map<String, Long> params = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : object(m, "params").entrySet()) {
      if (!(e.getValue() instanceof Long l)) {
        throw new IllegalArgumentException("params." + e.getKey() + " is " + e.getValue()
            + " (expected an integer)");
      }
      params.put((String) e.getKey(), l);
    }
    Map<?, ?> timing = object(m, "timing");
    if (!(timing.get("met") instanceof Boolean met)) {
      throw new IllegalArgumentException("no timing.met (expected true or false)");
    }
    Map<String, Output> outputs = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : object(m, "outputs").entrySet()) {
      if (!(e.getValue() instanceof Map<?, ?> o)) {
        throw new IllegalArgumentException("outputs." + e.getKey() + " is not an object");
      }
      outputs.put((String) e.getKey(), new Output(string(o, "sha256"), number(o, "bytes")));
    }
    return new Manifest(string(m, "board"), string(m, "part"), buildId, string(m, "date"),
        string(m, "vivado"), major, minor, string(m, "commit"), params, met,
        real(timing.get("wns_ns")), real(timing.get("whs_ns")), outputs);
  }

  private static String string(Map<?, ?> m, String key) {
    if (!(m.get(key) instanceof String s)) {
      throw new IllegalArgumentException("no \"" + key + "\" string (expected one in every"
          + " manifest)");
    }
    return s;
  }

  private static long number(Map<?, ?> m, String key) {
    if (!(m.get(key) instanceof Long l)) {
      throw new IllegalArgumentException("no \"" + key + "\" integer (expected one in every"
          + " manifest)");
    }
    return l;
  }

  private static Map<?, ?> object(Map<?, ?> m, String key) {
    if (!(m.get(key) instanceof Map<?, ?> o)) {
      throw new IllegalArgumentException("no \"" + key + "\" object (expected one in every"
          + " manifest)");
    }
    return o;
  }

  private static Double real(Object v) {
    return v instanceof Number n ? n.doubleValue() : null;
  }
}
