package dev.systole.host.bitstream;

import dev.systole.spec.ContractSpec;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The parameters of a build: every parameter the contract ({@code fpga/spec/contract.toml})
 * declares, at its default unless a {@code PARAM=VALUE,...} list changes it, except those the
 * RTL fixes: a parameter of {@code systole_ip} whose default is a number rather than the
 * package's default is the one value that RTL builds (none today: the RTL builds every value the
 * contract allows), so the manifest says what the bitstream will report. The list comes from the
 * spec, never from Java constants, so a parameter added to the contract is in every build's
 * manifest and IP configuration without a change here.
 */
public final class BuildParams {
  private BuildParams() {}

  /**
   * The contract's parameters with {@code assignments} applied ({@code ARRAY=8} sets ARRAY_ROWS
   * and ARRAY_COLS), in the spec's order.
   *
   * @throws IllegalArgumentException naming an assignment that is malformed, a parameter the
   *     contract does not have, or a value outside the parameter's range
   */
  public static Map<String, Long> resolve(ContractSpec spec, Map<String, Long> fixed,
      String assignments) {
    Map<String, Long> params = new LinkedHashMap<>();
    Map<String, ContractSpec.Param> byName = new LinkedHashMap<>();
    for (ContractSpec.Param p : spec.params()) {
      params.put(p.name(), fixed.getOrDefault(p.name(), p.defaultValue()));
      byName.put(p.name(), p);
    }
    if (assignments == null || assignments.isBlank()) {
      return params;
    }
    params = resolveAssignments(params, byName, assignments);
    for (Map.Entry<String, Long> f : fixed.entrySet()) {
      if (params.containsKey(f.getKey()) && !params.get(f.getKey()).equals(f.getValue())) {
        throw new IllegalArgumentException("parameter " + f.getKey() + " = "
            + params.get(f.getKey()) + ": this RTL builds only " + f.getKey() + " = "
            + f.getValue() + " (systole_ip fixes it)");
      }
    }
    return params;
  }

  /**
   * The parameters {@code systole_ip} fixes: those whose default in {@code ipTop} is a number
   * (the others default to the contract's, through the package), by contract name.
   *
   * @throws IllegalArgumentException if the file cannot be read
   */
  public static Map<String, Long> fixed(java.nio.file.Path ipTop) {
    String text;
    try {
      text = java.nio.file.Files.readString(ipTop);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read " + ipTop + ": " + e.getMessage(), e);
    }
    Map<String, Long> fixed = new LinkedHashMap<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "parameter\\s+int\\s+unsigned\\s+(\\w+)\\s*=\\s*(\\d+)").matcher(text);
    while (m.find()) {
      if (!m.group(1).equals("BuildId")) {
        fixed.put(contractName(m.group(1)), Long.parseLong(m.group(2)));
      }
    }
    return fixed;
  }

  /** The contract name of an IP parameter name: VectorUnit is VECTOR_UNIT. */
  static String contractName(String ipName) {
    return ipName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  private static Map<String, Long> resolveAssignments(Map<String, Long> params,
      Map<String, ContractSpec.Param> byName, String assignments) {
    for (String assignment : assignments.split(",")) {
      int eq = assignment.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("parameter \"" + assignment.strip()
            + "\" (expected PARAM=VALUE, e.g. ARRAY_ROWS=8)");
      }
      String key = assignment.substring(0, eq).strip().toUpperCase(Locale.ROOT);
      String text = assignment.substring(eq + 1).strip();
      long value = parse(key, text);
      if (key.equals("ARRAY") && byName.containsKey("ARRAY_ROWS")
          && byName.containsKey("ARRAY_COLS")) {
        set(params, byName.get("ARRAY_ROWS"), value);
        set(params, byName.get("ARRAY_COLS"), value);
        continue;
      }
      ContractSpec.Param p = byName.get(key);
      if (p == null) {
        throw new IllegalArgumentException("parameter \"" + key + "\" is not in the contract"
            + " (expected one of " + String.join(", ", byName.keySet()) + ")");
      }
      set(params, p, value);
    }
    return params;
  }

  private static long parse(String key, String text) {
    try {
      return text.startsWith("0x") || text.startsWith("0X")
          ? Long.parseLong(text.substring(2).replace("_", ""), 16)
          : Long.parseLong(text.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("parameter " + key + " = \"" + text
          + "\" is not a number (expected a decimal or 0x hexadecimal integer)", e);
    }
  }

  private static void set(Map<String, Long> params, ContractSpec.Param p, long value) {
    if (value < p.min() || value > p.max()) {
      throw new IllegalArgumentException(String.format("parameter %s = %d is out of range"
          + " (expected %d to %d)", p.name(), value, p.min(), p.max()));
    }
    params.put(p.name(), value);
  }

  /** {@code ARRAY_ROWS=16,ARRAY_COLS=16,...}: the parameters as one line. */
  public static String format(Map<String, Long> params) {
    return params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }

  /**
   * The name of the IP parameter that carries contract parameter {@code name}: UpperCamelCase,
   * as {@code systole_ip} and the generated SystemVerilog package name them (ARRAY_ROWS is
   * ArrayRows).
   */
  public static String ipName(String name) {
    StringBuilder b = new StringBuilder();
    for (String part : name.toLowerCase(Locale.ROOT).split("_")) {
      if (!part.isEmpty()) {
        b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    return b.toString();
  }
}
