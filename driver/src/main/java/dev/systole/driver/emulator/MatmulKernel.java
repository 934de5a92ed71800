package dev.systole.driver.emulator;

import dev.systole.driver.contract.Arithmetic;
import dev.systole.driver.contract.Param;

/**
 * The arithmetic of MATMUL (contract 7.1): activation rows through a D×D weight tile into int32
 * accumulator rows, {@code acc[c + i][n] = (accumulate ? acc[c + i][n] : 0) + Σ_k a[r + i][k] ·
 * W[k][n]}, wrapping modulo 2^32.
 *
 * <p>This is the emulator's hot loop, so it has two implementations behind one factory. The
 * vector one uses the incubating Vector API when the JVM was started with {@code --add-modules
 * jdk.incubator.vector}; the scalar one is plain Java and runs everywhere. Which one {@link
 * #create} picks is decided once, when this class loads, from whether the module is in the boot
 * layer; the vector class is never loaded without it. Both give identical results, bit for bit:
 * the vector kernel computes the dot products in float, which is exact here because an int8
 * product is at most 2^14 in magnitude and D ≤ 64 (ARRAY_ROWS at most) of them sum to at most
 * 2^20, well inside the 24-bit significand, and it adds the previous accumulator in int32 as the
 * contract says. A chain of MATMULs into the same accumulator rows ({@link #chain}) may be summed
 * in float for up to {@link #maxChain} tiles: that many tiles give at most 255 products of at
 * most 2^14 per sum, below 2^22.
 *
 * <p>A kernel owns scratch space, so each {@link Machine} has its own and kernels are not shared
 * between threads.
 */
abstract sealed class MatmulKernel permits ScalarMatmulKernel, VectorMatmulKernel {
  private static final boolean VECTOR_MODULE =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /** Lanes D of a buffer row and size of the square weight tile. */
  final int lanes;

  MatmulKernel(int lanes) {
    if (lanes < Param.ARRAY_ROWS.min() || lanes > Param.ARRAY_ROWS.max()) {
      throw new IllegalArgumentException(String.format("lanes: %d (expected: %d <= lanes <= %d)",
          lanes, Param.ARRAY_ROWS.min(), Param.ARRAY_ROWS.max()));
    }
    this.lanes = lanes;
  }

  /**
   * The fastest kernel for D = {@code lanes} that this JVM can run: the vector one when the
   * module is present and D spans at least one strip of vector columns, else the scalar one.
   */
  static MatmulKernel create(int lanes) {
    MatmulKernel vector = VECTOR_MODULE && VectorMatmulKernel.coversColumns(lanes)
        ? VectorMatmulKernel.create(lanes) : null;
    return vector != null ? vector : new ScalarMatmulKernel(lanes);
  }

  /** The plain Java kernel, whatever the JVM. */
  static MatmulKernel scalar(int lanes) {
    return new ScalarMatmulKernel(lanes);
  }

  /**
   * The Vector API kernel, for any D, or null when the module is absent or the platform has no
   * vectors. Columns that do not fill a vector strip are computed by its scalar tail.
   */
  static MatmulKernel vector(int lanes) {
    return VECTOR_MODULE ? VectorMatmulKernel.create(lanes) : null;
  }

  /**
   * Streams {@code rows} activation rows, starting at lane offset {@code a} of {@code abuf},
   * through the tile at {@code tile[t ..]} (D×D int8, row-major [k][n]: WBUF's rows, or a copy
   * of them) into the accumulator rows starting at lane offset {@code c} of {@code acc}. Offsets
   * are in lanes (row index × D); the caller has checked that every row lies inside its buffer.
   */
  abstract void run(byte[] abuf, int a, byte[] tile, int t, int[] acc, int c, int rows,
      boolean accumulate);

  /**
   * Tells the kernel that {@code count} ABUF rows from {@code firstRow} were written since it last
   * read them. A kernel that keeps ABUF in another form of its own ({@link #mirrorsAbuf}) must
   * hear of every write to the ABUF array it is given, other than its first.
   */
  void abufWritten(int firstRow, int count) {}

  /** Whether this kernel keeps a copy of ABUF and so must hear of writes ({@link #abufWritten}). */
  boolean mirrorsAbuf() {
    return false;
  }

  /**
   * The MATMULs of a chain, one after another, into the same accumulator rows: tile {@code m},
   * at {@code tiles[m][t[m] ..]}, takes the rows at lane offset {@code a[m]}, the first adds to
   * the accumulators if {@code accumulate} and every later one adds to them. The result is that
   * of {@link #run} for each in turn, bit for bit; a kernel may compute it in fewer passes over
   * the accumulators.
   */
  final void chain(byte[] abuf, int[] a, byte[][] tiles, int[] t, int n, int[] acc, int c,
      int rows, boolean accumulate) {
    chain(abuf, a, tiles, t, n, acc, c, -1, rows, accumulate);
  }

  /**
   * {@link #chain}, or with {@code c2} at least 0 a pair of chains over the same activation rows:
   * the second's tiles are {@code tiles[n .. 2n-1]}, into the accumulator rows at {@code c2}.
   */
  final void chain(byte[] abuf, int[] a, byte[][] tiles, int[] t, int n, int[] acc, int c,
      int c2, int rows, boolean accumulate) {
    chainRows(abuf, a, tiles, t, n, acc, c, c2, 0, rows, accumulate);
  }

  /** Rows {@code from} to {@code to} (exclusive) of {@link #chain}. */
  final void chainRows(byte[] abuf, int[] a, byte[][] tiles, int[] t, int n, int[] acc, int c,
      int c2, int from, int to, boolean accumulate) {
    prepare(abuf, a, n, from, to);
    pack(a, tiles, t, n, c2 >= 0);
    computeRows(abuf, a, tiles, t, n, acc, c, c2, from, to, accumulate);
  }

  /**
   * The part of {@link #chainRows} that reads rows {@code from} to {@code to} of each tile's
   * activations into a form of the kernel's own.
   */
  void prepare(byte[] abuf, int[] a, int n, int from, int to) {}

  /**
   * The part of {@link #chain} that depends on the tiles and ABUF offsets but not on the rows: a
   * kernel may put them into a form of its own here, once per chain or pair of chains ({@code
   * pair}), for {@link #computeRows} to read.
   */
  void pack(int[] a, byte[][] tiles, int[] t, int n, boolean pair) {}

  /**
   * Rows {@code from} to {@code to} (exclusive) of the chain, or the pair of chains when {@code
   * c2} is at least 0, whose tiles and offsets this kernel has {@link #pack}ed. {@code a[m]},
   * {@code c} and {@code c2} are the lane offsets of the chain's first row.
   */
  void computeRows(byte[] abuf, int[] a, byte[][] tiles, int[] t, int n, int[] acc,
      int c, int c2, int from, int to, boolean accumulate) {
    int skip = from * lanes;
    for (int m = 0; m < n; m++) {
      run(abuf, a[m] + skip, tiles[m], t[m], acc, c + skip, to - from, accumulate || m > 0);
    }
    if (c2 >= 0) {
      for (int m = 0; m < n; m++) {
        run(abuf, a[m] + skip, tiles[n + m], t[n + m], acc, c2 + skip, to - from,
            accumulate || m > 0);
      }
    }
  }

  /**
   * VMAC (contract 7.5): {@code rows} ABUF rows from lane offset {@code a}, each multiplied lane by
   * lane by the WBUF row at {@code w}, into the ACC rows at {@code c} (added to them if {@code
   * accumulate}). The multiply-accumulate of depthwise convolutions, beside the array's.
   */
  void vmac(byte[] abuf, int a, byte[] wbuf, int w, int[] acc, int c, int rows,
      boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < d; j++) {
        int p = abuf[a + i * d + j] * wbuf[w + j];
        acc[c + i * d + j] = accumulate ? acc[c + i * d + j] + p : p;
      }
    }
  }

  /**
   * The rows of a REQUANT once its per-lane parameters are read (contract 7.2): ACC rows from lane
   * offset {@code a} to int8 ABUF rows from {@code d}, lane j as {@link Arithmetic#requantize}
   * with {@code bias[j]}, {@code mult[j]} and {@code shift[j]} (0 to 63).
   */
  void requant(int[] acc, int a, byte[] abuf, int d, int rows, long[] bias, long[] mult,
      long[] shift, int zp, boolean relu) {
    int n = lanes;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < n; j++) {
        abuf[d + i * n + j] = (byte) Arithmetic.requantize(acc[a + i * n + j], (int) bias[j],
            (int) mult[j], (int) shift[j], zp, relu);
      }
    }
  }

  /**
   * VADD of {@code count} int8 lanes of ABUF (contract 7.4): lane i of the rows at lane offsets
   * {@code a} and {@code b} into lane i at {@code d}, as {@link Arithmetic#vadd}.
   */
  void vadd(byte[] abuf, int a, int b, int d, int count, int aZero, int bZero, int outZero,
      int aMult, int bMult, int shift, boolean relu) {
    for (int i = 0; i < count; i++) {
      abuf[d + i] = (byte) Arithmetic.vadd(abuf[a + i], abuf[b + i], aZero, bZero, outZero,
          aMult, bMult, shift, relu);
    }
  }

  /**
   * VMAX of {@code count} int8 lanes of ABUF: the larger of lanes {@code a + i} and {@code b + i}
   * into {@code d + i}.
   */
  void vmax(byte[] abuf, int a, int b, int d, int count) {
    for (int i = 0; i < count; i++) {
      abuf[d + i] = (byte) Math.max(abuf[a + i], abuf[b + i]);
    }
  }

  /** A kernel of the same kind with scratch space of its own: the one for a second thread. */
  abstract MatmulKernel sibling();

  /**
   * The most tiles of D = {@code lanes} whose products a sum may hold and stay below 2^22, the
   * range in which the vector kernel's float sums are exact: 255 / D.
   */
  static int maxChain(int lanes) {
    return 255 / lanes;
  }
}
