package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vector unit of contract 1.1, bit for bit, on the emulator device. Each case puts random
 * contents into every buffer with LOAD (the LUT too), runs one vector instruction with random
 * legal fields, STOREs every buffer back whole and compares it with a reference written here from
 * the contract's definitions: BigInteger arithmetic and the JDK's own half-to-even rounding, and
 * nothing of {@code Arithmetic} or {@code Machine}, so a wrong emulator and a wrong reference
 * would have to be wrong the same way by different routes. Comparing whole buffers also catches a
 * write outside the rows an instruction owns.
 *
 * <p>The lane counts are 16 (the default build), 12 (a table of ceil(256/12) = 22 rows whose last
 * row is partly used) and 4 (64-row tables); {@code valid} is random, mostly not a whole number
 * of rows. The worked examples are small inputs whose results are computed by hand in the
 * comments, for the contract's prose to quote.
 */
class VectorUnitTest {
  private static final int CASES = 120;
  private static final long PROGRAM = 0x0;
  private static final long AT_ABUF = 0x10_0000;
  private static final long AT_WBUF = 0x20_0000;
  private static final long AT_ACC = 0x30_0000;
  private static final long AT_LUT = 0x40_0000;
  private static final long OUT = 0x80_0000;
  private static final int ABUF_ROWS = 256;
  private static final int WBUF_ROWS = 128;
  private static final int ACC_ROWS = 128;
  private static final int LUT_ROWS = 256;
  private static final BigInteger TWO_44 = BigInteger.ONE.shiftLeft(44);
  private static final BigInteger TWO_62 = BigInteger.ONE.shiftLeft(62);

  // ---- the reference ----

  /** {@code v / 2^s} to the nearest integer, ties to even, by the JDK's decimal rounding. */
  static BigInteger rne(BigInteger v, int s) {
    return new BigDecimal(v).divide(new BigDecimal(BigInteger.ONE.shiftLeft(s)))
        .setScale(0, RoundingMode.HALF_EVEN).toBigIntegerExact();
  }

  static int sat8(BigInteger v) {
    return v.max(BigInteger.valueOf(-128)).min(BigInteger.valueOf(127)).intValue();
  }

  static BigInteger big(long v) {
    return BigInteger.valueOf(v);
  }

  /** Every buffer of a device, as plain arrays indexed [row * lanes + lane]. */
  static final class State {
    final int d;
    final byte[] abuf;
    final byte[] wbuf;
    final int[] acc;
    final short[] lut;

    State(int d) {
      this.d = d;
      abuf = new byte[ABUF_ROWS * d];
      wbuf = new byte[WBUF_ROWS * d];
      acc = new int[ACC_ROWS * d];
      lut = new short[LUT_ROWS * d];
    }

    State copy() {
      State s = new State(d);
      System.arraycopy(abuf, 0, s.abuf, 0, abuf.length);
      System.arraycopy(wbuf, 0, s.wbuf, 0, wbuf.length);
      System.arraycopy(acc, 0, s.acc, 0, acc.length);
      System.arraycopy(lut, 0, s.lut, 0, lut.length);
      return s;
    }

    static State random(int d, Random r) {
      State s = new State(d);
      r.nextBytes(s.abuf);
      r.nextBytes(s.wbuf);
      for (int i = 0; i < s.acc.length; i++) {
        s.acc[i] = r.nextInt();
      }
      for (int i = 0; i < s.lut.length; i++) {
        s.lut[i] = (short) r.nextInt();
      }
      return s;
    }

    int tableRows() {
      return (256 + d - 1) / d;
    }

    /** Entry e of table t: LUT row t * tableRows + e / D, lane e mod D. */
    int entry(int t, int e) {
      return lut[(t * tableRows() + e / d) * d + e % d];
    }

    void setEntry(int t, int e, int v) {
      lut[(t * tableRows() + e / d) * d + e % d] = (short) v;
    }

    int a(int row, int lane) {
      return abuf[row * d + lane];
    }
  }

  static void vlut(State s, State o, int aRow, int dstRow, int rows, int table) {
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < s.d; j++) {
        int x = s.a(aRow + i, j);
        o.abuf[(dstRow + i) * s.d + j] = (byte) sat8(big(s.entry(table, x + 128)));
      }
    }
  }

  static void vscale(State s, State o, int aRow, int dstRow, int rows, int paramRow, int aZero,
      int outZero) {
    int d = s.d;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < d; j++) {
        int x = s.a(aRow + i, j);
        int mult = s.acc[(x >= aZero ? paramRow : paramRow + 1) * d + j];
        int bias = s.acc[(paramRow + 2) * d + j];
        int shift = s.acc[(paramRow + 3) * d + j] & 63;
        BigInteger v = big(x - aZero).multiply(big(mult)).add(big(bias));
        o.abuf[(dstRow + i) * d + j] = (byte) sat8(rne(v, shift).add(big(outZero)));
      }
    }
  }

  static void vmul(State s, State o, boolean bcast, int aRow, int bRow, int dstRow, int rows,
      int aZero, int bZero, int outZero, int shift, int mult) {
    int d = s.d;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < d; j++) {
        BigInteger v = big(s.a(aRow + i, j) - aZero)
            .multiply(big(s.a(bcast ? bRow : bRow + i, j) - bZero)).multiply(big(mult));
        o.abuf[(dstRow + i) * d + j] = (byte) sat8(rne(v, shift).add(big(outZero)));
      }
    }
  }

  static void vreduce(State s, State o, boolean max, boolean lanes, boolean accumulate, int aRow,
      int dstRow, int rows, int valid) {
    int d = s.d;
    if (lanes) {
      for (int i = 0; i < rows; i++) {
        List<Integer> xs = new ArrayList<>();
        for (int l = 0; l < valid; l++) {
          xs.add(s.a(aRow + i, l));
        }
        for (int j = 0; j < d; j++) {
          put(s, o, max, accumulate, (dstRow + i) * d + j, xs);
        }
      }
      return;
    }
    for (int j = 0; j < d; j++) {
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        xs.add(s.a(aRow + i, j));
      }
      put(s, o, max, accumulate, dstRow * d + j, xs);
    }
  }

  /** The maximum into ABUF or the sum into ACC (int32, wrapping) of {@code xs}, at {@code at}. */
  private static void put(State s, State o, boolean max, boolean accumulate, int at,
      List<Integer> xs) {
    if (max) {
      int m = xs.stream().max(Integer::compare).orElseThrow();
      o.abuf[at] = (byte) (accumulate ? Math.max(m, s.abuf[at]) : m);
    } else {
      BigInteger sum = xs.stream().map(VectorUnitTest::big).reduce(BigInteger.ZERO,
          BigInteger::add);
      o.acc[at] = (accumulate ? sum.add(big(s.acc[at])) : sum).intValue();
    }
  }

  static void vmac(State s, State o, boolean accumulate, int aRow, int accRow, int rows,
      int wRow) {
    int d = s.d;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < d; j++) {
        BigInteger p = big(s.a(aRow + i, j)).multiply(big(s.wbuf[wRow * d + j]));
        int at = (accRow + i) * d + j;
        o.acc[at] = (accumulate ? p.add(big(s.acc[at])) : p).intValue();
      }
    }
  }

  /** The {@code valid} lanes of group {@code g}, row by row from lane 0 of its first row. */
  private static int[] group(State s, int aRow, int groupRows, int valid, int g) {
    int[] x = new int[valid];
    for (int l = 0; l < valid; l++) {
      x[l] = s.a(aRow + g * groupRows + l / s.d, l % s.d);
    }
    return x;
  }

  /** Writes {@code y} to the group's lanes and out_zero to the lanes past {@code valid}. */
  private static void ungroup(State o, int dstRow, int groupRows, int g, int[] y, int outZero) {
    for (int l = 0; l < groupRows * o.d; l++) {
      o.abuf[(dstRow + g * groupRows + l / o.d) * o.d + l % o.d] =
          (byte) (l < y.length ? y[l] : outZero);
    }
  }

  static void vsoftmax(State s, State o, int aRow, int dstRow, int groups, int groupRows,
      int valid, int table, int outZero, int shift, int mult) {
    for (int g = 0; g < groups; g++) {
      int[] x = group(s, aRow, groupRows, valid, g);
      int m = Arrays.stream(x).max().orElseThrow();
      BigInteger[] e = new BigInteger[valid];
      BigInteger sum = BigInteger.ZERO;
      for (int l = 0; l < valid; l++) {
        e[l] = big(Math.max(s.entry(table, m - x[l]), 0));
        sum = sum.add(e[l]);
      }
      BigInteger recip = sum.signum() > 0 ? TWO_44.divide(sum) : BigInteger.ZERO;
      int[] y = new int[valid];
      for (int l = 0; l < valid; l++) {
        y[l] = sat8(rne(e[l].multiply(recip).multiply(big(mult)), shift).add(big(outZero)));
      }
      ungroup(o, dstRow, groupRows, g, y, outZero);
    }
  }

  static void vnorm(State s, State o, int aRow, int dstRow, int groups, int groupRows,
      int valid, int paramRow, int outZero, long eps) {
    int d = s.d;
    BigInteger n = big(valid);
    for (int g = 0; g < groups; g++) {
      int[] x = group(s, aRow, groupRows, valid, g);
      BigInteger s1 = BigInteger.ZERO;
      BigInteger s2 = BigInteger.ZERO;
      for (int v : x) {
        s1 = s1.add(big(v));
        s2 = s2.add(big((long) v * v));
      }
      BigInteger t = n.multiply(s2).subtract(s1.multiply(s1)).add(big(eps));
      BigInteger inv = t.signum() > 0 ? TWO_62.divide(t).sqrt() : BigInteger.ZERO;
      int[] y = new int[valid];
      for (int l = 0; l < valid; l++) {
        int row = paramRow + 3 * (l / d);
        int j = l % d;
        BigInteger norm = rne(n.multiply(big(x[l])).subtract(s1).multiply(inv), 19);
        BigInteger v = norm.multiply(big(s.acc[row * d + j])).add(big(s.acc[(row + 1) * d + j]));
        y[l] = sat8(rne(v, s.acc[(row + 2) * d + j] & 63).add(big(outZero)));
      }
      ungroup(o, dstRow, groupRows, g, y, outZero);
    }
  }

  static void vtrans(State s, State o, boolean toWbuf, int aRow, int dstRow, int blocks) {
    int d = s.d;
    byte[] dst = toWbuf ? o.wbuf : o.abuf;
    for (int b = 0; b < blocks; b++) {
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          dst[(dstRow + b * d + j) * d + i] = (byte) s.a(aRow + b * d + i, j);
        }
      }
    }
  }

  // ---- the device ----

  /** An emulator with small buffers, so every case loads and stores every buffer whole. */
  static final class Bench implements AutoCloseable {
    final Device device;
    final int d;
    long vectorCycles;
    long cycles;

    Bench(int d) {
      this(d, "LUT_ROWS=" + LUT_ROWS);
    }

    Bench(int d, String more) {
      this.d = d;
      device = Devices.open(String.format("emulator:ARRAY=%d,ABUF_ROWS=%d,WBUF_ROWS=%d,"
          + "ACC_ROWS=%d,HBM_MB=64,%s", d, ABUF_ROWS, WBUF_ROWS, ACC_ROWS, more));
    }

    void put(long address, byte[] bytes) {
      ByteBuf buf = Unpooled.wrappedBuffer(bytes);
      try {
        device.dmaWrite(address, buf);
      } finally {
        buf.release();
      }
    }

    byte[] get(long address, int n) {
      ByteBuf buf = Unpooled.buffer(n);
      try {
        device.dmaRead(address, buf, 0, n);
        byte[] b = new byte[n];
        buf.getBytes(0, b);
        return b;
      } finally {
        buf.release();
      }
    }

    RunResult run(String asm) {
      List<Instruction> program = Assembler.parseProgram(asm);
      put(PROGRAM, Instruction.encode(program));
      device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
      device.start(PROGRAM, program.size());
      RunResult r = device.await(Duration.ofSeconds(30));
      vectorCycles = device.counters().get(Counter.VECTOR_CYCLES);
      cycles = device.counters().get(Counter.CYCLES);
      return r;
    }

    /** LOADs {@code s} into every buffer, runs {@code op}, STOREs every buffer back. */
    State run(State s, String op) {
      put(AT_ABUF, s.abuf);
      put(AT_WBUF, s.wbuf);
      put(AT_ACC, int32(s.acc));
      put(AT_LUT, int16(s.lut));
      String load = "LOAD buf=%s elem_bytes=%d hbm_addr=0x%x x_size=%d y_size=1 x_stride=%d%n";
      String store = "STORE buf=%s elem_bytes=%d hbm_addr=0x%x x_size=%d y_size=1 x_stride=%d"
          + " wait=EXEC%n";
      StringBuilder asm = new StringBuilder();
      asm.append(String.format(load, "ABUF", d, AT_ABUF, ABUF_ROWS, d));
      asm.append(String.format(load, "WBUF", d, AT_WBUF, WBUF_ROWS, d));
      asm.append(String.format(load, "ACC", 4 * d, AT_ACC, ACC_ROWS, 4 * d));
      asm.append(String.format(load, "LUT", 2 * d, AT_LUT, LUT_ROWS, 2 * d));
      asm.append(op).append(" wait=LOAD\n");
      long abufOut = OUT;
      long wbufOut = abufOut + ABUF_ROWS * d;
      long accOut = wbufOut + WBUF_ROWS * d;
      long lutOut = accOut + 4L * ACC_ROWS * d;
      asm.append(String.format(store, "ABUF", d, abufOut, ABUF_ROWS, d));
      asm.append(String.format(store, "WBUF", d, wbufOut, WBUF_ROWS, d));
      asm.append(String.format(store, "ACC", 4 * d, accOut, ACC_ROWS, 4 * d));
      asm.append(String.format(store, "LUT", 2 * d, lutOut, LUT_ROWS, 2 * d));
      asm.append("HALT\n");
      RunResult r = run(asm.toString());
      assertTrue(r.ok(), op + ": " + r.describe());
      State o = new State(d);
      System.arraycopy(get(abufOut, o.abuf.length), 0, o.abuf, 0, o.abuf.length);
      System.arraycopy(get(wbufOut, o.wbuf.length), 0, o.wbuf, 0, o.wbuf.length);
      byte[] acc = get(accOut, 4 * o.acc.length);
      for (int i = 0; i < o.acc.length; i++) {
        o.acc[i] = (acc[4 * i] & 0xFF) | (acc[4 * i + 1] & 0xFF) << 8
            | (acc[4 * i + 2] & 0xFF) << 16 | acc[4 * i + 3] << 24;
      }
      byte[] lut = get(lutOut, 2 * o.lut.length);
      for (int i = 0; i < o.lut.length; i++) {
        o.lut[i] = (short) ((lut[2 * i] & 0xFF) | lut[2 * i + 1] << 8);
      }
      return o;
    }

    @Override
    public void close() {
      device.close();
    }
  }

  static byte[] int32(int[] v) {
    byte[] b = new byte[4 * v.length];
    for (int i = 0; i < v.length; i++) {
      for (int k = 0; k < 4; k++) {
        b[4 * i + k] = (byte) (v[i] >> 8 * k);
      }
    }
    return b;
  }

  static byte[] int16(short[] v) {
    byte[] b = new byte[2 * v.length];
    for (int i = 0; i < v.length; i++) {
      b[2 * i] = (byte) v[i];
      b[2 * i + 1] = (byte) (v[i] >> 8);
    }
    return b;
  }

  /** Runs {@code op} on the device and the reference, and compares every buffer. */
  private static void check(Bench bench, State s, String op, State want, long busy) {
    State have = bench.run(s, op);
    String where = "D=" + bench.d + " " + op;
    assertArrayEquals(want.abuf, have.abuf, where + ": ABUF");
    assertArrayEquals(want.wbuf, have.wbuf, where + ": WBUF");
    assertArrayEquals(want.acc, have.acc, where + ": ACC");
    assertArrayEquals(want.lut, have.lut, where + ": LUT");
    assertEquals(busy + Timing.VECTOR_LATENCY, bench.vectorCycles, where + ": VECTOR_CYCLES");
  }

  // ---- random fields ----

  /** A random int8 value. */
  private static int i8(Random r) {
    return r.nextInt(256) - 128;
  }

  /** A source run of {@code rows} in ABUF's first half. */
  private static int source(Random r, int rows) {
    return r.nextInt(ABUF_ROWS / 2 - rows + 1);
  }

  /** A destination run: the source rows themselves, or rows in ABUF's second half. */
  private static int destination(Random r, int src, int rows) {
    return r.nextInt(4) == 0 ? src : ABUF_ROWS / 2 + r.nextInt(ABUF_ROWS / 2 - rows + 1);
  }

  /** A multiplier near {@code scale} times a random factor in [-2, 2], within int32. */
  private static int multiplier(Random r, double scale) {
    if (r.nextInt(40) == 0) {
      return r.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    }
    double m = (r.nextDouble() * 4 - 2) * scale;
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.rint(m)));
  }

  /** A shift as a parameter row holds it: mostly 0..40, sometimes with bits above bit 5 set. */
  private static int shiftWord(Random r, int shift) {
    return switch (r.nextInt(8)) {
      case 0 -> shift + 64 * (1 + r.nextInt(1000));
      case 1 -> shift - 64 * (1 + r.nextInt(1000));
      default -> shift;
    };
  }

  // ---- the random cases ----

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vlutMapsEveryLaneThroughItsTable(int d) {
    Random r = new Random(101 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        int tables = LUT_ROWS / s.tableRows();
        int table = r.nextInt(tables);
        if (r.nextBoolean()) {
          // A table that mostly stays in int8, so not every lane saturates.
          for (int e = 0; e < 256; e++) {
            s.setEntry(table, e, r.nextInt(300) - 150);
          }
        }
        int rows = 1 + r.nextInt(40);
        int a = source(r, rows);
        int dst = destination(r, a, rows);
        State want = s.copy();
        vlut(s, want, a, dst, rows, table);
        check(bench, s, String.format("VLUT a_row=%d dst_row=%d rows=%d table=%d", a, dst, rows,
            table), want, rows);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vscaleUsesTheMultiplierOfTheSideOfTheZeroPoint(int d) {
    Random r = new Random(202 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        int rows = 1 + r.nextInt(40);
        int a = source(r, rows);
        int dst = destination(r, a, rows);
        int prm = r.nextInt(ACC_ROWS - 3);
        for (int j = 0; j < d; j++) {
          int shift = r.nextInt(41);
          double one = Math.pow(2, shift);
          s.acc[prm * d + j] = multiplier(r, one);
          s.acc[(prm + 1) * d + j] = multiplier(r, one / 4);
          s.acc[(prm + 2) * d + j] = multiplier(r, 32 * one);
          s.acc[(prm + 3) * d + j] = shiftWord(r, shift);
        }
        int az = i8(r);
        int oz = i8(r);
        State want = s.copy();
        vscale(s, want, a, dst, rows, prm, az, oz);
        check(bench, s, String.format("VSCALE a_row=%d dst_row=%d rows=%d param_row=%d"
            + " a_zero=%d out_zero=%d", a, dst, rows, prm, az, oz), want,
            Timing.SCALE_SETUP + rows);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vmulMultipliesTwoRunsOrARunAndOneRow(int d) {
    Random r = new Random(303 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        boolean bcast = r.nextBoolean();
        int rows = 1 + r.nextInt(40);
        int a = source(r, rows);
        int dst = destination(r, a, rows);
        int bRows = bcast ? 1 : rows;
        // b anywhere (it may overlap a) but never partly over the destination: the destination
        // rows themselves, or none of them.
        int b;
        do {
          b = r.nextInt(4) == 0 ? dst : source(r, bRows);
        } while (!(b == dst && bRows == rows) && b < dst + rows && dst < b + bRows);
        int shift = r.nextInt(48);
        int mult = multiplier(r, Math.pow(2, shift) / 128);
        int az = i8(r);
        int bz = i8(r);
        int oz = i8(r);
        State want = s.copy();
        vmul(s, want, bcast, a, b, dst, rows, az, bz, oz, shift, mult);
        check(bench, s, String.format("VMUL b_bcast=%d a_row=%d b_row=%d dst_row=%d rows=%d"
            + " a_zero=%d b_zero=%d out_zero=%d shift=%d mult=%d", bcast ? 1 : 0, a, b, dst,
            rows, az, bz, oz, shift, mult), want, rows);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vreduceSumsAndMaximaDownRowsAndAcrossLanes(int d) {
    Random r = new Random(404 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < 2 * CASES; c++) {
        State s = State.random(d, r);
        boolean max = r.nextBoolean();
        boolean lanes = r.nextBoolean();
        boolean accumulate = r.nextBoolean();
        int rows = 1 + r.nextInt(lanes ? 40 : 120);
        int valid = lanes ? 1 + r.nextInt(d) : 0;
        int a = source(r, rows);
        int dst;
        if (!max) {
          dst = r.nextInt(ACC_ROWS - (lanes ? rows : 1) + 1);
        } else if (lanes) {
          dst = destination(r, a, rows);
        } else {
          // One result row: the source row itself when there is one, or a row of the second half.
          dst = rows == 1 && r.nextBoolean() ? a : ABUF_ROWS / 2 + r.nextInt(ABUF_ROWS / 2);
        }
        State want = s.copy();
        vreduce(s, want, max, lanes, accumulate, a, dst, rows, valid);
        check(bench, s, String.format("VREDUCE max=%d lanes=%d accumulate=%d a_row=%d"
            + " dst_row=%d rows=%d valid=%d", max ? 1 : 0, lanes ? 1 : 0, accumulate ? 1 : 0, a,
            dst, rows, valid), want, rows);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vmacMultipliesRowsByOneWeightRowIntoAcc(int d) {
    Random r = new Random(505 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        boolean accumulate = r.nextBoolean();
        int rows = 1 + r.nextInt(60);
        int a = r.nextInt(ABUF_ROWS - rows + 1);
        int accRow = r.nextInt(ACC_ROWS - rows + 1);
        int w = r.nextInt(WBUF_ROWS);
        State want = s.copy();
        vmac(s, want, accumulate, a, accRow, rows, w);
        check(bench, s, String.format("VMAC accumulate=%d a_row=%d acc_row=%d rows=%d w_row=%d",
            accumulate ? 1 : 0, a, accRow, rows, w), want, rows);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vsoftmaxOfGroupsThroughAnExponentialTable(int d) {
    Random r = new Random(606 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        int table = r.nextInt(LUT_ROWS / s.tableRows());
        double scale = 0.01 + r.nextDouble() * 0.3;
        int kind = r.nextInt(6);
        for (int e = 0; e < 256; e++) {
          int v = switch (kind) {
            case 0 -> (short) r.nextInt();
            case 1 -> e < 3 ? 0 : (int) Math.rint(32767 * Math.exp(-e * scale));
            case 2 -> -1 - r.nextInt(100);
            case 3 -> e < 15 ? 16384 >> e : 0;
            default -> (int) Math.rint(32767 * Math.exp(-e * scale));
          };
          s.setEntry(table, e, v);
        }
        int groupRows = 1 + r.nextInt(4);
        int groups = 1 + r.nextInt(6);
        int valid = 1 + r.nextInt(groupRows * d);
        switch (r.nextInt(6)) {
          case 0, 1 -> {
            // Inputs in a narrow range, as a real softmax sees them.
            for (int i = 0; i < s.abuf.length; i++) {
              s.abuf[i] = (byte) (r.nextInt(20) - 10);
            }
          }
          default -> { }
        }
        int a = source(r, groups * groupRows);
        int dst = destination(r, a, groups * groupRows);
        int mult = 1 + r.nextInt(65535);
        int shift = Math.min(63, Math.max(0,
            36 + (31 - Integer.numberOfLeadingZeros(mult)) - r.nextInt(4)));
        if (r.nextInt(5) == 0) {
          // Equal inputs, 2^k of them, and table[0] = 2^14: the sum and 2^44 / sum are exact,
          // e * R = 2^(44 - k), and an odd multiplier over 2^(45 - k) is an exact half.
          Arrays.fill(s.abuf, (byte) i8(r));
          valid = Integer.highestOneBit(valid);
          s.setEntry(table, 0, 1 << 14);
          mult = 1 + 2 * r.nextInt(8);
          shift = 45 - Integer.numberOfTrailingZeros(valid) + r.nextInt(2);
        }
        int oz = i8(r);
        State want = s.copy();
        vsoftmax(s, want, a, dst, groups, groupRows, valid, table, oz, shift, mult);
        check(bench, s, String.format("VSOFTMAX a_row=%d dst_row=%d groups=%d group_rows=%d"
            + " valid=%d table=%d out_zero=%d shift=%d mult=%d", a, dst, groups, groupRows,
            valid, table, oz, shift, mult), want,
            groups * (3L * groupRows + Timing.SOFTMAX_LATENCY));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vnormOfGroupsWithPerLaneScaleBiasAndShift(int d) {
    Random r = new Random(707 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        int groupRows = 1 + r.nextInt(4);
        int groups = 1 + r.nextInt(6);
        int valid = 1 + r.nextInt(groupRows * d);
        int a = source(r, groups * groupRows);
        int dst = destination(r, a, groups * groupRows);
        int prm = r.nextInt(ACC_ROWS - 3 * groupRows + 1);
        for (int row = 0; row < groupRows; row++) {
          for (int j = 0; j < d; j++) {
            int at = (prm + 3 * row) * d + j;
            if (r.nextInt(8) == 0) {
              // A lane that is its bias alone, shifted by 0 to 3: exact halves, ties to even.
              s.acc[at] = 0;
              s.acc[at + d] = r.nextInt(601) - 300;
              s.acc[at + 2 * d] = shiftWord(r, r.nextInt(4));
              continue;
            }
            int shift = 12 + r.nextInt(19);
            s.acc[at] = multiplier(r, 40 * Math.pow(2, shift - 12));
            s.acc[at + d] = multiplier(r, 20 * Math.pow(2, shift));
            s.acc[at + 2 * d] = shiftWord(r, shift);
          }
        }
        switch (r.nextInt(5)) {
          case 0 -> {
            // Constant groups: the variance is 0 and only eps decides.
            byte v = (byte) i8(r);
            Arrays.fill(s.abuf, v);
          }
          case 1 -> {
            for (int i = 0; i < s.abuf.length; i++) {
              s.abuf[i] = (byte) (r.nextInt(7) - 3);
            }
          }
          default -> { }
        }
        long eps = switch (r.nextInt(4)) {
          case 0 -> 0;
          case 1 -> r.nextInt(1 << 20);
          case 2 -> (r.nextInt() & 0xFFFF_FFFFL);
          default -> r.nextInt(100);
        };
        int oz = i8(r);
        State want = s.copy();
        vnorm(s, want, a, dst, groups, groupRows, valid, prm, oz, eps);
        check(bench, s, String.format("VNORM a_row=%d dst_row=%d groups=%d group_rows=%d"
            + " valid=%d param_row=%d out_zero=%d eps=%d", a, dst, groups, groupRows, valid, prm,
            oz, eps), want, groups * (4L * groupRows + Timing.NORM_LATENCY));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 12, 4})
  void vtransTransposesBlocksIntoAbufOrWbuf(int d) {
    Random r = new Random(808 + d);
    try (Bench bench = new Bench(d)) {
      for (int c = 0; c < CASES; c++) {
        State s = State.random(d, r);
        boolean toWbuf = r.nextBoolean();
        int blocks = 1 + r.nextInt(Math.min(4, WBUF_ROWS / d));
        int rows = blocks * d;
        int a = source(r, rows);
        int dst = toWbuf ? r.nextInt(WBUF_ROWS - rows + 1) : destination(r, a, rows);
        State want = s.copy();
        vtrans(s, want, toWbuf, a, dst, blocks);
        check(bench, s, String.format("VTRANS buf=%s a_row=%d dst_row=%d blocks=%d",
            toWbuf ? "WBUF" : "ABUF", a, dst, blocks), want, (blocks + 1L) * d);
      }
    }
  }

  // ---- worked examples (D = 16), computed by hand ----

  /** Runs {@code op} on a device whose buffers hold {@code s} and returns them after it. */
  private static State example(State s, String op) {
    try (Bench bench = new Bench(16)) {
      return bench.run(s, op);
    }
  }

  private static void abufRow(State s, int row, int... lanes) {
    for (int j = 0; j < lanes.length; j++) {
      s.abuf[row * s.d + j] = (byte) lanes[j];
    }
  }

  private static void accRow(State s, int row, int... lanes) {
    System.arraycopy(lanes, 0, s.acc, row * s.d, lanes.length);
  }

  private static int[] abufLanes(State s, int row, int n) {
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = s.abuf[row * s.d + j];
    }
    return out;
  }

  private static int[] accLanes(State s, int row, int n) {
    return Arrays.copyOfRange(s.acc, row * s.d, row * s.d + n);
  }

  @Test
  void vlutWorkedExample() {
    State s = new State(16);
    for (int e = 0; e < 256; e++) {
      s.setEntry(1, e, 2 * (e - 128)); // table 1 doubles: f(x) = 2x
    }
    abufRow(s, 0, 50, 100, -128, -1);
    State o = example(s, "VLUT a_row=0 dst_row=8 rows=1 table=1");
    // x=50: entry 50+128=178 holds 100. x=100: entry 228 holds 200, saturates to 127.
    // x=-128: entry 0 holds -256, saturates to -128. x=-1: entry 127 holds -2.
    assertArrayEquals(new int[] {100, 127, -128, -2}, abufLanes(o, 8, 4));
    // The other lanes hold 0: entry 128 holds 0.
    assertEquals(0, o.abuf[8 * 16 + 15]);
  }

  @Test
  void vscaleWorkedExample() {
    State s = new State(16);
    abufRow(s, 0, 30, 4, -128, 127, 11, 4);
    int[] pos = new int[16];
    int[] neg = new int[16];
    int[] shift = new int[16];
    Arrays.fill(pos, 1 << 14); // 1.0 at shift 14 for x >= a_zero
    Arrays.fill(neg, 1 << 12); // 0.25 for x < a_zero (a leaky ReLU)
    Arrays.fill(shift, 14);
    shift[5] = 78; // 78 & 63 = 14
    accRow(s, 20, pos);
    accRow(s, 21, neg);
    accRow(s, 22, 0, 0, 0, 0, 8192); // bias 0.5 in lane 4
    accRow(s, 23, shift);
    State o = example(s, "VSCALE a_row=0 dst_row=1 rows=1 param_row=20 a_zero=10 out_zero=-5");
    // x=30: (30-10)*16384 / 2^14 = 20, -5 -> 15.
    // x=4: (4-10)*4096 / 2^14 = -1.5, tie to even -2, -5 -> -7.
    // x=-128: -138*4096 / 2^14 = -34.5, tie to even -34, -5 -> -39.
    // x=127: 117, -5 -> 112.
    // x=11, bias 8192: (16384 + 8192) / 2^14 = 1.5, tie to even 2, -5 -> -3.
    // x=4, shift word 78: 78 & 63 = 14, as lane 1 -> -7.
    assertArrayEquals(new int[] {15, -7, -39, 112, -3, -7}, abufLanes(o, 1, 6));
  }

  @Test
  void vmulWorkedExample() {
    State s = new State(16);
    abufRow(s, 0, 10, 4, 6, -128);
    abufRow(s, 1, -6, 2, 2, 2);
    abufRow(s, 2, 5, -1, -1, 127); // the b row, broadcast
    State o = example(s, "VMUL b_bcast=1 a_row=0 b_row=2 dst_row=4 rows=2 a_zero=2 b_zero=-3"
        + " out_zero=1 shift=4 mult=3");
    // Row 0: (10-2)(5+3)*3 = 192, /16 = 12, +1 -> 13. (4-2)(-1+3)*3 = 12, /16 = 0.75 -> 1, +1
    // -> 2. (6-2)(2)*3 = 24, /16 = 1.5, tie to even 2, +1 -> 3. (-130)(130)*3 = -50700, /16 =
    // -3168.75 -> -3169, +1 -> -3168, saturates to -128.
    assertArrayEquals(new int[] {13, 2, 3, -128}, abufLanes(o, 4, 4));
    // Row 1 against the same b row: (-6-2)(8)*3 = -192, /16 = -12, +1 -> -11; a lane equal to
    // a_zero gives 0, +1 -> 1.
    assertArrayEquals(new int[] {-11, 1, 1, 1}, abufLanes(o, 5, 4));
  }

  @Test
  void vreduceWorkedExamples() {
    State s = new State(16);
    abufRow(s, 0, 5, -7, 100, 9);
    abufRow(s, 1, 100, -5);
    abufRow(s, 2, 100, 3);
    abufRow(s, 3, 100, -100);
    int[] two = new int[16];
    Arrays.fill(two, 2);
    accRow(s, 10, two);
    // Across the first 3 lanes of row 0: 5 - 7 + 100 = 98 (lane 3's 9 is not valid), into
    // every lane of ACC row 9; accumulated onto 2 in ACC row 10: 100.
    State o = example(s, "VREDUCE lanes=1 a_row=0 dst_row=9 rows=1 valid=3");
    assertEquals(98, o.acc[9 * 16]);
    assertEquals(98, o.acc[9 * 16 + 15]);
    o = example(s, "VREDUCE lanes=1 accumulate=1 a_row=0 dst_row=10 rows=1 valid=3");
    assertEquals(100, o.acc[10 * 16 + 7]);
    // Down rows 1..3, lane 0: 100 + 100 + 100 = 300, in int32 (no saturation).
    o = example(s, "VREDUCE a_row=1 dst_row=11 rows=3");
    assertEquals(300, o.acc[11 * 16]);
    // Maximum down rows 1..3, lane 1: max(-5, 3, -100) = 3.
    o = example(s, "VREDUCE max=1 a_row=1 dst_row=20 rows=3");
    assertEquals(3, o.abuf[20 * 16 + 1]);
    // Maximum across the first 2 lanes of row 4 = (-9, -4, 50): -4 (50 is not valid), in every
    // lane of ABUF row 22.
    abufRow(s, 4, -9, -4, 50);
    abufRow(s, 21, 7);
    o = example(s, "VREDUCE max=1 lanes=1 a_row=4 dst_row=22 rows=1 valid=2");
    assertEquals(-4, o.abuf[22 * 16]);
    assertEquals(-4, o.abuf[22 * 16 + 15]);
    // Accumulated onto row 21, lane 0 holding 7: max(7, -4) = 7; lane 1 holding 0: 0.
    o = example(s, "VREDUCE max=1 lanes=1 accumulate=1 a_row=4 dst_row=21 rows=1 valid=2");
    assertArrayEquals(new int[] {7, 0}, abufLanes(o, 21, 2));
  }

  @Test
  void vmacWorkedExample() {
    State s = new State(16);
    abufRow(s, 0, 3, -128, 127, 5);
    s.wbuf[0] = -2;
    s.wbuf[1] = -128;
    s.wbuf[2] = 127;
    accRow(s, 4, 10, 2147483547, 0, -1);
    // 3 * -2 = -6; -128 * -128 = 16384; 127 * 127 = 16129; 5 * 0 = 0.
    State o = example(s, "VMAC a_row=0 acc_row=4 rows=1 w_row=0");
    assertArrayEquals(new int[] {-6, 16384, 16129, 0}, accLanes(o, 4, 4));
    // Accumulating: 10 - 6 = 4; 2147483547 + 16384 = 2147499931 wraps modulo 2^32 to
    // -2147467365; 0 + 16129; -1 + 0.
    o = example(s, "VMAC accumulate=1 a_row=0 acc_row=4 rows=1 w_row=0");
    assertArrayEquals(new int[] {4, -2147467365, 16129, -1}, accLanes(o, 4, 4));
  }

  @Test
  void vsoftmaxWorkedExamples() {
    State s = new State(16);
    for (int e = 0; e < 15; e++) {
      s.setEntry(2, e, 16384 >> e); // exp(-d ln 2) = 2^-d in units of 2^-14
    }
    abufRow(s, 0, 10, 9, 8, 10);
    // m = 10; d = 0, 1, 2, 0; e = 16384, 8192, 4096, 16384; S = 45056 = 11 * 2^12;
    // R = floor(2^44 / S) = floor(2^32 / 11) = 390451572. y = -128 + rne(e * R * 256 / 2^44):
    // 93.09 -> 93 -> -35; 46.55 -> 47 -> -81; 23.27 -> 23 -> -105; 93 -> -35. The 12 lanes
    // past valid = 4 hold out_zero, -128.
    State o = example(s, "VSOFTMAX a_row=0 dst_row=1 groups=1 group_rows=1 valid=4 table=2"
        + " out_zero=-128 shift=44 mult=256");
    assertArrayEquals(new int[] {-35, -81, -105, -35, -128, -128}, abufLanes(o, 1, 6));
    assertEquals(-128, o.abuf[16 + 15]);
    // Two equal inputs: e = 16384 each, S = 2^15, R = 2^29, e * R = 2^43; * 5 / 2^44 = 2.5,
    // tie to even 2.
    abufRow(s, 2, 7, 7);
    o = example(s, "VSOFTMAX a_row=2 dst_row=3 groups=1 group_rows=1 valid=2 table=2"
        + " out_zero=0 shift=44 mult=5");
    assertArrayEquals(new int[] {2, 2, 0}, abufLanes(o, 3, 3));
  }

  @Test
  void vnormWorkedExamples() {
    State s = new State(16);
    abufRow(s, 0, 1, 2, 3, 4);
    int[] ones = new int[16];
    Arrays.fill(ones, 1);
    int[] sevens = new int[16];
    Arrays.fill(sevens, 7);
    accRow(s, 30, ones); // scale 1
    accRow(s, 31, new int[16]); // bias 0
    accRow(s, 32, sevens); // shift 7: the output scale is 2^-5, 32 steps per unit
    // S1 = 10, S2 = 30, V = 4 * 30 - 10^2 = 20, T = 20 + eps 0; floor(2^62 / 20) =
    // 230584300921369395, isqrt = 480191941. c = 4x - S1 = -6, -2, 2, 6; t = rne(c * inv, 19)
    // = rne(-2881151646 / 2^19 = -5495.35) = -5495, rne(-960383882 / 2^19 = -1831.76) = -1832,
    // 1832, 5495 (the normalized value times 2^12: -1.342, -0.447, ...).
    // y = rne(t / 2^7): -42.93 -> -43, -14.31 -> -14, 14, 43.
    State o = example(s, "VNORM a_row=0 dst_row=1 groups=1 group_rows=1 valid=4 param_row=30"
        + " out_zero=0 eps=0");
    assertArrayEquals(new int[] {-43, -14, 14, 43, 0}, abufLanes(o, 1, 5));
    // A constant vector 5, 5, 5: V = 3 * 75 - 15^2 = 0, T = 0, so inv = 0 and t = 0; bias 320
    // at shift 7 is 2.5, tie to even 2, + out_zero 3 -> 5.
    abufRow(s, 2, 5, 5, 5);
    int[] bias = new int[16];
    Arrays.fill(bias, 320);
    accRow(s, 31, bias);
    o = example(s, "VNORM a_row=2 dst_row=3 groups=1 group_rows=1 valid=3 param_row=30"
        + " out_zero=3 eps=0");
    assertArrayEquals(new int[] {5, 5, 5, 3}, abufLanes(o, 3, 4));
  }

  @Test
  void vtransWorkedExample() {
    State s = new State(16);
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 16; j++) {
        s.abuf[i * 16 + j] = (byte) (16 * i + j);
      }
    }
    State o = example(s, "VTRANS buf=WBUF a_row=0 dst_row=32 blocks=1");
    // Row j lane i of the result is row i lane j of the source: 16 * i + j as int8.
    assertEquals(18, o.wbuf[(32 + 2) * 16 + 1]); // source row 1 lane 2
    assertEquals(-16, o.wbuf[32 * 16 + 15]); // source row 15 lane 0: 240 - 256
    assertEquals(15, o.wbuf[(32 + 15) * 16]); // source row 0 lane 15
  }

  // ---- the LUT buffer through LOAD and STORE ----

  @Test
  void lutRowsAreLittleEndianInt16WithSignExtendedPadding() {
    try (Bench bench = new Bench(16)) {
      // Two HBM rows of two elements of 3 int16 lanes (6 bytes), elements 8 bytes apart and
      // rows 64 apart.
      byte[] src = new byte[128];
      byte[][] lanes = {{0x34, 0x12}, {(byte) 0x80, (byte) 0xFF}, {(byte) 0xFF, 0x7F},
          {0x00, (byte) 0x80}, {0x01, 0x00}, {(byte) 0xFE, (byte) 0xFF}};
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 2; x++) {
          for (int l = 0; l < 3; l++) {
            byte[] v = lanes[(y * 2 + x + l) % lanes.length];
            src[y * 64 + x * 8 + 2 * l] = v[0];
            src[y * 64 + x * 8 + 2 * l + 1] = v[1];
          }
        }
      }
      bench.put(AT_LUT, src);
      bench.put(OUT, new byte[9 * 32 + 9 * 4]);
      // One pad element before each row and one pad row after: 3 x 3 = 9 LUT rows from row 10;
      // pad_value -3 is the int16 0xFFFD in every padded lane.
      RunResult r = bench.run(String.format("LOAD buf=LUT dst_row=10 elem_bytes=6 pad_value=-3"
          + " hbm_addr=0x%x x_size=2 y_size=2 x_stride=8 y_stride=64 x_pad0=1 y_pad1=1%n"
          + "STORE buf=LUT src_row=10 elem_bytes=32 hbm_addr=0x%x x_size=9 y_size=1"
          + " x_stride=32 wait=LOAD%n"
          + "STORE buf=LUT src_row=10 elem_bytes=4 hbm_addr=0x%x x_size=9 y_size=1 x_stride=4"
          + " wait=LOAD%nHALT", AT_LUT, OUT, OUT + 9 * 32));
      assertTrue(r.ok(), r.describe());
      byte[] want = new byte[9 * 32];
      for (int row = 0; row < 9; row++) {
        for (int lane = 0; lane < 16; lane++) {
          want[row * 32 + 2 * lane] = (byte) 0xFD;
          want[row * 32 + 2 * lane + 1] = (byte) 0xFF;
        }
        int y = row / 3;
        int x = row % 3 - 1;
        if (y < 2 && x >= 0) {
          System.arraycopy(src, y * 64 + x * 8, want, row * 32, 6);
        }
      }
      assertArrayEquals(want, bench.get(OUT, want.length));
      byte[] masked = new byte[9 * 4];
      for (int row = 0; row < 9; row++) {
        System.arraycopy(want, row * 32, masked, row * 4, 4);
      }
      assertArrayEquals(masked, bench.get(OUT + 9 * 32, masked.length),
          "elem_bytes 4: lanes 0 and 1 of each row");
    }
  }

  @Test
  void vlutReadsTheLoadedBytesAsSignedInt16() {
    try (Bench bench = new Bench(16)) {
      bench.put(AT_LUT, new byte[] {0x34, 0x12, (byte) 0x80, (byte) 0xFF, (byte) 0xFF, 0x7F});
      bench.put(AT_ABUF, new byte[] {-128, -127, -126, -125});
      RunResult r = bench.run(String.format("LOAD buf=LUT elem_bytes=6 pad_value=-3"
          + " hbm_addr=0x%x x_size=1 y_size=1%n"
          + "LOAD buf=ABUF elem_bytes=4 hbm_addr=0x%x x_size=1 y_size=1%n"
          + "VLUT a_row=0 dst_row=1 rows=1 table=0 wait=LOAD%n"
          + "STORE buf=ABUF src_row=1 elem_bytes=4 hbm_addr=0x%x x_size=1 y_size=1 wait=EXEC%n"
          + "HALT", AT_LUT, AT_ABUF, OUT));
      assertTrue(r.ok(), r.describe());
      // Entries 0..3: 0x1234 = 4660 saturates to 127; 0xFF80 = -128; 0x7FFF = 32767 -> 127;
      // entry 3 is padding, -3.
      assertArrayEquals(new byte[] {127, -128, 127, -3}, bench.get(OUT, 4));
    }
  }

  // ---- timing ----

  @Test
  void vectorCyclesAndCyclesFollowTheTimingFormulas() {
    try (Bench bench = new Bench(16)) {
      // VLUT issues at FETCH_LATENCY = 35 and holds VECTOR 5 + 7 cycles, to 47. VSCALE issues at
      // 47 for 4 + 3 + 7 = 14, to 61. VSOFTMAX at 61 for 2 * (3 * 3 + 48) + 7 = 121, to 182.
      // HALT issues when VECTOR is done, at 182: CYCLES = 183, VECTOR_CYCLES = 12 + 14 + 121.
      assertTrue(bench.run("VLUT rows=5\nVSCALE rows=3\nVSOFTMAX groups=2 group_rows=3 valid=40"
          + "\nHALT").ok());
      assertEquals(183, bench.cycles);
      assertEquals(147, bench.vectorCycles);

      // VNORM 35 + 3 * (4 * 2 + 96) + 7 = 354; VMAC + 10 + 7 = 371; VTRANS + (2 + 1) * 16 + 7
      // = 426; VMAX + 4 + 7 = 437 (not a vector unit instruction: not in VECTOR_CYCLES);
      // VREDUCE + 7 + 7 = 451; VMUL + 9 + 7 = 467; HALT at 467.
      assertTrue(bench.run("VNORM groups=3 group_rows=2 valid=20\nVMAC rows=10\n"
          + "VTRANS buf=WBUF blocks=2\nVMAX dst_row=100 rows=4\nVREDUCE rows=7\nVMUL rows=9\n"
          + "HALT").ok());
      assertEquals(468, bench.cycles);
      assertEquals(319 + 17 + 55 + 14 + 16, bench.vectorCycles);

      // A MATMUL with w_load at 35 is done at 35 + 16 + 20 + 2 * 16 + 3 = 106. The VLUT runs
      // on the VECTOR unit beside it, from 36 for 4 + 7 cycles; HALT waits for both, at 106.
      assertTrue(bench.run("MATMUL w_load=1 rows=20\nVLUT rows=4\nHALT").ok());
      assertEquals(107, bench.cycles);
      assertEquals(11, bench.vectorCycles);
      // With wait=EXEC the VLUT waits for the MATMUL and then holds VECTOR 4 + 7 cycles: only
      // those count.
      assertTrue(bench.run("MATMUL w_load=1 rows=20\nVLUT wait=EXEC rows=4\nHALT").ok());
      assertEquals(118, bench.cycles);
      assertEquals(11, bench.vectorCycles);

      // A program that fails at its second instruction: the first VLUT counts, the faulting
      // one does not; CYCLES is one past the cycle the units drain, 35 + 5 + 7 + 1.
      RunResult r = bench.run("VLUT rows=5\nVLUT rows=0\nHALT");
      assertEquals(ErrorCode.ZERO_LENGTH, r.error());
      assertEquals(1, r.errorPc());
      assertEquals(48, bench.cycles);
      assertEquals(12, bench.vectorCycles);

      assertTrue(bench.run("VMAX rows=8 dst_row=8\nVADD rows=8 dst_row=8\nHALT").ok());
      assertEquals(0, bench.vectorCycles, "VMAX and VADD are not the vector unit's");
    }
  }

  // ---- a device without the vector unit ----

  @Test
  void withoutTheVectorUnitItsOpcodesAreBadAndTheLutIsNoBuffer() {
    try (Bench bench = new Bench(16, "VECTOR_UNIT=0")) {
      DeviceParams p = bench.device.info().params();
      assertEquals(0, p.vectorUnit());
      assertEquals(0, p.lutRows());
      for (int opcode = 0x09; opcode <= 0x10; opcode++) {
        RunResult r = bench.run("FENCE\n.word 0x" + Integer.toHexString(opcode)
            + " 0 0 0\nHALT");
        assertEquals(ErrorCode.BAD_OPCODE, r.error(), "opcode " + opcode);
        assertEquals(1, r.errorPc());
        assertEquals(0, bench.vectorCycles);
      }
      assertEquals(ErrorCode.BAD_FIELD, bench.run("LOAD buf=LUT elem_bytes=32 x_size=1"
          + " y_size=1\nHALT").error());
      assertEquals(ErrorCode.BAD_FIELD, bench.run("STORE buf=LUT elem_bytes=0 x_size=0"
          + " y_size=0\nHALT").error());
    }
  }
}
