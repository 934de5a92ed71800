package dev.systole.host.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** What a device graph refuses as it is built, and the shapes and zero points it derives. */
class DeviceGraphTest {
  private static String message(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  @Test
  void shapesAndZeroPointsFollowTheProducers() {
    Random r = new Random(1);
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", new Shape(28, 28, 1), -128);
    Node c = b.conv("c", x, RandomLayers.conv(r, 1, 8, new Window(5, 3, 2, 1, 2, 1, 2, 1, 1, 1),
        true));
    assertEquals(new Shape(14, 28, 8), c.shape());
    Node p = b.maxPool("p", c, new MaxPoolLayer(Window.of(3, 2, 0), true));
    assertEquals(new Shape(7, 14, 8), p.shape(), "ceil mode keeps the last partial window");
    assertEquals(c.zeroPoint(), p.zeroPoint(), "pooling keeps the zero point");
    Node f = b.gemm("f", p, RandomLayers.gemm(r, 7 * 14 * 8, 10, false));
    assertEquals(Shape.features(10), f.shape());
    assertEquals(false, f.int8Output());
    DeviceGraph g = b.output(f).build();
    assertEquals(4, g.nodes().size());
    assertEquals(3, g.layers().size());
    assertEquals(f, g.node("f"));
    assertEquals("no node 'q' (expected one of [x, c, p, f])", message(() -> g.node("q")));
  }

  @Test
  void ceilModeDropsAWindowThatStartsInThePadding() {
    assertEquals(3, Window.of(2, 2, 1).outHeight(4, true), "(4 + 2 - 2) / 2 + 1 = 3");
    assertEquals(3, Window.of(3, 2, 0).outHeight(6, true), "ceil((6 - 3) / 2) + 1 = 3");
    assertEquals(2, Window.of(3, 2, 0).outHeight(6, false));
    assertEquals(0, Window.of(5, 1, 0).outHeight(4, false), "does not fit");
  }

  @Test
  void badLayersAndGraphsAreRefusedWithTheReason() {
    Random r = new Random(2);
    assertEquals("conv weights of 10 bytes for 4x3x3x3 (expected 108, OIHW)", message(
        () -> new ConvLayer(3, 4, Window.of(3, 1, 1), new byte[10], null, null)));
    assertEquals("pads 1,1,200,1 (expected 0 to 127 each)", message(
        () -> new Window(3, 3, 1, 1, 1, 1, 200, 1, 1, 1)));
    assertEquals("stride 0x1 (expected 1 to 4096 on each axis)", message(
        () -> new Window(3, 3, 0, 1, 0, 0, 0, 0, 1, 1)));
    assertEquals("add: scales 1.0, 0.0 -> 1.0 (expected finite and > 0)", message(
        () -> AddLayer.ofScales(1, 0, 1, 0, false)));
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", new Shape(4, 4, 3), 0);
    assertEquals("conv 'c' takes 5 channels but its input 'x' has 3 (expected equal)",
        message(() -> b.conv("c", x, RandomLayers.conv(r, 5, 4, Window.of(3, 1, 1), true))));
    assertEquals("conv 'c': window 7x7 spans 7x7 but input 'x' is 4x4 (expected the padded"
        + " input at least as large as the window)", message(() -> b.conv("c", x,
            RandomLayers.conv(r, 3, 4, Window.of(7, 1, 0), true))));
    assertEquals("maxpool 'p': output row 0 sees only padding (input 4 rows, kernel 2, stride"
        + " 2, pad 2; expected pads smaller than the kernel)", message(() -> b.maxPool("p", x,
            MaxPoolLayer.of(2, 2, 2))));
    assertEquals("gemm 'g' takes 40 features but its input 'x' has 48 (4x4x3, expected equal)",
        message(() -> b.gemm("g", x, RandomLayers.gemm(r, 40, 3, true))));
    Node raw = b.conv("raw", x, RandomLayers.conv(r, 3, 4, Window.of(3, 1, 1), false));
    assertEquals("'raw' outputs int32 and cannot feed 'p' (expected a requantization to int8)",
        message(() -> b.maxPool("p", raw, MaxPoolLayer.of(2, 2, 0))));
    Node y = b.input("y", new Shape(4, 4, 4), 0);
    assertEquals("add 'a' of 'x' (4x4x3) and 'y' (4x4x4) (expected the same shape)",
        message(() -> b.add("a", x, y, RandomLayers.add(r))));
    assertEquals("node name 'x' is used twice", message(() -> b.input("x", new Shape(1, 1, 1),
        0)));
    assertEquals("input 'x' cannot be an output (expected a layer)", message(() -> b.output(x)));
    Node other = DeviceGraph.builder().input("o", new Shape(1, 1, 1), 0);
    assertEquals("node 'o' is not from this graph builder", message(() -> b.maxPool("p", other,
        MaxPoolLayer.of(1, 1, 0))));
    b.output(raw);
    assertEquals("'y' is neither an input of another node nor an output (expected every node"
        + " to be used)", message(b::build));
  }

  @Test
  void foldedBiasesThatLeaveInt32AreRefused() {
    byte[] w = new byte[27];
    java.util.Arrays.fill(w, (byte) 127);
    ConvLayer c = new ConvLayer(3, 1, Window.of(3, 1, 1), w, new int[] {Integer.MAX_VALUE - 5},
        null);
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node n = b.conv("c", b.input("x", new Shape(3, 3, 3), -100), c);
    assertEquals("conv bias[0] = 2147483642 minus input zero point -100 x weight sum 3429 ="
        + " 2147826542 (expected the folded bias within int32)", message(() -> n.matmul(16)));
  }

  @Test
  void weightsForAnNchwFlattenAreReorderedToNhwc() {
    // 2 channels of 1x3, 2 outputs: NCHW feature (c*3 + w) to NHWC feature (w*2 + c).
    byte[] nchw = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
    byte[] nhwc = WeightLayout.nchwFlattenToNhwc(nchw, 2, 1, 3, 2);
    assertArrayEquals(new byte[] {0, 1, 30, 31, 10, 11, 40, 41, 20, 21, 50, 51}, nhwc);
  }
}
