package dev.systole.host.graph;

import dev.systole.host.tensor.DType;
import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * A named value's declared type: its element type and shape, where the shape may name symbolic
 * dimensions ({@code N x 1 x 28 x 28}) or be missing altogether (rank unknown), as ONNX allows for
 * outputs and intermediate values.
 *
 * <p>A value of a type Systole has no {@link DType} for (a string or float16 tensor, a
 * sequence) has a null {@code dtype}; only the CPU engine reads it.
 *
 * @param dtype the element type, or null for a type Systole does not compute with
 * @param shape the dimensions, or null if even the rank is unknown
 */
public record ValueInfo(String name, DType dtype, List<Dim> shape) {
  public ValueInfo {
    Objects.requireNonNull(name, "name");
    shape = shape == null ? null : List.copyOf(shape);
  }

  /**
   * A value of fixed shape where each of {@code dims} is a {@link Long} or {@link Integer} size or
   * a {@link String} symbol, e.g. {@code of("x", FLOAT32, "N", 1, 28, 28)}.
   */
  public static ValueInfo of(String name, DType dtype, Object... dims) {
    Dim[] d = new Dim[dims.length];
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] instanceof String s) {
        d[i] = Dim.symbol(s);
      } else if (dims[i] instanceof Number n) {
        d[i] = Dim.of(n.longValue());
      } else {
        throw new IllegalArgumentException("dimension " + i + " is " + dims[i]
            + " (expected a number or a symbol name)");
      }
    }
    return new ValueInfo(name, dtype, List.of(d));
  }

  /** A value whose element type is known but not its rank. */
  public static ValueInfo ofUnknownShape(String name, DType dtype) {
    return new ValueInfo(name, dtype, null);
  }

  public boolean hasShape() {
    return shape != null;
  }

  /** {@code float32 Nx1x28x28}, or {@code float32 (unknown shape)}. */
  public String typeString() {
    String type = dtype == null ? "(a type only the CPU engine reads)" : dtype.label();
    if (shape == null) {
      return type + " (unknown shape)";
    }
    if (shape.isEmpty()) {
      return type + " scalar";
    }
    StringJoiner j = new StringJoiner("x");
    shape.forEach(d -> j.add(d.toString()));
    return type + " " + j;
  }
}
