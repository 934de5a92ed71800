package dev.systole.driver.emulator;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * MATMUL with the Vector API: the weight tiles and the activation rows are converted to float,
 * and a register-blocked micro-kernel computes four rows by two vectors of columns at a time with
 * fused multiply-adds, the way a BLAS kernel does. Float is used because the JIT turns float FMA
 * into one instruction on every current CPU, while the Vector API of JDK 17 has no widening int8
 * dot product; the results are exact (see {@link MatmulKernel}).
 *
 * <p>A chain of MATMULs into the same accumulator rows is one longer dot product: the block's
 * accumulators stay in registers from the first tile of the chain to the last, and the int32
 * accumulator rows are read and written once per chain instead of once per MATMUL. The chain is
 * cut into segments of {@link #maxChain} tiles, the most whose sum is still exact in float.
 *
 * <p>The kernel keeps ABUF as floats beside the bytes: a row is converted when a MATMUL reads it
 * after it was written ({@link #abufWritten}), not once per MATMUL, because the chains of every
 * column block of a layer read the same activation rows. The float rows lie in planes of 16
 * columns ({@link #PLANE}), so that a block's rows are a constant distance apart.
 *
 * <p>Two chains over the same activation rows into other accumulators (two column blocks of a
 * layer, paired by {@link DecodedProgram}) are computed together where vectors are 512 bits
 * ({@link #widePairs}): each activation is broadcast once for both.
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
 * bounds checks, and no vector crosses a method boundary the JIT might not inline (a vector
 * passed as an argument loses the exact shape the JIT needs to compile its operations).
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
  private static final int PARTS = B.length() / L;
  /**
   * Where the platform has 512-bit vectors, sixteen bytes of an activation row are widened to
   * floats in one conversion.
   */
  private static final VectorSpecies<Float> WIDE =
      FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? FloatVector.SPECIES_512 : null;
  private static final VectorSpecies<Byte> WIDE_BYTES =
      WIDE != null ? ByteVector.SPECIES_128 : null;
  /**
   * Columns of one plane of the float ABUF. Its rows lie in planes of this many columns, a row's
   * columns of one plane {@code PLANE} floats apart from the next row's: the micro-kernels read a
   * block's rows at constant distances, which lets the JIT check the block's reads against the
   * array's bounds once per term rather than once per row (twice the speed, measured, where
   * the distance is a variable D).
   */
  private static final int PLANE = 16;
  /** Columns of one strip: two vectors. */
  private static final int STRIP = 2 * L;
  /** Rows of one register block: 4 × 2 accumulators, 2 weight vectors and 1 broadcast fit 16 registers. */
  private static final int ROWS = 4;
  /** Rows of one register block of {@link #wideStrips}: 8 accumulators of 16 columns. */
  private static final int WIDE_ROWS = 8;
  /** Rows of the last block of a pair's rows at most, for {@link #pairTail}. */
  private static final int TAIL_ROWS = 4;
  private static final VectorSpecies<Integer> WIDE_INTS =
      WIDE != null ? IntVector.SPECIES_512 : null;
  /** REQUANT's eight lanes at a time, in 64-bit arithmetic, where vectors are 512 bits. */
  private static final VectorSpecies<Long> LONGS = WIDE != null ? LongVector.SPECIES_512 : null;
  private static final VectorSpecies<Integer> EIGHT_INTS =
      WIDE != null ? IntVector.SPECIES_256 : null;
  private static final VectorSpecies<Byte> EIGHT_BYTES =
      WIDE != null ? ByteVector.SPECIES_64 : null;
  /** VMAX's bytes at a time: 128 bits, a row of D = 16, which every platform with vectors has. */
  private static final VectorSpecies<Byte> MAX_BYTES = ByteVector.SPECIES_128;
  /**
   * Elements of unused space at each end of the scratch arrays the kernel writes all the time, so
   * that no cache line holds both one thread's kernel scratch and another's (false sharing).
   */
  private static final int PAD = 16;
  private static final float BIAS = 0x1.8p23f;
  private static final int BIAS_BITS = Float.floatToRawIntBits(BIAS);

  /** Columns covered by vector strips; the rest are the scalar tail. */
  private final int vectorColumns;
  /** Planes of the float ABUF: D / {@link #PLANE}, rounded up. */
  private final int planes;
  /** Tiles of one segment. */
  private final int segment;
  /**
   * The tiles of the segment being computed as floats ({@link #packSegment}), strip by strip:
   * strip j holds, for each term of the segment's dot product (row k of its tile m at m·D + k),
   * the STRIP weights of the strip's columns; of both chains of a pair.
   */
  private final float[] w;
  /** Per term of a segment's dot product (row k of tile m), where in the mirror it starts. */
  private int[] at;
  /** The float sums of a block of rows, {@code vectorColumns} per row. */
  private final float[] sums;
  /** ABUF as floats: this kernel's own, for the thread that uses it. */
  private final Mirror mirror;
  /** Per lane of a REQUANT, {@code 2^(shift-1) - 1} and the parity mask ({@link #requant}). */
  private final long[] half;
  private final long[] odd;
  /** A chain of one, for {@link #run}. */
  private final int[] oneOffset = new int[1];
  private final byte[][] oneTile = new byte[1][];
  private final int[] oneTileAt = new int[1];

  /** ABUF as floats, for the ABUF array {@code of}, and which of its rows are out of date. */
  private static final class Mirror {
    float[] rows;
    /** Floats of one plane: {@link #PLANE} columns of every row. */
    int plane;
    /**
     * One bit per row, set where the row is out of date: a chain's rows are checked 64 at a
     * time, where one flag per row cost a read per row and tile of every chain.
     */
    long[] stale;
    byte[] of;
  }

  private VectorMatmulKernel(int lanes, Mirror mirror) {
    super(lanes);
    this.mirror = mirror;
    this.vectorColumns = lanes - lanes % STRIP;
    this.segment = maxChain(lanes);
    this.planes = (lanes + PLANE - 1) / PLANE;
    this.w = new float[PAD + 2 * segment * vectorColumns * lanes + PAD];
    this.sums = new float[PAD + 2 * WIDE_ROWS * vectorColumns + PAD];
    this.at = new int[PAD + segment * lanes + PAD];
    this.half = new long[lanes];
    this.odd = new long[lanes];
  }

  /** A kernel for D = {@code lanes}, or null when this platform has no vectors of 128+ bits. */
  static MatmulKernel create(int lanes) {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 128
        ? new VectorMatmulKernel(lanes, new Mirror()) : null;
  }

  /** True when some columns of D = {@code lanes} are computed with vectors. */
  static boolean coversColumns(int lanes) {
    return lanes >= STRIP;
  }

  @Override
  boolean mirrorsAbuf() {
    return true;
  }

  @Override
  MatmulKernel sibling() {
    return new VectorMatmulKernel(lanes, new Mirror());
  }

  @Override
  void abufWritten(int firstRow, int count) {
    if (mirror.stale != null && count > 0) {
      int last = firstRow + count - 1;
      for (int i = firstRow >>> 6; i <= last >>> 6; i++) {
        mirror.stale[i] |= rowBits(i, firstRow, last);
      }
    }
  }

  /**
   * The bits of word {@code i} of {@link Mirror#stale} that stand for rows {@code first} to
   * {@code last} (inclusive). Shifts of a long take their count mod 64: {@code -1L << r} sets
   * bits r to 63, {@code -1L >>> (63 - r)} bits 0 to r.
   */
  private static long rowBits(int i, int first, int last) {
    long mask = -1L;
    if (i == first >>> 6) {
      mask &= -1L << first;
    }
    if (i == last >>> 6) {
      mask &= -1L >>> (63 - (last & 63));
    }
    return mask;
  }

  /**
   * {@inheritDoc} Where vectors are 512 bits, eight lanes at a time in 64-bit arithmetic. The
   * rounding of {@link dev.systole.driver.contract.Arithmetic#roundShift} is done as {@code (p + h
   * + ((p >> s) & o)) >> s}, with {@code h = 2^(s-1) - 1} and {@code o = 1} for a shift {@code s}
   * above 0 and both 0 for a shift of 0: writing {@code p = f·2^s + r} with {@code 0 <= r < 2^s},
   * that is {@code f + ((r + h + (f & 1)) >> s)}, the contract's form. It cannot overflow: the
   * product of two int32 values lies in {@code (-2^62, 2^62]}, {@code h} is below {@code 2^62}, and
   * where {@code h} is that large ({@code s = 63}) the parity term is 0 unless {@code p} is
   * negative.
   */
  @Override
  void requant(int[] acc, int a, byte[] abuf, int d, int rows, long[] bias, long[] mult,
      long[] shift, int zp, boolean relu) {
    if (WIDE == null || lanes % 8 != 0) {
      super.requant(acc, a, abuf, d, rows, bias, mult, shift, zp, relu);
      return;
    }
    int n = lanes;
    int lo = relu ? zp : -128;
    // Per lane, 2^(shift-1) - 1 and the floor's parity mask: both 0 where the shift is 0.
    long[] half = this.half;
    long[] odd = this.odd;
    for (int j = 0; j < n; j++) {
      half[j] = shift[j] == 0 ? 0 : (1L << (shift[j] - 1)) - 1;
      odd[j] = shift[j] == 0 ? 0 : 1;
    }
    for (int j = 0; j < n; j += 8) {
      LongVector b = LongVector.fromArray(LONGS, bias, j);
      LongVector m = LongVector.fromArray(LONGS, mult, j);
      LongVector s = LongVector.fromArray(LONGS, shift, j);
      LongVector h = LongVector.fromArray(LONGS, half, j);
      LongVector o = LongVector.fromArray(LONGS, odd, j);
      for (int i = 0; i < rows; i++) {
        LongVector v = ((LongVector) IntVector.fromArray(EIGHT_INTS, acc, a + i * n + j)
            .convertShape(VectorOperators.I2L, LONGS, 0)).add(b)
            .max(Integer.MIN_VALUE).min(Integer.MAX_VALUE);
        LongVector p = v.mul(m);
        LongVector r = p.add(h).add(p.lanewise(VectorOperators.ASHR, s).and(o))
            .lanewise(VectorOperators.ASHR, s).add(zp).max(lo).min(127);
        ((ByteVector) r.convertShape(VectorOperators.L2B, EIGHT_BYTES, 0))
            .intoArray(abuf, d + i * n + j);
      }
    }
  }

  /**
   * {@inheritDoc} Where vectors are 512 bits, eight lanes at a time in 64-bit arithmetic,
   * rounding as {@link #requant} does; the lanes left over in plain Java. The weighted sum of two
   * int8 lanes less int8 zero points by int32 multipliers lies within 2^41, so nothing
   * overflows.
   */
  @Override
  void vadd(byte[] abuf, int a, int b, int d, int count, int aZero, int bZero, int outZero,
      int aMult, int bMult, int shift, boolean relu) {
    int i = 0;
    if (WIDE != null && apart(a, d, 8) && apart(b, d, 8)) {
      long h = shift == 0 ? 0 : (1L << (shift - 1)) - 1;
      long o = shift == 0 ? 0 : 1;
      int lo = relu ? outZero : -128;
      for (; i <= count - 8; i += 8) {
        LongVector x = (LongVector) ByteVector.fromArray(EIGHT_BYTES, abuf, a + i)
            .convertShape(VectorOperators.B2L, LONGS, 0);
        LongVector y = (LongVector) ByteVector.fromArray(EIGHT_BYTES, abuf, b + i)
            .convertShape(VectorOperators.B2L, LONGS, 0);
        LongVector p = x.sub(aZero).mul(aMult).add(y.sub(bZero).mul(bMult));
        LongVector r = p.add(h).add(p.lanewise(VectorOperators.ASHR, shift).and(o))
            .lanewise(VectorOperators.ASHR, shift).add(outZero).max(lo).min(127);
        ((ByteVector) r.convertShape(VectorOperators.L2B, EIGHT_BYTES, 0))
            .intoArray(abuf, d + i);
      }
    }
    super.vadd(abuf, a + i, b + i, d + i, count - i, aZero, bZero, outZero, aMult, bMult, shift,
        relu);
  }

  /**
   * Whether lanes from {@code from} written to {@code to} a vector of {@code n} lanes at a time
   * give what lane by lane gives: in place, or with no vector reading lanes an earlier lane of
   * the same vector wrote.
   */
  private static boolean apart(int from, int to, int n) {
    return from == to || Math.abs(from - to) >= n;
  }

  /** {@inheritDoc} A vector of bytes at a time, the lanes left over in plain Java. */
  @Override
  void vmax(byte[] abuf, int a, int b, int d, int count) {
    int i = 0;
    int n = MAX_BYTES.length();
    if (apart(a, d, n) && apart(b, d, n)) {
      for (; i <= count - n; i += n) {
        ByteVector.fromArray(MAX_BYTES, abuf, a + i)
            .max(ByteVector.fromArray(MAX_BYTES, abuf, b + i)).intoArray(abuf, d + i);
      }
    }
    super.vmax(abuf, a + i, b + i, d + i, count - i);
  }

  @Override
  void vmac(byte[] abuf, int a, byte[] wbuf, int w, int[] acc, int c, int rows,
      boolean accumulate) {
    if (WIDE == null || lanes % 16 != 0) {
      super.vmac(abuf, a, wbuf, w, acc, c, rows, accumulate);
      return;
    }
    int d = lanes;
    for (int j = 0; j < d; j += 16) {
      IntVector wv = (IntVector) ByteVector.fromArray(WIDE_BYTES, wbuf, w + j)
          .convertShape(VectorOperators.B2I, WIDE_INTS, 0);
      for (int i = 0; i < rows; i++) {
        int o = i * d + j;
        IntVector p = ((IntVector) ByteVector.fromArray(WIDE_BYTES, abuf, a + o)
            .convertShape(VectorOperators.B2I, WIDE_INTS, 0)).mul(wv);
        if (accumulate) {
          p = p.add(IntVector.fromArray(WIDE_INTS, acc, c + o));
        }
        p.intoArray(acc, c + o);
      }
    }
  }

  @Override
  void run(byte[] abuf, int a, byte[] tile, int t, int[] acc, int c, int rows,
      boolean accumulate) {
    oneOffset[0] = a;
    oneTile[0] = tile;
    oneTileAt[0] = t;
    chain(abuf, oneOffset, oneTile, oneTileAt, 1, acc, c, rows, accumulate);
    oneTile[0] = null;
  }

  @Override
  void prepare(byte[] abuf, int[] a, int n, int from, int to) {
    if (vectorColumns > 0) {
      mirror(abuf);
      for (int m = 0; m < n; m++) {
        refresh(abuf, a[m] / lanes + from, to - from);
      }
    }
  }

  /**
   * Works out the terms' offsets ({@link #terms}); the tiles are packed a segment at a time as
   * {@link #computeRows} reaches them ({@link #packSegment}).
   */
  @Override
  void pack(int[] a, byte[][] tiles, int[] t, int n, boolean pair) {
    if (vectorColumns == 0) {
      return;
    }
    if (at.length < PAD + n * lanes + PAD) {
      at = new int[Math.max(PAD + n * lanes + PAD, 2 * at.length)];
    }
    terms(a, n);
  }

  /** Whether the 512-bit block shapes ({@link #wideStrips}, {@link #widePairs}) compute the vector columns. */
  private boolean wide() {
    return WIDE != null && lanes % WIDE.length() == 0;
  }

  /**
   * Segment by segment, the segment's tiles packed ({@link #packSegment}), then the vector strips
   * of the rows, then the scalar tail of each tile. A segment's floats are packed just before its
   * rows read them, into the same few KiB each time, so both stay in the first-level cache: packed
   * for the whole chain first, the floats of a long chain (a ResNet-18 layer-4 pair: 576 KiB)
   * were written out to the outer caches and read back from there, and packing took a tenth of
   * the run.
   */
  @Override
  void computeRows(byte[] abuf, int[] a, byte[][] tiles, int[] t, int n, int[] acc,
      int c, int c2, int from, int to, boolean accumulate) {
    int d = lanes;
    int vc = vectorColumns;
    int chains = c2 >= 0 ? 2 : 1;
    for (int m0 = 0; m0 < n; m0 += segment) {
      int count = Math.min(segment, n - m0);
      boolean add = accumulate || m0 > 0;
      if (vc > 0) {
        packSegment(tiles, t, n, c2 >= 0, m0, count);
      }
      if (vc > 0 && wide() && c2 >= 0) {
        widePairs(w, at, PAD, m0, count, acc, c, c2, from, to, add);
      } else if (vc > 0) {
        for (int chain = 0; chain < chains; chain++) {
          int base = PAD + chain * count * d * vc;
          int into = chain == 0 ? c : c2;
          if (wide()) {
            wideStrips(w, at, base, m0, count, acc, into, from, to, add);
          } else {
            strips(w, at, base, m0, count, acc, into, from, to, add);
          }
        }
      }
      if (vc < d) {
        int skip = from * d;
        for (int chain = 0; chain < chains; chain++) {
          int into = (chain == 0 ? c : c2) + skip;
          for (int m = 0; m < count; m++) {
            int tile = chain * n + m0 + m;
            tail(abuf, a[m0 + m] + skip, tiles[tile], t[tile], acc, into, to - from, add || m > 0);
          }
        }
      }
    }
  }

  /** Makes the mirror the float copy of {@code abuf}, every row stale, unless it is already. */
  private void mirror(byte[] abuf) {
    if (mirror.of != abuf) {
      // A block of rows that runs past a buffer's last row reads zeros there.
      mirror.plane = (abuf.length / lanes + WIDE_ROWS) * PLANE;
      mirror.rows = new float[planes * mirror.plane];
      mirror.stale = new long[(abuf.length / lanes + 63) / 64];
      Arrays.fill(mirror.stale, -1L);
      mirror.of = abuf;
    }
  }

  /** Converts the stale rows among {@code count} rows from {@code first} to floats. */
  private void refresh(byte[] abuf, int first, int count) {
    if (count <= 0) {
      return;
    }
    float[] x = mirror.rows;
    int plane = mirror.plane;
    long[] stale = mirror.stale;
    int last = first + count - 1;
    for (int i = first >>> 6; i <= last >>> 6; i++) {
      long mask = rowBits(i, first, last);
      long rows = stale[i] & mask;
      stale[i] &= ~mask;
      while (rows != 0) {
        // One run of consecutive stale rows at a time.
        int start = Long.numberOfTrailingZeros(rows);
        int end = Long.numberOfTrailingZeros(~(rows >>> start)) + start;
        convert(abuf, x, plane, i * 64 + start, end - start);
        rows &= end == 64 ? 0 : -1L << end;
      }
    }
  }

  /**
   * Converts the {@code count} ABUF rows from {@code row} to floats in the mirror {@code x},
   * whose planes are {@code plane} floats: plane by plane, each row's columns of the plane in
   * turn.
   */
  private void convert(byte[] abuf, float[] x, int plane, int row, int count) {
    int d = lanes;
    for (int k0 = 0; k0 < d; k0 += PLANE) {
      int cols = Math.min(PLANE, d - k0);
      int dst = k0 / PLANE * plane + row * PLANE;
      for (int r = 0, src = row * d + k0; r < count; r++, src += d, dst += PLANE) {
        int k = 0;
        if (WIDE != null && cols == PLANE) {
          ((FloatVector) ByteVector.fromArray(WIDE_BYTES, abuf, src)
              .convertShape(VectorOperators.B2F, WIDE, 0)).intoArray(x, dst);
          k = PLANE;
        }
        for (; k <= cols - B.length(); k += B.length()) {
          ByteVector v = ByteVector.fromArray(B, abuf, src + k);
          for (int p = 0; p < PARTS; p++) {
            ((FloatVector) v.convertShape(VectorOperators.B2F, F, p))
                .intoArray(x, dst + k + p * L);
          }
        }
        for (; k < cols; k++) {
          x[dst + k] = abuf[src + k];
        }
      }
    }
  }

  /**
   * Where each term of the chain's dot product (lane k of the rows at lane offset a[m]) lies in
   * the float ABUF, into {@link #at}.
   */
  private void terms(int[] a, int n) {
    int d = lanes;
    int plane = mirror.plane;
    for (int m = 0; m < n; m++) {
      int row = a[m] / d;
      for (int k0 = 0; k0 < d; k0 += PLANE) {
        int first = k0 / PLANE * plane + row * PLANE;
        int o = PAD + m * d + k0;
        int cols = Math.min(PLANE, d - k0);
        for (int k = 0; k < cols; k++) {
          at[o + k] = first + k;
        }
      }
    }
  }

  /**
   * Packs the {@code count} tiles of the segment from tile {@code m0} of the chain (and of the
   * second chain of a pair, tile {@code n + m}) into {@link #w} as floats where the strips want
   * them: each strip's STRIP columns for every term of the segment in turn, a pair's two chains
   * interleaved term by term where {@link #widePairs} computes it, else the second chain's after
   * the first's.
   */
  private void packSegment(byte[][] tiles, int[] t, int n, boolean pair, int m0, int count) {
    for (int m = m0; m < m0 + count; m++) {
      packTile(tiles, t, n, pair, m0, count, m);
    }
  }

  /** Tile {@code m} of {@link #packSegment}. */
  private void packTile(byte[][] tiles, int[] t, int n, boolean pair, int m0, int count, int m) {
    int d = lanes;
    int vc = vectorColumns;
    boolean interleave = pair && wide();
    int spread = interleave ? 2 : 1;
    for (int chain = 0; chain < (pair ? 2 : 1); chain++) {
      int base = interleave ? PAD + chain * STRIP : PAD + chain * count * d * vc;
      byte[] tile = tiles[chain * n + m];
      int origin = t[chain * n + m];
      for (int n0 = 0; n0 < vc; n0 += STRIP) {
        int o = base + n0 * count * d * spread + (m - m0) * d * STRIP * spread;
        if (wide()) {
          // A strip is one 512-bit vector: sixteen bytes of a tile row in one conversion.
          for (int k = 0; k < d; k++, o += STRIP * spread) {
            ((FloatVector) ByteVector.fromArray(WIDE_BYTES, tile, origin + k * d + n0)
                .convertShape(VectorOperators.B2F, WIDE, 0)).intoArray(w, o);
          }
          continue;
        }
        for (int k = 0; k < d; k++, o += STRIP * spread) {
          for (int j = 0; j < STRIP; j += B.length()) {
            ByteVector v = ByteVector.fromArray(B, tile, origin + k * d + n0 + j);
            for (int p = 0; p < PARTS; p++) {
              ((FloatVector) v.convertShape(VectorOperators.B2F, F, p))
                  .intoArray(w, o + j + p * L);
            }
          }
        }
      }
    }
  }

  /**
   * The vector columns of {@code n} rows of the tiles {@code m0 .. m0+count-1}, whose activation
   * rows start at lane offsets {@code a[m]}: for each block of rows, the dot product over the
   * tiles and their rows. A block that runs past {@code n} computes on whatever the rows beyond
   * hold; {@link #finish} takes only the rows asked for.
   */
  private void strips(float[] w, int[] at, int base, int m0, int count, int[] acc, int c,
      int from, int to, boolean accumulate) {
    int d = lanes;
    int vc = vectorColumns;
    float[] x = mirror.rows;
    float[] sums = this.sums;
    int terms = count * d;
    int first = PAD + m0 * d;
    for (int n0 = 0; n0 < vc; n0 += STRIP) {
      for (int r = from; r < to; r += ROWS) {
        FloatVector s0 = FloatVector.broadcast(F, BIAS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector t0 = s0;
        FloatVector t1 = s0;
        FloatVector t2 = s0;
        FloatVector t3 = s0;
        int wb = base + n0 * terms;
        int rd = r * PLANE;
        for (int k = 0; k < terms; k++) {
          FloatVector wk = FloatVector.fromArray(F, w, wb + k * STRIP);
          FloatVector vk = FloatVector.fromArray(F, w, wb + k * STRIP + L);
          int p0 = at[first + k] + rd;
          FloatVector x0 = FloatVector.broadcast(F, x[p0]);
          s0 = x0.fma(wk, s0);
          t0 = x0.fma(vk, t0);
          FloatVector x1 = FloatVector.broadcast(F, x[p0 + PLANE]);
          s1 = x1.fma(wk, s1);
          t1 = x1.fma(vk, t1);
          FloatVector x2 = FloatVector.broadcast(F, x[p0 + 2 * PLANE]);
          s2 = x2.fma(wk, s2);
          t2 = x2.fma(vk, t2);
          FloatVector x3 = FloatVector.broadcast(F, x[p0 + 3 * PLANE]);
          s3 = x3.fma(wk, s3);
          t3 = x3.fma(vk, t3);
        }
        s0.intoArray(sums, PAD);
        t0.intoArray(sums, PAD + L);
        s1.intoArray(sums, PAD + vc);
        t1.intoArray(sums, PAD + vc + L);
        s2.intoArray(sums, PAD + 2 * vc);
        t2.intoArray(sums, PAD + 2 * vc + L);
        s3.intoArray(sums, PAD + 3 * vc);
        t3.intoArray(sums, PAD + 3 * vc + L);
        finish(acc, c + r * d + n0, Math.min(ROWS, to - r), accumulate);
      }
    }
  }

  /**
   * {@link #strips} with 512-bit vectors, where the platform has them and D is a multiple of 16:
   * a strip is one vector of 16 columns and a block 8 rows, half the instructions for the same
   * multiply-adds (the weights are packed the same way: a 256-bit strip is 16 columns too).
   */
  private void wideStrips(float[] w, int[] at, int base, int m0, int count, int[] acc, int c,
      int from, int to, boolean accumulate) {
    int d = lanes;
    int vc = vectorColumns;
    float[] x = mirror.rows;
    float[] sums = this.sums;
    int terms = count * d;
    int first = PAD + m0 * d;
    for (int n0 = 0; n0 < vc; n0 += 16) {
      for (int r = from; r < to; r += WIDE_ROWS) {
        FloatVector s0 = FloatVector.broadcast(WIDE, BIAS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector s5 = s0;
        FloatVector s6 = s0;
        FloatVector s7 = s0;
        int wb = base + n0 * terms;
        int rd = r * PLANE;
        for (int k = 0; k < terms; k++) {
          FloatVector wk = FloatVector.fromArray(WIDE, w, wb + k * 16);
          int p = at[first + k] + rd;
          s0 = FloatVector.broadcast(WIDE, x[p]).fma(wk, s0);
          s1 = FloatVector.broadcast(WIDE, x[p + PLANE]).fma(wk, s1);
          s2 = FloatVector.broadcast(WIDE, x[p + 2 * PLANE]).fma(wk, s2);
          s3 = FloatVector.broadcast(WIDE, x[p + 3 * PLANE]).fma(wk, s3);
          s4 = FloatVector.broadcast(WIDE, x[p + 4 * PLANE]).fma(wk, s4);
          s5 = FloatVector.broadcast(WIDE, x[p + 5 * PLANE]).fma(wk, s5);
          s6 = FloatVector.broadcast(WIDE, x[p + 6 * PLANE]).fma(wk, s6);
          s7 = FloatVector.broadcast(WIDE, x[p + 7 * PLANE]).fma(wk, s7);
        }
        s0.intoArray(sums, PAD);
        s1.intoArray(sums, PAD + vc);
        s2.intoArray(sums, PAD + 2 * vc);
        s3.intoArray(sums, PAD + 3 * vc);
        s4.intoArray(sums, PAD + 4 * vc);
        s5.intoArray(sums, PAD + 5 * vc);
        s6.intoArray(sums, PAD + 6 * vc);
        s7.intoArray(sums, PAD + 7 * vc);
        wideFinish(acc, c + r * d + n0, Math.min(WIDE_ROWS, to - r), 0, accumulate);
      }
    }
  }

  /**
   * {@link #wideStrips} for a pair of chains: a block of 8 rows by 16 columns of each chain,
   * whose weights {@link #pack} interleaved term by term, so that each activation broadcast to a
   * vector feeds two multiply-adds. Broadcasts are what limits {@link #wideStrips} (one per
   * multiply-add, where the core can issue fewer broadcasts than multiply-adds), so a pair runs
   * its multiply-adds about a third faster.
   */
  private void widePairs(float[] w, int[] at, int base, int m0, int count, int[] acc, int c,
      int c2, int from, int to, boolean accumulate) {
    int d = lanes;
    int vc = vectorColumns;
    float[] x = mirror.rows;
    float[] sums = this.sums;
    int terms = count * d;
    int first = PAD + m0 * d;
    int second = WIDE_ROWS * vc;
    for (int n0 = 0; n0 < vc; n0 += 16) {
      for (int r = from; r < to; r += WIDE_ROWS) {
        if (to - r <= TAIL_ROWS) {
          pairTail(w, at, base, m0, count, acc, c, c2, n0, r, to, accumulate);
          break;
        }
        FloatVector s0 = FloatVector.broadcast(WIDE, BIAS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector s5 = s0;
        FloatVector s6 = s0;
        FloatVector s7 = s0;
        FloatVector t0 = s0;
        FloatVector t1 = s0;
        FloatVector t2 = s0;
        FloatVector t3 = s0;
        FloatVector t4 = s0;
        FloatVector t5 = s0;
        FloatVector t6 = s0;
        FloatVector t7 = s0;
        int wb = base + 2 * n0 * terms;
        int rd = r * PLANE;
        for (int k = 0; k < terms; k++) {
          FloatVector wk = FloatVector.fromArray(WIDE, w, wb + k * 32);
          FloatVector vk = FloatVector.fromArray(WIDE, w, wb + k * 32 + 16);
          int p = at[first + k] + rd;
          FloatVector x0 = FloatVector.broadcast(WIDE, x[p]);
          s0 = x0.fma(wk, s0);
          t0 = x0.fma(vk, t0);
          FloatVector x1 = FloatVector.broadcast(WIDE, x[p + PLANE]);
          s1 = x1.fma(wk, s1);
          t1 = x1.fma(vk, t1);
          FloatVector x2 = FloatVector.broadcast(WIDE, x[p + 2 * PLANE]);
          s2 = x2.fma(wk, s2);
          t2 = x2.fma(vk, t2);
          FloatVector x3 = FloatVector.broadcast(WIDE, x[p + 3 * PLANE]);
          s3 = x3.fma(wk, s3);
          t3 = x3.fma(vk, t3);
          FloatVector x4 = FloatVector.broadcast(WIDE, x[p + 4 * PLANE]);
          s4 = x4.fma(wk, s4);
          t4 = x4.fma(vk, t4);
          FloatVector x5 = FloatVector.broadcast(WIDE, x[p + 5 * PLANE]);
          s5 = x5.fma(wk, s5);
          t5 = x5.fma(vk, t5);
          FloatVector x6 = FloatVector.broadcast(WIDE, x[p + 6 * PLANE]);
          s6 = x6.fma(wk, s6);
          t6 = x6.fma(vk, t6);
          FloatVector x7 = FloatVector.broadcast(WIDE, x[p + 7 * PLANE]);
          s7 = x7.fma(wk, s7);
          t7 = x7.fma(vk, t7);
        }
        s0.intoArray(sums, PAD);
        s1.intoArray(sums, PAD + vc);
        s2.intoArray(sums, PAD + 2 * vc);
        s3.intoArray(sums, PAD + 3 * vc);
        s4.intoArray(sums, PAD + 4 * vc);
        s5.intoArray(sums, PAD + 5 * vc);
        s6.intoArray(sums, PAD + 6 * vc);
        s7.intoArray(sums, PAD + 7 * vc);
        t0.intoArray(sums, PAD + second);
        t1.intoArray(sums, PAD + second + vc);
        t2.intoArray(sums, PAD + second + 2 * vc);
        t3.intoArray(sums, PAD + second + 3 * vc);
        t4.intoArray(sums, PAD + second + 4 * vc);
        t5.intoArray(sums, PAD + second + 5 * vc);
        t6.intoArray(sums, PAD + second + 6 * vc);
        t7.intoArray(sums, PAD + second + 7 * vc);
        int rows = Math.min(WIDE_ROWS, to - r);
        wideFinish(acc, c + r * d + n0, rows, 0, accumulate);
        wideFinish(acc, c2 + r * d + n0, rows, second, accumulate);
      }
    }
  }

  /**
   * The last block of {@link #widePairs}'s rows in strip {@code n0} when it has {@link
   * #TAIL_ROWS} rows or fewer: a block of 4 rows of both chains, where a block of 8 would compute
   * up to 7 rows that no one asked for (a chain of 28 rows is three blocks of 8 and one of 4).
   */
  private void pairTail(float[] w, int[] at, int base, int m0, int count, int[] acc, int c,
      int c2, int n0, int r, int to, boolean accumulate) {
    int d = lanes;
    int vc = vectorColumns;
    float[] x = mirror.rows;
    float[] sums = this.sums;
    int terms = count * d;
    int first = PAD + m0 * d;
    int second = WIDE_ROWS * vc;
    FloatVector s0 = FloatVector.broadcast(WIDE, BIAS);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    FloatVector t0 = s0;
    FloatVector t1 = s0;
    FloatVector t2 = s0;
    FloatVector t3 = s0;
    int wb = base + 2 * n0 * terms;
    int rd = r * PLANE;
    for (int k = 0; k < terms; k++) {
      FloatVector wk = FloatVector.fromArray(WIDE, w, wb + k * 32);
      FloatVector vk = FloatVector.fromArray(WIDE, w, wb + k * 32 + 16);
      int p = at[first + k] + rd;
      FloatVector x0 = FloatVector.broadcast(WIDE, x[p]);
      s0 = x0.fma(wk, s0);
      t0 = x0.fma(vk, t0);
      FloatVector x1 = FloatVector.broadcast(WIDE, x[p + PLANE]);
      s1 = x1.fma(wk, s1);
      t1 = x1.fma(vk, t1);
      FloatVector x2 = FloatVector.broadcast(WIDE, x[p + 2 * PLANE]);
      s2 = x2.fma(wk, s2);
      t2 = x2.fma(vk, t2);
      FloatVector x3 = FloatVector.broadcast(WIDE, x[p + 3 * PLANE]);
      s3 = x3.fma(wk, s3);
      t3 = x3.fma(vk, t3);
    }
    s0.intoArray(sums, PAD);
    s1.intoArray(sums, PAD + vc);
    s2.intoArray(sums, PAD + 2 * vc);
    s3.intoArray(sums, PAD + 3 * vc);
    t0.intoArray(sums, PAD + second);
    t1.intoArray(sums, PAD + second + vc);
    t2.intoArray(sums, PAD + second + 2 * vc);
    t3.intoArray(sums, PAD + second + 3 * vc);
    int rows = to - r;
    wideFinish(acc, c + r * d + n0, rows, 0, accumulate);
    wideFinish(acc, c2 + r * d + n0, rows, second, accumulate);
  }

  /** {@link #finish} of a block of {@link #wideStrips}, its sums from {@code PAD + at} on. */
  private void wideFinish(int[] acc, int c, int n, int at, boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < n; i++) {
      IntVector v = FloatVector.fromArray(WIDE, sums, PAD + at + i * vectorColumns)
          .reinterpretAsInts().sub(BIAS_BITS);
      int o = c + i * d;
      if (accumulate) {
        v = v.add(IntVector.fromArray(WIDE_INTS, acc, o));
      }
      v.intoArray(acc, o);
    }
  }

  /**
   * Moves the sums of a block of {@code n} rows of one strip into the accumulators at {@code c}:
   * each sum's bits less those of the bias are its int32 value.
   */
  private void finish(int[] acc, int c, int n, boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < STRIP; j += L) {
        IntVector v = FloatVector.fromArray(F, sums, PAD + i * vectorColumns + j).reinterpretAsInts()
            .sub(BIAS_BITS);
        int o = c + i * d + j;
        if (accumulate) {
          v = v.add(IntVector.fromArray(I, acc, o));
        }
        v.intoArray(acc, o);
      }
    }
  }

  private void tail(byte[] abuf, int a, byte[] tile, int t, int[] acc, int c, int rows,
      boolean accumulate) {
    int d = lanes;
    for (int i = 0; i < rows; i++) {
      int ai = a + i * d;
      int ci = c + i * d;
      for (int n = vectorColumns; n < d; n++) {
        int s = accumulate ? acc[ci + n] : 0;
        for (int k = 0; k < d; k++) {
          s += abuf[ai + k] * tile[t + k * d + n];
        }
        acc[ci + n] = s;
      }
    }
  }
}
