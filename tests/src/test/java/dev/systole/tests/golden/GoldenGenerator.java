package dev.systole.tests.golden;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Arithmetic;
import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Param;
import dev.systole.driver.timing.OrderingCheck;
import dev.systole.host.golden.GoldenFormat;
import dev.systole.host.golden.GoldenManifest;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.tests.GemmPrograms;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Makes the golden programs in {@code tests/golden}: every instruction and every error status of
 * the contract, with inputs and expected results. Expected bytes come from plain computations of
 * what each program means (a matrix product, a convolution written from its definition, a padded
 * copy), never from running an implementation; the counters that follow from the program text
 * (instructions, MACs, bytes, the vector unit's cycles) are counted here from the text. Only the
 * timing counters come from the emulator's timing model, and a program is written only if the
 * emulator agrees with every expectation, so a generator bug and an emulator bug have to agree to
 * slip through.
 *
 * <p>A program for the vector unit of contract 1.1 requires VECTOR_UNIT=1, so a build without
 * it (a 1.0 bitstream, the RTL today) skips it; the programs for what such a build does with a
 * vector opcode or the LUT's buffer id require VECTOR_UNIT=0. Each is checked on an emulator of
 * the build it is written for; the rest run on both kinds.
 *
 * <p>Run {@code main} with the repository root to rewrite the files; {@code GoldenFilesTest}
 * fails if the committed files differ from what this produces.
 */
public final class GoldenGenerator {
  static final int D = 16;
  static final long IN = 0x10_0000;
  static final long IN2 = 0x20_0000;
  static final long OUT = 0x80_0000;
  static final long OUT2 = 0x90_0000;
  static final Map<Param, Long> ARRAY16 = Map.of(Param.ARRAY_ROWS, 16L, Param.ARRAY_COLS, 16L,
      Param.ABUF_ROWS, 4096L, Param.WBUF_ROWS, 4096L, Param.ACC_ROWS, 4096L);
  static final int LUT_ROWS = 256;
  /** LUT rows of one 256-entry table: ceil(256 / D). */
  static final int TABLE_ROWS = (256 + D - 1) / D;

  private GoldenGenerator() {}

  /** A golden program under construction. */
  static final class G {
    final String name;
    final String description;
    final Map<Param, Long> requires = new EnumMap<>(Param.class);
    long programAddress;
    List<Instruction> program = new ArrayList<>();
    final List<GoldenProgram.Region> inputs = new ArrayList<>();
    final List<GoldenProgram.Region> expected = new ArrayList<>();
    ErrorCode error = ErrorCode.NONE;
    long errorPc;

    G(String name, String description) {
      this.name = name;
      this.description = description;
      requires.putAll(ARRAY16);
    }

    G asm(String text) {
      program.addAll(Assembler.parseProgram(text));
      return this;
    }

    G input(long address, byte[] bytes) {
      inputs.add(new GoldenProgram.Region(address, bytes));
      return this;
    }

    G expect(long address, byte[] bytes) {
      expected.add(new GoldenProgram.Region(address, bytes));
      return this;
    }

    G error(ErrorCode code, long pc) {
      error = code;
      errorPc = pc;
      return this;
    }

    /** For builds with the vector unit of contract 1.1; others skip the program. */
    G vector() {
      requires.put(Param.VECTOR_UNIT, 1L);
      return this;
    }

    /** For builds with the vector unit and its default LUT of 256 rows (16 tables). */
    G lut() {
      requires.put(Param.LUT_ROWS, (long) LUT_ROWS);
      return vector();
    }

    /** For builds without the vector unit (contract 1.0 builds, and VECTOR_UNIT=0 builds). */
    G noVector() {
      requires.put(Param.VECTOR_UNIT, 0L);
      return this;
    }
  }

  static byte[] random(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  static byte[] ints(int[] v) {
    byte[] b = new byte[v.length * 4];
    for (int i = 0; i < v.length; i++) {
      b[4 * i] = (byte) v[i];
      b[4 * i + 1] = (byte) (v[i] >>> 8);
      b[4 * i + 2] = (byte) (v[i] >>> 16);
      b[4 * i + 3] = (byte) (v[i] >>> 24);
    }
    return b;
  }

  static byte[][] matrix(Random r, int rows, int cols) {
    byte[][] m = new byte[rows][cols];
    for (byte[] row : m) {
      r.nextBytes(row);
    }
    return m;
  }

  static int[] flatten(int[][] c) {
    int n = c[0].length;
    int[] out = new int[c.length * n];
    for (int i = 0; i < c.length; i++) {
      System.arraycopy(c[i], 0, out, i * n, n);
    }
    return out;
  }

  /** Every golden program, in the order of the index. */
  public static List<G> all() {
    Random r = new Random(20261122);
    List<G> out = new ArrayList<>();
    out.add(new G("halt", "The smallest program: HALT alone.").asm("HALT"));
    out.add(loadStoreAbuf(r));
    out.add(loadStridedPadded(r));
    out.add(loadStoreAcc(r));
    out.add(storeMasked(r));
    out.add(wbufRoundTrip(r));
    out.add(matmulTile(r));
    out.add(matmulAccumulate(r));
    out.add(matmulPreloadSwap(r));
    out.add(requantRelu(r));
    out.add(vmax(r));
    out.add(vadd(r));
    out.add(fenceThroughMemory(r));
    out.add(gemmTiled(r));
    out.add(conv3x3(r));
    // The vector unit's programs draw from a generator of their own, so adding them changed
    // the data of no program of contract 1.0.
    Random v = new Random(20261206);
    out.add(lutLoadStore(v));
    out.add(vlut(v));
    out.add(vscale(v));
    out.add(vmul(v));
    out.add(vreduceSumRows(v));
    out.add(vreduceSumLanes(v));
    out.add(vreduceMaxRows(v));
    out.add(vreduceMaxLanes(v));
    out.add(vmac(v));
    out.add(vsoftmax(v));
    out.add(vnorm(v));
    out.add(vtransAbuf(v));
    out.add(vtransWbuf(v));
    out.addAll(errors(r));
    out.addAll(vectorErrors(v));
    // Contract 1.2's VECTOR unit beside the array: one program and its data (a generator of
    // their own, seeded alike) on each kind of build.
    out.add(residualEpilogue(new Random(20261207), "residual_epilogue", "on its VECTOR unit,"
        + " beside the array: each tile's REQUANT and VADD run while the array computes the next")
        .vector());
    out.add(residualEpilogue(new Random(20261207), "residual_epilogue_on_exec", "on a build"
        + " without the VECTOR unit, where they hold EXEC and wait bit 3 names EXEC")
        .noVector());
    return out;
  }

  private static G loadStoreAbuf(Random r) {
    byte[] data = random(r, 64 * D);
    return new G("load_store_abuf", "LOAD 64 contiguous ABUF rows and STORE them elsewhere.")
        .input(IN, data)
        .asm(String.format("LOAD buf=ABUF dst_row=100 elem_bytes=16 hbm_addr=0x%x x_size=64"
            + " y_size=1 x_stride=16%n"
            + "STORE buf=ABUF src_row=100 elem_bytes=16 hbm_addr=0x%x x_size=64 y_size=1"
            + " x_stride=16 wait=LOAD%nHALT", IN, OUT))
        .expect(OUT, data);
  }

  private static G loadStridedPadded(Random r) {
    // HBM: 10 rows of 8 elements of 16 bytes. Load elements 0,2,4 of rows 0,2,4,6, 12 bytes
    // each, with one pad element before and two after each row, one pad row above and below.
    byte[] src = random(r, 10 * 8 * D);
    int width = 1 + 3 + 2;
    int height = 1 + 4 + 1;
    byte[] want = new byte[width * height * D];
    java.util.Arrays.fill(want, (byte) -7);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 3; x++) {
        int row = (1 + y) * width + 1 + x;
        System.arraycopy(src, (2 * y * 8 + 2 * x) * D, want, row * D, 12);
      }
    }
    return new G("load_strided_padded", "A strided 2-D LOAD with partial elements and padding"
        + " on all four sides (pad_value -7), stored back contiguously.")
        .input(IN, src)
        .asm(String.format("LOAD buf=ABUF dst_row=7 elem_bytes=12 pad_value=-7 hbm_addr=0x%x"
            + " x_size=3 y_size=4 x_stride=32 y_stride=256 x_pad0=1 x_pad1=2 y_pad0=1 y_pad1=1%n"
            + "STORE buf=ABUF src_row=7 elem_bytes=16 hbm_addr=0x%x x_size=36 y_size=1"
            + " x_stride=16 wait=LOAD%nHALT", IN, OUT))
        .expect(OUT, want);
  }

  private static G loadStoreAcc(Random r) {
    // Two HBM rows of 4 int32 elements of 10 lanes (40 bytes), elements 64 bytes apart and rows
    // 512 apart; one pad element after each row; pad -3 sign-extended to every missing lane.
    int[] src = new int[2 * 128];
    for (int i = 0; i < src.length; i++) {
      src[i] = r.nextInt();
    }
    int[] want = new int[10 * D];
    java.util.Arrays.fill(want, -3);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 4; x++) {
        System.arraycopy(src, y * 128 + x * 16, want, (y * 5 + x) * D, 10);
      }
    }
    return new G("load_store_acc", "LOAD int32 rows into ACC with partial elements and a"
        + " sign-extended pad, STORE them back as little-endian int32.")
        .input(IN, ints(src))
        .asm(String.format("LOAD buf=ACC dst_row=20 elem_bytes=40 pad_value=-3 hbm_addr=0x%x"
            + " x_size=4 y_size=2 x_stride=64 y_stride=512 x_pad1=1%n"
            + "STORE buf=ACC src_row=20 elem_bytes=64 hbm_addr=0x%x x_size=10 y_size=1"
            + " x_stride=64 wait=LOAD%nHALT", IN, OUT))
        .expect(OUT, ints(want));
  }

  private static G storeMasked(Random r) {
    byte[] data = random(r, 8 * D);
    byte[] guard = random(r, 8 * D);
    byte[] want = guard.clone();
    for (int i = 0; i < 8; i++) {
      System.arraycopy(data, i * D, want, i * D, 5);
    }
    return new G("store_masked", "A STORE with elem_bytes 5 writes 5 bytes of each row and leaves"
        + " the other 11 bytes of each 16-byte slot as they were.")
        .input(IN, data).input(OUT, guard)
        .asm(String.format("LOAD buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=8 y_size=1"
            + " x_stride=16%n"
            + "STORE buf=ABUF elem_bytes=5 hbm_addr=0x%x x_size=8 y_size=1 x_stride=16"
            + " wait=LOAD%nHALT", IN, OUT))
        .expect(OUT, want);
  }

  private static G wbufRoundTrip(Random r) {
    byte[] data = random(r, 32 * D);
    // Stored as two HBM rows of 16 elements, 1024 bytes apart.
    byte[] region = new byte[1024 + 16 * D];
    java.util.Arrays.fill(region, (byte) 0x5A);
    System.arraycopy(data, 0, region, 0, 16 * D);
    System.arraycopy(data, 16 * D, region, 1024, 16 * D);
    return new G("wbuf_roundtrip", "LOAD 32 rows into WBUF and STORE them as two strided rows.")
        .input(IN, data).input(OUT, filled(1024 + 16 * D, 0x5A))
        .asm(String.format("LOAD buf=WBUF dst_row=4000 elem_bytes=16 hbm_addr=0x%x x_size=32"
            + " y_size=1 x_stride=16%n"
            + "STORE buf=WBUF src_row=4000 elem_bytes=16 hbm_addr=0x%x x_size=16 y_size=2"
            + " x_stride=16 y_stride=1024 wait=LOAD%nHALT", IN, OUT))
        .expect(OUT, region);
  }

  static byte[] filled(int n, int value) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) value);
    return b;
  }

  /** A GEMM golden through the shared GEMM program shape, checked against the plain product. */
  private static G gemm(Random r, String name, String description, int m, int n, int k,
      GemmPrograms.Requant q) {
    byte[][] a = matrix(r, m, k);
    byte[][] w = matrix(r, k, n);
    GemmPrograms.Layout at = new GemmPrograms.Layout(IN, IN2, OUT2 - 0x1000, OUT);
    G g = new G(name, description)
        .input(at.a(), GemmPrograms.layoutA(a, k, D))
        .input(at.w(), GemmPrograms.layoutW(w, n, D));
    g.program = GemmPrograms.build(m, n, k, DeviceParams.defaults(), at, q);
    int[][] c = GemmPrograms.reference(a, w, n);
    if (q == null) {
      return g.expect(at.c(), ints(flatten(c)));
    }
    g.input(at.params(), GemmPrograms.layoutParams(q, n, D));
    byte[] want = new byte[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        want[i * n + j] = (byte) Arithmetic.requantize(c[i][j], q.bias()[j], q.mult()[j],
            q.shift()[j], q.zeroPoint(), q.relu());
      }
    }
    return g.expect(at.c(), want);
  }

  private static G matmulTile(Random r) {
    return gemm(r, "matmul_tile", "One 16x16x16 MATMUL with w_load; int32 results.", 16, 16, 16,
        null);
  }

  private static G matmulAccumulate(Random r) {
    return gemm(r, "matmul_accumulate", "M=20, K=48: three MATMULs accumulate over K chunks.",
        20, 16, 48, null);
  }

  private static G matmulPreloadSwap(Random r) {
    byte[][] a = matrix(r, 8, 16);
    byte[][] w = matrix(r, 16, 48);
    int[][] c = GemmPrograms.reference(a, w, 48);
    int[] want = new int[3 * 8 * D];
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 8; i++) {
        System.arraycopy(c[i], t * D, want, (t * 8 + i) * D, D);
      }
    }
    return new G("matmul_preload_swap", "Three weight tiles: the first by w_load, the next two"
        + " preloaded while the previous MATMUL streams and made active by w_swap.")
        .input(IN, GemmPrograms.layoutA(a, 16, D)).input(IN2, GemmPrograms.layoutW(w, 48, D))
        .asm(String.format("LOAD buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=8 y_size=1"
            + " x_stride=16%n"
            + "LOAD buf=WBUF elem_bytes=16 hbm_addr=0x%x x_size=48 y_size=1 x_stride=16%n"
            + "MATMUL w_load=1 w_row=0 w_preload=1 pre_row=16 acc_row=0 rows=8 wait=LOAD%n"
            + "MATMUL w_swap=1 w_preload=1 pre_row=32 acc_row=8 rows=8%n"
            + "MATMUL w_swap=1 acc_row=16 rows=8%n"
            + "STORE buf=ACC elem_bytes=64 hbm_addr=0x%x x_size=24 y_size=1 x_stride=64"
            + " wait=EXEC%nHALT", IN, IN2, OUT))
        .expect(OUT, ints(want));
  }

  static GemmPrograms.Requant requantParams(Random r, int n, int zeroPoint, boolean relu) {
    int[] bias = new int[n];
    int[] mult = new int[n];
    int[] shift = new int[n];
    for (int j = 0; j < n; j++) {
      bias[j] = r.nextInt(20001) - 10000;
      mult[j] = (1 << 30) + r.nextInt(1 << 30);
      shift[j] = 38 + r.nextInt(3);
    }
    return new GemmPrograms.Requant(bias, mult, shift, zeroPoint, relu);
  }

  private static G requantRelu(Random r) {
    return gemm(r, "requant_relu", "M=16, K=32, N=16 with per-column bias, multiplier and shift,"
        + " zero point -5 and ReLU: int8 results.", 16, 16, 32,
        requantParams(r, 16, -5, true));
  }

  /**
   * A GEMM (M=20, K=32, N=32) whose two output tiles are requantized and added to a residual in
   * the epilogue, as CONTRACT.md 11.4 lowers a convolution followed by a residual add: the REQUANT
   * waits for EXEC, the VADD and the STORE are placed among the next tile's MATMULs.
   */
  private static G residualEpilogue(Random r, String name, String where) {
    int m = 20;
    byte[][] a = matrix(r, m, 32);
    byte[][] w = matrix(r, 32, 32);
    GemmPrograms.Requant q = requantParams(r, 32, -3, false);
    byte[] res = random(r, m * 32);
    int resZero = 5;
    int outZero = -7;
    int am = 0x3000_0000;
    int bm = -0x2800_0000;
    int shift = 31;
    long params = OUT2 - 0x1000;
    long residual = OUT2 + 0x1000;
    int[][] c = GemmPrograms.reference(a, w, 32);
    byte[] want = new byte[m * 32];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < 32; j++) {
        int y = Arithmetic.requantize(c[i][j], q.bias()[j], q.mult()[j], q.shift()[j],
            q.zeroPoint(), q.relu());
        want[i * 32 + j] = (byte) Arithmetic.vadd(y, res[i * 32 + j], q.zeroPoint(), resZero,
            outZero, am, bm, shift, true);
      }
    }
    String vadd = " rows=%d a_zero=%d b_zero=%d out_zero=%d a_mult=%d b_mult=%d shift=%d relu=1%n";
    return new G(name, "A GEMM's epilogue with a residual add (CONTRACT.md 11.4), " + where + ".")
        .input(IN, GemmPrograms.layoutA(a, 32, D)).input(IN2, GemmPrograms.layoutW(w, 32, D))
        .input(params, GemmPrograms.layoutParams(q, 32, D)).input(residual, res)
        .asm(load("ABUF", 0, IN, 2 * m) + load("WBUF", 0, IN2, 4 * D) + load("ACC", 100, params, 6)
            + String.format("LOAD buf=ABUF dst_row=200 elem_bytes=16 hbm_addr=0x%x x_size=%d"
            + " y_size=1 x_stride=32%n", residual, m)
            + String.format("LOAD buf=ABUF dst_row=300 elem_bytes=16 hbm_addr=0x%x x_size=%d"
            + " y_size=1 x_stride=32%n", residual + 16, m)
            + String.format("MATMUL wait=LOAD w_load=1 w_row=0 w_preload=1 pre_row=32 rows=%d%n", m)
            + String.format("MATMUL w_swap=1 w_preload=1 pre_row=16 a_row=%d rows=%d"
            + " accumulate=1%n", m, m)
            + String.format("REQUANT wait=EXEC dst_row=400 rows=%d param_row=100 zero_point=%d%n",
                m, q.zeroPoint())
            + String.format("MATMUL w_swap=1 w_preload=1 pre_row=48 acc_row=64 rows=%d%n", m)
            + String.format("VADD a_row=400 b_row=200 dst_row=400" + vadd, m, q.zeroPoint(),
                resZero, outZero, am, bm, shift)
            + String.format("MATMUL w_swap=1 a_row=%d acc_row=64 rows=%d accumulate=1%n", m, m)
            + String.format("STORE wait=VECTOR buf=ABUF src_row=400 elem_bytes=16 hbm_addr=0x%x"
            + " x_size=%d y_size=1 x_stride=32%n", OUT, m)
            + String.format("REQUANT wait=EXEC acc_row=64 dst_row=500 rows=%d param_row=103"
            + " zero_point=%d%n", m, q.zeroPoint())
            + String.format("VADD a_row=500 b_row=300 dst_row=500" + vadd, m, q.zeroPoint(),
                resZero, outZero, am, bm, shift)
            + String.format("STORE wait=VECTOR buf=ABUF src_row=500 elem_bytes=16 hbm_addr=0x%x"
            + " x_size=%d y_size=1 x_stride=32%nHALT", OUT + 16, m))
        .expect(OUT, want);
  }

  private static G vmax(Random r) {
    byte[] a = random(r, 10 * D);
    byte[] b = random(r, 10 * D);
    byte[] want = new byte[10 * D];
    for (int i = 0; i < want.length; i++) {
      want[i] = (byte) Math.max(a[i], b[i]);
    }
    return new G("vmax", "VMAX of two runs of 10 ABUF rows.")
        .input(IN, a).input(IN2, b)
        .asm(String.format("LOAD buf=ABUF dst_row=0 elem_bytes=16 hbm_addr=0x%x x_size=10"
            + " y_size=1 x_stride=16%n"
            + "LOAD buf=ABUF dst_row=10 elem_bytes=16 hbm_addr=0x%x x_size=10 y_size=1"
            + " x_stride=16%n"
            + "VMAX a_row=0 b_row=10 dst_row=30 rows=10 wait=LOAD%n"
            + "STORE buf=ABUF src_row=30 elem_bytes=16 hbm_addr=0x%x x_size=10 y_size=1"
            + " x_stride=16 wait=VECTOR%nHALT", IN, IN2, OUT))
        .expect(OUT, want);
  }

  private static G vadd(Random r) {
    byte[] a = random(r, 12 * D);
    byte[] b = random(r, 12 * D);
    byte[] want = new byte[12 * D];
    int am = 11_000;
    int bm = -7_000;
    for (int i = 0; i < want.length; i++) {
      want[i] = (byte) Arithmetic.vadd(a[i], b[i], 3, -4, 2, am, bm, 14, true);
    }
    return new G("vadd", "VADD with zero points 3 and -4, multipliers 11000 and -7000, shift 14,"
        + " output zero point 2 and ReLU; the result overwrites the first operand in place.")
        .input(IN, a).input(IN2, b)
        .asm(String.format("LOAD buf=ABUF dst_row=0 elem_bytes=16 hbm_addr=0x%x x_size=12"
            + " y_size=1 x_stride=16%n"
            + "LOAD buf=ABUF dst_row=12 elem_bytes=16 hbm_addr=0x%x x_size=12 y_size=1"
            + " x_stride=16%n"
            + "VADD a_row=0 b_row=12 dst_row=0 rows=12 a_zero=3 b_zero=-4 out_zero=2 shift=14"
            + " a_mult=%d b_mult=%d relu=1 wait=LOAD%n"
            + "STORE buf=ABUF src_row=0 elem_bytes=16 hbm_addr=0x%x x_size=12 y_size=1"
            + " x_stride=16 wait=VECTOR%nHALT", IN, IN2, am, bm, OUT))
        .expect(OUT, want);
  }

  private static G fenceThroughMemory(Random r) {
    byte[] data = random(r, 4 * D);
    return new G("fence_through_memory", "STORE rows to HBM, FENCE, LOAD them back and STORE"
        + " them again: FENCE orders a read of HBM after an earlier write.")
        .input(IN, data)
        .asm(String.format("LOAD buf=ABUF dst_row=0 elem_bytes=16 hbm_addr=0x%x x_size=4"
            + " y_size=1 x_stride=16%n"
            + "STORE buf=ABUF src_row=0 elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1"
            + " x_stride=16 wait=LOAD%n"
            + "FENCE%n"
            + "LOAD buf=ABUF dst_row=50 elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1"
            + " x_stride=16%n"
            + "STORE buf=ABUF src_row=50 elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1"
            + " x_stride=16 wait=LOAD%nHALT", IN, OUT2, OUT2, OUT))
        .expect(OUT, data).expect(OUT2, data);
  }

  private static G gemmTiled(Random r) {
    return gemm(r, "gemm_tiled_requant", "A 70x40x100 GEMM (no dimension a multiple of 16) tiled"
        + " with double-buffered loads, requantized to int8 with zero point 3.", 70, 40, 100,
        requantParams(r, 40, 3, false));
  }

  private static G conv3x3(Random r) {
    int h = 6;
    int w = 6;
    byte[][][] x = new byte[h][w][D];
    for (byte[][] row : x) {
      for (byte[] px : row) {
        r.nextBytes(px);
      }
    }
    byte[][][][] k = new byte[3][3][D][D];
    for (byte[][][] ky : k) {
      for (byte[][] kx : ky) {
        for (byte[] ci : kx) {
          r.nextBytes(ci);
        }
      }
    }
    GemmPrograms.Requant q = requantParams(r, D, 0, true);
    byte[] img = new byte[h * w * D];
    for (int y = 0; y < h; y++) {
      for (int xx = 0; xx < w; xx++) {
        System.arraycopy(x[y][xx], 0, img, (y * w + xx) * D, D);
      }
    }
    byte[] tiles = new byte[9 * D * D];
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        for (int ci = 0; ci < D; ci++) {
          System.arraycopy(k[ky][kx][ci], 0, tiles, ((ky * 3 + kx) * D + ci) * D, D);
        }
      }
    }
    // Reference: the convolution from its definition, zero padding 1, stride 1.
    byte[] want = new byte[h * w * D];
    for (int oy = 0; oy < h; oy++) {
      for (int ox = 0; ox < w; ox++) {
        for (int co = 0; co < D; co++) {
          int s = 0;
          for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 3; kx++) {
              int iy = oy + ky - 1;
              int ix = ox + kx - 1;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                continue;
              }
              for (int ci = 0; ci < D; ci++) {
                s += x[iy][ix][ci] * k[ky][kx][ci][co];
              }
            }
          }
          want[(oy * w + ox) * D + co] = (byte) Arithmetic.requantize(s, q.bias()[co],
              q.mult()[co], q.shift()[co], q.zeroPoint(), q.relu());
        }
      }
    }
    StringBuilder asm = new StringBuilder();
    asm.append(String.format("LOAD buf=WBUF elem_bytes=16 hbm_addr=0x%x x_size=144 y_size=1"
        + " x_stride=16%n", IN2));
    asm.append(String.format("LOAD buf=ACC dst_row=4000 elem_bytes=64 hbm_addr=0x%x x_size=3"
        + " y_size=1 x_stride=64%n", OUT2));
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        int t = ky * 3 + kx;
        int y0 = Math.max(0, ky - 1);
        int x0 = Math.max(0, kx - 1);
        int ySize = h - Math.abs(ky - 1);
        int xSize = w - Math.abs(kx - 1);
        asm.append(String.format("LOAD buf=ABUF dst_row=%d elem_bytes=16 hbm_addr=0x%x"
            + " x_size=%d y_size=%d x_stride=16 y_stride=%d x_pad0=%d x_pad1=%d y_pad0=%d"
            + " y_pad1=%d%n", 36 * t, IN + (long) (y0 * w + x0) * D, xSize, ySize, w * D,
            kx == 0 ? 1 : 0, kx == 2 ? 1 : 0, ky == 0 ? 1 : 0, ky == 2 ? 1 : 0));
      }
    }
    for (int t = 0; t < 9; t++) {
      asm.append(String.format("MATMUL w_load=1 w_row=%d a_row=%d acc_row=0 rows=36"
          + " accumulate=%d%s%n", 16 * t, 36 * t, t > 0 ? 1 : 0, t == 0 ? " wait=LOAD" : ""));
    }
    asm.append("REQUANT acc_row=0 dst_row=400 rows=36 param_row=4000 relu=1 wait=EXEC\n");
    asm.append(String.format("STORE buf=ABUF src_row=400 elem_bytes=16 hbm_addr=0x%x x_size=36"
        + " y_size=1 x_stride=16 wait=VECTOR%nHALT", OUT));
    return new G("conv3x3_pad1", "A 3x3 convolution, 16 to 16 channels on a 6x6 image, zero"
        + " padding 1: nine shifted, padded LOADs and nine accumulating MATMULs, then REQUANT with"
        + " ReLU, as CONTRACT.md lowers convolutions.")
        .input(IN, img).input(IN2, tiles)
        .input(OUT2, GemmPrograms.layoutParams(q, D, D))
        .asm(asm.toString())
        .expect(OUT, want);
  }

  // ---- the vector unit (contract 1.1) ----

  /** Bytes of one row of {@code buf}: D lanes of 1 (ABUF, WBUF), 4 (ACC) or 2 (LUT) bytes. */
  private static int rowBytes(String buf) {
    return switch (buf) {
      case "ACC" -> 4 * D;
      case "LUT" -> 2 * D;
      default -> D;
    };
  }

  /** LOAD of {@code rows} whole rows of {@code buf} from contiguous HBM at {@code address}. */
  static String load(String buf, int row, long address, int rows) {
    return String.format("LOAD buf=%s dst_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d y_size=1"
        + " x_stride=%d%n", buf, row, rowBytes(buf), address, rows, rowBytes(buf));
  }

  /** STORE of {@code rows} whole rows of {@code buf} to contiguous HBM, after VECTOR is done. */
  static String store(String buf, int row, long address, int rows) {
    return String.format("STORE buf=%s src_row=%d elem_bytes=%d hbm_addr=0x%x x_size=%d"
        + " y_size=1 x_stride=%d wait=VECTOR%n", buf, row, rowBytes(buf), address, rows,
        rowBytes(buf));
  }

  /** int16 values, little-endian, as LOAD reads them into the LUT buffer. */
  static byte[] shorts(int[] v) {
    byte[] b = new byte[v.length * 2];
    for (int i = 0; i < v.length; i++) {
      b[2 * i] = (byte) v[i];
      b[2 * i + 1] = (byte) (v[i] >>> 8);
    }
    return b;
  }

  static int[] randomInts(Random r, int n) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextInt();
    }
    return v;
  }

  private static G lutLoadStore(Random r) {
    // HBM: two rows of three 32-byte elements, 256 bytes apart; 20 bytes (10 int16 lanes) of
    // each, with one pad element before each row and one pad row above: 4 x 3 = 12 LUT rows.
    byte[] src = random(r, 2 * 256);
    byte[] want = new byte[12 * 2 * D];
    for (int i = 0; i < want.length; i += 2) {
      want[i] = (byte) 0xFD; // pad_value -3, sign-extended to the int16 0xFFFD
      want[i + 1] = (byte) 0xFF;
    }
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        System.arraycopy(src, y * 256 + x * 32, want, ((1 + y) * 4 + 1 + x) * 2 * D, 20);
      }
    }
    byte[] guard = random(r, 12 * 8);
    byte[] masked = guard.clone();
    for (int row = 0; row < 12; row++) {
      System.arraycopy(want, row * 2 * D, masked, row * 8, 6);
    }
    return new G("lut_load_store", "LOAD int16 rows into the LUT buffer with partial elements"
        + " and padding (pad_value -3 is 0xFFFD in every padded lane), STORE them back whole and"
        + " masked to 6 bytes of each 8-byte slot.").lut()
        .input(IN, src).input(OUT2, guard)
        .asm(String.format("LOAD buf=LUT dst_row=16 elem_bytes=20 pad_value=-3 hbm_addr=0x%x"
            + " x_size=3 y_size=2 x_stride=32 y_stride=256 x_pad0=1 y_pad0=1%n"
            + "STORE buf=LUT src_row=16 elem_bytes=32 hbm_addr=0x%x x_size=12 y_size=1"
            + " x_stride=32 wait=LOAD%n"
            + "STORE buf=LUT src_row=16 elem_bytes=6 hbm_addr=0x%x x_size=12 y_size=1"
            + " x_stride=8 wait=LOAD%nHALT", IN, OUT, OUT2))
        .expect(OUT, want).expect(OUT2, masked);
  }

  private static G vlut(Random r) {
    int[] table = new int[256];
    for (int e = 0; e < 256; e++) {
      table[e] = r.nextInt(401) - 200;
    }
    byte[] x = random(r, 10 * D);
    byte[] want = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      want[i] = (byte) Arithmetic.saturate8(table[x[i] + 128]);
    }
    return new G("vlut", "VLUT of 10 ABUF rows in place through table 5 (LUT rows 80..95):"
        + " lane x reads entry x + 128; the entries run from -200 to 200, so some saturate.")
        .lut().input(IN, x).input(IN2, shorts(table))
        .asm(load("LUT", 5 * TABLE_ROWS, IN2, TABLE_ROWS) + load("ABUF", 0, IN, 10)
            + "VLUT a_row=0 dst_row=0 rows=10 table=5 wait=LOAD\n"
            + store("ABUF", 0, OUT, 10) + "HALT")
        .expect(OUT, want);
  }

  private static G vscale(Random r) {
    byte[] x = random(r, 12 * D);
    int[] prm = new int[4 * D];
    for (int j = 0; j < D; j++) {
      prm[j] = (1 << 13) + r.nextInt(1 << 15); // x >= a_zero: 0.5 to 2.5 at shift 14
      prm[D + j] = r.nextInt(1 << 13); // x < a_zero: 0 to 0.5
      prm[2 * D + j] = r.nextInt(1 << 18) - (1 << 17); // bias: -8 to 8
      prm[3 * D + j] = 14;
    }
    prm[3 * D + 3] = 14 + 64; // only the low 6 bits of a shift count
    prm[3 * D + 9] = 14 - 128;
    int az = -3;
    int oz = 4;
    byte[] want = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      int j = i % D;
      long m = x[i] >= az ? prm[j] : prm[D + j];
      want[i] = (byte) Arithmetic.saturate8(Arithmetic.roundShift((x[i] - az) * m
          + prm[2 * D + j], prm[3 * D + j] & 63) + oz);
    }
    return new G("vscale", "VSCALE of 12 ABUF rows: per-lane multipliers for x >= a_zero and"
        + " x < a_zero (a PRelu), biases and shifts from ACC rows 100..103, a_zero -3, out_zero"
        + " 4; two lanes' shift words have bits above bit 5 set, which do not count.").vector()
        .input(IN, x).input(IN2, ints(prm))
        .asm(load("ABUF", 0, IN, 12) + load("ACC", 100, IN2, 4)
            + "VSCALE a_row=0 dst_row=20 rows=12 param_row=100 a_zero=-3 out_zero=4 wait=LOAD\n"
            + store("ABUF", 20, OUT, 12) + "HALT")
        .expect(OUT, want);
  }

  private static G vmul(Random r) {
    byte[] in = random(r, 17 * D);
    byte[] want = new byte[16 * D];
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < D; j++) {
        long a = in[i * D + j];
        long p = (a - 5) * (in[(8 + i) * D + j] + 7) * 3;
        want[i * D + j] = (byte) Arithmetic.saturate8(Arithmetic.roundShift(p, 9) - 2);
        long q = (a + 1) * (in[16 * D + j] - 2) * -5;
        want[(8 + i) * D + j] = (byte) Arithmetic.saturate8(Arithmetic.roundShift(q, 10) + 6);
      }
    }
    return new G("vmul", "VMUL of two runs of 8 ABUF rows (zero points 5 and -7, mult 3, shift"
        + " 9, out_zero -2), then of the first run and one row broadcast (b_bcast; zero points -1"
        + " and 2, mult -5, shift 10, out_zero 6).").vector()
        .input(IN, in)
        .asm(load("ABUF", 0, IN, 17)
            + "VMUL a_row=0 b_row=8 dst_row=20 rows=8 a_zero=5 b_zero=-7 out_zero=-2 shift=9"
            + " mult=3 wait=LOAD\n"
            + "VMUL b_bcast=1 a_row=0 b_row=16 dst_row=28 rows=8 a_zero=-1 b_zero=2 out_zero=6"
            + " shift=10 mult=-5\n"
            + store("ABUF", 20, OUT, 16) + "HALT")
        .expect(OUT, want);
  }

  private static G vreduceSumRows(Random r) {
    byte[] x = random(r, 20 * D);
    int[] init = randomInts(r, D);
    int[] want = new int[2 * D];
    for (int j = 0; j < D; j++) {
      int s = 0;
      for (int i = 0; i < 20; i++) {
        s += x[i * D + j];
      }
      want[j] = s;
      want[D + j] = init[j] + s; // int32, wrapping as MATMUL's accumulation does
    }
    return new G("vreduce_sum_rows", "VREDUCE sum down 20 ABUF rows into ACC row 10, and"
        + " accumulated onto the random int32 row 11.").vector()
        .input(IN, x).input(IN2, ints(init))
        .asm(load("ABUF", 0, IN, 20) + load("ACC", 11, IN2, 1)
            + "VREDUCE a_row=0 dst_row=10 rows=20 wait=LOAD\n"
            + "VREDUCE accumulate=1 a_row=0 dst_row=11 rows=20\n"
            + store("ACC", 10, OUT, 2) + "HALT")
        .expect(OUT, ints(want));
  }

  private static G vreduceSumLanes(Random r) {
    byte[] x = random(r, 6 * D);
    int[] want = new int[6 * D];
    for (int i = 0; i < 6; i++) {
      int s = 0;
      for (int l = 0; l < D; l++) {
        s += x[i * D + l] * (l < 11 ? 2 : 1); // valid 11, then all 16 accumulated
      }
      java.util.Arrays.fill(want, i * D, (i + 1) * D, s);
    }
    return new G("vreduce_sum_lanes", "VREDUCE sum across the first 11 lanes of each of 6 ABUF"
        + " rows into every lane of ACC rows 0..5, then across all 16 lanes accumulated onto"
        + " them.").vector()
        .input(IN, x)
        .asm(load("ABUF", 0, IN, 6)
            + "VREDUCE lanes=1 a_row=0 dst_row=0 rows=6 valid=11 wait=LOAD\n"
            + "VREDUCE lanes=1 accumulate=1 a_row=0 dst_row=0 rows=6 valid=16\n"
            + store("ACC", 0, OUT, 6) + "HALT")
        .expect(OUT, ints(want));
  }

  private static G vreduceMaxRows(Random r) {
    byte[] x = random(r, 9 * D);
    byte[] init = random(r, D);
    byte[] want = new byte[2 * D];
    for (int j = 0; j < D; j++) {
      int m = -128;
      for (int i = 0; i < 9; i++) {
        m = Math.max(m, x[i * D + j]);
      }
      want[j] = (byte) m;
      want[D + j] = (byte) Math.max(m, init[j]);
    }
    return new G("vreduce_max_rows", "VREDUCE maximum down 9 ABUF rows into ABUF row 50, and"
        + " accumulated (maximum) onto the random row 51.").vector()
        .input(IN, x).input(IN2, init)
        .asm(load("ABUF", 0, IN, 9) + load("ABUF", 51, IN2, 1)
            + "VREDUCE max=1 a_row=0 dst_row=50 rows=9 wait=LOAD\n"
            + "VREDUCE max=1 accumulate=1 a_row=0 dst_row=51 rows=9\n"
            + store("ABUF", 50, OUT, 2) + "HALT")
        .expect(OUT, want);
  }

  private static G vreduceMaxLanes(Random r) {
    byte[] x = random(r, 7 * D);
    byte[] init = random(r, 7 * D);
    byte[] inPlace = new byte[7 * D];
    byte[] onto = new byte[7 * D];
    for (int i = 0; i < 7; i++) {
      int all = -128;
      int first5 = -128;
      for (int l = 0; l < D; l++) {
        all = Math.max(all, x[i * D + l]);
        first5 = l < 5 ? Math.max(first5, x[i * D + l]) : first5;
      }
      for (int j = 0; j < D; j++) {
        onto[i * D + j] = (byte) Math.max(all, init[i * D + j]);
        inPlace[i * D + j] = (byte) first5;
      }
    }
    return new G("vreduce_max_lanes", "VREDUCE maximum across all 16 lanes of 7 ABUF rows,"
        + " accumulated onto the random rows 20..26; then across the first 5 lanes, in place.")
        .vector().input(IN, x).input(IN2, init)
        .asm(load("ABUF", 0, IN, 7) + load("ABUF", 20, IN2, 7)
            + "VREDUCE max=1 lanes=1 accumulate=1 a_row=0 dst_row=20 rows=7 valid=16"
            + " wait=LOAD\n"
            + "VREDUCE max=1 lanes=1 a_row=0 dst_row=0 rows=7 valid=5\n"
            + store("ABUF", 0, OUT, 7) + store("ABUF", 20, OUT2, 7) + "HALT")
        .expect(OUT, inPlace).expect(OUT2, onto);
  }

  private static G vmac(Random r) {
    byte[] x = random(r, 12 * D);
    byte[] w = random(r, 3 * D);
    int[] want = new int[10 * D];
    for (int i = 0; i < 10; i++) {
      for (int c = 0; c < D; c++) {
        for (int k = 0; k < 3; k++) {
          want[i * D + c] += x[(i + k) * D + c] * w[k * D + c];
        }
      }
    }
    return new G("vmac", "A depthwise 1-D convolution, 3 taps over 12 positions of 16 channels:"
        + " three VMACs of 10 rows, each by one WBUF row of taps, the first overwriting ACC and"
        + " the others accumulating.").vector()
        .input(IN, x).input(IN2, w)
        .asm(load("ABUF", 0, IN, 12) + load("WBUF", 0, IN2, 3)
            + "VMAC a_row=0 acc_row=0 rows=10 w_row=0 wait=LOAD\n"
            + "VMAC accumulate=1 a_row=1 acc_row=0 rows=10 w_row=1\n"
            + "VMAC accumulate=1 a_row=2 acc_row=0 rows=10 w_row=2\n"
            + store("ACC", 0, OUT, 10) + "HALT")
        .expect(OUT, ints(want));
  }

  private static G vsoftmax(Random r) {
    int[] table = new int[TABLE_ROWS * D];
    for (int d = 0; d < 256; d++) {
      table[d] = (int) Math.rint(32767 * StrictMath.exp(-d / 8.0)); // input scale 1/8
    }
    int groups = 3;
    int valid = 23;
    byte[] x = new byte[groups * 2 * D];
    for (int i = 0; i < x.length; i++) {
      x[i] = (byte) (r.nextInt(81) - 40);
    }
    byte[] want = new byte[x.length];
    java.util.Arrays.fill(want, (byte) -128); // lanes past valid hold out_zero
    for (int g = 0; g < groups; g++) {
      int base = g * 2 * D;
      int m = -128;
      for (int l = 0; l < valid; l++) {
        m = Math.max(m, x[base + l]);
      }
      long sum = 0;
      for (int l = 0; l < valid; l++) {
        sum += Math.max(table[m - x[base + l]], 0);
      }
      long recip = (1L << 44) / sum;
      for (int l = 0; l < valid; l++) {
        long e = Math.max(table[m - x[base + l]], 0);
        want[base + l] = (byte) Arithmetic.saturate8(Arithmetic.roundShift(e * recip * 256, 44)
            - 128);
      }
    }
    return new G("vsoftmax", "VSOFTMAX in place of 3 groups of 2 ABUF rows, 23 valid lanes each:"
        + " table 2 holds round(32767 exp(-d/8)); out_zero -128, mult 256, shift 44 give"
        + " probabilities in steps of 1/256; the 9 lanes past valid in each group get out_zero.")
        .lut().input(IN, x).input(IN2, shorts(table))
        .asm(load("LUT", 2 * TABLE_ROWS, IN2, TABLE_ROWS) + load("ABUF", 0, IN, 6)
            + "VSOFTMAX a_row=0 dst_row=0 groups=3 group_rows=2 valid=23 table=2 out_zero=-128"
            + " shift=44 mult=256 wait=LOAD\n"
            + store("ABUF", 0, OUT, 6) + "HALT")
        .expect(OUT, want);
  }

  private static G vnorm(Random r) {
    int groups = 2;
    int groupRows = 3;
    int valid = 40;
    long eps = 40;
    int oz = 3;
    byte[] x = new byte[groups * groupRows * D];
    for (int i = 0; i < x.length; i++) {
      x[i] = (byte) (r.nextInt(61) - 30);
    }
    // Parameter row 3k holds the scales of lanes 16k..16k+15 of a group, 3k+1 the biases,
    // 3k+2 the shifts: scale gamma * 2^13 and shift 20 put the output at 32 steps per unit.
    int[] prm = new int[3 * groupRows * D];
    for (int k = 0; k < groupRows; k++) {
      for (int j = 0; j < D; j++) {
        prm[3 * k * D + j] = (1 << 12) + r.nextInt(1 << 13);
        prm[(3 * k + 1) * D + j] = r.nextInt(1 << 25) - (1 << 24);
        prm[(3 * k + 2) * D + j] = 20;
      }
    }
    byte[] want = new byte[x.length];
    java.util.Arrays.fill(want, (byte) oz);
    for (int g = 0; g < groups; g++) {
      int base = g * groupRows * D;
      long s1 = 0;
      long s2 = 0;
      for (int l = 0; l < valid; l++) {
        s1 += x[base + l];
        s2 += x[base + l] * x[base + l];
      }
      long t = valid * s2 - s1 * s1 + eps;
      long inv = Arithmetic.isqrt((1L << 62) / t);
      for (int l = 0; l < valid; l++) {
        int k = l / D;
        int j = l % D;
        long norm = Arithmetic.roundShift((valid * x[base + l] - s1) * inv, 19);
        long v = norm * prm[3 * k * D + j] + prm[(3 * k + 1) * D + j];
        want[base + l] = (byte) Arithmetic.saturate8(Arithmetic.roundShift(v,
            prm[(3 * k + 2) * D + j] & 63) + oz);
      }
    }
    return new G("vnorm", "VNORM of 2 groups of 3 ABUF rows, 40 valid lanes each (two and a half"
        + " rows), eps 40, per-lane scales, biases and shifts from ACC rows 200..208, out_zero 3;"
        + " the 8 lanes past valid in each group get out_zero.").vector()
        .input(IN, x).input(IN2, ints(prm))
        .asm(load("ABUF", 0, IN, 6) + load("ACC", 200, IN2, 9)
            + "VNORM a_row=0 dst_row=10 groups=2 group_rows=3 valid=40 param_row=200 out_zero=3"
            + " eps=40 wait=LOAD\n"
            + store("ABUF", 10, OUT, 6) + "HALT")
        .expect(OUT, want);
  }

  /** Block b of a run of blocks, transposed: row j lane i is row i lane j of the source. */
  private static byte[] transposed(byte[] x, int blocks) {
    byte[] t = new byte[x.length];
    for (int b = 0; b < blocks; b++) {
      for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
          t[(b * D + j) * D + i] = x[(b * D + i) * D + j];
        }
      }
    }
    return t;
  }

  private static G vtransAbuf(Random r) {
    byte[] x = random(r, 2 * D * D);
    return new G("vtrans_abuf", "VTRANS of two 16x16 blocks of ABUF rows, in place.").vector()
        .input(IN, x)
        .asm(load("ABUF", 0, IN, 2 * D) + "VTRANS buf=ABUF a_row=0 dst_row=0 blocks=2 wait=LOAD\n"
            + store("ABUF", 0, OUT, 2 * D) + "HALT")
        .expect(OUT, transposed(x, 2));
  }

  private static G vtransWbuf(Random r) {
    byte[] x = random(r, D * D);
    return new G("vtrans_wbuf", "VTRANS of one 16x16 block of ABUF rows into WBUF rows 100..115"
        + " (a K^T weight tile).").vector()
        .input(IN, x)
        .asm(load("ABUF", 0, IN, D) + "VTRANS buf=WBUF a_row=0 dst_row=100 blocks=1 wait=LOAD\n"
            + store("WBUF", 100, OUT, D) + "HALT")
        .expect(OUT, transposed(x, 1));
  }

  /** One erroneous vector instruction alone: it fails at instruction 0. */
  private static G fails(String name, String description, String instruction, ErrorCode code) {
    return new G(name, description).vector().asm(instruction + "\nHALT").error(code, 0);
  }

  private static List<G> vectorErrors(Random r) {
    List<G> out = new ArrayList<>();
    byte[] data = random(r, 4 * D);
    out.add(new G("err_vector_no_unit", "VLUT after a LOAD and a STORE on a build without the"
        + " vector unit: BAD_OPCODE at instruction 2, and the STORE before it has completed.")
        .noVector().input(IN, data)
        .asm(String.format("LOAD buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1"
            + " x_stride=16%n"
            + "STORE buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1 x_stride=16"
            + " wait=LOAD%nVLUT rows=1%nHALT", IN, OUT))
        .expect(OUT, data).error(ErrorCode.BAD_OPCODE, 2));
    out.add(fails("err_lut_partial_lane", "LOAD into the LUT of 5 bytes: not whole int16"
        + " lanes.", "LOAD buf=LUT elem_bytes=5 x_size=1 y_size=1", ErrorCode.BAD_FIELD));
    out.add(fails("err_lut_range", "VLUT of table 16: LUT rows 256..271 of 256.",
        "VLUT rows=1 table=16", ErrorCode.BUF_RANGE).lut());
    out.add(fails("err_vlut_overlap", "VLUT whose destination rows 2..5 partly overlap its"
        + " source rows 0..3.", "VLUT a_row=0 dst_row=2 rows=4", ErrorCode.BAD_FIELD));
    out.add(fails("err_vscale_overlap", "VSCALE whose destination rows 0..7 partly overlap its"
        + " source rows 4..11.", "VSCALE a_row=4 dst_row=0 rows=8", ErrorCode.BAD_FIELD));
    out.add(fails("err_vmul_bcast_overlap", "VMUL b_bcast whose broadcast row 21 lies inside"
        + " the destination rows 20..23.", "VMUL b_bcast=1 a_row=0 b_row=21 dst_row=20 rows=4",
        ErrorCode.BAD_FIELD));
    out.add(fails("err_vreduce_max_overlap", "VREDUCE maximum down rows 0..7 into row 3, one"
        + " of them.", "VREDUCE max=1 a_row=0 dst_row=3 rows=8", ErrorCode.BAD_FIELD));
    out.add(fails("err_vsoftmax_overlap", "VSOFTMAX of rows 0..1 into rows 1..2.",
        "VSOFTMAX a_row=0 dst_row=1 groups=2 group_rows=1 valid=16", ErrorCode.BAD_FIELD));
    out.add(fails("err_vnorm_overlap", "VNORM of rows 2..5 into rows 0..3.",
        "VNORM a_row=2 dst_row=0 groups=1 group_rows=4 valid=64", ErrorCode.BAD_FIELD));
    out.add(fails("err_vtrans_overlap", "VTRANS in ABUF of rows 0..15 into rows 8..23.",
        "VTRANS buf=ABUF a_row=0 dst_row=8 blocks=1", ErrorCode.BAD_FIELD));
    out.add(fails("err_vreduce_lanes_valid", "VREDUCE across lanes with valid 17 of 16.",
        "VREDUCE lanes=1 rows=1 valid=17", ErrorCode.BAD_FIELD));
    out.add(fails("err_vreduce_rows_valid", "VREDUCE down the rows with valid 4: valid counts"
        + " lanes only with the lanes flag.", "VREDUCE rows=4 valid=4", ErrorCode.BAD_FIELD));
    out.add(fails("err_vsoftmax_valid", "VSOFTMAX with valid 33 in groups of 2 rows (32"
        + " lanes).", "VSOFTMAX groups=1 group_rows=2 valid=33", ErrorCode.BAD_FIELD));
    out.add(fails("err_vnorm_valid", "VNORM with valid 17 in groups of 1 row (16 lanes).",
        "VNORM groups=1 group_rows=1 valid=17", ErrorCode.BAD_FIELD));
    out.add(fails("err_vtrans_buf", "VTRANS into ACC: only ABUF and WBUF.",
        "VTRANS buf=ACC blocks=1", ErrorCode.BAD_FIELD));
    out.add(fails("err_vscale_param_range", "VSCALE with parameter rows 4093..4096 of ACC's"
        + " 4096: four rows.", "VSCALE rows=1 param_row=4093", ErrorCode.BUF_RANGE));
    out.add(fails("err_vnorm_param_range", "VNORM of groups of 2 rows with parameter rows"
        + " 4091..4096 of ACC's 4096: three per row of a group.",
        "VNORM groups=1 group_rows=2 valid=32 param_row=4091", ErrorCode.BUF_RANGE));
    out.add(new G("err_vector_zero_length", "VSOFTMAX of zero groups after a VLUT: ZERO_LENGTH"
        + " at instruction 1, once the VLUT has finished (its cycles count, the failing one's"
        + " do not).").vector()
        .asm("VLUT rows=2\nVSOFTMAX groups=0 group_rows=1 valid=1\nHALT")
        .error(ErrorCode.ZERO_LENGTH, 1));
    return out;
  }

  private static List<G> errors(Random r) {
    List<G> out = new ArrayList<>();
    byte[] data = random(r, 4 * D);
    String storeFirst = String.format("LOAD buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4"
        + " y_size=1 x_stride=16%n"
        + "STORE buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1 x_stride=16"
        + " wait=LOAD%n", IN, OUT);
    out.add(new G("err_bad_opcode", "An unknown opcode after a LOAD and a STORE: the device stops"
        + " with BAD_OPCODE at instruction 2, and the STORE before it has completed.")
        .input(IN, data).asm(storeFirst + ".word 0xff 0 0 0\nHALT")
        .expect(OUT, data).error(ErrorCode.BAD_OPCODE, 2));
    out.add(new G("err_reserved_bits", "HALT with reserved bit 40 set.")
        .asm(".word 0x10000000008 0 0 0").error(ErrorCode.RESERVED_BITS, 0));
    out.add(new G("err_bad_field", "LOAD into buffer id 3 on a build without the vector unit,"
        + " which has no LUT buffer.").noVector()
        .asm("LOAD buf=3 elem_bytes=16 x_size=1 y_size=1\nHALT").error(ErrorCode.BAD_FIELD, 0));
    out.add(new G("err_acc_partial_lane", "LOAD into ACC of 6 bytes: not whole int32 lanes.")
        .asm("LOAD buf=ACC elem_bytes=6 x_size=1 y_size=1\nHALT").error(ErrorCode.BAD_FIELD, 0));
    out.add(new G("err_vector_overlap", "VMAX whose destination partly overlaps a source.")
        .asm("VMAX a_row=0 b_row=20 dst_row=1 rows=4\nHALT").error(ErrorCode.BAD_FIELD, 0));
    out.add(new G("err_zero_length", "MATMUL of zero rows.")
        .asm("MATMUL w_load=1 rows=0\nHALT").error(ErrorCode.ZERO_LENGTH, 0));
    out.add(new G("err_load_zero_size", "LOAD with x_size 0.")
        .asm("LOAD buf=ABUF elem_bytes=16 x_size=0 y_size=1\nHALT")
        .error(ErrorCode.ZERO_LENGTH, 0));
    out.add(new G("err_oversized", "LOAD of 17-byte elements into 16-byte ABUF rows.")
        .asm("LOAD buf=ABUF elem_bytes=17 x_size=1 y_size=1\nHALT")
        .error(ErrorCode.OVERSIZED, 0));
    out.add(new G("err_buf_range", "MATMUL streaming ABUF rows 4090..4105 of 4096.")
        .asm("MATMUL w_load=1 a_row=4090 rows=16\nHALT").error(ErrorCode.BUF_RANGE, 0));
    out.add(new G("err_load_padding_range", "LOAD whose padding runs past the end of ACC.")
        .asm("LOAD buf=ACC dst_row=4095 elem_bytes=64 x_size=1 y_size=1 y_pad1=1\nHALT")
        .error(ErrorCode.BUF_RANGE, 0));
    long end = 16L << 30;
    byte[] guard = random(r, 64);
    G hbm = new G("err_hbm_range", "A STORE whose last row runs 8 bytes past the end of a 16 GiB"
        + " HBM: HBM_RANGE at instruction 1, and nothing at the end of HBM is written.")
        .input(IN, data).input(end - 64, guard)
        .asm(String.format("LOAD buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1"
            + " x_stride=16%n"
            + "STORE buf=ABUF elem_bytes=16 hbm_addr=0x%x x_size=4 y_size=1 x_stride=16"
            + " wait=LOAD%nHALT", IN, end - 56))
        .expect(end - 64, guard).error(ErrorCode.HBM_RANGE, 1);
    hbm.requires.put(Param.HBM_MB, 16384L);
    out.add(hbm);
    out.add(new G("err_no_weights", "MATMUL with no tile ever loaded into the array.")
        .asm("MATMUL rows=1\nHALT").error(ErrorCode.NO_WEIGHTS, 0));
    out.add(new G("err_swap_without_preload", "w_swap when nothing was preloaded.")
        .asm("MATMUL w_load=1 rows=1\nMATMUL w_swap=1 rows=1\nHALT")
        .error(ErrorCode.NO_WEIGHTS, 1));
    G misaligned = new G("err_prog_misaligned", "A program at an address that is not a multiple"
        + " of 32: PROG_RANGE before anything runs.").asm("HALT").error(ErrorCode.PROG_RANGE, 0);
    misaligned.programAddress = 0x10;
    out.add(misaligned);
    out.add(new G("err_prog_empty", "START with PROG_LEN 0.").error(ErrorCode.PROG_RANGE, 0));
    out.add(new G("err_prog_end", "A program without HALT: PROG_END at PROG_LEN.")
        .asm("FENCE\nFENCE").error(ErrorCode.PROG_END, 2));
    return out;
  }

  /**
   * Counts what follows from the program text alone: instructions retired, MACs, array cycles,
   * payload bytes and the vector unit's cycles, up to the HALT or the faulting instruction.
   */
  static Map<Counter, Long> countedFromText(G g) {
    long instret = 0;
    long macs = 0;
    long arrayCycles = 0;
    long read = 0;
    long written = 0;
    long vector = 0;
    boolean progRange = g.error == ErrorCode.PROG_RANGE;
    long last = g.error == ErrorCode.NONE ? g.program.size() : g.errorPc;
    for (int i = 0; i < last && !progRange; i++) {
      Instruction in = g.program.get(i);
      instret++;
      switch (in.opcode()) {
        case MATMUL -> {
          long rows = in.get(Isa.Matmul.ROWS);
          arrayCycles += rows;
          macs += rows * D * D;
        }
        case LOAD -> read += in.get(Isa.Load.X_SIZE) * in.get(Isa.Load.Y_SIZE)
            * in.get(Isa.Load.ELEM_BYTES);
        case STORE -> written += in.get(Isa.Store.X_SIZE) * in.get(Isa.Store.Y_SIZE)
            * in.get(Isa.Store.ELEM_BYTES);
        default -> { }
      }
      vector += vectorCycles(in);
    }
    Map<Counter, Long> c = new LinkedHashMap<>();
    c.put(Counter.INSTRET, instret);
    c.put(Counter.MACS, macs);
    c.put(Counter.ARRAY_CYCLES, arrayCycles);
    c.put(Counter.BYTES_READ, read);
    c.put(Counter.BYTES_WRITTEN, written);
    c.put(Counter.VECTOR_CYCLES, vector);
    return c;
  }

  /**
   * The cycles a vector unit instruction holds EXEC, from its fields alone: its busy cycles and
   * the pipeline's VECTOR_LATENCY; 0 for the other instructions.
   */
  static long vectorCycles(Instruction in) {
    long busy = switch (in.opcode()) {
      case VLUT -> in.get(Isa.Vlut.ROWS);
      case VSCALE -> Timing.SCALE_SETUP + in.get(Isa.Vscale.ROWS);
      case VMUL -> in.get(Isa.Vmul.ROWS);
      case VREDUCE -> in.get(Isa.Vreduce.ROWS);
      case VMAC -> in.get(Isa.Vmac.ROWS);
      case VSOFTMAX -> in.get(Isa.Vsoftmax.GROUPS)
          * (3 * in.get(Isa.Vsoftmax.GROUP_ROWS) + Timing.SOFTMAX_LATENCY);
      case VNORM -> in.get(Isa.Vnorm.GROUPS)
          * (4 * in.get(Isa.Vnorm.GROUP_ROWS) + Timing.NORM_LATENCY);
      case VTRANS -> (in.get(Isa.Vtrans.BLOCKS) + 1) * D;
      default -> -1;
    };
    return busy < 0 ? 0 : busy + Timing.VECTOR_LATENCY;
  }

  /**
   * The finished program: counters from the text, timing counters from the emulator, after the
   * emulator has matched every expectation.
   */
  static GoldenProgram finish(G g, Device emulator) {
    for (int i = 0; i < g.program.size() && g.error == ErrorCode.NONE; i++) {
      InstructionCheck.Violation v = InstructionCheck.check(g.program.get(i),
          emulator.info().params());
      if (v != null) {
        throw new IllegalStateException(g.name + ": instruction " + i + " is illegal: " + v);
      }
    }
    OrderingCheck.Report races = OrderingCheck.check(g.program, emulator.info().params());
    if (!races.ok()) {
      throw new IllegalStateException(g.name + " leaves conflicts unordered:\n" + races);
    }
    Map<Counter, Long> counters = countedFromText(g);
    GoldenProgram untimed = new GoldenProgram(g.name, g.description, g.requires, g.programAddress,
        g.program, g.inputs, g.error, g.errorPc, g.expected, counters);
    GoldenRunner.Outcome o = new GoldenRunner(Duration.ofSeconds(60), true).run(emulator,
        untimed);
    if (o.verdict() != GoldenRunner.Verdict.PASS) {
      throw new IllegalStateException("the emulator disagrees with golden program " + g.name
          + ": " + o.problems());
    }
    Map<Counter, Long> device = emulator.counters();
    counters.put(Counter.CYCLES, device.get(Counter.CYCLES));
    counters.put(Counter.STALL_CYCLES, device.get(Counter.STALL_CYCLES));
    return new GoldenProgram(g.name, g.description, g.requires, g.programAddress, g.program,
        g.inputs, g.error, g.errorPc, g.expected, counters);
  }

  /**
   * File name to contents: one .golden file per program and the MANIFEST listing them in order
   * with their hashes.
   */
  public static Map<String, String> files() {
    Map<String, String> out = new LinkedHashMap<>();
    try (Device emulator = Devices.open("emulator");
        Device noVector = Devices.open("emulator:VECTOR_UNIT=0")) {
      for (G g : all()) {
        String file = g.name + ".golden";
        boolean vector = g.requires.getOrDefault(Param.VECTOR_UNIT, 1L) == 1;
        GoldenProgram done = finish(g, vector ? emulator : noVector);
        if (!g.requires.containsKey(Param.VECTOR_UNIT)) {
          // It runs on both kinds of build, so its cycles must not depend on the VECTOR unit.
          Map<Counter, Long> without = finish(g, noVector).expectedCounters();
          if (!without.equals(done.expectedCounters())) {
            throw new IllegalStateException(g.name + " runs on builds with and without the"
                + " VECTOR unit but counts " + done.expectedCounters() + " with it and "
                + without + " without (expected the same: add waits, or require one kind)");
          }
        }
        out.put(file, GoldenFormat.write(done));
      }
    }
    out.put(GoldenManifest.FILE, GoldenManifest.write(out,
        "GoldenGenerator in the tests module (scripts/generate-golden)"));
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : ".").resolve("tests/golden");
    Files.createDirectories(dir);
    for (Map.Entry<String, String> e : files().entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
    }
    System.out.println("wrote " + files().size() + " files to " + dir);
  }
}
