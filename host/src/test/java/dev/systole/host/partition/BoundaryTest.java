package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Values crossing to the device and back: layouts and encodings, element by element. */
class BoundaryTest {
  @Test
  void featureMapsAreTransposedToNhwcAndBack() {
    int n = 2;
    int c = 3;
    int h = 4;
    int w = 5;
    Tensor t = Tensor.allocate(DType.UINT8, n, c, h, w);
    for (int i = 0; i < t.numel(); i++) {
      t.setUint8(i, i % 251);
    }
    byte[] dev = Boundary.toDevice("t", t, new Encoding.Integer8(true), Boundary.Layout.NHWC);
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            int nchw = ((b * c + ch) * h + y) * w + x;
            int nhwc = ((b * h + y) * w + x) * c + ch;
            assertEquals(t.getUint8(nchw) - 128, dev[nhwc], "element " + nchw);
          }
        }
      }
    }
    Tensor back = Boundary.fromDevice(ByteBuffer.wrap(dev), new Encoding.Integer8(true),
        Boundary.Layout.NHWC, t.shape(), new int[] {h, w, c}, null);
    assertEquals(t, back);
    Tensor flat = Boundary.fromDevice(ByteBuffer.wrap(dev), new Encoding.Integer8(true),
        Boundary.Layout.FLATTENED_NHWC, new long[] {n, c * h * w}, new int[] {h, w, c}, null);
    assertEquals(t.reshape(n, c * h * w), flat, "a flatten comes back in ONNX's NCHW order");
  }

  @Test
  void floatsAreQuantizedAndAccumulatorsScaledPerChannel() {
    QuantParams q = new QuantParams(0.5f, -10);
    Tensor f = Tensor.ofFloat32(new float[] {0f, 1f, -3f, 1000f}, 2, 2);
    byte[] codes = Boundary.toDevice("f", f, new Encoding.Quantized(q), Boundary.Layout.ROWS);
    assertEquals(-10, codes[0]);
    assertEquals(-8, codes[1]);
    assertEquals(-16, codes[2]);
    assertEquals(127, codes[3]);
    Tensor deq = Boundary.fromDevice(ByteBuffer.wrap(codes), new Encoding.Quantized(q),
        Boundary.Layout.ROWS, new long[] {2, 2}, null, null);
    assertEquals(-3f, deq.getFloat32(2));
    assertEquals(68.5f, deq.getFloat32(3));

    ByteBuffer acc = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    acc.putInt(100).putInt(-100).putInt(7).putInt(8).flip();
    Tensor scaled = Boundary.fromDevice(acc, new Encoding.Accumulator(new float[] {0.5f, 2f}),
        Boundary.Layout.ROWS, new long[] {2, 2}, null, null);
    assertEquals(Tensor.ofFloat32(new float[] {50f, -200f, 3.5f, 16f}, 2, 2), scaled);
    Tensor raw = Boundary.fromDevice(acc, new Encoding.Accumulator(null), Boundary.Layout.ROWS,
        new long[] {2, 2}, null, null);
    assertEquals(Tensor.ofInt32(new int[] {100, -100, 7, 8}, 2, 2), raw);
  }

  @Test
  void aNonFiniteValueIsRefusedNamingTheValueAndItsIndex() {
    QuantParams q = new QuantParams(0.5f, 0);
    Tensor nan = Tensor.ofFloat32(new float[] {0f, 1f, 2f, 3f, Float.NaN, 5f}, 1, 2, 3, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Boundary.toDevice("image", nan, new Encoding.Quantized(q), Boundary.Layout.NHWC));
    assertEquals("value 'image' holds NaN at index [0, 1, 1, 0] (expected finite values: it is"
        + " quantized to int8, which has no code for NaN or infinity)", e.getMessage());
    Tensor inf = Tensor.ofFloat32(new float[] {0f, Float.NEGATIVE_INFINITY}, 1, 2);
    e = assertThrows(IllegalArgumentException.class,
        () -> Boundary.toDevice("x", inf, new Encoding.Quantized(q), Boundary.Layout.ROWS));
    assertTrue(e.getMessage().startsWith("value 'x' holds -Infinity at index [0, 1]"),
        e.getMessage());
  }

  @Test
  void rowsHeldOutOfOrderAreGatheredInOnnxOrder() {
    // A [2, 3] value the device holds transposed: ONNX element (i, j) at device index j*2 + i.
    Strided view = Strided.dense(new long[] {3, 2}).transpose(new long[] {1, 0});
    byte[] dev = {1, 4, 2, 5, 3, 6};
    Tensor t = Boundary.fromDevice(ByteBuffer.wrap(dev), new Encoding.Integer8(false),
        Boundary.Layout.ROWS, new long[] {2, 3}, null, view.order());
    assertEquals(Tensor.ofInt8(new byte[] {1, 2, 3, 4, 5, 6}, 2, 3), t);
  }
}
