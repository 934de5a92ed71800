package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.AddLayer;
import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.MatmulPlan;
import dev.systole.host.compile.MaxPoolLayer;
import dev.systole.host.compile.Requant;
import dev.systole.host.compile.Window;
import dev.systole.host.run.LoadedDeviceGraph;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A small residual CNN (conv, conv, add with the skip and ReLU, max pool, GEMM), and a deep
 * convolution, each as one program on the RTL sim board and on the emulator: the same bytes for
 * every output, and the RTL's cycles, for the whole program and for each layer, equal to the
 * emulator's timing model.
 */
class RtlCnnTest {
  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  private static byte[] bytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static Requant requant(Random r, int columns, int shift, boolean relu) {
    int[] mult = new int[columns];
    int[] shifts = new int[columns];
    for (int j = 0; j < columns; j++) {
      mult[j] = (1 << 30) + r.nextInt(1 << 30);
      shifts[j] = shift;
    }
    return new Requant(mult, shifts, r.nextInt(41) - 20, relu);
  }

  private static ConvLayer conv(Random r, int c, int oc, Window w) {
    int[] bias = new int[oc];
    for (int j = 0; j < oc; j++) {
      bias[j] = r.nextInt(2001) - 1000;
    }
    return new ConvLayer(c, oc, w, bytes(r, oc * c * w.kernelH() * w.kernelW()), bias,
        requant(r, oc, 42, true));
  }

  static DeviceGraph network(Random r) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", new Shape(10, 9, 3), -7);
    Node c1 = b.conv("c1", x, conv(r, 3, 17, Window.of(3, 1, 1)));
    Node c2 = b.conv("c2", c1, conv(r, 17, 17, new Window(3, 3, 1, 1, 1, 2, 1, 0, 1, 1)));
    Node sum = b.add("add", c2, c1, AddLayer.ofScales(0.8, 1.1, 1.5, -3, true));
    Node pool = b.maxPool("pool", sum, new MaxPoolLayer(Window.of(3, 2, 1), false));
    int features = (int) pool.shape().size();
    Node fc = b.gemm("fc", pool, new GemmLayer(features, 10, bytes(r, features * 10),
        new int[10], null));
    return b.output(fc).output(pool).build();
  }

  @Test
  void aResidualCnnMatchesTheEmulatorInBytesAndCycles() {
    Random r = new Random(11);
    DeviceGraph g = network(r);
    check(g, Map.of("x", Tensor.ofInt8(bytes(r, 2 * 10 * 9 * 3), 2, 10, 9, 3)));
  }

  /**
   * A deep layer on a small image, whose K (90 chunks) is split into steps and whose n-tiles all
   * accumulate in ACC at once, two images in alternating ACC halves.
   */
  @Test
  void aDeepConvolutionOnASmallImageMatchesTheEmulatorInBytesAndCycles() {
    Random r = new Random(12);
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", new Shape(4, 4, 160), 5);
    DeviceGraph g = b.output(b.conv("deep", x, conv(r, 160, 40, Window.of(3, 1, 1)))).build();
    MatmulPlan plan = GraphCompiler.estimate(g, 2, DeviceParams.defaults()).nodes()
        .get(0).matmul();
    assertEquals(MatmulPlan.Order.ACTIVATION_STEPS, plan.order(), "the plan under test");
    assertEquals(16, plan.mTile(), "one image per block");
    check(g, Map.of("x", Tensor.ofInt8(bytes(r, 2 * 4 * 4 * 160), 2, 4, 4, 160)));
  }

  private static void check(DeviceGraph g, Map<String, Tensor> in) {
    try (Session rtl = Session.open("sim", line -> { });
        Session emu = Session.open(RtlGemmTest.SAME_BUILD, line -> { })) {
      LoadedDeviceGraph onEmu = emu.load(g);
      LoadedDeviceGraph onRtl = rtl.load(g);
      Session.GraphResult want = emu.execute(onEmu, in);
      Session.GraphResult got = rtl.profile(onRtl, in);
      assertEquals(want.outputs(), got.outputs(), "output bytes");
      assertEquals(want.deviceCycles(), got.deviceCycles(), "cycles of the program");
      for (Session.LayerCycles l : got.layers()) {
        System.out.printf("sim %-5s model %7d rtl %7d%n", l.node().name(), l.estimated(),
            l.measured());
        assertEquals(l.estimated(), l.measured(), l.node().name() + ": cycles of the layer");
      }
    }
  }
}
