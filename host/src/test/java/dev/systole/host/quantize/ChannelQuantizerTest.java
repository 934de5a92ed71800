package dev.systole.host.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-channel weight scales, bias scales, requant scales and batch-norm folding. */
class ChannelQuantizerTest {
  @Test
  void eachChannelGetsItsOwnSymmetricScale() {
    Random r = new Random(4);
    int channels = 5;
    int per = 27;
    float[] w = new float[channels * per];
    for (int c = 0; c < channels; c++) {
      double magnitude = Math.pow(10, -c);
      for (int i = 0; i < per; i++) {
        w[c * per + i] = (float) (r.nextGaussian() * magnitude);
      }
    }
    ChannelQuantizer.Weights q = ChannelQuantizer.perChannel(w, channels);
    for (int c = 0; c < channels; c++) {
      float max = 0;
      for (int i = 0; i < per; i++) {
        max = Math.max(max, Math.abs(w[c * per + i]));
      }
      assertEquals(max / 127, q.scales()[c], max * 1e-6);
      boolean reachesEnd = false;
      for (int i = 0; i < per; i++) {
        int code = q.values()[c * per + i];
        assertTrue(code >= -127 && code <= 127);
        reachesEnd |= Math.abs(code) == 127;
        assertTrue(Math.abs(code * q.scales()[c] - w[c * per + i]) <= q.scales()[c] * 0.5001,
            "channel " + c + " weight " + i);
      }
      assertTrue(reachesEnd, "channel " + c + " uses its full range");
    }
  }

  @Test
  void zeroChannelAndBadShapes() {
    ChannelQuantizer.Weights q = ChannelQuantizer.perChannel(new float[] {0, 0, 1, -2}, 2);
    assertArrayEquals(new float[] {1f, 2f / 127}, q.scales(), 1e-9f);
    assertArrayEquals(new byte[] {0, 0, 64, -127}, q.values());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChannelQuantizer.perChannel(new float[7], 2));
    assertTrue(e.getMessage().contains("7 weights for 2 output channels"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ChannelQuantizer.perChannel(new float[] {Float.NaN, 1}, 1));
  }

  @Test
  void biasIsAtTheAccumulatorScale() {
    float sx = 0.02f;
    float[] sw = {0.001f, 0.5f};
    int[] b = ChannelQuantizer.bias(new float[] {0.7f, -3.3f}, sx, sw);
    assertEquals(Math.rint(0.7f / (sx * (double) sw[0])), b[0]);
    assertEquals(Math.rint(-3.3f / (sx * (double) sw[1])), b[1]);
    assertEquals(Integer.MAX_VALUE, ChannelQuantizer.bias(new float[] {1e9f}, 1e-6f,
        new float[] {1e-6f})[0]);
  }

  @Test
  void requantScalesAreTheRatioOfScales() {
    FixedPoint[] f = ChannelQuantizer.requant(0.05f, new float[] {0.01f, 0.002f}, 0.1f);
    double r0 = (double) 0.05f * 0.01f / 0.1f;
    double r1 = (double) 0.05f * 0.002f / 0.1f;
    assertEquals(r0, f[0].value(), r0 * 0x1p-31);
    assertEquals(r1, f[1].value(), r1 * 0x1p-31);
  }

  @Test
  void foldedBatchNormMatchesTheLayerFollowedByTheNorm() {
    Random r = new Random(5);
    int out = 6;
    int in = 10;
    float[] w = new float[out * in];
    float[] bias = new float[out];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    float[] gamma = new float[out];
    float[] beta = new float[out];
    float[] mean = new float[out];
    float[] var = new float[out];
    for (int c = 0; c < out; c++) {
      bias[c] = (float) r.nextGaussian();
      gamma[c] = (float) (0.5 + r.nextDouble());
      beta[c] = (float) r.nextGaussian();
      mean[c] = (float) r.nextGaussian();
      var[c] = (float) (0.1 + r.nextDouble());
    }
    BatchNorm bn = new BatchNorm(gamma, beta, mean, var, 1e-5f);
    BatchNorm.Folded f = bn.foldInto(w, bias);
    for (int trial = 0; trial < 20; trial++) {
      float[] x = new float[in];
      for (int i = 0; i < in; i++) {
        x[i] = (float) r.nextGaussian();
      }
      for (int c = 0; c < out; c++) {
        float layer = bias[c];
        float folded = f.bias()[c];
        for (int i = 0; i < in; i++) {
          layer += w[c * in + i] * x[i];
          folded += f.weights()[c * in + i] * x[i];
        }
        float unfolded = bn.apply(c, layer);
        assertEquals(unfolded, folded, 1e-4f * (1 + Math.abs(unfolded)));
      }
    }
    assertThrows(IllegalArgumentException.class, () -> bn.foldInto(new float[13], null));
    assertThrows(IllegalArgumentException.class, () -> new BatchNorm(gamma, beta, mean,
        new float[] {-1, 1, 1, 1, 1, 1}, 0f));
  }
}
