package dev.systole.host.compile;

import java.util.List;

/**
 * A chain of GEMM layers, each feeding the next, over row-major int8 activations: the plain way to
 * give the device a matrix product or a multilayer perceptron. Every layer but the last must
 * requantize (the next layer takes int8), and a layer takes the int8 codes of the one before as
 * they are, its zero point not taken off.
 *
 * <p>A chain is not compiled on its own: {@link #deviceGraph()} turns it into the
 * {@link DeviceGraph} of GEMM nodes it is, so a chain is placed, compiled, cached and run by the
 * same code as a network of convolutions, and gets the same program for its layers.
 */
public record LayerGraph(List<GemmLayer> layers) {
  public LayerGraph {
    layers = List.copyOf(layers);
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a layer graph needs at least one layer");
    }
    for (int i = 0; i + 1 < layers.size(); i++) {
      GemmLayer a = layers.get(i);
      GemmLayer b = layers.get(i + 1);
      if (a.outFeatures() != b.inFeatures()) {
        throw new IllegalArgumentException("layer " + i + " outputs " + a.outFeatures()
            + " features but layer " + (i + 1) + " takes " + b.inFeatures());
      }
      if (!a.int8Output()) {
        throw new IllegalArgumentException("layer " + i + " outputs int32 but feeds layer "
            + (i + 1) + " (expected a requantization to int8)");
      }
    }
  }

  public static LayerGraph of(GemmLayer... layers) {
    return new LayerGraph(List.of(layers));
  }

  public int inFeatures() {
    return layers.get(0).inFeatures();
  }

  public GemmLayer last() {
    return layers.get(layers.size() - 1);
  }

  public int outFeatures() {
    return last().outFeatures();
  }

  /** Bytes per element of the output: 1 (int8) or 4 (int32). */
  public int outputElementBytes() {
    return last().int8Output() ? 1 : 4;
  }

  /**
   * The chain as a device graph: an input {@code x} of {@link #inFeatures()} features with zero
   * point 0, then a GEMM node per layer, {@code layer 0} to {@code layer n-1}, the last its
   * output. A GEMM node takes its input's zero point off (folded into its bias) where a layer of
   * the chain does not, so each layer after the first gets its bias raised by the zero point
   * before it times each column's weight sum, which the fold takes back off: the array runs the
   * layers of the chain as they are.
   *
   * @throws IllegalArgumentException if a bias so raised leaves int32, naming the layer
   */
  public DeviceGraph deviceGraph() {
    DeviceGraph.Builder b = DeviceGraph.builder();
    DeviceGraph.Node x = b.input("x", DeviceGraph.Shape.features(inFeatures()), 0);
    for (int i = 0; i < layers.size(); i++) {
      int zx = x.zeroPoint();
      GemmLayer raised;
      try {
        raised = layers.get(i).withInputZeroPoint(-zx);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("layer " + i + " takes the output of layer " + (i - 1)
            + " (zero point " + zx + ") as it is: " + e.getMessage(), e);
      }
      x = b.gemm("layer " + i, x, raised);
    }
    return b.output(x).build();
  }
}
