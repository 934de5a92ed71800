package dev.systole.spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The accelerator contract read from {@code fpga/spec/contract.toml} and checked for consistency.
 * Generators for the Java view and the SystemVerilog package read this model, never the file, so
 * every rule about what a well-formed contract is lives here once: names unique, registers aligned
 * and not overlapping, instruction fields inside 256 bits, not crossing a 64-bit word and not
 * overlapping, defaults within their ranges.
 */
public final class ContractSpec {
  /** Bits of every instruction that hold the opcode; the next {@link #WAIT_WIDTH} hold the wait set. */
  public static final int OPCODE_WIDTH = 8;
  public static final int WAIT_LSB = 8;
  public static final int WAIT_WIDTH = 4;
  public static final int INSTRUCTION_BITS = 256;

  public record Param(String name, long defaultValue, long min, long max, String register,
      String doc) {}

  /** {@code requires} names a 0/1 parameter that must be 1 for the buffer to exist, or is empty. */
  public record Buffer(String name, int id, int laneBytes, String rowsParam, String requires,
      String doc) {}

  /**
   * {@code requires} names a 0/1 parameter that must be 1 for the unit to exist, or is empty;
   * {@code otherwise} names the unit that runs its instructions, and that its wait bit names, on a
   * build without it.
   */
  public record Unit(String name, int waitBit, String requires, String otherwise, String doc) {}

  public record ErrorCode(String name, int code, String doc) {}

  public record RegField(String name, int lsb, int width, String doc) {}

  public record Register(String name, int offset, String access, long reset, String doc,
      List<RegField> fields) {}

  public record Counter(String name, int offset, String doc) {}

  /** A field of an instruction. {@code max} is the legal maximum: the encoding maximum unless set. */
  public record Field(String name, int lsb, int width, String kind, long min, long max,
      String format, String doc) {}

  /** {@code requires} names a 0/1 parameter that must be 1 for the opcode to exist, or is empty. */
  public record Instruction(String name, int opcode, String unit, String requires, String doc,
      List<Field> fields) {}

  private final String name;
  private final int versionMajor;
  private final int versionMinor;
  private final long magic;
  private final int instructionBytes;
  private final int registerWindowBytes;
  private final int programAlignment;
  private final int memBeatBytes;
  private final List<Param> params;
  private final List<Buffer> buffers;
  private final List<Unit> units;
  private final List<ErrorCode> errors;
  private final List<Register> registers;
  private final List<Counter> counters;
  private final List<Instruction> instructions;
  private final Map<String, Long> timing;

  private ContractSpec(TomlTable root) {
    root.allowOnly(Set.of("contract", "param", "buffer", "unit", "error", "register", "counter",
        "instruction", "timing"));
    TomlTable c = root.table("contract");
    c.allowOnly(Set.of("name", "version_major", "version_minor", "magic", "instruction_bytes",
        "register_window_bytes", "program_alignment", "mem_beat_bytes"));
    name = c.string("name");
    versionMajor = c.intInRange("version_major", 0, 0xFFFF);
    versionMinor = c.intInRange("version_minor", 0, 0xFFFF);
    magic = c.integer("magic");
    if (magic < 0 || magic > 0xFFFF_FFFFL) {
      throw c.error("magic", "value " + magic + " does not fit in 32 bits");
    }
    instructionBytes = c.intInRange("instruction_bytes", 32, 32);
    registerWindowBytes = c.intInRange("register_window_bytes", 0x100, 0x10000);
    programAlignment = c.intInRange("program_alignment", 1, 4096);
    memBeatBytes = c.intInRange("mem_beat_bytes", 4, 128);
    requirePowerOfTwo(c, "register_window_bytes", registerWindowBytes);
    requirePowerOfTwo(c, "program_alignment", programAlignment);
    requirePowerOfTwo(c, "mem_beat_bytes", memBeatBytes);

    params = readParams(root.array("param"));
    buffers = readBuffers(root.array("buffer"));
    units = readUnits(root.array("unit"));
    errors = readErrors(root.file(), root.array("error"));
    registers = readRegisters(root.array("register"));
    counters = readCounters(root.array("counter"), root);
    instructions = readInstructions(root.array("instruction"));
    timing = readTiming(root.table("timing"));
    crossCheck(root);
  }

  /** Reads and checks the contract at {@code file}; any problem is a {@link SpecException}. */
  public static ContractSpec load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SpecException(file.toString(), 0, "", "cannot read: " + e.getMessage());
    }
    return parse(file.getFileName().toString(), text);
  }

  /** Parses contract text; {@code fileName} is used in error messages only. */
  public static ContractSpec parse(String fileName, String text) {
    return new ContractSpec(TomlReader.parse(fileName, text));
  }

  private static void requirePowerOfTwo(TomlTable t, String key, long value) {
    if (Long.bitCount(value) != 1) {
      throw t.error(key, "value " + value + " is not a power of two");
    }
  }

  private static void requireName(TomlTable t, String key, String value, String pattern,
      String what) {
    if (!value.matches(pattern)) {
      throw t.error(key, "\"" + value + "\" is not a valid name (expected " + what + ")");
    }
  }

  private static void requireUnique(Set<String> seen, TomlTable t, String key, String value) {
    if (!seen.add(value)) {
      throw t.error(key, "\"" + value + "\" is defined twice");
    }
  }

  private static final String UPPER = "[A-Z][A-Z0-9_]*";
  private static final String LOWER = "[a-z][a-z0-9_]*";

  private static List<Param> readParams(List<TomlTable> tables) {
    List<Param> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "default", "min", "max", "register", "doc"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      long min = t.integer("min");
      long max = t.integer("max");
      long def = t.integer("default");
      if (min > max) {
        throw t.error("min", "min " + min + " is greater than max " + max);
      }
      if (def < min || def > max) {
        throw t.error("default", "value " + def + " out of range (expected " + min + " to " + max
            + ")");
      }
      if (max > 0xFFFF_FFFFL) {
        throw t.error("max", "value " + max + " does not fit a 32-bit register");
      }
      out.add(new Param(n, def, min, max, t.string("register", ""), t.string("doc")));
    }
    return Collections.unmodifiableList(out);
  }

  private static List<Buffer> readBuffers(List<TomlTable> tables) {
    List<Buffer> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> ids = new HashSet<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "id", "lane_bytes", "rows_param", "requires", "doc"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int id = t.intInRange("id", 0, 3);
      requireUnique(ids, t, "id", Integer.toString(id));
      int lane = t.intInRange("lane_bytes", 1, 8);
      requirePowerOfTwo(t, "lane_bytes", lane);
      out.add(new Buffer(n, id, lane, t.string("rows_param"), t.string("requires", ""),
          t.string("doc")));
    }
    return Collections.unmodifiableList(out);
  }

  /** A {@code requires} value is empty or names a parameter that is 0 or 1. */
  private void requireSwitch(TomlTable t, String name) {
    if (name.isEmpty()) {
      return;
    }
    Param p = params.stream().filter(q -> q.name().equals(name)).findFirst().orElse(null);
    if (p == null || p.min() != 0 || p.max() != 1) {
      throw t.error("requires", "\"" + name + "\" is not a parameter with range 0 to 1");
    }
  }

  private static List<Unit> readUnits(List<TomlTable> tables) {
    List<Unit> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> bits = new HashSet<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "wait_bit", "requires", "otherwise", "doc"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int bit = -1;
      if (t.has("wait_bit")) {
        bit = t.intInRange("wait_bit", 0, WAIT_WIDTH - 1);
        requireUnique(bits, t, "wait_bit", Integer.toString(bit));
      }
      String requires = t.string("requires", "");
      String otherwise = t.string("otherwise", "");
      if (requires.isEmpty() != otherwise.isEmpty()) {
        throw t.error(requires.isEmpty() ? "otherwise" : "requires", "a unit that a build may"
            + " lack needs both requires and otherwise");
      }
      out.add(new Unit(n, bit, requires, otherwise, t.string("doc")));
    }
    for (int i = 0; i < out.size(); i++) {
      Unit u = out.get(i);
      if (!u.otherwise().isEmpty() && out.stream().noneMatch(o -> o.name().equals(u.otherwise())
          && o.requires().isEmpty() && o.waitBit() >= 0)) {
        throw tables.get(i).error("otherwise", "\"" + u.otherwise() + "\" is not a unit every"
            + " build has, with a wait bit");
      }
    }
    return Collections.unmodifiableList(out);
  }

  private static List<ErrorCode> readErrors(String file, List<TomlTable> tables) {
    List<ErrorCode> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> codes = new HashSet<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "code", "doc"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int code = t.intInRange("code", 0, 255);
      requireUnique(codes, t, "code", Integer.toString(code));
      out.add(new ErrorCode(n, code, t.string("doc")));
    }
    if (out.isEmpty() || out.get(0).code() != 0 || !out.get(0).name().equals("NONE")) {
      throw new SpecException(file, tables.isEmpty() ? 0 : tables.get(0).line(), "error",
          "the first error code must be NONE = 0");
    }
    return Collections.unmodifiableList(out);
  }

  private List<Register> readRegisters(List<TomlTable> tables) {
    List<Register> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Map<Integer, String> offsets = new HashMap<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "offset", "access", "reset", "doc", "field"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int offset = claimOffset(t, "offset", offsets, n);
      String access = t.string("access");
      if (!Set.of("ro", "rw", "wo", "w1c").contains(access)) {
        throw t.error("access", "\"" + access + "\" is not an access type (expected ro, rw, wo or"
            + " w1c)");
      }
      long reset = t.integer("reset", -1);
      if (reset < -1 || reset > 0xFFFF_FFFFL) {
        throw t.error("reset", "value " + reset + " does not fit in 32 bits");
      }
      List<RegField> fields = new ArrayList<>();
      Set<String> fieldNames = new HashSet<>();
      long used = 0;
      for (TomlTable f : t.array("field")) {
        f.allowOnly(Set.of("name", "lsb", "width", "doc"));
        String fn = f.string("name");
        requireName(f, "name", fn, UPPER, "UPPER_SNAKE_CASE");
        requireUnique(fieldNames, f, "name", fn);
        int lsb = f.intInRange("lsb", 0, 31);
        int width = f.intInRange("width", 1, 32 - lsb);
        long mask = ((1L << width) - 1) << lsb;
        if ((used & mask) != 0) {
          throw f.error("lsb", "bits " + (lsb + width - 1) + ":" + lsb
              + " overlap another field of " + n);
        }
        used |= mask;
        fields.add(new RegField(fn, lsb, width, f.string("doc")));
      }
      out.add(new Register(n, offset, access, reset, t.string("doc"),
          Collections.unmodifiableList(fields)));
    }
    return Collections.unmodifiableList(out);
  }

  private int claimOffset(TomlTable t, String key, Map<Integer, String> offsets, String owner) {
    int offset = t.intInRange(key, 0, registerWindowBytes - 4);
    if (offset % 4 != 0) {
      throw t.error(key, String.format("offset 0x%03X is not 32-bit aligned", offset));
    }
    String other = offsets.putIfAbsent(offset, owner);
    if (other != null) {
      throw t.error(key, String.format("offset 0x%03X is already used by %s", offset, other));
    }
    return offset;
  }

  private List<Counter> readCounters(List<TomlTable> tables, TomlTable root) {
    Map<Integer, String> offsets = new HashMap<>();
    for (Register r : registers) {
      offsets.put(r.offset(), r.name());
    }
    List<Counter> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Register r : registers) {
      seen.add(r.name());
    }
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "offset", "doc"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int lo = claimOffset(t, "offset", offsets, n + "_LO");
      if (lo % 8 != 0) {
        throw t.error("offset", String.format("counter offset 0x%03X is not 64-bit aligned", lo));
      }
      if (offsets.putIfAbsent(lo + 4, n + "_HI") != null) {
        throw t.error("offset", String.format("offset 0x%03X (%s_HI) is already used", lo + 4, n));
      }
      out.add(new Counter(n, lo, t.string("doc")));
    }
    return Collections.unmodifiableList(out);
  }

  private List<Instruction> readInstructions(List<TomlTable> tables) {
    Set<String> kinds = Set.of("uint", "int", "flag", "buffer");
    Set<String> unitNames = new HashSet<>();
    for (Unit u : units) {
      unitNames.add(u.name());
    }
    List<Instruction> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> opcodes = new HashSet<>();
    for (TomlTable t : tables) {
      t.allowOnly(Set.of("name", "opcode", "unit", "requires", "doc", "field"));
      String n = t.string("name");
      requireName(t, "name", n, UPPER, "UPPER_SNAKE_CASE");
      requireUnique(seen, t, "name", n);
      int opcode = t.intInRange("opcode", 1, (1 << OPCODE_WIDTH) - 1);
      requireUnique(opcodes, t, "opcode", Integer.toString(opcode));
      String unit = t.string("unit");
      if (!unitNames.contains(unit)) {
        throw t.error("unit", "\"" + unit + "\" is not a unit (expected one of " + unitNames + ")");
      }
      List<Field> fields = new ArrayList<>();
      fields.add(new Field("opcode", 0, OPCODE_WIDTH, "uint", 0, (1 << OPCODE_WIDTH) - 1, "hex",
          "Operation code."));
      fields.add(new Field("wait", WAIT_LSB, WAIT_WIDTH, "wait", 0, (1 << WAIT_WIDTH) - 1, "",
          "Units that must be idle before this instruction issues."));
      long[] used = new long[INSTRUCTION_BITS / 64];
      used[0] = (1L << (WAIT_LSB + WAIT_WIDTH)) - 1;
      Set<String> fieldNames = new HashSet<>(Set.of("opcode", "wait"));
      for (TomlTable f : t.array("field")) {
        f.allowOnly(Set.of("name", "lsb", "width", "kind", "min", "max", "format", "doc"));
        String fn = f.string("name");
        requireName(f, "name", fn, LOWER, "lower_snake_case");
        requireUnique(fieldNames, f, "name", fn);
        int lsb = f.intInRange("lsb", 0, INSTRUCTION_BITS - 1);
        int width = f.intInRange("width", 1, 64);
        if (lsb / 64 != (lsb + width - 1) / 64) {
          throw f.error("width", "bits " + (lsb + width - 1) + ":" + lsb
              + " cross a 64-bit word boundary");
        }
        String kind = f.string("kind");
        if (!kinds.contains(kind)) {
          throw f.error("kind", "\"" + kind + "\" is not a field kind (expected one of "
              + String.join(", ", kinds) + ")");
        }
        if (kind.equals("flag") && width != 1) {
          throw f.error("width", "a flag is 1 bit wide, not " + width);
        }
        boolean signed = kind.equals("int");
        long encMin = signed ? -(1L << (width - 1)) : 0;
        long encMax = width == 64 ? Long.MAX_VALUE : signed ? (1L << (width - 1)) - 1
            : (1L << width) - 1;
        long min = f.integer("min", encMin);
        long max = f.integer("max", encMax);
        if (min < encMin || max > encMax || min > max) {
          throw f.error("min", "legal range " + min + " to " + max + " does not fit " + width
              + " " + (signed ? "signed" : "unsigned") + " bits (" + encMin + " to " + encMax + ")");
        }
        String format = f.string("format", "");
        if (!format.isEmpty() && !format.equals("hex")) {
          throw f.error("format", "\"" + format + "\" is not a format (expected hex)");
        }
        int word = lsb / 64;
        long mask = (width == 64 ? -1L : (1L << width) - 1) << (lsb % 64);
        if ((used[word] & mask) != 0) {
          throw f.error("lsb", "bits " + (lsb + width - 1) + ":" + lsb
              + " overlap another field of " + n);
        }
        used[word] |= mask;
        fields.add(new Field(fn, lsb, width, kind, min, max, format, f.string("doc")));
      }
      out.add(new Instruction(n, opcode, unit, t.string("requires", ""), t.string("doc"),
          Collections.unmodifiableList(fields)));
    }
    return Collections.unmodifiableList(out);
  }

  private static Map<String, Long> readTiming(TomlTable t) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String key : t.keys()) {
      long v = t.integer(key);
      if (v < 0 || v > 1_000_000) {
        throw t.error(key, "value " + v + " out of range (expected 0 to 1000000 cycles)");
      }
      out.put(key, v);
    }
    return Collections.unmodifiableMap(out);
  }

  private void crossCheck(TomlTable root) {
    Map<String, Register> regs = new HashMap<>();
    for (Register r : registers) {
      regs.put(r.name(), r);
    }
    Set<String> paramNames = new HashSet<>();
    List<TomlTable> paramTables = root.array("param");
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      paramNames.add(p.name());
      if (!p.register().isEmpty()) {
        Register r = regs.get(p.register());
        if (r == null) {
          throw paramTables.get(i).error("register", "names no register: \"" + p.register()
              + "\"");
        }
        if (!r.access().equals("ro")) {
          throw paramTables.get(i).error("register", "parameter register " + r.name()
              + " must be ro, not " + r.access());
        }
      }
    }
    for (String required : List.of("ARRAY_ROWS", "ARRAY_COLS", "ABUF_ROWS", "WBUF_ROWS",
        "ACC_ROWS", "HBM_MB", "HBM_CHANNELS", "CLOCK_KHZ")) {
      if (!paramNames.contains(required)) {
        throw root.error("param", "parameter " + required + " is missing");
      }
    }
    if (param("ARRAY_ROWS").defaultValue() != param("ARRAY_COLS").defaultValue()) {
      throw paramTables.get(params.indexOf(param("ARRAY_COLS"))).error("default",
          "ARRAY_COLS must equal ARRAY_ROWS in contract 1.x (square array)");
    }
    List<TomlTable> bufferTables = root.array("buffer");
    for (int i = 0; i < buffers.size(); i++) {
      if (!paramNames.contains(buffers.get(i).rowsParam())) {
        throw bufferTables.get(i).error("rows_param", "names no parameter: \""
            + buffers.get(i).rowsParam() + "\"");
      }
      requireSwitch(bufferTables.get(i), buffers.get(i).requires());
    }
    List<TomlTable> instructionTables = root.array("instruction");
    for (int i = 0; i < instructions.size(); i++) {
      requireSwitch(instructionTables.get(i), instructions.get(i).requires());
    }
    List<TomlTable> unitTables = root.array("unit");
    for (int i = 0; i < units.size(); i++) {
      requireSwitch(unitTables.get(i), units.get(i).requires());
    }
    for (String required : List.of("MAGIC", "VERSION", "CTRL", "STATUS", "ERROR_CODE",
        "ERROR_PC", "PROG_ADDR_LO", "PROG_ADDR_HI", "PROG_LEN", "INT_ENABLE", "INT_STATUS",
        "SCRATCH")) {
      if (!regs.containsKey(required)) {
        throw root.error("register", "register " + required + " is missing");
      }
    }
    if (regs.get("MAGIC").reset() != magic) {
      throw root.error("register", "MAGIC reset value differs from contract.magic");
    }
    long version = ((long) versionMajor << 16) | versionMinor;
    if (regs.get("VERSION").reset() != version) {
      throw root.error("register", String.format(
          "VERSION reset value 0x%08X differs from contract version %d.%d (expected 0x%08X)",
          regs.get("VERSION").reset(), versionMajor, versionMinor, version));
    }
    for (String required : List.of("HALT", "FENCE", "LOAD", "STORE", "MATMUL", "REQUANT")) {
      if (instructions.stream().noneMatch(i -> i.name().equals(required))) {
        throw root.error("instruction", "instruction " + required + " is missing");
      }
    }
    for (String required : List.of("fetch_latency", "read_latency", "write_latency",
        "load_overhead", "store_overhead", "array_latency", "requant_setup", "requant_latency",
        "vector_latency")) {
      if (!timing.containsKey(required)) {
        throw root.table("timing").error("timing constant " + required + " is missing");
      }
    }
  }

  public Param param(String paramName) {
    for (Param p : params) {
      if (p.name().equals(paramName)) {
        return p;
      }
    }
    throw new IllegalArgumentException("no parameter " + paramName);
  }

  public String name() {
    return name;
  }

  public int versionMajor() {
    return versionMajor;
  }

  public int versionMinor() {
    return versionMinor;
  }

  public long magic() {
    return magic;
  }

  public int instructionBytes() {
    return instructionBytes;
  }

  public int registerWindowBytes() {
    return registerWindowBytes;
  }

  public int programAlignment() {
    return programAlignment;
  }

  public int memBeatBytes() {
    return memBeatBytes;
  }

  public List<Param> params() {
    return params;
  }

  public List<Buffer> buffers() {
    return buffers;
  }

  public List<Unit> units() {
    return units;
  }

  public List<ErrorCode> errors() {
    return errors;
  }

  public List<Register> registers() {
    return registers;
  }

  public List<Counter> counters() {
    return counters;
  }

  public List<Instruction> instructions() {
    return instructions;
  }

  public Map<String, Long> timing() {
    return timing;
  }
}
