package dev.systole.host.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** A per-channel affine map's fixed point keeps its slopes and offset, whatever their sizes. */
class ScaleLayerTest {
  @Test
  void slopesAndOffsetsSurviveTheFixedPoint() {
    Random r = new Random(5);
    for (int t = 0; t < 2000; t++) {
      double pos = Math.scalb(r.nextGaussian(), r.nextInt(20) - 14);
      double neg = r.nextBoolean() ? pos : Math.scalb(r.nextGaussian(), r.nextInt(20) - 14);
      double off = Math.scalb(r.nextGaussian(), r.nextInt(16) - 4);
      ScaleLayer l = ScaleLayer.of(new double[] {pos}, new double[] {neg}, new double[] {off},
          0);
      double unit = Math.scalb(1.0, -l.shift()[0]);
      String what = "pos " + pos + " neg " + neg + " off " + off + " shift " + l.shift()[0];
      assertEquals(pos, l.multPos()[0] * unit, Math.abs(pos) * 1e-6 + unit, what);
      assertEquals(neg, l.multNeg()[0] * unit, Math.abs(neg) * 1e-6 + unit, what);
      assertEquals(off, l.bias()[0] * unit, Math.abs(off) * 1e-6 + unit, what);
      assertEquals(true, 255 * Math.abs(l.multPos()[0] * unit - pos) < 0.01
          && 255 * Math.abs(l.multNeg()[0] * unit - neg) < 0.01,
          what + ": the slope's error over the int8 range stays below a hundredth of a step");
    }
  }

  @Test
  void aChannelWithoutItsValuesIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ScaleLayer(new int[2], new int[2],
        new int[1], new int[2], 0));
  }
}
