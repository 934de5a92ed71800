package dev.systole.driver.timing;

import dev.systole.driver.contract.Contract;

/**
 * The timing twin of the LOAD and STORE units: how many cycles each is busy, from the
 * instruction's fields alone, under the fixed-latency memory model (arready, awready and wready
 * always 1; read beat j of a burst accepted at a on R at max(a + Lr + j, previous beat + 1); the B
 * response of a write burst at max(w + Lw, previous B + 1), w the later of its AW and wlast).
 *
 * <p>"Busy" is the unit's occupancy C: the instruction issues in cycle T, the unit's free_o is 0
 * in T + 1 .. T + C - 1 and 1 again in T + C. The values are exact for the RTL
 * ({@code fpga/rtl/systole_load.sv}, {@code systole_store.sv}): the RTL testbenches replay
 * traces of these two methods on thousands of random instructions ({@link TimingTraces}) and
 * compare them with the cycles they measure, so a change here that the RTL does not make fails
 * there.
 *
 * <h2>The pipelines being modelled</h2>
 *
 * <p>Both units cut the block into "ranges": a whole block row when x_stride == elem_bytes
 * (x_size·elem_bytes contiguous bytes), else each element. Each range is cut into AXI bursts
 * only at 16 beats and at 4 KiB boundaries; both fall on beat boundaries, so a range of n bytes at
 * a always takes {@code beats(a, n) = floor((a+n-1)/32) - floor(a/32) + 1} beats. One burst goes
 * out per cycle, so beats stream back to back.
 *
 * <p>LOAD: the first AR is accepted at T + 2, so the n-th beat (from 0, over the whole transfer)
 * arrives at T + 2 + Lr + n. The aligner turns the beats into a byte stream and cuts one element
 * a cycle out of it; element i (in (y, x) order) is written at
 * {@code w(i) = max(w(i-1) + 1, T + 6 + Lr + G(i))}, where G(i) is the index of the beat holding
 * its last byte. Padding rows need no data: they take every cycle of the write port from T + 2
 * that no data row takes. Hence
 *
 * <pre>
 *   C = max(W*H + 2, Lr + M + 7)
 *   M = max over elements i of (G(i) - i) + N - 1,   N = x_size*y_size
 * </pre>
 *
 * <p>STORE: rows are read one a cycle from T + 1; element i is in the byte buffer at T + 3 + i.
 * Beat m (over the whole transfer) goes out on W at {@code v(m) = max(v(m-1) + 1, T + 4 + E(m))},
 * where E(m) is the element holding the beat's last useful byte; its B response comes Lw later
 * (bursts are at least one beat, so B responses never queue), and the unit is free the cycle
 * after the last one:
 *
 * <pre>
 *   C = Lw + Q + 5,   Q = max over beats m of (E(m) - m) + beats - 1
 * </pre>
 *
 * <p>The maxima have closed forms per block row (see the methods), so both methods run in
 * O(y_size) for contiguous rows and O(x_size·y_size) otherwise, never per cycle.
 */
public final class TransferTiming {
  /** Bytes of one memory beat. */
  public static final int BEAT_BYTES = 32;

  /**
   * The largest read latency the LOAD model is exact for: the RTL keeps at most 512 beats in
   * flight (its beat FIFO), more than a latency of 256 cycles can use.
   */
  public static final int MAX_READ_LATENCY = 256;

  /**
   * LOAD, data rows: the AR of beat 0 at T + 2, its data written at T + 6 + Lr, the unit free the
   * cycle after the last write: C = Lr + M + 7.
   */
  static final int LOAD_DATA_OVERHEAD = Contract.Timing.LOAD_OVERHEAD;

  /** LOAD, padding rows: the first written at T + 2, one a cycle: C = W*H + 2 at the least. */
  static final int LOAD_PAD_OVERHEAD = Contract.Timing.LOAD_PAD_OVERHEAD;

  /**
   * STORE: row 0 read at T + 1, beat 0 on W at T + 4 at the earliest, its B Lw later, the unit
   * free the cycle after the last B: C = Lw + Q + 5.
   */
  static final int STORE_OVERHEAD = Contract.Timing.STORE_OVERHEAD;

  private TransferTiming() {}

  /** Beats covering the bytes {@code a .. a + n - 1} (n ≥ 1). */
  static long beats(long a, long n) {
    return ((a + n - 1) >>> 5) - (a >>> 5) + 1;
  }

  /**
   * Cycles the LOAD unit is busy with one LOAD (contract section 6.1): C such that the unit is
   * free again T + C after the instruction issued at T.
   *
   * <pre>
   * C = max(W*H + 2, Lr + M + 7)
   *
   * contiguous rows (x_stride == elem_bytes):
   *     O = 0; best = -infinity
   *     for y in 0 .. y_size-1:
   *         r = hbm_addr + y*y_stride
   *         best = max(best, O - y*x_size + floor((r mod 32 + elem_bytes - 1) / 32))
   *         O += beats(r, x_size*elem_bytes)
   *     M = max(O - 1, N - 1 + best)
   * one range per element:
   *     M = (sum of beats(address of element, elem_bytes) over all elements) - 1
   * </pre>
   *
   * <p>M is the term of the data rows: with no padding the last row is written Lr + M + 6 cycles
   * after issue. For contiguous rows, G(i) - i is largest at the first element of a row when
   * elements are shorter than a beat (rows are the limit: the +1 is the first element straddling
   * a beat boundary) and at the last element otherwise (beats are the limit); with one range per
   * element every element takes at least one beat of its own, so the beats are the limit. So a
   * padding-free, single-row contiguous LOAD takes {@code Lr + 7 + max(beats - 1,
   * x_size - 1 + straddle)} cycles, straddle = 1 if the first element crosses a beat boundary.
   *
   * @param hbmAddr the hbm_addr field
   * @param xStride the x_stride field, unsigned (0 to 2^32 - 1)
   * @param yStride the y_stride field, unsigned (0 to 2^32 - 1)
   * @param readLatency Lr, the fixed read latency (1 to {@link #MAX_READ_LATENCY})
   * @return the busy cycles C
   * @throws IllegalArgumentException if a size is 0 or the latency is out of range
   */
  public static long loadCycles(long hbmAddr, int elemBytes, int xSize, int ySize, long xStride,
      long yStride, int xPad0, int xPad1, int yPad0, int yPad1, int readLatency) {
    checkSizes(elemBytes, xSize, ySize);
    if (readLatency < 1 || readLatency > MAX_READ_LATENCY) {
      throw new IllegalArgumentException("read latency " + readLatency + " outside 1.."
          + MAX_READ_LATENCY);
    }
    long rows = (long) (xPad0 + xSize + xPad1) * (yPad0 + ySize + yPad1);
    long n = (long) xSize * ySize;
    long m;
    if (xStride == elemBytes) {
      long rowBytes = (long) xSize * elemBytes;
      long o = 0;
      long best = Long.MIN_VALUE;
      for (int y = 0; y < ySize; y++) {
        long r = hbmAddr + y * yStride;
        long straddle = ((r & 31) + elemBytes - 1) >>> 5;
        best = Math.max(best, o - (long) y * xSize + straddle);
        o += beats(r, rowBytes);
      }
      m = Math.max(o - 1, n - 1 + best);
    } else {
      m = elementBeats(hbmAddr, elemBytes, xSize, ySize, xStride, yStride) - 1;
    }
    return Math.max(rows + LOAD_PAD_OVERHEAD, readLatency + m + LOAD_DATA_OVERHEAD);
  }

  /**
   * Cycles the STORE unit is busy with one STORE (contract section 6.2): C such that the unit is
   * free again T + C after the instruction issued at T, its last B response accepted.
   *
   * <pre>
   * C = Lw + Q + 5
   *
   * contiguous rows (x_stride == elem_bytes), L = x_size*elem_bytes:
   *     O = 0; best = 0
   *     for y in 0 .. y_size-1:
   *         r = hbm_addr + y*y_stride; o = r mod 32; B = beats(r, L)
   *         val(j) = floor((min(32*(j+1) - o, L) - 1) / elem_bytes) - j   # beat j's element - j
   *         local = max(val(0), val(B-1), val(B-2) if B >= 2)
   *         best = max(best, y*x_size - O + local)
   *         O += B
   *     Q = best + O - 1
   * one range per element:
   *     Q = (sum of beats(address of element, elem_bytes) over all elements) - 1
   * </pre>
   *
   * <p>Within a contiguous row, val(j) falls from j = 0 when elements are at least a beat long
   * (beats are the limit) and rises up to the second-to-last beat when they are shorter (rows are
   * the limit; the last beat may hold no element end of its own), so the three candidates give
   * its maximum. So a single-row contiguous STORE of aligned elements of 32 bytes or more takes
   * {@code Lw + beats + 4} cycles, and one of shorter elements {@code Lw + x_size + 4}, or
   * {@code Lw + x_size + 5} when its last element crosses a beat boundary (the second-to-last beat
   * then waits for the last row).
   *
   * @param hbmAddr the hbm_addr field
   * @param xStride the x_stride field, unsigned (0 to 2^32 - 1)
   * @param yStride the y_stride field, unsigned (0 to 2^32 - 1)
   * @param writeLatency Lw, the fixed write latency (at least 1)
   * @return the busy cycles C
   * @throws IllegalArgumentException if a size is 0 or the latency is below 1
   */
  public static long storeCycles(long hbmAddr, int elemBytes, int xSize, int ySize, long xStride,
      long yStride, int writeLatency) {
    checkSizes(elemBytes, xSize, ySize);
    if (writeLatency < 1) {
      throw new IllegalArgumentException("write latency " + writeLatency + " below 1");
    }
    long total;
    long best = 0;
    if (xStride == elemBytes) {
      long len = (long) xSize * elemBytes;
      total = 0;
      for (int y = 0; y < ySize; y++) {
        long r = hbmAddr + y * yStride;
        long o = r & 31;
        long b = beats(r, len);
        long local = Math.max(storeVal(0, o, len, elemBytes), storeVal(b - 1, o, len, elemBytes));
        if (b >= 2) {
          local = Math.max(local, storeVal(b - 2, o, len, elemBytes));
        }
        best = Math.max(best, (long) y * xSize - total + local);
        total += b;
      }
    } else {
      total = elementBeats(hbmAddr, elemBytes, xSize, ySize, xStride, yStride);
    }
    return writeLatency + best + total - 1 + STORE_OVERHEAD;
  }

  /** The element holding the last useful byte of beat j of a contiguous row, minus j. */
  private static long storeVal(long j, long o, long len, int elemBytes) {
    return (Math.min(BEAT_BYTES * (j + 1) - o, len) - 1) / elemBytes - j;
  }

  /** Beats of a transfer with one range (one burst or more) per element. */
  private static long elementBeats(long hbmAddr, int elemBytes, int xSize, int ySize,
      long xStride, long yStride) {
    long total = 0;
    for (int y = 0; y < ySize; y++) {
      long r = hbmAddr + y * yStride;
      for (int x = 0; x < xSize; x++) {
        total += beats(r + x * xStride, elemBytes);
      }
    }
    return total;
  }

  private static void checkSizes(int elemBytes, int xSize, int ySize) {
    if (elemBytes < 1 || xSize < 1 || ySize < 1) {
      throw new IllegalArgumentException("elem_bytes, x_size and y_size must be at least 1");
    }
  }
}
