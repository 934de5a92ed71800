package dev.systole.host.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Converts the tensor a user gives for a model input to the element type the input declares, when
 * the conversion keeps what the values mean, and refuses it otherwise. Users hand in what NumPy
 * gave them: float64 (NumPy's default float) for a float32 input, int64 (its default integer) for
 * an int32 one. Refusing those would send every such user back to NumPy for a cast the runtime can
 * do as well; accepting every cast would let a mistake through silently. The line drawn:
 *
 * <ul>
 *   <li>A float goes to any other float. Widening (float16 to float32 or float64, float32 to
 *       float64) is exact. Narrowing (float64 to float32 or float16, float32 to float16) rounds to
 *       nearest, ties to even, as NumPy's {@code astype} does, and refuses a finite value that
 *       would become infinite, naming it; NaN and the infinities stay what they are, being values
 *       the caller chose (whether a model may take them is for the runtime to check, not this).
 *   <li>An integer goes to a wider integer (int8 or uint8 to int32 or int64, int32 to int64),
 *       exactly, and to a narrower one (int64 to int32, int8 or uint8; int32 to int8 or uint8)
 *       only when every value fits, else the first that does not is named with the range. int8
 *       and uint8 are not converted into each other: they are the two quantized types, and data of
 *       one given for the other means data quantized for another model, which a value check
 *       would let through for some batches and refuse for others.
 *   <li>Integers and floats are not converted into each other. An integer tensor for a float
 *       input is most often raw data (pixels from 0 to 255) for a model that expects it scaled,
 *       and converting it would run the model on the wrong values without a word; a float tensor
 *       for an integer input would need a rounding the caller did not ask for. Whether a value is
 *       exactly representable is not the test, so whether a file is accepted depends on its type
 *       alone, never on the values a batch happens to hold.
 *   <li>bool goes to nothing and comes from nothing but bool.
 * </ul>
 *
 * <p>A conversion makes a new tensor and a one-line note saying so, for the caller to print; a
 * tensor already of the declared type is returned as it is, with no note. Every refusal is an
 * {@link IllegalArgumentException} whose message names the input, its type and shape, and the
 * declared type.
 */
public final class InputTypes {
  private InputTypes() {}

  /**
   * A tensor of the declared type and what was done to get it.
   *
   * @param tensor the given tensor itself when it already had the declared type, else a new one
   * @param note {@code input 'image': float64 converted to float32}, or null if nothing was done
   */
  public record Converted(Tensor tensor, String note) {}

  /**
   * {@code given} as a tensor of {@code expected}, by one of the conversions the class describes.
   *
   * @param inputName the input's name, for the note and for messages
   * @throws IllegalArgumentException if no conversion is accepted from {@code given}'s type to
   *     {@code expected}, or if a value would overflow or not fit
   */
  public static Converted convert(String inputName, Tensor given, DType expected) {
    Objects.requireNonNull(expected, "expected");
    DType from = given.dtype();
    if (from == expected) {
      return new Converted(given, null);
    }
    if (!accepted(from, expected)) {
      throw new IllegalArgumentException(prefix(inputName, given, expected) + " (accepted: "
          + String.join(", ", acceptedBy(expected)) + hint(from, expected) + ")");
    }
    Tensor out = isFloat(from)
        ? convertFloats(inputName, given, expected)
        : convertIntegers(inputName, given, expected);
    return new Converted(out,
        "input '" + inputName + "': " + from.label() + " converted to " + expected.label());
  }

  /** Whether a tensor of {@code from} is converted to {@code to}; false when they are the same. */
  static boolean accepted(DType from, DType to) {
    if (from == to) {
      return false;
    }
    if (isFloat(from) && isFloat(to)) {
      return true;
    }
    return isInteger(from) && isInteger(to) && (from.size() > 1 || to.size() > 1);
  }

  private static List<String> acceptedBy(DType to) {
    List<String> labels = new ArrayList<>();
    for (DType from : DType.values()) {
      if (from == to || accepted(from, to)) {
        labels.add(from.label());
      }
    }
    return labels;
  }

  private static String hint(DType from, DType to) {
    if (isInteger(from) && isFloat(to)) {
      return "; integers are not converted to floats, which the model may expect scaled";
    }
    if (isFloat(from) && isInteger(to)) {
      return "; floats are not rounded to integers";
    }
    if (isInteger(from) && isInteger(to)) {
      return "; int8 and uint8 are not converted into each other";
    }
    return "";
  }

  private static boolean isFloat(DType t) {
    return t == DType.FLOAT16 || t == DType.FLOAT32 || t == DType.FLOAT64;
  }

  private static boolean isInteger(DType t) {
    return t == DType.INT8 || t == DType.UINT8 || t == DType.INT32 || t == DType.INT64;
  }

  /** {@code input 'ids' is float32 2x16, expected int64}. */
  private static String prefix(String inputName, Tensor given, DType expected) {
    return String.format("input '%s' is %s %s, expected %s", inputName, given.dtype().label(),
        given.shapeString(), expected.label());
  }

  private static Tensor convertFloats(String inputName, Tensor given, DType to) {
    ByteBuffer src = given.data();
    Tensor out = Tensor.allocate(to, given.shape());
    ByteBuffer dst = out.data();
    DType from = given.dtype();
    int n = (int) given.numel();
    for (int i = 0; i < n; i++) {
      double v = switch (from) {
        case FLOAT16 -> Float16.toFloat(src.getShort(2 * i));
        case FLOAT32 -> src.getFloat(4 * i);
        default -> src.getDouble(8 * i);
      };
      boolean infinite;
      switch (to) {
        case FLOAT16 -> {
          short h = Float16.fromDouble(v);
          dst.putShort(2 * i, h);
          infinite = (h & 0x7FFF) == 0x7C00;
        }
        case FLOAT32 -> {
          float f = (float) v;
          dst.putFloat(4 * i, f);
          infinite = Float.isInfinite(f);
        }
        default -> {
          dst.putDouble(8 * i, v);
          infinite = false;
        }
      }
      if (infinite && Double.isFinite(v)) {
        String value = from == DType.FLOAT64 ? Double.toString(v) : Float.toString((float) v);
        String largest = to == DType.FLOAT16 ? "65504" : Float.toString(Float.MAX_VALUE);
        throw new IllegalArgumentException(String.format(
            "%s: %s is %s, which overflows %s (largest finite value %s)",
            prefix(inputName, given, to), element(given, i), value, to.label(), largest));
      }
    }
    return out;
  }

  private static Tensor convertIntegers(String inputName, Tensor given, DType to) {
    ByteBuffer src = given.data();
    Tensor out = Tensor.allocate(to, given.shape());
    ByteBuffer dst = out.data();
    DType from = given.dtype();
    long min = switch (to) {
      case INT8 -> Byte.MIN_VALUE;
      case UINT8 -> 0;
      case INT32 -> Integer.MIN_VALUE;
      default -> Long.MIN_VALUE;
    };
    long max = switch (to) {
      case INT8 -> Byte.MAX_VALUE;
      case UINT8 -> 0xFF;
      case INT32 -> Integer.MAX_VALUE;
      default -> Long.MAX_VALUE;
    };
    int n = (int) given.numel();
    for (int i = 0; i < n; i++) {
      long v = switch (from) {
        case INT8 -> src.get(i);
        case UINT8 -> src.get(i) & 0xFF;
        case INT32 -> src.getInt(4 * i);
        default -> src.getLong(8 * i);
      };
      if (v < min || v > max) {
        throw new IllegalArgumentException(String.format(
            "%s: %s is %d, which does not fit %s (expected %d <= value <= %d)",
            prefix(inputName, given, to), element(given, i), v, to.label(), min, max));
      }
      switch (to) {
        case INT8, UINT8 -> dst.put(i, (byte) v);
        case INT32 -> dst.putInt(4 * i, (int) v);
        default -> dst.putLong(8 * i, v);
      }
    }
    return out;
  }

  /** {@code element [1, 0, 3]}, or {@code the scalar} for rank 0. */
  private static String element(Tensor t, long flatIndex) {
    long[] shape = t.shape();
    if (shape.length == 0) {
      return "the scalar";
    }
    long[] index = new long[shape.length];
    long rest = flatIndex;
    for (int axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = rest % shape[axis];
      rest /= shape[axis];
    }
    StringBuilder sb = new StringBuilder("element [");
    for (int axis = 0; axis < index.length; axis++) {
      sb.append(axis == 0 ? "" : ", ").append(index[axis]);
    }
    return sb.append(']').toString();
  }
}
