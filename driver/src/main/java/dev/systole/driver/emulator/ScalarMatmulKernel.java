package dev.systole.driver.emulator;

import java.util.Arrays;

/**
 * MATMUL in plain Java: for each row, the accumulator row takes one scaled weight row per
 * activation lane. The innermost loop runs along a weight row and an accumulator row, both
 * contiguous, which is the shape the JIT vectorizes by itself where it can.
 */
final class ScalarMatmulKernel extends MatmulKernel {
  ScalarMatmulKernel(int lanes) {
    super(lanes);
  }

  @Override
  MatmulKernel sibling() {
    return new ScalarMatmulKernel(lanes);
  }

  @Override
  void run(byte[] abuf, int a, byte[] tile, int t, int[] acc, int c, int rows,
      boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < rows; i++) {
      int ai = a + i * d;
      int ci = c + i * d;
      if (!accumulate) {
        Arrays.fill(acc, ci, ci + d, 0);
      }
      for (int k = 0; k < d; k++) {
        int x = abuf[ai + k];
        int w = t + k * d;
        for (int n = 0; n < d; n++) {
          acc[ci + n] += x * tile[w + n];
        }
      }
    }
  }
}
