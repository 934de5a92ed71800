package dev.systole.driver.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The LOAD and STORE timing twins: hand-computed cases, the closed forms of padding-free
 * contiguous transfers, and the per-row shortcuts against the definitions they shortcut
 * (maxima over every element or beat). The RTL testbenches check the same algorithm against the
 * cycles the RTL takes.
 */
class TransferTimingTest {
  private static final int LR = 32;
  private static final int LW = 16;

  private static long load(long addr, int elem, int xs, int ys, long xst, long yst) {
    return TransferTiming.loadCycles(addr, elem, xs, ys, xst, yst, 0, 0, 0, 0, LR);
  }

  private static long store(long addr, int elem, int xs, int ys, long xst, long yst) {
    return TransferTiming.storeCycles(addr, elem, xs, ys, xst, yst, LW);
  }

  @Test
  void loadOfSixteenAbufRowsIsRowBound() {
    // 16 elements of 16 bytes from 0x10000, contiguous: 256 bytes, 8 beats. The first element
    // does not straddle a beat (straddle 0), so M = max(8 - 1, 16 - 1 + 0) = 15: rows are the
    // limit. C = max(W*H + 2, Lr + M + 7) = max(18, 32 + 15 + 7) = 54.
    assertEquals(54, load(0x10000, 16, 16, 1, 16, 0));
  }

  @Test
  void loadOfAccRowsIsBeatBound() {
    // 16 ACC rows of 64 bytes, contiguous and aligned: 1024 bytes, 32 beats (two bursts of 16).
    // The first element ends in beat 1 (straddle 1), but M = max(32 - 1, 15 + 1) = 31: beats
    // are the limit. C = 32 + 31 + 7 = 70.
    assertEquals(70, load(0x20000, 64, 16, 1, 64, 0));
  }

  @Test
  void loadWhoseFirstElementStraddlesABeat() {
    // 4 elements of 16 bytes at offset 24: bytes 24..87, 3 beats. Element 0 (bytes 24..39) ends
    // in beat 1, so the first row waits for the second beat and every row after it is one cycle
    // later than for aligned data: M = max(3 - 1, 4 - 1 + 1) = 4, C = 32 + 4 + 7 = 43.
    assertEquals(43, load(0x18, 16, 4, 1, 16, 0));
    // The same aligned: M = max(1, 3 + 0) = 3, C = 42.
    assertEquals(42, load(0x20, 16, 4, 1, 16, 0));
  }

  @Test
  void loadWithOneBurstPerElement() {
    // x_stride 32 != elem_bytes 16: one range per element, each 1 beat: 4 beats, M = 3,
    // C = 32 + 3 + 7 = 42. x_stride 0 repeats the element: also 4 single-beat bursts.
    assertEquals(42, load(0x10000, 16, 4, 1, 32, 0));
    assertEquals(42, load(0x10000, 16, 4, 1, 0, 0));
    // Elements of 16 bytes at offset 24 with x_stride 64: each crosses a beat boundary, 2 beats
    // each, 8 beats: M = 7, C = 32 + 7 + 7 = 46.
    assertEquals(46, load(0x18, 16, 4, 1, 64, 0));
  }

  @Test
  void loadWithRowsOfDifferentAlignment() {
    // Two block rows of 2 elements of 16 bytes (contiguous), y_stride 56: row 0 at 0 (1 beat),
    // row 1 at 56, offset 24 (bytes 56..87, 2 beats, global beats 1 and 2). Elements end in
    // global beats G = 0, 0, 2, 2, so G(i) - i = 0, -1, 0, -1 and M = 0 + N - 1 = 3; also
    // O - 1 = 3 - 1 = 2. C = 32 + 3 + 7 = 42.
    assertEquals(42, load(0, 16, 2, 2, 16, 56));
  }

  @Test
  void loadDominatedByPadding() {
    // One element with 10 padding elements on every side: W = H = 21, 441 rows. The data row is
    // written at T + 6 + Lr = T + 38; the padding rows fill the write port from T + 2, so the
    // port is busy until T + 2 + 441 - 1: C = max(441 + 2, 32 + 0 + 7) = 443.
    assertEquals(443, TransferTiming.loadCycles(0, 16, 1, 1, 16, 0, 10, 10, 10, 10, LR));
    // Padding that fits in the read latency costs nothing: 1 element, W*H = 9, C = 39.
    assertEquals(39, TransferTiming.loadCycles(0, 16, 1, 1, 16, 0, 1, 1, 1, 1, LR));
  }

  @Test
  void storeOfAccRowsIsBeatBound() {
    // 16 ACC rows of 64 bytes to 0x20000: 32 beats. Beat j holds half of element floor(j/2),
    // so val(j) = floor(j/2) - j <= 0 and the maximum is val(0) = 0: Q = 0 + 32 - 1 = 31.
    // C = Lw + Q + 5 = 16 + 31 + 5 = 52.
    assertEquals(52, store(0x20000, 64, 16, 1, 64, 0));
  }

  @Test
  void storeOfShortElementsIsRowBound() {
    // 16 rows of 16 bytes, aligned: 8 beats, beat j ends element 2j + 1: val(j) = j + 1, the
    // maximum val(7) = 8 = (x_size - 1) - (beats - 1). Q = 8 + 7 = 15 = x_size - 1.
    // C = 16 + 15 + 5 = 36.
    assertEquals(36, store(0x10000, 16, 16, 1, 16, 0));
  }

  @Test
  void storeWhoseLastElementStraddlesABeat() {
    // 2 elements of 16 bytes at offset 8: bytes 8..39, 2 beats. Beat 0's last byte (31) is in
    // element 1, so beat 0 already waits for the last row: val(0) = 1, val(1) = 0, Q = 1 + 1 = 2.
    // C = 16 + 2 + 5 = 23 (one more than x_size - 1 + 16 + 5 = 22).
    assertEquals(23, store(0x08, 16, 2, 1, 16, 0));
  }

  @Test
  void storeWithOneBurstPerElement() {
    // x_stride 0: three 4-byte elements to the same address, three 1-beat bursts (the last
    // wins in memory). Q = beats - 1 = 2, C = 16 + 2 + 5 = 23.
    assertEquals(23, store(0x100, 4, 3, 1, 0, 0));
    // x_stride 3 < elem_bytes 4: overlapping elements, still one burst each.
    assertEquals(23, store(0x100, 4, 3, 1, 3, 0));
  }

  @Test
  void stridesAreUnsigned() {
    // A y_stride of 2^32 - 32 keeps rows 32-byte aligned and is not negative: 2 rows, each one
    // aligned 32-byte element: 2 beats; LOAD M = max(1, 1 + 0) = 1, C = 32 + 1 + 7 = 40.
    long stride = 0xFFFF_FFE0L;
    assertEquals(40, load(0, 32, 1, 2, 32, stride));
    // STORE: Q = max over beats of (element - beat) + beats - 1 = 0 + 1, C = 16 + 1 + 5 = 22.
    assertEquals(22, store(0, 32, 1, 2, 32, stride));
  }

  @Test
  void latenciesAreChecked() {
    assertThrows(IllegalArgumentException.class,
        () -> TransferTiming.loadCycles(0, 16, 1, 1, 16, 0, 0, 0, 0, 0, 0));
    assertThrows(IllegalArgumentException.class,
        () -> TransferTiming.loadCycles(0, 16, 1, 1, 16, 0, 0, 0, 0, 0,
            TransferTiming.MAX_READ_LATENCY + 1));
    assertThrows(IllegalArgumentException.class,
        () -> TransferTiming.storeCycles(0, 16, 1, 1, 16, 0, 0));
    assertThrows(IllegalArgumentException.class,
        () -> TransferTiming.storeCycles(0, 0, 1, 1, 16, 0, LW));
  }

  @Test
  void paddingFreeContiguousRowsFollowTheClosedForm() {
    Random rnd = new Random(0x7157);
    for (int i = 0; i < 20_000; i++) {
      int elem = 1 + rnd.nextInt(64);
      int xs = 1 + rnd.nextInt(600);
      long addr = rnd.nextInt(1 << 20);
      int lr = 1 + rnd.nextInt(TransferTiming.MAX_READ_LATENCY);
      int lw = 1 + rnd.nextInt(64);
      long beats = TransferTiming.beats(addr, (long) xs * elem);
      long straddle = ((addr & 31) + elem - 1) / 32;
      // LOAD: C = Lr + 7 + max(beats - 1, x_size - 1 + straddle).
      assertEquals(lr + 7 + Math.max(beats - 1, xs - 1 + straddle),
          TransferTiming.loadCycles(addr, elem, xs, 1, elem, 0, 0, 0, 0, 0, lr));
      // STORE: C = Lw + 4 + beats for elements of a beat or more, aligned, and
      // Lw + 4 + x_size (+ 1 when the last element crosses a beat boundary) for shorter ones.
      long end = addr + (long) xs * elem;  // one past the last byte
      boolean lastStraddles = ((end - elem) >>> 5) != ((end - 1) >>> 5);
      long want;
      if (elem >= 32 && (addr & 31) == 0) {
        want = lw + 4 + beats;
      } else if (elem < 32 && xs >= 2) {
        want = lw + 4 + xs + (lastStraddles && beats >= 2 ? 1 : 0);
      } else {
        continue;  // other shapes: the definition test below covers them
      }
      assertEquals(want, TransferTiming.storeCycles(addr, elem, xs, 1, elem, 0, lw),
          "STORE addr=" + addr + " elem=" + elem + " xs=" + xs);
    }
  }

  @Test
  void perRowShortcutsMatchTheirDefinitions() {
    // LOAD: C = max(W*H + 2, Lr + M + 7), M = max over elements i of (G(i) - i) + N - 1, G(i)
    // the index of the beat (over the whole transfer) holding element i's last byte.
    // STORE: C = Lw + Q + 5, Q = max over beats m of (E(m) - m) + beats - 1, E(m) the element
    // holding beat m's last useful byte. Both computed here by walking every element and beat.
    Random rnd = new Random(0x5eed);
    for (int i = 0; i < 5_000; i++) {
      int elem = 1 + rnd.nextInt(64);
      int xs = 1 + rnd.nextInt(40);
      int ys = 1 + rnd.nextInt(12);
      long xst = switch (rnd.nextInt(4)) {
        case 0 -> elem;
        case 1 -> 0;
        case 2 -> 1 + rnd.nextInt(100);
        default -> elem + rnd.nextInt(5000);
      };
      long yst = switch (rnd.nextInt(3)) {
        case 0 -> (long) xs * elem;
        case 1 -> rnd.nextInt(200);
        default -> 0xFFFF_0000L + rnd.nextInt(1 << 16);
      };
      long addr = rnd.nextInt(1 << 24);
      int[] pad = {rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4)};
      long[] def = definitions(addr, elem, xs, ys, xst, yst);
      long rows = (long) (pad[0] + xs + pad[1]) * (pad[2] + ys + pad[3]);
      assertEquals(Math.max(rows + 2, LR + def[0] + 7),
          TransferTiming.loadCycles(addr, elem, xs, ys, xst, yst, pad[0], pad[1], pad[2], pad[3],
              LR));
      assertEquals(LW + def[1] + 5, TransferTiming.storeCycles(addr, elem, xs, ys, xst, yst, LW));
    }
  }

  /** {M, Q} by the definitions: walk the ranges, their beats and their elements. */
  private static long[] definitions(long addr, int elem, int xs, int ys, long xst, long yst) {
    boolean contiguous = xst == elem;
    long beat = 0;  // global index of the first beat of the current range
    long element = 0;
    long maxLoad = Long.MIN_VALUE;
    long maxStore = Long.MIN_VALUE;
    for (int y = 0; y < ys; y++) {
      for (int x = 0; x < (contiguous ? 1 : xs); x++) {
        long start = addr + y * yst + x * xst;
        long len = contiguous ? (long) xs * elem : elem;
        long firstBeat = start >>> 5;
        int elems = contiguous ? xs : 1;
        for (int k = 0; k < elems; k++) {  // element ends: G(i) - i
          long last = start + (long) (k + 1) * elem - 1;
          maxLoad = Math.max(maxLoad, beat + (last >>> 5) - firstBeat - (element + k));
        }
        long beats = TransferTiming.beats(start, len);
        for (long j = 0; j < beats; j++) {  // beat ends: E(m) - m
          long lastByte = Math.min((firstBeat + j + 1) * 32, start + len) - 1;
          long e = element + (lastByte - start) / elem;
          maxStore = Math.max(maxStore, e - (beat + j));
        }
        beat += beats;
        element += elems;
      }
    }
    long n = (long) xs * ys;
    return new long[] {maxLoad + n - 1, maxStore + beat - 1};
  }
}
