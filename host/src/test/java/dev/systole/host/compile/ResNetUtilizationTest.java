package dev.systole.host.compile;

import static dev.systole.host.compile.RandomLayers.add;
import static dev.systole.host.compile.RandomLayers.conv;
import static dev.systole.host.compile.RandomLayers.gemm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * ResNet-50 at the 224 x 224 input it was made for, with random weights (utilization depends on
 * shapes, not values): the timing model's estimate of how busy the array is. The work between
 * the convolutions (each tile's requantization and the residual adds, done in the epilogues)
 * runs on the VECTOR unit beside the array, which keeps the array busy at least 90 % of the
 * time; on a build without the VECTOR unit that work holds the array.
 */
class ResNetUtilizationTest {
  /**
   * torchvision's resnet50: a 7x7 stem (over patches the host gathers), max pooling, 3-4-6-3 bottlenecks (the stride on the 3x3
   * convolution), global average pooling and the classifier.
   */
  static DeviceGraph resnet50(Random r, int size) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    // The stem's three input channels would fill 3 of a K chunk's D lanes; the host gathers its
    // 7x7x3 patches instead, as the partitioner does for such a layer, and the array runs a 1x1
    // convolution over them.
    ConvLayer stem = conv(r, 3, 64, Window.of(7, 2, 3), true).patches();
    Node x = b.input("patches", new Shape(size / 2, size / 2, stem.inChannels()), 0);
    x = b.conv("stem", x, stem);
    x = b.maxPool("pool", x, MaxPoolLayer.of(3, 2, 1));
    int channels = 64;
    int[] blocks = {3, 4, 6, 3};
    for (int stage = 0; stage < blocks.length; stage++) {
      int width = 64 << stage;
      for (int block = 0; block < blocks[stage]; block++) {
        int stride = stage > 0 && block == 0 ? 2 : 1;
        String name = "layer" + (stage + 1) + "." + block;
        Node a = b.conv(name + ".conv1", x, conv(r, channels, width, Window.of(1, 1, 0), true));
        a = b.conv(name + ".conv2", a, conv(r, width, width, Window.of(3, stride, 1), true));
        a = b.conv(name + ".conv3", a, conv(r, width, 4 * width, Window.of(1, 1, 0), true));
        Node skip = x;
        if (block == 0) {
          skip = b.conv(name + ".downsample", x, conv(r, channels, 4 * width,
              Window.of(1, stride, 0), true));
        }
        x = b.add(name + ".add", a, skip, add(r));
        channels = 4 * width;
      }
    }
    Node pooled = b.mean("avgpool", x, new MeanLayer(RandomLayers.requant(r, 1,
        (long) (size / 32) * (size / 32), 0, false)));
    b.output(b.gemm("fc", pooled, gemm(r, channels, 1000, false)));
    return b.build();
  }

  private static double utilization(GraphCompiler.Program p, DeviceParams params) {
    return p.usefulMacs() / ((double) p.estimatedCycles() * params.macsPerCycle());
  }

  @Test
  void resNet50At224KeepsTheArrayBusyAtLeast90PercentOfTheTime() {
    DeviceGraph g = resnet50(new Random(50), 224);
    DeviceParams vector = DeviceParams.defaults();
    DeviceParams none = vector.with("VECTOR_UNIT=0,LUT_ROWS=0");
    GraphCompiler.Program with = GraphCompiler.estimate(g, 1, vector);
    GraphCompiler.Program without = GraphCompiler.estimate(g, 1, none);
    assertEquals(with.usefulMacs(), without.usefulMacs());
    long adds = with.nodes().stream().filter(n -> n.fusedInto() != null).count();
    assertEquals(16, adds, "every residual add is in a convolution's epilogue");
    double u = utilization(with, vector);
    assertTrue(u >= 0.90, "array utilization " + u + " with the VECTOR unit (expected >= 0.90)");
    assertTrue(utilization(without, none) < u, "without the VECTOR unit the epilogues hold the"
        + " array: " + utilization(without, none) + " against " + u);
  }
}
