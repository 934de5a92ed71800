package dev.systole.host.compiler;

import java.util.List;

/**
 * A chain of GEMM layers, each feeding the next: the unit the compiler turns into one device
 * program, so activations stay in card memory between layers. Every layer but the last must
 * requantize (the next layer takes int8).
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
}
