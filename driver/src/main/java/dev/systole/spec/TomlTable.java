package dev.systole.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One table of a parsed spec file: its values keep the line they came from, so that every error
 * about a value, found however late, can point at the line to fix. Accessors are strict: a missing
 * key, a value of the wrong type or a key nobody asked for is an error naming the table path.
 */
final class TomlTable {
  record Value(Object value, int line) {}

  private final String file;
  private final TomlTable parent;
  private final String key;
  private final int index;
  private final int line;
  private final Map<String, Value> values = new LinkedHashMap<>();
  private final Map<String, List<TomlTable>> arrays = new LinkedHashMap<>();
  private final Map<String, TomlTable> tables = new LinkedHashMap<>();

  /** The root table. */
  TomlTable(String file) {
    this(file, null, "", -1, 1);
  }

  private TomlTable(String file, TomlTable parent, String key, int index, int line) {
    this.file = file;
    this.parent = parent;
    this.key = key;
    this.index = index;
    this.line = line;
  }

  String file() {
    return file;
  }

  /**
   * Where this table is, for messages: {@code register[VERSION].field[MAJOR]} when the elements
   * of an array have names, {@code register[3]} when they do not.
   */
  String path() {
    if (parent == null) {
      return "";
    }
    String base = parent.qualify(key);
    if (index < 0) {
      return base;
    }
    Value name = values.get("name");
    return base + "[" + (name != null && name.value() instanceof String s ? s : index) + "]";
  }

  int line() {
    return line;
  }

  void put(String key, Object value, int atLine) {
    if (values.containsKey(key) || arrays.containsKey(key) || tables.containsKey(key)) {
      throw new SpecException(file, atLine, qualify(key), "defined twice");
    }
    values.put(key, new Value(value, atLine));
  }

  TomlTable addArrayElement(String key, int atLine) {
    if (values.containsKey(key) || tables.containsKey(key)) {
      throw new SpecException(file, atLine, qualify(key), "already defined as a value or table");
    }
    List<TomlTable> list = arrays.computeIfAbsent(key, k -> new ArrayList<>());
    TomlTable t = new TomlTable(file, this, key, list.size(), atLine);
    list.add(t);
    return t;
  }

  TomlTable addTable(String key, int atLine) {
    if (values.containsKey(key) || arrays.containsKey(key) || tables.containsKey(key)) {
      throw new SpecException(file, atLine, qualify(key), "defined twice");
    }
    TomlTable t = new TomlTable(file, this, key, -1, atLine);
    tables.put(key, t);
    return t;
  }

  List<TomlTable> lastArray(String key) {
    return arrays.get(key);
  }

  String qualify(String key) {
    String path = path();
    return path.isEmpty() ? key : path + "." + key;
  }

  SpecException error(String key, String problem) {
    Value v = values.get(key);
    return new SpecException(file, v != null ? v.line() : line, qualify(key), problem);
  }

  SpecException error(String problem) {
    return new SpecException(file, line, path(), problem);
  }

  boolean has(String key) {
    return values.containsKey(key);
  }

  Set<String> keys() {
    return Collections.unmodifiableSet(values.keySet());
  }

  private Value require(String key, String expected) {
    Value v = values.get(key);
    if (v == null) {
      throw new SpecException(file, line, qualify(key), "missing (expected " + expected + ")");
    }
    return v;
  }

  long integer(String key) {
    Value v = require(key, "an integer");
    if (!(v.value() instanceof Long l)) {
      throw error(key, "expected an integer, found " + describe(v.value()));
    }
    return l;
  }

  long integer(String key, long defaultValue) {
    return has(key) ? integer(key) : defaultValue;
  }

  int intInRange(String key, long min, long max) {
    long value = integer(key);
    if (value < min || value > max) {
      throw error(key, "value " + value + " out of range (expected " + min + " to " + max + ")");
    }
    return (int) value;
  }

  String string(String key) {
    Value v = require(key, "a string");
    if (!(v.value() instanceof String s)) {
      throw error(key, "expected a string, found " + describe(v.value()));
    }
    return s;
  }

  String string(String key, String defaultValue) {
    return has(key) ? string(key) : defaultValue;
  }

  List<TomlTable> array(String key) {
    List<TomlTable> list = arrays.get(key);
    return list == null ? List.of() : Collections.unmodifiableList(list);
  }

  TomlTable table(String key) {
    TomlTable t = tables.get(key);
    if (t == null) {
      throw new SpecException(file, line, qualify(key), "missing table [" + qualify(key) + "]");
    }
    return t;
  }

  /** Fails on any key outside {@code allowed}: a misspelt key must not be silently ignored. */
  void allowOnly(Set<String> allowed) {
    for (String key : values.keySet()) {
      if (!allowed.contains(key)) {
        throw error(key, "unknown key (expected one of " + String.join(", ", allowed) + ")");
      }
    }
    for (String key : arrays.keySet()) {
      if (!allowed.contains(key)) {
        throw new SpecException(
            file, arrays.get(key).get(0).line(), qualify(key), "unknown array of tables");
      }
    }
    for (String key : tables.keySet()) {
      if (!allowed.contains(key)) {
        throw new SpecException(file, tables.get(key).line(), qualify(key), "unknown table");
      }
    }
  }

  private static String describe(Object o) {
    if (o instanceof String s) {
      return "the string \"" + s + "\"";
    }
    if (o instanceof Boolean b) {
      return "the boolean " + b;
    }
    return String.valueOf(o);
  }
}
