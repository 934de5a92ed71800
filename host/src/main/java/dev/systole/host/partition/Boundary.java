package dev.systole.host.partition;

import dev.systole.host.compile.Window;
import dev.systole.host.quantize.FiniteValues;
import dev.systole.host.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Moves values across the edge of a device program: a host tensor in ONNX's layout into the
 * int8 bytes the program reads, and the program's int8 or int32 output back into a host tensor.
 *
 * <p>The device keeps feature maps NHWC, so that a pixel's channels are one buffer row, while
 * ONNX writes them NCHW; 4-D values are transposed here, in the same pass that quantizes or
 * dequantizes them, so each crossing touches each element once. Everything else is rows of
 * features ({@code [..., F]}), the same in both layouts. A flattened feature map ({@code [N,
 * C*H*W]} in ONNX, still NHWC on the device) is transposed on the way out like a 4-D one.
 *
 * <p>An image that feeds a convolution with few input channels (a network's first layer, with
 * its 1 or 3 channels) can instead cross as that convolution's patches ({@link Layout#PATCHES}):
 * on the device each kernel position would be a K chunk of D lanes with 1 or 3 of them used,
 * while the gathered patches pack every kernel position of a pixel into one row, so the
 * convolution runs as a dense GEMM. Gathering costs the host a pass it makes anyway, and the
 * copy it sends is kernelH x kernelW times larger, which PCIe carries far faster than the array
 * would spend on the empty lanes.
 */
public final class Boundary {
  private Boundary() {}

  /** How a value's elements are laid out on the device. */
  public enum Layout {
    /** ONNX {@code [N, C, H, W]}, device {@code [N, H, W, C]}. */
    NHWC,
    /** ONNX {@code [..., F]}, device the same. */
    ROWS,
    /** ONNX {@code [N, C*H*W]} (a Flatten), device {@code [N, H, W, C]}. */
    FLATTENED_NHWC,
    /**
     * ONNX {@code [N, H, W, C]} (a feature map transposed channels-last), device the same: the
     * NHWC map itself, seen with its channels as the last axis.
     */
    MAP_LAST,
    /**
     * ONNX {@code [N, C, H, W]}, device {@code [N, OH, OW, KH*KW*C]}: for each output pixel of
     * a convolution's window, the input it sees, feature {@code (ky*KW + kx)*C + c}, padding
     * at the input's zero point (see {@link dev.systole.host.compile.ConvLayer#patches}).
     */
    PATCHES
  }

  /**
   * The device bytes of host value {@code t}, model value {@code name}, int8, in the device
   * layout.
   *
   * <p>For {@link Layout#NHWC}, {@code t} is {@code [N, C, H, W]}.
   *
   * @throws IllegalArgumentException if {@code t} is quantized and holds a NaN or an infinity
   */
  static byte[] toDevice(String name, Tensor t, Encoding enc, Layout layout) {
    if (layout == Layout.PATCHES) {
      throw new IllegalArgumentException("patches need a window (expected toPatches)");
    }
    return codes(name, t, enc, layout == Layout.NHWC);
  }

  /**
   * The device bytes of host image batch {@code t} ({@code [N, C, H, W]}) as the patches of
   * {@code window} ({@link Layout#PATCHES}), int8, with {@code padValue} (the device input's
   * zero point, a real 0) wherever the window reaches past the image; {@code name} is the model
   * value {@code t} holds.
   */
  static byte[] toPatches(String name, Tensor t, Encoding enc, Window window, int padValue) {
    long[] s = t.shape();
    if (s.length != 4) {
      throw new IllegalArgumentException("patches of a tensor of shape " + Tensor.shapeString(s)
          + " (expected [N, C, H, W])");
    }
    if (padValue < -128 || padValue > 127) {
      throw new IllegalArgumentException("pad value " + padValue + " (expected -128 to 127)");
    }
    int n = (int) s[0];
    int c = (int) s[1];
    int h = (int) s[2];
    int w = (int) s[3];
    int oh = window.outHeight(h, false);
    int ow = window.outWidth(w, false);
    if (oh < 1 || ow < 1) {
      throw new IllegalArgumentException("window " + window + " over a " + h + "x" + w
          + " image (expected the padded image at least as large as the window's reach "
          + window.reachH() + "x" + window.reachW() + ")");
    }
    int kh = window.kernelH();
    int kw = window.kernelW();
    long size = (long) n * oh * ow * kh * kw * c;
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("patches of " + size + " bytes for " + n + " images"
          + " (expected at most " + (Integer.MAX_VALUE - 8) + ")");
    }
    // From the image's pixels with their channels side by side, padded once per window row
    // (ky) of each output row (oy): every output pixel's window row is then one run of bytes of
    // it where the dilation is 1.
    byte[] pixels = codes(name, t, enc, true);
    byte[] dst = new byte[(int) size];
    byte pad = (byte) padValue;
    int sx = window.strideW();
    int dx = window.dilationW();
    int rowBytes = kw * c;
    int windowBytes = kh * rowBytes;
    int reach = (ow - 1) * sx + (kw - 1) * dx + 1;
    int left = window.padLeft();
    byte[] padded = new byte[reach * c];
    // The part of the padded row the image fills: x from -left to reach - left - 1.
    int lo = Math.min(reach, Math.max(0, left));
    int hi = Math.max(lo, Math.min(reach, w + left));
    Arrays.fill(padded, 0, lo * c, pad);
    Arrays.fill(padded, hi * c, reach * c, pad);
    for (int b = 0; b < n; b++) {
      for (int oy = 0; oy < oh; oy++) {
        int first = (b * oh + oy) * ow * windowBytes;
        for (int ky = 0; ky < kh; ky++) {
          int iy = oy * window.strideH() - window.padTop() + ky * window.dilationH();
          int o = first + ky * rowBytes;
          if (iy < 0 || iy >= h) {
            for (int ox = 0; ox < ow; ox++, o += windowBytes) {
              Arrays.fill(dst, o, o + rowBytes, pad);
            }
            continue;
          }
          if (hi > lo) {
            System.arraycopy(pixels, ((b * h + iy) * w + lo - left) * c, padded, lo * c,
                (hi - lo) * c);
          }
          for (int ox = 0; ox < ow; ox++, o += windowBytes) {
            if (dx == 1) {
              System.arraycopy(padded, ox * sx * c, dst, o, rowBytes);
            } else {
              for (int kx = 0; kx < kw; kx++) {
                System.arraycopy(padded, (ox * sx + kx * dx) * c, dst, o + kx * c, c);
              }
            }
          }
        }
      }
    }
    return dst;
  }

  /**
   * The int8 codes of {@code t}, in its own element order, or with {@code nhwc} ({@code t} is
   * {@code [N, C, H, W]}) with each pixel's channels side by side, {@code [N, H, W, C]}. Every
   * float value the device reads is quantized here, so this is where a NaN or an infinity is
   * refused ({@link FiniteValues}).
   */
  private static byte[] codes(String name, Tensor t, Encoding enc, boolean nhwc) {
    int n = Math.toIntExact(t.numel());
    IntUnaryOperator code;
    if (enc instanceof Encoding.Quantized q) {
      FloatBuffer f = t.data().asFloatBuffer();
      code = i -> {
        float x = f.get(i);
        if (!Float.isFinite(x)) {
          throw FiniteValues.notFinite("value '" + name + "'", x, t.shape(), i);
        }
        return q.params().quantize(x);
      };
    } else if (enc instanceof Encoding.Integer8 i8) {
      ByteBuffer b = t.data();
      int off = i8.offset();
      int mask = i8.unsigned() ? 0xFF : -1;
      code = i -> (b.get(i) & mask) - off;
    } else {
      throw new IllegalStateException("int32 accumulators are never a device program's input");
    }
    // Element i of t is pixel p of channel ch of an image: it goes to the image's first element
    // plus p * c + ch; in t's own order, c is 1 and the plane is all of t.
    long[] s = t.shape();
    int c = nhwc ? (int) s[1] : 1;
    int plane = nhwc ? (int) (s[2] * s[3]) : n;
    byte[] codes = new byte[n];
    for (int base = 0, i = 0; base < n; base += plane * c) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < plane; p++) {
          codes[base + p * c + ch] = (byte) code.applyAsInt(i++);
        }
      }
    }
    return codes;
  }

  /**
   * The host tensor of shape {@code onnxShape} for a device output: {@code bytes} int8 or, for
   * {@link Encoding.Accumulator}, int32 little-endian, in the device layout. {@code hwc} gives
   * the device feature map's H, W and C for the NHWC layouts; {@code rowsOrder}, for rows held
   * out of ONNX's order, the device index of each element in ONNX's order (else null).
   */
  public static Tensor fromDevice(ByteBuffer bytes, Encoding enc, Layout layout, long[] onnxShape,
      int[] hwc, int[] rowsOrder) {
    long numel = 1;
    for (long d : onnxShape) {
      numel *= d;
    }
    int n = Math.toIntExact(numel);
    int[] order = null;
    if (rowsOrder != null) {
      if (layout != Layout.ROWS || rowsOrder.length != n) {
        throw new IllegalArgumentException("an order of " + rowsOrder.length + " elements for "
            + n + " in layout " + layout + " (expected rows, one index per element)");
      }
      order = rowsOrder;
    } else if (layout != Layout.ROWS && layout != Layout.MAP_LAST) {
      order = nhwcOrder(n / (hwc[0] * hwc[1] * hwc[2]), hwc[0], hwc[1], hwc[2]);
    }
    Tensor out = Tensor.allocateDirect(enc.hostType(), onnxShape);
    ByteBuffer o = out.data();
    if (enc instanceof Encoding.Quantized q) {
      FloatBuffer f = o.asFloatBuffer();
      for (int i = 0; i < n; i++) {
        f.put(i, q.params().dequantize(bytes.get(order == null ? i : order[i])));
      }
    } else if (enc instanceof Encoding.Integer8 i8) {
      for (int i = 0; i < n; i++) {
        o.put(i, (byte) (bytes.get(order == null ? i : order[i]) + i8.offset()));
      }
    } else {
      float[] scales = ((Encoding.Accumulator) enc).scales();
      IntBuffer acc = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
      if (scales == null) {
        IntBuffer r = o.asIntBuffer();
        for (int i = 0; i < n; i++) {
          r.put(i, acc.get(order == null ? i : order[i]));
        }
      } else {
        int perChannel = layout == Layout.ROWS || layout == Layout.MAP_LAST ? 1
            : hwc[0] * hwc[1];
        FloatBuffer r = o.asFloatBuffer();
        for (int i = 0; i < n; i++) {
          int c = (i / perChannel) % scales.length;
          r.put(i, acc.get(order == null ? i : order[i]) * scales[c]);
        }
      }
    }
    return out;
  }

  /** For each NCHW element index, the index of the same element in NHWC. */
  private static int[] nhwcOrder(int n, int h, int w, int c) {
    int[] order = new int[n * h * w * c];
    int plane = h * w;
    int i = 0;
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < plane; p++) {
          order[i++] = (b * plane + p) * c + ch;
        }
      }
    }
    return order;
  }
}
