package dev.systole.host.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.RandomLayers;
import dev.systole.host.run.HbmAllocator.Region;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Which channel each stream of a loaded graph gets, and what a placement that fails leaves. */
class HbmPlacementTest {
  private static final long MIB = 1 << 20;

  private static LayerGraph chain(Random r, int layers) {
    return new LayerGraph(IntStream.range(0, layers)
        .mapToObj(i -> RandomLayers.gemm(r, 8, 8, true)).toList());
  }

  @Test
  void aChainsOutputsAlternateBetweenTwoChannelsAfterTheInput() {
    DeviceGraph g = chain(new Random(1), 4).deviceGraph();
    assertArrayEquals(new int[] {1, 2, 3, 2, 3}, HbmPlacement.tensorChannels(g));
  }

  @Test
  void noLayerWritesTheChannelItsFirstInputIsIn() {
    DeviceGraph g = RandomLayers.residualNetwork(new Random(2), new Shape(6, 6, 3), 8);
    int[] channels = HbmPlacement.tensorChannels(g);
    assertArrayEquals(new int[] {1, 2, 3, 2, 3, 2}, channels, "x c1 c2 add pool fc");
    for (Node n : g.layers()) {
      assertNotEquals(channels[n.inputs().get(0).index()], channels[n.index()], n.name());
      assertTrue(channels[n.index()] == 2 || channels[n.index()] == 3, n.name());
    }
  }

  @Test
  void eachStreamLandsInItsChannelUnderItsPurpose() {
    HbmAllocator hbm = new HbmAllocator(32 * MIB, 32);
    HbmPlacement placement = new HbmPlacement(hbm);
    DeviceGraph g = RandomLayers.residualNetwork(new Random(3), new Shape(6, 6, 3), 8);
    Node c1 = g.node("c1");
    Region w = placement.weights(c1, 1000);
    Region c = placement.constants(c1, 100);
    List<Region> tensors = placement.tensors(g, 2);
    Region code = placement.program(2, 5000);
    assertEquals(0, hbm.channelOf(w.address()));
    assertEquals(0, hbm.channelOf(c.address()));
    assertEquals("weights of c1", w.purpose());
    assertEquals("constants of c1", c.purpose());
    int[] channels = HbmPlacement.tensorChannels(g);
    assertEquals(g.nodes().size(), tensors.size());
    for (Node n : g.nodes()) {
      Region t = tensors.get(n.index());
      assertEquals(channels[n.index()], hbm.channelOf(t.address()), n.name());
      assertEquals(n.outputBytes(2), t.size(), n.name());
      assertEquals(0, t.address() % Staging.ALIGNMENT, n.name());
    }
    assertEquals("input x for a batch of 2", tensors.get(0).purpose());
    assertEquals("output of c1 for a batch of 2", tensors.get(c1.index()).purpose());
    assertEquals(31, placement.programChannel());
    assertEquals(31, hbm.channelOf(code.address()));
    assertEquals("program for a batch of 2", code.purpose());
    placement.free(tensors);
    placement.free(List.of(w, c, code));
    assertEquals(0, hbm.usedBytes());
  }

  @Test
  void theTensorsOfABatchArePlacedAllOrNothing() {
    HbmAllocator hbm = new HbmAllocator(MIB, 4);
    HbmPlacement placement = new HbmPlacement(hbm);
    Region held = hbm.allocate("held", 600 * 1024, Staging.ALIGNMENT);
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", Shape.features(64), 0);
    Node fc = b.gemm("fc", x, RandomLayers.gemm(new Random(4), 64, 16, false));
    DeviceGraph g = b.output(fc).build();
    OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
        () -> placement.tensors(g, 4000));
    assertTrue(e.getMessage().contains("output of fc for a batch of 4000 needs 250.0 KiB"),
        e.getMessage());
    assertEquals(List.of(held), hbm.regions(), "the input placed before is freed");
  }
}
