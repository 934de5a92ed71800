package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both MATMUL kernels against the contract's loop, written out plainly below: every array size
 * the tests use, random int8 data and the all -128 extreme, accumulate on and off over
 * accumulators that wrap past 2^31, row counts on both sides of the vector kernel's block and
 * chunk sizes, and rows at offsets inside larger buffers whose other rows must stay untouched.
 * The build runs tests with the Vector API module, so the vector kernel must be present here;
 * one test starts a JVM without it and checks that the scalar kernel takes over.
 */
class MatmulKernelTest {
  private static final int[] ROW_COUNTS =
      {0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 66, 67, 127, 128, 129, 200, 257};

  /** acc[c + i][n] = (accumulate ? acc[c + i][n] : 0) + Σ_k abuf[a + i][k] · tile[k][n]. */
  private static void reference(int d, byte[] abuf, int a, byte[] tile, int[] acc, int c,
      int rows, boolean accumulate) {
    for (int i = 0; i < rows; i++) {
      for (int n = 0; n < d; n++) {
        int s = accumulate ? acc[c + i * d + n] : 0;
        for (int k = 0; k < d; k++) {
          s += abuf[a + i * d + k] * tile[k * d + n];
        }
        acc[c + i * d + n] = s;
      }
    }
  }

  private static MatmulKernel kernel(String kind, int d) {
    if (kind.equals("scalar")) {
      return MatmulKernel.scalar(d);
    }
    MatmulKernel k = MatmulKernel.vector(d);
    assertNotNull(k, "no vector kernel: tests must run with --add-modules jdk.incubator.vector");
    return k;
  }

  private static byte[] tile(Random r, int d) {
    byte[] t = new byte[d * d];
    r.nextBytes(t);
    return t;
  }

  private static int[] accumulators(Random r, int size) {
    int[] acc = new int[size];
    for (int i = 0; i < size; i++) {
      acc[i] = switch (r.nextInt(4)) {
        case 0 -> Integer.MAX_VALUE - r.nextInt(1 << 20);
        case 1 -> Integer.MIN_VALUE + r.nextInt(1 << 20);
        default -> r.nextInt();
      };
    }
    return acc;
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "vector"})
  void randomDataMatchesTheContractLoop(String kind) {
    Random r = new Random(kind.hashCode());
    for (int d : new int[] {4, 8, 16, 24, 32, 64}) {
      MatmulKernel kernel = kernel(kind, d);
      for (int rows : ROW_COUNTS) {
        for (boolean accumulate : new boolean[] {false, true}) {
          int before = r.nextInt(5);
          int after = 1 + r.nextInt(5);
          byte[] abuf = new byte[(before + rows + after) * d];
          r.nextBytes(abuf);
          byte[] tile = tile(r, d);
          int[] expected = accumulators(r, (after + rows + before) * d);
          int[] actual = expected.clone();
          int a = before * d;
          int c = after * d;
          reference(d, abuf, a, tile, expected, c, rows, accumulate);
          kernel.run(abuf, a, tile, 0, actual, c, rows, accumulate);
          assertArrayEquals(expected, actual,
              kind + " D=" + d + " rows=" + rows + " accumulate=" + accumulate);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "vector"})
  void extremesAndWrapAround(String kind) {
    for (int d : new int[] {4, 8, 16, 32, 64}) {
      MatmulKernel kernel = kernel(kind, d);
      int rows = 9;
      byte[] abuf = new byte[rows * d];
      Arrays.fill(abuf, (byte) -128);
      byte[] tile = new byte[d * d];
      Arrays.fill(tile, (byte) -128);
      int sum = d * 128 * 128;
      int[] acc = new int[rows * d];
      kernel.run(abuf, 0, tile, 0, acc, 0, rows, false);
      assertTrue(Arrays.stream(acc).allMatch(v -> v == sum), kind + " D=" + d);
      Arrays.fill(acc, Integer.MAX_VALUE);
      kernel.run(abuf, 0, tile, 0, acc, 0, rows, true);
      assertTrue(Arrays.stream(acc).allMatch(v -> v == Integer.MAX_VALUE + sum),
          kind + " D=" + d + " wraps");
      tile[0] = 127;
      int mixed = sum - 128 * 128 - 128 * 127;
      kernel.run(abuf, 0, tile, 0, acc, 0, rows, false);
      for (int i = 0; i < rows; i++) {
        assertEquals(mixed, acc[i * d], kind + " D=" + d + " row " + i);
        assertEquals(sum, acc[i * d + 1], kind + " D=" + d + " row " + i);
      }
    }
  }

  /**
   * Chains and pairs of chains, as the fast path runs them: longer than a segment or not, the
   * rows whole or split between a kernel and its sibling at a row that ends no register block,
   * the tiles read where they lie in one array.
   */
  @ParameterizedTest
  @ValueSource(strings = {"scalar", "vector"})
  void chainsAndPairsMatchTheContractLoop(String kind) {
    Random r = new Random(kind.hashCode() + 1);
    for (int d : new int[] {8, 16, 24, 32, 64}) {
      for (int n : new int[] {1, 3, 17, 40}) {
        for (int rows : new int[] {1, 8, 9, 37}) {
          for (boolean pair : new boolean[] {false, true}) {
            for (boolean split : new boolean[] {false, true}) {
              boolean accumulate = r.nextBoolean();
              int abufRows = 64;
              byte[] abuf = new byte[abufRows * d];
              r.nextBytes(abuf);
              int[] a = new int[n];
              byte[][] tiles = new byte[2 * n][];
              for (int m = 0; m < 2 * n; m++) {
                tiles[m] = tile(r, d);
              }
              // The kernel reads each tile where it lies in one array, as the fast path reads
              // tiles in WBUF: at row offsets, some with a row between them.
              byte[] rowsOfTiles = new byte[2 * n * (d * d + d)];
              byte[][] inRows = new byte[2 * n][];
              int[] t = new int[2 * n];
              for (int m = 0, at = 0; m < 2 * n; m++, at += d * d) {
                at += d * r.nextInt(2);
                System.arraycopy(tiles[m], 0, rowsOfTiles, at, d * d);
                inRows[m] = rowsOfTiles;
                t[m] = at;
              }
              for (int m = 0; m < n; m++) {
                a[m] = r.nextInt(abufRows - rows + 1) * d;
              }
              int c = d;
              int c2 = pair ? (rows + 3) * d : -1;
              int[] expected = accumulators(r, (2 * rows + 6) * d);
              int[] actual = expected.clone();
              for (int m = 0; m < n; m++) {
                reference(d, abuf, a[m], tiles[m], expected, c, rows, accumulate || m > 0);
              }
              if (pair) {
                for (int m = 0; m < n; m++) {
                  reference(d, abuf, a[m], tiles[n + m], expected, c2, rows,
                      accumulate || m > 0);
                }
              }
              MatmulKernel kernel = kernel(kind, d);
              String where = kind + " D=" + d + " tiles=" + n + " rows=" + rows + " pair=" + pair
                  + " split=" + split;
              if (split) {
                MatmulKernel sibling = kernel.sibling();
                int at = Math.min(rows / 2 + 1, rows);
                sibling.chainRows(abuf, a, inRows, t, n, actual, c, c2, 0, at, accumulate);
                kernel.chainRows(abuf, a, inRows, t, n, actual, c, c2, at, rows, accumulate);
              } else {
                kernel.chain(abuf, a, inRows, t, n, actual, c, c2, rows, accumulate);
              }
              assertArrayEquals(expected, actual, where);
            }
          }
        }
      }
    }
  }

  @Test
  void bothKernelsAgreeOnLongRuns() {
    Random r = new Random(7);
    int d = 16;
    MatmulKernel scalar = MatmulKernel.scalar(d);
    MatmulKernel vector = kernel("vector", d);
    int rows = 4096;
    byte[] abuf = new byte[rows * d];
    int[] acc = accumulators(r, rows * d);
    int[] other = acc.clone();
    for (int t = 0; t < 20; t++) {
      r.nextBytes(abuf);
      vector.abufWritten(0, rows);
      byte[] tile = tile(r, d);
      int first = r.nextInt(100);
      int count = r.nextInt(rows - first);
      boolean accumulate = t % 3 != 0;
      scalar.run(abuf, first * d, tile, 0, acc, first * d, count, accumulate);
      vector.run(abuf, first * d, tile, 0, other, first * d, count, accumulate);
      assertArrayEquals(acc, other, "tile " + t);
    }
  }

  /**
   * The vector kernel's float copy of ABUF follows rewrites of any range of rows, told by {@link
   * MatmulKernel#abufWritten}: ranges that start, end or lie on both sides of a 64-row boundary
   * (the kernel keeps one bit per row in 64-bit words), one row, and a range to the buffer's last
   * row, each followed by a run over rows around it.
   */
  @ParameterizedTest
  @ValueSource(ints = {16, 32, 64})
  void theFloatCopyFollowsRewrittenRowRanges(int d) {
    Random r = new Random(d);
    MatmulKernel scalar = MatmulKernel.scalar(d);
    MatmulKernel vector = kernel("vector", d);
    int rows = 300;
    byte[] abuf = new byte[rows * d];
    r.nextBytes(abuf);
    int[][] ranges = {{0, 300}, {60, 8}, {64, 1}, {63, 1}, {127, 2}, {0, 64}, {1, 63},
        {100, 150}, {128, 64}, {299, 1}, {190, 110}, {5, 200}, {250, 50}};
    for (int[] range : ranges) {
      for (int i = range[0] * d; i < (range[0] + range[1]) * d; i++) {
        abuf[i] = (byte) r.nextInt();
      }
      vector.abufWritten(range[0], range[1]);
      int first = Math.max(0, range[0] - 3);
      int count = Math.min(rows - first, range[1] + 6);
      byte[] tile = tile(r, d);
      int[] expected = new int[rows * d];
      int[] actual = new int[rows * d];
      scalar.run(abuf, first * d, tile, 0, expected, first * d, count, false);
      vector.run(abuf, first * d, tile, 0, actual, first * d, count, false);
      assertArrayEquals(expected, actual, "rows " + range[0] + " to " + (range[0] + range[1]));
    }
  }

  @Test
  void createPicksTheVectorKernelWhereItCoversColumns() {
    assertInstanceOf(VectorMatmulKernel.class, MatmulKernel.create(16));
    assertInstanceOf(VectorMatmulKernel.class, MatmulKernel.create(32));
    assertInstanceOf(ScalarMatmulKernel.class, MatmulKernel.create(4));
  }

  /** What {@link #withoutTheModuleTheScalarKernelRuns} runs in a JVM of its own. */
  public static void main(String[] args) {
    int d = 16;
    MatmulKernel kernel = MatmulKernel.create(d);
    Random r = new Random(3);
    byte[] abuf = new byte[37 * d];
    r.nextBytes(abuf);
    byte[] tile = tile(r, d);
    int[] expected = new int[37 * d];
    int[] actual = new int[37 * d];
    reference(d, abuf, 0, tile, expected, 0, 37, false);
    kernel.run(abuf, 0, tile, 0, actual, 0, 37, false);
    System.out.println(kernel.getClass().getSimpleName() + " "
        + (Arrays.equals(expected, actual) ? "exact" : "wrong"));
  }

  @Test
  void withoutTheModuleTheScalarKernelRuns() throws IOException, InterruptedException {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    Process p = new ProcessBuilder(List.of(java, "-Xlog:class+load=info", "-cp",
        System.getProperty("java.class.path"), MatmulKernelTest.class.getName()))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("ScalarMatmulKernel exact"), out);
    assertFalse(out.contains("VectorMatmulKernel"), "vector kernel loaded:\n" + out);
    assertFalse(out.contains("jdk.incubator.vector"), "Vector API loaded:\n" + out);
  }
}
