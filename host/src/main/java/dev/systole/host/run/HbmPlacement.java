package dev.systole.host.run;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.run.HbmAllocator.Region;
import java.util.ArrayList;
import java.util.List;

/**
 * Where in HBM a loaded graph's memory goes, by the stream that reads or writes it. The
 * accelerator's three memory ports run side by side: LOAD reads a layer's input and its weights,
 * STORE writes its output, and the fetch port reads the program. Two of them streaming from one
 * pseudo-channel share its bandwidth and banks, and the run takes longer than the timing model
 * says, so each stream gets channels of its own: weights and constants in channel 0, graph inputs
 * in channel 1, each layer's output in channel 2 or 3, whichever its first input is not in, and
 * the program in the last channel.
 *
 * <p>Two channels for outputs rather than one per layer: a layer reads what the one before wrote,
 * so alternating keeps a layer's LOADs and its STOREs apart, and a chain of layers alternates
 * 2, 3, 2... The second input of an add may share its output's channel; it is read once, next to
 * weights and windows read many times. The allocator falls back to anywhere when a channel is
 * full, so placement is a matter of speed, never of correctness.
 */
final class HbmPlacement {
  static final int WEIGHT_CHANNEL = 0;
  static final int INPUT_CHANNEL = 1;
  static final int OUTPUT_CHANNEL = 2;

  private final HbmAllocator hbm;

  HbmPlacement(HbmAllocator hbm) {
    this.hbm = hbm;
  }

  /** The channel of each node's tensor (a graph input's, or a layer's output), by node index. */
  static int[] tensorChannels(DeviceGraph graph) {
    int[] channels = new int[graph.nodes().size()];
    for (Node n : graph.nodes()) {
      if (n.kind() == DeviceGraph.Kind.INPUT) {
        channels[n.index()] = INPUT_CHANNEL;
      } else {
        int from = channels[n.inputs().get(0).index()];
        channels[n.index()] = from == OUTPUT_CHANNEL ? OUTPUT_CHANNEL + 1 : OUTPUT_CHANNEL;
      }
    }
    return channels;
  }

  /** The channel of the programs. */
  int programChannel() {
    return hbm.channels() - 1;
  }

  Region weights(Node layer, long bytes) {
    return hbm.allocate("weights of " + layer.name(), bytes, Staging.ALIGNMENT, WEIGHT_CHANNEL);
  }

  Region constants(Node layer, long bytes) {
    return hbm.allocate("constants of " + layer.name(), bytes, Staging.ALIGNMENT,
        WEIGHT_CHANNEL);
  }

  /**
   * Card memory for every tensor of the graph for a batch, by node index: each input and each
   * layer's output. All or nothing: what was placed is freed if one does not fit.
   *
   * @throws OutOfDeviceMemoryException naming the tensor that did not fit
   */
  List<Region> tensors(DeviceGraph graph, int batch) {
    int[] channels = tensorChannels(graph);
    List<Region> placed = new ArrayList<>();
    try {
      for (Node n : graph.nodes()) {
        String purpose = (n.kind() == DeviceGraph.Kind.INPUT ? "input " : "output of ")
            + n.name() + " for a batch of " + batch;
        placed.add(hbm.allocate(purpose, n.outputBytes(batch), Staging.ALIGNMENT,
            channels[n.index()]));
      }
      return List.copyOf(placed);
    } catch (RuntimeException e) {
      free(placed);
      throw e;
    }
  }

  Region program(int batch, long bytes) {
    return hbm.allocate("program for a batch of " + batch, bytes, Staging.ALIGNMENT,
        programChannel());
  }

  void free(Region r) {
    hbm.free(r);
  }

  void free(List<Region> regions) {
    regions.forEach(hbm::free);
  }
}
