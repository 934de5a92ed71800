package dev.systole.host.quantize;

/**
 * Inference-time batch normalization, {@code y = gamma * (x - mean) / sqrt(var + epsilon) + beta}
 * per channel, and its folding into the layer before it. A convolution or fully connected layer
 * followed by it is the same layer with each output channel's weights multiplied by
 * {@code s = gamma / sqrt(var + epsilon)} and its bias replaced by {@code (b - mean) * s + beta}:
 * exact in real arithmetic, and in float the folded layer differs from the pair only by rounding.
 * Folding first means the quantizer sees the weights the device will use, so their scales are
 * chosen for the folded values rather than for two layers of which one would never run.
 */
public record BatchNorm(float[] gamma, float[] beta, float[] mean, float[] variance,
    float epsilon) {
  public BatchNorm {
    int c = gamma.length;
    if (beta.length != c || mean.length != c || variance.length != c) {
      throw new IllegalArgumentException("batch norm with " + c + " scales, " + beta.length
          + " biases, " + mean.length + " means and " + variance.length
          + " variances (expected one of each per channel)");
    }
    if (!(epsilon >= 0)) {
      throw new IllegalArgumentException("batch norm epsilon " + epsilon + " (expected >= 0)");
    }
    for (int i = 0; i < c; i++) {
      if (!(variance[i] + epsilon > 0)) {
        throw new IllegalArgumentException("batch norm channel " + i + ": variance "
            + variance[i] + " + epsilon " + epsilon + " (expected > 0)");
      }
    }
  }

  public int channels() {
    return gamma.length;
  }

  /** The multiplier of channel {@code c}: {@code gamma / sqrt(var + epsilon)}. */
  public double scale(int c) {
    return gamma[c] / Math.sqrt((double) variance[c] + epsilon);
  }

  /** Applies the normalization to one value of channel {@code c}. */
  public float apply(int c, float x) {
    return (float) ((x - mean[c]) * scale(c) + beta[c]);
  }

  /** A layer's constants after folding: output-channel-major weights and a bias per channel. */
  public record Folded(float[] weights, float[] bias) {}

  /**
   * Folds this normalization into a layer with output-channel-major {@code weights} (see
   * {@link ChannelQuantizer}) and {@code bias} (null for none).
   *
   * @throws IllegalArgumentException if the layer's channel count differs from this one's
   */
  public Folded foldInto(float[] weights, float[] bias) {
    int c = channels();
    int per = ChannelQuantizer.perChannelCount(weights.length, c);
    if (bias != null && bias.length != c) {
      throw new IllegalArgumentException("bias of " + bias.length + " values before a batch norm"
          + " of " + c + " channels (expected " + c + ")");
    }
    float[] w = new float[weights.length];
    float[] b = new float[c];
    for (int o = 0; o < c; o++) {
      double s = scale(o);
      for (int i = o * per; i < (o + 1) * per; i++) {
        w[i] = (float) (weights[i] * s);
      }
      b[o] = (float) (((bias == null ? 0 : bias[o]) - mean[o]) * s + beta[o]);
    }
    return new Folded(w, b);
  }
}
