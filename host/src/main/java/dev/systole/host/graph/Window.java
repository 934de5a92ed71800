package dev.systole.host.graph;

import java.util.Arrays;

/**
 * The sliding window of a convolution or pooling node over its spatial axes, with auto_pad and
 * ceil_mode already turned into explicit pads and output sizes. ONNX spreads this over five
 * attributes whose defaults depend on the rank, and the shape inference, the CPU kernels and the
 * device compiler all need the same answer, so it is computed once, here.
 *
 * <p>Every array has one entry per spatial axis. {@code padBegin} and {@code padEnd} are the
 * padding actually used, which for SAME_UPPER and SAME_LOWER is what makes the output size
 * {@code ceil(input / stride)}, and for ceil_mode may leave the last window partly outside the
 * padded input (such windows see only the positions inside).
 */
public record Window(long[] input, long[] kernel, long[] strides, long[] dilations,
    long[] padBegin, long[] padEnd, long[] output) {

  /**
   * The window of {@code node} (Conv, ConvInteger, QLinearConv, MaxPool or AveragePool) over an
   * input whose spatial sizes are {@code input}, with the kernel's spatial sizes {@code kernel}.
   *
   * @throws ModelException if an attribute has the wrong length or the input is smaller than the
   *     kernel, naming the node
   */
  public static Window of(Node node, long[] input, long[] kernel) {
    int k = input.length;
    long[] strides = ints(node, "strides", k, 1);
    long[] dilations = ints(node, "dilations", k, 1);
    long[] pads = ints(node, "pads", 2 * k, 0);
    String autoPad = node.attribute("auto_pad").map(Attribute::asString).orElse("NOTSET");
    boolean ceil = node.attribute("ceil_mode").map(a -> a.asInt() == 1).orElse(false);
    long[] begin = new long[k];
    long[] end = new long[k];
    long[] out = new long[k];
    for (int i = 0; i < k; i++) {
      long span = dilations[i] * (kernel[i] - 1) + 1;
      switch (autoPad) {
        case "SAME_UPPER", "SAME_LOWER" -> {
          out[i] = ceilDiv(input[i], strides[i]);
          long total = Math.max(0, (out[i] - 1) * strides[i] + span - input[i]);
          long small = total / 2;
          begin[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
          end[i] = total - begin[i];
        }
        case "VALID" -> out[i] = windows(input[i], span, strides[i], false);
        default -> {
          begin[i] = pads[i];
          end[i] = pads[i + k];
          out[i] = windows(input[i] + begin[i] + end[i], span, strides[i], ceil);
          if (ceil && out[i] > 0 && (out[i] - 1) * strides[i] >= input[i] + begin[i]) {
            out[i]--;
          }
        }
      }
      if (out[i] <= 0) {
        throw ModelException.atNode(node, String.format(
            "spatial axis %d: input size %d with pads %d+%d is smaller than the kernel's extent"
                + " %d (kernel %d, dilation %d)",
            i, input[i], begin[i], end[i], span, kernel[i], dilations[i]));
      }
    }
    return new Window(input.clone(), kernel.clone(), strides, dilations, begin, end, out);
  }

  private static long windows(long size, long span, long stride, boolean ceil) {
    long room = size - span;
    if (room < 0) {
      return 0;
    }
    return (ceil ? ceilDiv(room, stride) : room / stride) + 1;
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }

  private static long[] ints(Node node, String name, int length, long dflt) {
    long[] v = node.attribute(name).map(Attribute::asInts).orElse(null);
    if (v == null) {
      long[] d = new long[length];
      Arrays.fill(d, dflt);
      return d;
    }
    if (v.length != length) {
      throw ModelException.atNode(node, String.format(
          "attribute '%s' has %d values (expected %d for an input with %d spatial axes)",
          name, v.length, length, spatial(name, length)));
    }
    return v;
  }

  private static int spatial(String attr, int length) {
    return attr.equals("pads") ? length / 2 : length;
  }
}
