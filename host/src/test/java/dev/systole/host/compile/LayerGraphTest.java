package dev.systole.host.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A chain of GEMM layers as the device graph of GEMM nodes it stands for: the same results,
 * though a chain's layer takes the int8 codes before it as they are and a GEMM node takes its
 * input's zero point off, and the same layers on the array.
 */
class LayerGraphTest {
  private static final int D = 16;

  /** Three layers whose outputs have zero points far from 0, the last int32 without a bias. */
  private static LayerGraph chain(Random r) {
    GemmLayer a = GemmProgramTest.randomLayer(r, 37, 20, true, false);
    GemmLayer b = GemmProgramTest.randomLayer(r, 20, 18, true, true);
    GemmLayer c = GemmProgramTest.randomLayer(r, 18, 5, false, false);
    return LayerGraph.of(withZeroPoint(a, 90), withZeroPoint(b, -77), c);
  }

  private static GemmLayer withZeroPoint(GemmLayer l, int zeroPoint) {
    Requant q = l.requant();
    return new GemmLayer(l.inFeatures(), l.outFeatures(), l.weights(), l.bias(),
        new Requant(q.multiplier(), q.shift(), zeroPoint, q.relu()));
  }

  @Test
  void aChainIsAnInputAndAGemmNodePerLayer() {
    LayerGraph chain = chain(new Random(1));
    DeviceGraph g = chain.deviceGraph();
    Node x = g.node("x");
    assertEquals(List.of(x), g.inputs());
    assertEquals(Shape.features(37), x.shape());
    assertEquals(0, x.zeroPoint());
    assertEquals(List.of("layer 0", "layer 1", "layer 2"),
        g.layers().stream().map(Node::name).toList());
    assertTrue(g.layers().stream().allMatch(n -> n.kind() == DeviceGraph.Kind.GEMM));
    assertEquals(List.of(g.node("layer 2")), g.outputs());
    assertEquals(List.of(g.node("layer 1")), g.node("layer 2").inputs());
    assertEquals(-77, g.node("layer 1").zeroPoint());
  }

  @Test
  void theGraphGivesWhatTheChainGives() {
    Random r = new Random(2);
    LayerGraph chain = chain(r);
    int m = 9;
    byte[][] x = GemmProgramTest.input(r, m, chain.inFeatures());
    byte[] flat = new byte[m * chain.inFeatures()];
    for (int i = 0; i < m; i++) {
      System.arraycopy(x[i], 0, flat, i * chain.inFeatures(), chain.inFeatures());
    }
    int[] got = GraphReference.run(chain.deviceGraph(), m, Map.of("x", flat)).get("layer 2");
    int[][] want = GemmProgramTest.reference(chain, x);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < chain.outFeatures(); j++) {
        assertEquals(want[i][j], got[i * chain.outFeatures() + j], "Y[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void theArrayRunsTheLayersOfTheChainAsTheyAre() {
    LayerGraph chain = chain(new Random(3));
    List<Node> nodes = chain.deviceGraph().layers();
    for (int i = 0; i < nodes.size(); i++) {
      GemmLayer want = chain.layers().get(i);
      GemmLayer got = nodes.get(i).matmul(D);
      assertSame(want.weights(), got.weights(), "layer " + i);
      assertArrayEquals(want.bias(), got.bias(), "layer " + i + ": the raised bias folds back");
      assertSame(want.requant(), got.requant(), "layer " + i);
    }
    assertEquals(null, nodes.get(2).matmul(D).bias(), "no bias row of zeros for the int32 layer");
  }

  @Test
  void aBiasRaisedOutOfInt32IsRefusedNamingTheLayer() {
    GemmLayer first = new GemmLayer(1, 1, new byte[] {1}, new int[] {0},
        Requant.uniform(1, 1 << 30, 31, 100, false));
    GemmLayer second = new GemmLayer(1, 1, new byte[] {127}, new int[] {Integer.MAX_VALUE - 5},
        null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LayerGraph.of(first, second).deviceGraph());
    assertTrue(e.getMessage().startsWith("layer 1 takes the output of layer 0 (zero point 100)"
        + " as it is: "), e.getMessage());
  }
}
