package dev.systole.driver.emulator;

import java.util.Arrays;
import java.util.Random;

/**
 * The GEMM every benchmark here computes: C[M][N] = A[M][K] · B[K][N], int8 inputs (random, so
 * every value including -128 occurs), int32 output. Row-major arrays, as ONNX Runtime takes
 * them, with the plain product as the reference every benchmark checks itself against before it
 * is timed.
 */
final class GemmProblem {
  static final int M = 512;
  static final int N = 512;
  static final int K = 512;
  /** Multiply-accumulates count as two operations, the usual convention for GOPS. */
  static final long OPS = 2L * M * N * K;

  final byte[] a = new byte[M * K];
  final byte[] b = new byte[K * N];

  GemmProblem() {
    Random r = new Random(512);
    r.nextBytes(a);
    r.nextBytes(b);
  }

  /** The plain triple loop, with A read as int8 or as uint8. */
  static void multiply(byte[] a, byte[] b, int[] c, boolean unsignedA) {
    for (int m = 0; m < M; m++) {
      for (int n = 0; n < N; n++) {
        int s = 0;
        for (int k = 0; k < K; k++) {
          int x = unsignedA ? a[m * K + k] & 0xFF : a[m * K + k];
          s += x * b[k * N + n];
        }
        c[m * N + n] = s;
      }
    }
  }

  int[] reference(boolean unsignedA) {
    int[] c = new int[M * N];
    multiply(a, b, c, unsignedA);
    return c;
  }

  static void check(String what, int[] expected, int[] actual) {
    if (!Arrays.equals(expected, actual)) {
      int i = Arrays.mismatch(expected, actual);
      throw new IllegalStateException(what + " differs from the plain product at row " + i / N
          + ", column " + i % N + ": " + actual[i] + " (expected: " + expected[i] + ")");
    }
  }
}
