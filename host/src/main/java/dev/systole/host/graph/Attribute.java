package dev.systole.host.graph;

import dev.systole.host.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The value of one node attribute, of one of the ONNX attribute kinds Systole's ops use. Values
 * are immutable: arrays are copied in and out, so a node's attributes cannot change after the
 * graph has checked them. Graph-valued attributes (the bodies of If and Loop) are not among them;
 * no supported op has one.
 */
public final class Attribute {
  /** The kinds, named as ONNX's {@code AttributeProto.AttributeType}. */
  public enum Kind {
    FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Kind kind;
  private final Object value;

  private Attribute(Kind kind, Object value) {
    this.kind = kind;
    this.value = Objects.requireNonNull(value, "value");
  }

  public static Attribute of(float v) {
    return new Attribute(Kind.FLOAT, v);
  }

  public static Attribute of(long v) {
    return new Attribute(Kind.INT, v);
  }

  public static Attribute of(String v) {
    return new Attribute(Kind.STRING, v);
  }

  public static Attribute of(Tensor v) {
    return new Attribute(Kind.TENSOR, v);
  }

  public static Attribute ofFloats(float... v) {
    return new Attribute(Kind.FLOATS, v.clone());
  }

  public static Attribute ofInts(long... v) {
    return new Attribute(Kind.INTS, v.clone());
  }

  public static Attribute ofStrings(List<String> v) {
    return new Attribute(Kind.STRINGS, List.copyOf(v));
  }

  public Kind kind() {
    return kind;
  }

  public float asFloat() {
    return (Float) get(Kind.FLOAT);
  }

  public long asInt() {
    return (Long) get(Kind.INT);
  }

  public String asString() {
    return (String) get(Kind.STRING);
  }

  /** The tensor itself, not a copy: callers must not write to it. */
  public Tensor asTensor() {
    return (Tensor) get(Kind.TENSOR);
  }

  public float[] asFloats() {
    return ((float[]) get(Kind.FLOATS)).clone();
  }

  public long[] asInts() {
    return ((long[]) get(Kind.INTS)).clone();
  }

  @SuppressWarnings("unchecked")
  public List<String> asStrings() {
    return (List<String>) get(Kind.STRINGS);
  }

  private Object get(Kind expected) {
    if (kind != expected) {
      throw new IllegalStateException(
          "attribute is " + kind.label() + " (expected " + expected.label() + ")");
    }
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Attribute a) || a.kind != kind) {
      return false;
    }
    return switch (kind) {
      case FLOATS -> Arrays.equals((float[]) value, (float[]) a.value);
      case INTS -> Arrays.equals((long[]) value, (long[]) a.value);
      default -> value.equals(a.value);
    };
  }

  @Override
  public int hashCode() {
    return switch (kind) {
      case FLOATS -> Arrays.hashCode((float[]) value);
      case INTS -> Arrays.hashCode((long[]) value);
      default -> value.hashCode();
    };
  }

  /** {@code 3}, {@code [1, 1]}, {@code "SAME_UPPER"}, {@code Tensor[float32 3]}. */
  @Override
  public String toString() {
    return switch (kind) {
      case FLOATS -> Arrays.toString((float[]) value);
      case INTS -> Arrays.toString((long[]) value);
      case STRING -> "\"" + value + "\"";
      default -> value.toString();
    };
  }
}
