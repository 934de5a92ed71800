package dev.systole.host.graph;

import static dev.systole.host.graph.Attribute.Kind.FLOAT;
import static dev.systole.host.graph.Attribute.Kind.FLOATS;
import static dev.systole.host.graph.Attribute.Kind.INT;
import static dev.systole.host.graph.Attribute.Kind.INTS;
import static dev.systole.host.graph.Attribute.Kind.STRING;
import static dev.systole.host.graph.Attribute.Kind.STRINGS;
import static dev.systole.host.graph.Attribute.Kind.TENSOR;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ops Systole reads, as ONNX defines them at opsets up to 17. For each op this holds ONNX's
 * history of the op's versions, so a node is read by the definition in force at its model's opset,
 * and the versions Systole implements. Every version at opsets 11 to 17 is implemented; older
 * versions only where they mean the same as a newer one or differ in a way the graph handles (Clip
 * with min and max as attributes, Squeeze with axes as an attribute, Softmax on a 2-D coercion), so
 * an opset 10 model of integer ops reads, and a BatchNormalization at opset 7 (with its long-gone
 * {@code spatial} attribute) is refused by name.
 */
final class OpSchemas {
  /** The newest opset read: definitions past it are unknown to this table. */
  static final int MAX_OPSET = 17;
  private static final int ANY = Integer.MAX_VALUE;

  private static final Map<String, OpSchema> SCHEMAS = new TreeMap<>();

  private OpSchemas() {}

  static OpSchema get(String opType) {
    return SCHEMAS.get(opType);
  }

  /** The op types, sorted. */
  static List<String> opTypes() {
    return Collections.unmodifiableList(List.copyOf(SCHEMAS.keySet()));
  }

  private static OpSchema op(String opType, int[] history, int... implemented) {
    OpSchema s = new OpSchema(opType, history, implemented);
    SCHEMAS.put(opType, s);
    return s;
  }

  private static int[] v(int... versions) {
    return versions;
  }

  /**
   * The largest kernel size, stride, dilation, pad and group a model may give. Far above any
   * real network's, it keeps every window computation (dilation x kernel, output x stride) well
   * inside a long and every size the device compiler narrows to an int inside an int, so a
   * hostile value is refused here, by name and with this range, rather than overflowing later.
   */
  static final long MAX_WINDOW = 1 << 20;

  private static final OpSchema.Check WINDOW = everyValue(1, MAX_WINDOW);
  private static final OpSchema.Check PADS = everyValue(0, MAX_WINDOW);
  private static final OpSchema.Check NON_NEGATIVE =
      a -> Arrays.stream(a.asInts()).allMatch(x -> x >= 0)
          ? null : "has " + a + " (expected every value >= 0)";
  private static final OpSchema.Check BOOLEAN = a -> a.asInt() == 0 || a.asInt() == 1
      ? null : "is " + a + " (expected 0 or 1)";
  private static final OpSchema.Check AUTO_PAD = oneOf("NOTSET", "SAME_UPPER", "SAME_LOWER",
      "VALID");

  private static OpSchema.Check oneOf(String... values) {
    return a -> Arrays.asList(values).contains(a.asString())
        ? null : "is " + a + " (expected one of " + String.join(", ", values) + ")";
  }

  private static OpSchema.Check everyValue(long min, long max) {
    return a -> Arrays.stream(a.asInts()).allMatch(x -> x >= min && x <= max)
        ? null : "has " + a + " (expected every value from " + min + " to " + max + ")";
  }

  private static OpSchema.Check between(long min, long max) {
    return a -> a.asInt() >= min && a.asInt() <= max ? null
        : "is " + a + " (expected " + min + " to " + max + ")";
  }

  private static OpSchema convAttributes(OpSchema s) {
    return s.attr("auto_pad", STRING, Attribute.of("NOTSET"), AUTO_PAD)
        .attr("dilations", INTS, null, WINDOW)
        .attr("group", INT, Attribute.of(1L), between(1, MAX_WINDOW))
        .attr("kernel_shape", INTS, null, WINDOW)
        .attr("pads", INTS, null, PADS)
        .attr("strides", INTS, null, WINDOW);
  }

  static {
    convAttributes(op("Conv", v(1, 11), 1, 11).arity(0, 2, 3, 1, 1));
    convAttributes(op("ConvInteger", v(10), 10).arity(0, 2, 4, 1, 1));
    convAttributes(op("QLinearConv", v(10), 10).arity(0, 8, 9, 1, 1));
    op("MatMul", v(1, 9, 13), 1, 9, 13).arity(0, 2, 2, 1, 1);
    op("MatMulInteger", v(10), 10).arity(0, 2, 4, 1, 1);
    op("QLinearMatMul", v(10), 10).arity(0, 8, 8, 1, 1);
    op("Gemm", v(1, 6, 7, 9, 11, 13), 7, 9, 11, 13).arity(0, 2, 3, 1, 1)
        .attr("alpha", FLOAT, Attribute.of(1f), null)
        .attr("beta", FLOAT, Attribute.of(1f), null)
        .attr("transA", INT, Attribute.of(0L), BOOLEAN)
        .attr("transB", INT, Attribute.of(0L), BOOLEAN);
    op("BatchNormalization", v(1, 6, 7, 9, 14, 15), 9, 14, 15).arity(0, 5, 5, 1, 1)
        .attr("epsilon", FLOAT, Attribute.of(1e-5f),
            a -> a.asFloat() >= 0 ? null : "is " + a + " (expected >= 0)")
        .attr("momentum", FLOAT, Attribute.of(0.9f), null)
        .attr("training_mode", INT, 14, ANY, Attribute.of(0L), a -> a.asInt() == 0 ? null
            : "is " + a + " (expected 0: Systole runs inference, where the statistics are the"
                + " inputs mean and var; training mode is not supported)");
    op("Relu", v(1, 6, 13, 14), 6, 13, 14).arity(0, 1, 1, 1, 1);
    op("Sigmoid", v(1, 6, 13), 6, 13).arity(0, 1, 1, 1, 1);
    for (String binary : List.of("Add", "Sub", "Mul", "Div")) {
      op(binary, v(1, 6, 7, 13, 14), 7, 13, 14).arity(0, 2, 2, 1, 1);
    }
    op("MaxPool", v(1, 8, 10, 11, 12), 1, 8, 10, 11, 12).arity(0, 1, 1, 1, 1)
        .arity(8, 1, 1, 1, 2)
        .attr("auto_pad", STRING, Attribute.of("NOTSET"), AUTO_PAD)
        .attr("ceil_mode", INT, 10, ANY, Attribute.of(0L), BOOLEAN)
        .attr("dilations", INTS, 10, ANY, null, WINDOW)
        .attr("kernel_shape", INTS, null, WINDOW)
        .attr("pads", INTS, null, PADS)
        .attr("storage_order", INT, 8, ANY, Attribute.of(0L), BOOLEAN)
        .attr("strides", INTS, null, WINDOW);
    op("AveragePool", v(1, 7, 10, 11), 7, 10, 11).arity(0, 1, 1, 1, 1)
        .attr("auto_pad", STRING, Attribute.of("NOTSET"), AUTO_PAD)
        .attr("ceil_mode", INT, 10, ANY, Attribute.of(0L), BOOLEAN)
        .attr("count_include_pad", INT, Attribute.of(0L), BOOLEAN)
        .attr("kernel_shape", INTS, null, WINDOW)
        .attr("pads", INTS, null, PADS)
        .attr("strides", INTS, null, WINDOW);
    op("GlobalAveragePool", v(1), 1).arity(0, 1, 1, 1, 1);
    op("Flatten", v(1, 9, 11, 13), 1, 9, 11, 13).arity(0, 1, 1, 1, 1)
        .attr("axis", INT, Attribute.of(1L), null);
    op("Reshape", v(1, 5, 13, 14), 5, 13, 14).arity(0, 2, 2, 1, 1)
        .attr("allowzero", INT, 14, ANY, Attribute.of(0L), BOOLEAN);
    op("Transpose", v(1, 13), 1, 13).arity(0, 1, 1, 1, 1)
        .attr("perm", INTS, null, NON_NEGATIVE);
    op("Concat", v(1, 4, 11, 13), 4, 11, 13).arity(0, 1, ANY, 1, 1)
        .attr("axis", INT, null, null);
    op("Squeeze", v(1, 11, 13), 1, 11, 13).arity(0, 1, 1, 1, 1).arity(13, 1, 2, 1, 1)
        .attr("axes", INTS, 0, 13, null, null);
    op("Unsqueeze", v(1, 11, 13), 1, 11, 13).arity(0, 1, 1, 1, 1).arity(13, 2, 2, 1, 1)
        .attr("axes", INTS, 0, 13, null, null);
    op("Softmax", v(1, 11, 13), 1, 11, 13).arity(0, 1, 1, 1, 1)
        .attr("axis", INT, 0, 13, Attribute.of(1L), null)
        .attr("axis", INT, 13, ANY, Attribute.of(-1L), null);
    op("Clip", v(1, 6, 11, 12, 13), 6, 11, 12, 13).arity(0, 1, 1, 1, 1).arity(11, 1, 3, 1, 1)
        .attr("min", FLOAT, 0, 11, Attribute.of(-Float.MAX_VALUE), null)
        .attr("max", FLOAT, 0, 11, Attribute.of(Float.MAX_VALUE), null);
    op("Identity", v(1, 13, 14, 16), 1, 13, 14, 16).arity(0, 1, 1, 1, 1);
    op("Dropout", v(1, 6, 7, 10, 12, 13), 7, 10, 12, 13).arity(0, 1, 1, 1, 2)
        .arity(12, 1, 3, 1, 2)
        .attr("ratio", FLOAT, 0, 12, Attribute.of(0.5f), a -> a.asFloat() >= 0
            && a.asFloat() < 1 ? null : "is " + a + " (expected 0 <= ratio < 1)")
        .attr("seed", INT, 12, ANY, null, null);
    op("Constant", v(1, 9, 11, 12, 13), 1, 9, 11, 12, 13).arity(0, 0, 0, 1, 1)
        .attr("value", TENSOR, null, null)
        .attr("value_float", FLOAT, 12, ANY, null, null)
        .attr("value_floats", FLOATS, 12, ANY, null, null)
        .attr("value_int", INT, 12, ANY, null, null)
        .attr("value_ints", INTS, 12, ANY, null, null)
        .attr("value_string", STRING, 12, ANY, null,
            a -> "is a string (string tensors are not supported)")
        .attr("value_strings", STRINGS, 12, ANY, null,
            a -> "is a list of strings (string tensors are not supported)");
    op("Shape", v(1, 13, 15), 1, 13, 15).arity(0, 1, 1, 1, 1)
        .attr("start", INT, 15, ANY, Attribute.of(0L), null)
        .attr("end", INT, 15, ANY, null, null);
    op("Gather", v(1, 11, 13), 1, 11, 13).arity(0, 2, 2, 1, 1)
        .attr("axis", INT, Attribute.of(0L), null);
    for (String q : List.of("QuantizeLinear", "DequantizeLinear")) {
      op(q, v(10, 13), 10, 13).arity(0, 2, 3, 1, 1)
          .attr("axis", INT, 13, ANY, Attribute.of(1L), null);
    }
  }
}
