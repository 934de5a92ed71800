package dev.systole.host.model;

import dev.systole.host.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Moves values across the edge of a device program: a host tensor in ONNX's layout into the
 * int8 bytes the program reads, and the program's int8 or int32 output back into a host tensor.
 *
 * <p>The device keeps feature maps NHWC, so that a pixel's channels are one buffer row, while
 * ONNX writes them NCHW; 4-D values are transposed here, in the same pass that quantizes or
 * dequantizes them, so each crossing touches each element once. Everything else is rows of
 * features ({@code [..., F]}), the same in both layouts. A flattened feature map ({@code [N,
 * C*H*W]} in ONNX, still NHWC on the device) is transposed on the way out like a 4-D one.
 */
final class Boundary {
  private Boundary() {}

  /** How a value's elements are laid out on the device. */
  enum Layout {
    /** ONNX {@code [N, C, H, W]}, device {@code [N, H, W, C]}. */
    NHWC,
    /** ONNX {@code [..., F]}, device the same. */
    ROWS,
    /** ONNX {@code [N, C*H*W]} (a Flatten), device {@code [N, H, W, C]}. */
    FLATTENED_NHWC
  }

  /**
   * The device bytes of host value {@code t}, int8, in the device layout.
   *
   * <p>For {@link Layout#NHWC}, {@code t} is {@code [N, C, H, W]}.
   */
  static byte[] toDevice(Tensor t, Encoding enc, Layout layout) {
    int n = Math.toIntExact(t.numel());
    byte[] codes = new byte[n];
    if (enc instanceof Encoding.Quantized q) {
      FloatBuffer f = t.data().asFloatBuffer();
      for (int i = 0; i < n; i++) {
        codes[i] = (byte) q.params().quantize(f.get(i));
      }
    } else if (enc instanceof Encoding.Integer8 i8) {
      ByteBuffer b = t.data();
      int off = i8.offset();
      for (int i = 0; i < n; i++) {
        codes[i] = (byte) ((b.get(i) & (i8.unsigned() ? 0xFF : -1)) - off);
      }
    } else {
      throw new IllegalStateException("int32 accumulators are never a device program's input");
    }
    if (layout == Layout.NHWC) {
      long[] s = t.shape();
      return nchwToNhwc(codes, (int) s[0], (int) s[1], (int) s[2], (int) s[3]);
    }
    return codes;
  }

  /**
   * The host tensor of shape {@code onnxShape} for a device output: {@code bytes} int8 or, for
   * {@link Encoding.Accumulator}, int32 little-endian, in the device layout. {@code hwc} gives
   * the device feature map's H, W and C for the NHWC layouts.
   */
  static Tensor fromDevice(ByteBuffer bytes, Encoding enc, Layout layout, long[] onnxShape,
      int[] hwc) {
    long numel = 1;
    for (long d : onnxShape) {
      numel *= d;
    }
    int n = Math.toIntExact(numel);
    int[] order = null;
    if (layout != Layout.ROWS) {
      order = nhwcOrder(n / (hwc[0] * hwc[1] * hwc[2]), hwc[0], hwc[1], hwc[2]);
    }
    Tensor out = Tensor.allocate(enc.hostType(), onnxShape);
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
        int perChannel = layout == Layout.ROWS ? 1 : hwc[0] * hwc[1];
        FloatBuffer r = o.asFloatBuffer();
        for (int i = 0; i < n; i++) {
          int c = (i / perChannel) % scales.length;
          r.put(i, acc.get(order == null ? i : order[i]) * scales[c]);
        }
      }
    }
    return out;
  }

  static byte[] nchwToNhwc(byte[] src, int n, int c, int h, int w) {
    byte[] dst = new byte[src.length];
    int plane = h * w;
    for (int b = 0; b < n; b++) {
      int base = b * c * plane;
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < plane; p++) {
          dst[base + p * c + ch] = src[base + ch * plane + p];
        }
      }
    }
    return dst;
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
