package dev.systole.driver.emulator;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * MATMUL with the Vector API: the weight tiles and a chunk of activation rows are converted to
 * float, and a register-blocked micro-kernel computes four rows by two vectors of columns at a
 * time with fused multiply-adds, the way a BLAS kernel does. Float is used because the JIT turns
 * float FMA into one instruction on every current CPU, while the Vector API of JDK 17 has no
 * widening int8 dot product; the results are exact (see {@link MatmulKernel}).
 *
 * <p>A chain of MATMULs into the same accumulator rows is one longer dot product: the block's
 * accumulators stay in registers from the first tile of the chain to the last, and the int32
 * accumulator rows are read and written once per chain instead of once per MATMUL. The chain is
 * cut into segments of {@link #maxChain} tiles, the most whose sum is still exact in float.
 *
 * <p>Each accumulator starts at 1.5·2^23 instead of 0. Every partial sum then stays an integer
 * in [2^23, 2^24), where floats are spaced exactly 1 apart, so the sum's two's-complement value
 * is the low bits of the float's own bit pattern: reinterpreting the bits and subtracting those
 * of 1.5·2^23 gives the int32 sum without a float-to-int conversion, which JDK 17 cannot
 * vectorize on AVX2.
 *
 * <p>Vectors are 256 bits where the platform has them (AVX2, and AVX-512 too, where the
 * narrower shape suits D = 16), else 128 (NEON). Columns are covered in strips of two vectors
 * (16 columns with 256 bits); the columns left over when D is not a multiple of that, and every
 * column when D is smaller, are computed by a scalar loop. Species, lane counts and the block
 * shape are static constants so that the JIT compiles every vector operation to an instruction;
 * the inner loop indexes both arrays as constant multiples of {@code k} so that it runs without
 * bounds checks.
 */
final class VectorMatmulKernel extends MatmulKernel {
  private static final VectorSpecies<Float> F =
      FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 ? FloatVector.SPECIES_256
          : FloatVector.SPECIES_128;
  private static final VectorSpecies<Integer> I = F.withLanes(int.class);
  /** Bytes are read at least 64 bits at a time (the smallest shape) and widened part by part. */
  private static final VectorSpecies<Byte> B =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
  private static final int L = F.length();
  /**
   * Where the platform has 512-bit vectors, sixteen bytes of an activation row are widened to
   * floats in one conversion: a third of the work of widening them eight at a time.
   */
  private static final VectorSpecies<Float> WIDE =
      FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? FloatVector.SPECIES_512 : null;
  private static final VectorSpecies<Byte> WIDE_BYTES =
      WIDE != null ? ByteVector.SPECIES_128 : null;
  private static final int PARTS = B.length() / L;
  /** Columns of one strip: two vectors. */
  private static final int STRIP = 2 * L;
  /** Rows of one register block: 4 × 2 accumulators, 2 weight vectors and 1 broadcast fit 16 registers. */
  private static final int ROWS = 4;
  /** Activation rows converted to float at a time, per tile of a segment: they stay in L1. */
  private static final int CHUNK = 16;
  private static final float BIAS = 0x1.8p23f;
  private static final int BIAS_BITS = Float.floatToRawIntBits(BIAS);

  /** Columns covered by vector strips; the rest are the scalar tail. */
  private final int vectorColumns;
  /** Tiles of one segment. */
  private final int segment;
  /**
   * The tiles of a segment as floats, tile by tile and strip by strip: tile m, strip j holds
   * W_m[k][j·STRIP .. j·STRIP+STRIP-1] for each k.
   */
  private final float[] w;
  /** A chunk of activation rows of each tile of a segment as floats, D per row. */
  private final float[] x;
  /** A chain of one, for {@link #run}. */
  private final int[] oneOffset = new int[1];
  private final byte[][] oneTile = new byte[1][];

  private VectorMatmulKernel(int lanes) {
    super(lanes);
    this.vectorColumns = lanes - lanes % STRIP;
    this.segment = maxChain(lanes);
    this.w = new float[segment * vectorColumns * lanes];
    this.x = new float[segment * CHUNK * lanes];
  }

  /** A kernel for D = {@code lanes}, or null when this platform has no vectors of 128+ bits. */
  static MatmulKernel create(int lanes) {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 128 ? new VectorMatmulKernel(lanes)
        : null;
  }

  /** True when some columns of D = {@code lanes} are computed with vectors. */
  static boolean coversColumns(int lanes) {
    return lanes >= STRIP;
  }

  @Override
  void run(byte[] abuf, int a, byte[] tile, int[] acc, int c, int rows, boolean accumulate) {
    oneOffset[0] = a;
    oneTile[0] = tile;
    chain(abuf, oneOffset, oneTile, 1, acc, c, rows, accumulate);
    oneTile[0] = null;
  }

  @Override
  void chain(byte[] abuf, int[] a, byte[][] tiles, int n, int[] acc, int c, int rows,
      boolean accumulate) {
    int d = lanes;
    for (int m0 = 0; m0 < n; m0 += segment) {
      int count = Math.min(segment, n - m0);
      boolean add = accumulate || m0 > 0;
      if (vectorColumns > 0) {
        packWeights(tiles, m0, count);
        for (int r0 = 0; r0 < rows; r0 += CHUNK) {
          int rs = Math.min(CHUNK, rows - r0);
          for (int m = 0; m < count; m++) {
            convertRows(abuf, a[m0 + m] + r0 * d, rs, m * d, count * d);
          }
          strips(acc, c + r0 * d, rs, count * d, add);
        }
      }
      if (vectorColumns < d) {
        for (int m = 0; m < count; m++) {
          tail(abuf, a[m0 + m], tiles[m0 + m], acc, c, rows, add || m > 0);
        }
      }
    }
  }

  /**
   * Packs the tiles {@code m0 .. m0+count-1} strip by strip: strip j holds, for each k of the
   * chained dot product (tile m, row k of it, at m·D + k), the STRIP weights of its columns.
   */
  private void packWeights(byte[][] tiles, int m0, int count) {
    int d = lanes;
    int o = 0;
    for (int n0 = 0; n0 < vectorColumns; n0 += STRIP) {
      for (int m = 0; m < count; m++) {
        byte[] tile = tiles[m0 + m];
        for (int k = 0; k < d; k++) {
          for (int j = 0; j < STRIP; j += B.length(), o += B.length()) {
            ByteVector v = ByteVector.fromArray(B, tile, k * d + n0 + j);
            for (int p = 0; p < PARTS; p++) {
              ((FloatVector) v.convertShape(VectorOperators.B2F, F, p)).intoArray(w, o + p * L);
            }
          }
        }
      }
    }
  }

  /**
   * Converts {@code rows} activation rows of D lanes from {@code from} in ABUF into the float rows
   * of the chunk, row i at {@code to + i · step}: a tile's rows side by side with the other tiles'
   * of the chain, so that each chunk row is one dot product of {@code step} terms.
   */
  private void convertRows(byte[] abuf, int from, int rows, int to, int step) {
    int d = lanes;
    for (int i = 0; i < rows; i++) {
      int src = from + i * d;
      int dst = to + i * step;
      int k = 0;
      if (WIDE != null) {
        for (; k <= d - 16; k += 16) {
          ((FloatVector) ByteVector.fromArray(WIDE_BYTES, abuf, src + k)
              .convertShape(VectorOperators.B2F, WIDE, 0)).intoArray(x, dst + k);
        }
      }
      for (; k <= d - B.length(); k += B.length()) {
        ByteVector v = ByteVector.fromArray(B, abuf, src + k);
        for (int p = 0; p < PARTS; p++) {
          ((FloatVector) v.convertShape(VectorOperators.B2F, F, p)).intoArray(x, dst + k + p * L);
        }
      }
      for (; k < d; k++) {
        x[dst + k] = abuf[src + k];
      }
    }
  }

  /**
   * The vector columns of {@code rows} (at most CHUNK) converted rows, each a dot product of
   * {@code terms} terms. A block that runs past {@code rows} computes on whatever the scratch
   * rows beyond hold and stores nothing for them.
   */
  private void strips(int[] acc, int c, int rows, int terms, boolean accumulate) {
    int d = lanes;
    float[] w = this.w;
    float[] x = this.x;
    for (int n0 = 0; n0 < vectorColumns; n0 += STRIP) {
      int wb = n0 * terms;
      for (int r = 0; r < rows; r += ROWS) {
        FloatVector s0 = FloatVector.broadcast(F, BIAS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector t0 = s0;
        FloatVector t1 = s0;
        FloatVector t2 = s0;
        FloatVector t3 = s0;
        int p0 = r * terms;
        int p1 = p0 + terms;
        int p2 = p1 + terms;
        int p3 = p2 + terms;
        for (int k = 0; k < terms; k++) {
          FloatVector wk = FloatVector.fromArray(F, w, wb + k * STRIP);
          FloatVector vk = FloatVector.fromArray(F, w, wb + k * STRIP + L);
          FloatVector x0 = FloatVector.broadcast(F, x[p0 + k]);
          s0 = x0.fma(wk, s0);
          t0 = x0.fma(vk, t0);
          FloatVector x1 = FloatVector.broadcast(F, x[p1 + k]);
          s1 = x1.fma(wk, s1);
          t1 = x1.fma(vk, t1);
          FloatVector x2 = FloatVector.broadcast(F, x[p2 + k]);
          s2 = x2.fma(wk, s2);
          t2 = x2.fma(vk, t2);
          FloatVector x3 = FloatVector.broadcast(F, x[p3 + k]);
          s3 = x3.fma(wk, s3);
          t3 = x3.fma(vk, t3);
        }
        int o = c + r * d + n0;
        store(s0, acc, o, accumulate);
        store(t0, acc, o + L, accumulate);
        if (r + 1 < rows) {
          store(s1, acc, o + d, accumulate);
          store(t1, acc, o + d + L, accumulate);
        }
        if (r + 2 < rows) {
          store(s2, acc, o + 2 * d, accumulate);
          store(t2, acc, o + 2 * d + L, accumulate);
        }
        if (r + 3 < rows) {
          store(s3, acc, o + 3 * d, accumulate);
          store(t3, acc, o + 3 * d + L, accumulate);
        }
      }
    }
  }

  private static void store(FloatVector sum, int[] acc, int o, boolean accumulate) {
    IntVector v = sum.reinterpretAsInts().sub(BIAS_BITS);
    if (accumulate) {
      v = v.add(IntVector.fromArray(I, acc, o));
    }
    v.intoArray(acc, o);
  }

  private void tail(byte[] abuf, int a, byte[] tile, int[] acc, int c, int rows,
      boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < rows; i++) {
      int ai = a + i * d;
      int ci = c + i * d;
      for (int n = vectorColumns; n < d; n++) {
        int s = accumulate ? acc[ci + n] : 0;
        for (int k = 0; k < d; k++) {
          s += abuf[ai + k] * tile[k * d + n];
        }
        acc[ci + n] = s;
      }
    }
  }
}
