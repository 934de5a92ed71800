package dev.systole.tests;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written GEMM programs for tests of the contract: {@code C = A * W} of any M, N, K, laid out
 * as CONTRACT.md describes (A in K-chunk-major blocks, W in zero-padded tiles, C row-major),
 * tiled to the device's parameters with double-buffered loads. This is deliberately the plainest
 * correct tiling, written here from the contract alone, so that tests of the emulator do not
 * depend on the compiler they are meant to catch bugs in.
 */
public final class GemmPrograms {
  private GemmPrograms() {}

  /** Where the operands live in card memory. */
  public record Layout(long a, long w, long params, long c) {}

  /** Requantization to int8 output: per-column bias, multiplier and shift, a zero point. */
  public record Requant(int[] bias, int[] mult, int[] shift, int zeroPoint, boolean relu) {}

  public static int chunks(int n, int d) {
    return (n + d - 1) / d;
  }

  /** A (M x K, row-major) as [ceil(K/D)][M][D] int8, zero padded. */
  public static byte[] layoutA(byte[][] a, int k, int d) {
    int m = a.length;
    int kc = chunks(k, d);
    byte[] out = new byte[kc * m * d];
    for (int c = 0; c < kc; c++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < d && c * d + j < k; j++) {
          out[(c * m + i) * d + j] = a[i][c * d + j];
        }
      }
    }
    return out;
  }

  /** W (K x N, row-major) as tiles [ceil(K/D)][ceil(N/D)][D][D] int8, zero padded. */
  public static byte[] layoutW(byte[][] w, int n, int d) {
    int k = w.length;
    int kc = chunks(k, d);
    int nc = chunks(n, d);
    byte[] out = new byte[kc * nc * d * d];
    for (int c = 0; c < kc; c++) {
      for (int t = 0; t < nc; t++) {
        for (int r = 0; r < d && c * d + r < k; r++) {
          for (int j = 0; j < d && t * d + j < n; j++) {
            out[((c * nc + t) * d + r) * d + j] = w[c * d + r][t * d + j];
          }
        }
      }
    }
    return out;
  }

  /** Requant parameters as [ceil(N/D)][3][D] int32 little-endian: bias, mult, shift rows. */
  public static byte[] layoutParams(Requant q, int n, int d) {
    int nc = chunks(n, d);
    byte[] out = new byte[nc * 3 * d * 4];
    for (int t = 0; t < nc; t++) {
      for (int j = 0; j < d && t * d + j < n; j++) {
        int col = t * d + j;
        putInt(out, ((t * 3) * d + j) * 4, q.bias()[col]);
        putInt(out, ((t * 3 + 1) * d + j) * 4, q.mult()[col]);
        putInt(out, ((t * 3 + 2) * d + j) * 4, q.shift()[col]);
      }
    }
    return out;
  }

  static void putInt(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }

  /**
   * The program. Output is C row-major: int32 (M x N) without requant, int8 with it. ABUF holds two
   * halves for A chunks and two for requantized rows; ACC two halves for accumulators, parameter
   * rows above them; WBUF two tiles. Each unit takes one instruction at a time and instructions
   * issue in order, so reusing a half two steps later needs no wait: the instruction that used it
   * has finished by the time the unit took the one in between.
   */
  public static List<Instruction> build(int m, int n, int k, DeviceParams p, Layout at,
      Requant q) {
    int d = p.lanes();
    int kc = chunks(k, d);
    int nc = chunks(n, d);
    int aHalf = p.abufRows() / 4;
    int accHalf = (p.accRows() - 3) / 2;
    int mt = Math.min(m, Math.min(aHalf, accHalf));
    if (mt < 1 || p.wbufRows() < 2 * d) {
      throw new IllegalArgumentException("buffers too small for a GEMM on " + p);
    }
    int paramRow = 2 * accHalf;
    List<String> asm = new ArrayList<>();
    int step = 0;
    int block = 0;
    for (int t = 0; t < nc; t++) {
      int cols = Math.min(d, n - t * d);
      if (q != null) {
        asm.add(String.format("LOAD buf=ACC dst_row=%d elem_bytes=%d hbm_addr=0x%x x_size=3"
            + " y_size=1 x_stride=%d wait=EXEC+VECTOR", paramRow, d * 4,
            at.params() + (long) t * 3 * d * 4, d * 4));
      }
      for (int m0 = 0; m0 < m; m0 += mt) {
        int rows = Math.min(mt, m - m0);
        int accBase = (block % 2) * accHalf;
        for (int c = 0; c < kc; c++, step++) {
          int aBase = (step % 2) * aHalf;
          int wBase = (step % 2) * d;
          asm.add(String.format("LOAD buf=ABUF dst_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d"
              + " y_size=1 x_stride=%d", aBase, d, at.a() + ((long) c * m + m0) * d, rows, d));
          asm.add(String.format("LOAD buf=WBUF dst_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d"
              + " y_size=1 x_stride=%d", wBase, d, at.w() + ((long) c * nc + t) * d * d, d, d));
          asm.add(String.format("MATMUL w_load=1 w_row=%d a_row=%d acc_row=%d rows=%d"
              + " accumulate=%d wait=LOAD", wBase, aBase, accBase, rows, c > 0 ? 1 : 0));
        }
        if (q == null) {
          asm.add(String.format("STORE buf=ACC src_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d"
              + " y_size=1 x_stride=%d wait=EXEC", accBase, cols * 4,
              at.c() + ((long) m0 * n + (long) t * d) * 4, rows, n * 4));
        } else {
          int outBase = 2 * aHalf + (block % 2) * aHalf;
          asm.add(String.format("REQUANT acc_row=%d dst_row=%d rows=%d param_row=%d"
              + " zero_point=%d relu=%d wait=EXEC", accBase, outBase, rows, paramRow, q.zeroPoint(),
              q.relu() ? 1 : 0));
          asm.add(String.format("STORE buf=ABUF src_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d"
              + " y_size=1 x_stride=%d wait=VECTOR", outBase, cols,
              at.c() + (long) m0 * n + (long) t * d, rows, n));
        }
        block++;
      }
    }
    asm.add("HALT");
    return Assembler.parseProgram(String.join("\n", asm));
  }

  /** The plain reference: int32 {@code A * W}, wrapping like the array. */
  public static int[][] reference(byte[][] a, byte[][] w, int n) {
    int m = a.length;
    int k = w.length;
    int[][] c = new int[m][n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int s = 0;
        for (int l = 0; l < k; l++) {
          s += a[i][l] * w[l][j];
        }
        c[i][j] = s;
      }
    }
    return c;
  }
}
