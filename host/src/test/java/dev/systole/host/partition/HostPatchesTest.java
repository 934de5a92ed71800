package dev.systole.host.partition;

import dev.systole.host.run.Example;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Convolutions of a host value that read it as patches gathered on the host: the device gives
 * the same bytes as when it reads the image and lowers the convolution to windows itself, and
 * the timing model gives it fewer cycles.
 */
@ExtendWith(LeakCheckExtension.class)
class HostPatchesTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();

  /**
   * Channels, image size, kernel, strides, pads (top, left, bottom, right), dilation, and
   * whether a Relu follows (requantized int8 output) or not (int32 accumulators).
   */
  static Stream<Arguments> convs() {
    return Stream.of(
        Arguments.of(1, 9, 3, 1, new int[] {1, 1, 1, 1}, 1, true),
        Arguments.of(2, 11, 3, 2, new int[] {0, 1, 1, 0}, 1, true),
        Arguments.of(3, 10, 3, 1, new int[] {2, 2, 2, 2}, 2, false),
        Arguments.of(1, 12, 5, 2, new int[] {2, 2, 2, 2}, 1, true),
        Arguments.of(2, 9, 5, 1, new int[] {0, 0, 0, 0}, 1, false),
        Arguments.of(3, 13, 5, 2, new int[] {1, 3, 2, 0}, 2, true),
        Arguments.of(1, 10, 7, 1, new int[] {3, 3, 3, 3}, 1, true),
        Arguments.of(2, 14, 7, 2, new int[] {3, 2, 3, 2}, 2, true),
        Arguments.of(3, 8, 7, 2, new int[] {3, 3, 3, 3}, 1, false));
  }

  @ParameterizedTest(name = "C={0} {1}x{1} kernel {2} stride {3} dilation {5} relu {6}")
  @MethodSource("convs")
  void patchesGiveTheBytesOfTheImage(int c, int size, int kernel, int stride, int[] pads,
      int dilation, boolean relu) {
    Random r = new Random(31L * c + 7L * kernel + size);
    int outs = 5 + r.nextInt(20);
    Graph.Builder b = Graph.builder().name("conv").input("x", DType.FLOAT32, "N", c, size, size)
        .output("y");
    b.initializer("w", ModelRunnerTest.random(r, 0.3, outs, c, kernel, kernel))
        .initializer("b", ModelRunnerTest.random(r, 0.1, outs));
    b.node("Conv", "conv", List.of("x", "w", "b"), List.of(relu ? "c" : "y"), Map.of(
        "pads", Attribute.ofInts(pads[0], pads[1], pads[2], pads[3]),
        "strides", Attribute.ofInts(stride, stride),
        "dilations", Attribute.ofInts(dilation, dilation)));
    if (relu) {
      b.node("Relu", "relu", List.of("c"), List.of("y"), Map.of());
    }
    Graph g = b.build();
    Tensor x = ModelRunnerTest.random(r, 1, 3, c, size, size);
    Model patches = Model.of(g, Calibration.run(g, Map.of("x", x),
        RangeObserver.Method.MINMAX));
    Model image = patches.withoutHostPatches();
    Node conv = g.nodes().get(0);
    assertTrue(patches.plan(Map.of("x", x), PARAMS).placement(conv).hostPatches(),
        "the conv reads patches");
    assertFalse(image.plan(Map.of("x", x), PARAMS).placement(conv).hostPatches(),
        "without them it reads the image");
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner withPatches = ModelRunner.on(s, patches);
        ModelRunner withImage = ModelRunner.on(s, image)) {
      ModelRunner.Result got = withPatches.run(Map.of("x", x));
      ModelRunner.Result want = withImage.run(Map.of("x", x));
      assertEquals(want.outputs().get("y"), got.outputs().get("y"));
      assertTrue(got.deviceCycles() < want.deviceCycles(), got.deviceCycles()
          + " cycles with patches, " + want.deviceCycles() + " with the image");
      assertEquals(want.usefulMacs(), got.usefulMacs(), "the same useful work");
    }
  }

  @Test
  void anIntegerConvPadsItsPatchesWithItsZeroPoint() {
    Random r = new Random(8);
    byte[] w = new byte[6 * 2 * 3 * 3];
    r.nextBytes(w);
    Graph g = Graph.builder().input("x", DType.UINT8, 2, 2, 7, 6).output("y")
        .initializer("xs", Tensor.ofFloat32(new float[] {0.02f}))
        .initializer("xz", Tensor.ofUint8(new byte[] {(byte) 201}))
        .initializer("w", Tensor.ofInt8(w, 6, 2, 3, 3))
        .initializer("ws", Tensor.ofFloat32(new float[] {0.003f}))
        .initializer("wz", Tensor.ofInt8(new byte[1]))
        .initializer("ys", Tensor.ofFloat32(new float[] {0.04f}))
        .initializer("yz", Tensor.ofUint8(new byte[] {(byte) 100}))
        .node("QLinearConv", "qconv", List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"),
            List.of("y"), Map.of("pads", Attribute.ofInts(2, 1, 2, 2), "strides",
                Attribute.ofInts(1, 2)))
        .build();
    byte[] xb = new byte[2 * 2 * 7 * 6];
    r.nextBytes(xb);
    Map<String, Tensor> in = Map.of("x", Tensor.ofUint8(xb, 2, 2, 7, 6));
    Model patches = Model.of(g, Calibration.none());
    assertTrue(patches.plan(in, PARAMS).placement(g.nodes().get(0)).hostPatches());
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner withPatches = ModelRunner.on(s, patches);
        ModelRunner withImage = ModelRunner.on(s, patches.withoutHostPatches())) {
      assertEquals(withImage.run(in).outputs().get("y"), withPatches.run(in).outputs().get("y"));
    }
  }

  @Test
  void aConvWithManyChannelsReadsTheImage() {
    Random r = new Random(9);
    Graph g = Graph.builder().input("x", DType.FLOAT32, 1, 16, 8, 8).output("y")
        .initializer("w", ModelRunnerTest.random(r, 0.3, 16, 16, 3, 3))
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), ModelRunnerTest.conv(1))
        .build();
    Tensor x = ModelRunnerTest.random(r, 1, 1, 16, 8, 8);
    Model m = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    assertFalse(m.plan(Map.of("x", x), PARAMS).placement(g.nodes().get(0)).hostPatches(),
        "16 channels fill the lanes of every kernel position already");
  }

  @Test
  void theExamplesFirstConvReadsPatchesAndItsEstimateDrops() {
    Example ex = Example.bundled();
    Graph g = ex.model();
    Model patches = Model.of(g, Calibration.placeholder(g));
    Map<String, long[]> shapes = Map.of(ex.inputName(), ex.toInput(ex.testImages()).shape());
    Plan withPatches = patches.planForShapes(shapes, PARAMS);
    Plan withImage = patches.withoutHostPatches().planForShapes(shapes, PARAMS);
    CompileReport fast = CompileReport.of(g, withPatches, PARAMS);
    CompileReport slow = CompileReport.of(g, withImage, PARAMS);
    CompileReport.Row first = fast.rows().get(0);
    assertEquals("Conv", first.op());
    assertEquals("device #0, input im2col on the host", first.where());
    assertEquals(1, fast.rows().stream().filter(row -> row.where().contains("im2col")).count(),
        "only the first conv reads from the host");
    assertEquals(1, fast.devicePrograms());
    assertTrue(first.estimatedCycles() * 4 < slow.rows().get(0).estimatedCycles(),
        first.estimatedCycles() + " cycles with patches, " + slow.rows().get(0)
            .estimatedCycles() + " with the image");
    assertTrue(fast.estimatedCycles() < slow.estimatedCycles());
    assertEquals(slow.usefulMacs(), fast.usefulMacs());
    assertTrue(fast.utilization() > slow.utilization());
  }

  @Test
  void patchesAreTheWindowsOfTheImageInKernelThenChannelOrder() {
    int n = 2;
    int c = 2;
    int h = 4;
    int w = 5;
    Tensor t = Tensor.allocate(DType.UINT8, n, c, h, w);
    for (int i = 0; i < t.numel(); i++) {
      t.setUint8(i, (i * 7) % 256);
    }
    Window win = new Window(3, 2, 2, 1, 1, 0, 1, 1, 1, 2);
    int oh = win.outHeight(h, false);
    int ow = win.outWidth(w, false);
    byte[] dev = Boundary.toPatches("t", t, new Encoding.Integer8(true), win, -77);
    assertEquals(n * oh * ow * 3 * 2 * c, dev.length);
    int i = 0;
    for (int b = 0; b < n; b++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 2; kx++) {
              for (int ch = 0; ch < c; ch++) {
                int iy = oy * 2 - 1 + ky;
                int ix = ox - 0 + kx * 2;
                int want = iy < 0 || iy >= h || ix < 0 || ix >= w ? -77
                    : t.getUint8(((b * c + ch) * h + iy) * w + ix) - 128;
                assertEquals(want, dev[i], "pixel " + oy + "," + ox + " position " + ky + ","
                    + kx + " channel " + ch);
                i++;
              }
            }
          }
        }
      }
    }
  }
}
