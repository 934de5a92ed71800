package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.InstrField;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.driver.contract.Unit;
import dev.systole.tests.Dma;
import dev.systole.testing.Tools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each instruction of the VECTOR unit on the RTL against the emulator, with random fields and
 * random buffer contents: the same random LOADs into ABUF, ACC, WBUF and the LUT, one or two
 * instructions of the kind under test (the second right behind the first, so that it waits for
 * the unit), STOREs of every buffer region, on the sim board and on the emulator of the same
 * build. The bytes, the end of the run (error code and instruction) and every counter, CYCLES
 * included, must be equal. One case in eight has one field set to a random value of its full
 * width, so the static checks of CONTRACT.md 8.2 are compared too.
 */
class RtlVectorTest {
  private static final int CASES = Integer.getInteger("systole.rtlVectorCases", 24);
  /** For working on one engine: -Dsystole.rtlVectorOps=VSCALE,VMUL runs only those (and no mix). */
  private static final String ONLY = System.getProperty("systole.rtlVectorOps", "");
  private static final long IN = 0x10_0000L;
  private static final long OUT = 0x40_0000L;
  private static final int ABUF = 256;
  private static final int ACC = 64;
  private static final int WBUF = 64;

  private static Device rtl;
  private static Device emu;

  @BeforeAll
  static void open() {
    Tools.require("verilator", "verilator");
    rtl = Devices.open("sim");
    emu = Devices.open("emulator");
  }

  @AfterAll
  static void close() {
    if (rtl != null) {
      rtl.close();
    }
    if (emu != null) {
      emu.close();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Opcode.class, names = {"REQUANT", "VMAX", "VADD", "VLUT", "VSCALE", "VMUL",
      "VREDUCE", "VMAC", "VSOFTMAX", "VNORM", "VTRANS"})
  void randomInstructionsGiveTheEmulatorsBytesAndCycles(Opcode op) {
    Assumptions.assumeTrue(ONLY.isEmpty() || List.of(ONLY.split(",")).contains(op.name()),
        "systole.rtlVectorOps=" + ONLY + " leaves out " + op);
    Random r = new Random(op.ordinal() * 7919L + 17);
    List<String> failures = new ArrayList<>();
    for (int c = 0; c < CASES; c++) {
      List<Instruction> body = new ArrayList<>();
      int n = r.nextInt(4) == 0 ? 2 : 1;
      for (int i = 0; i < n; i++) {
        Instruction in = random(op, r, emu.info().params());
        if (r.nextInt(8) == 0) {
          in = mutate(in, r);
        }
        body.add(in);
      }
      String diff = compare(body, r.nextLong());
      if (diff != null) {
        failures.add("case " + c + " " + body + ": " + diff);
      }
    }
    assertEquals(List.of(), failures.subList(0, Math.min(3, failures.size())),
        failures.size() + " of " + CASES + " " + op + " cases differ");
  }

  @Test
  void aMixOfVectorInstructionsBackToBackGivesTheSameBytesAndCycles() {
    Assumptions.assumeTrue(ONLY.isEmpty(), "systole.rtlVectorOps=" + ONLY + " leaves out the mix");
    Random r = new Random(4242);
    Opcode[] ops = {Opcode.REQUANT, Opcode.VADD, Opcode.VLUT, Opcode.VSCALE, Opcode.VMUL,
        Opcode.VREDUCE, Opcode.VMAC, Opcode.VSOFTMAX, Opcode.VNORM, Opcode.VTRANS};
    List<String> failures = new ArrayList<>();
    for (int c = 0; c < CASES; c++) {
      List<Instruction> body = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        body.add(random(ops[r.nextInt(ops.length)], r, emu.info().params()));
      }
      String diff = compare(body, r.nextLong());
      if (diff != null) {
        failures.add("case " + c + " " + body + ": " + diff);
      }
    }
    assertEquals(List.of(), failures.subList(0, Math.min(3, failures.size())),
        failures.size() + " of " + CASES + " mixes differ");
  }

  /** Runs the program around {@code body} on both devices; null if they agree, else how not. */
  private static String compare(List<Instruction> body, long seed) {
    DeviceParams p = emu.info().params();
    int d = p.lanes();
    Random r = new Random(seed);
    byte[] abuf = new byte[ABUF * d];
    r.nextBytes(abuf);
    byte[] acc = new byte[ACC * 4 * d];
    r.nextBytes(acc);
    byte[] wbuf = new byte[WBUF * d];
    r.nextBytes(wbuf);
    int lutRows = p.rows(Buffer.LUT);
    byte[] lut = new byte[lutRows * 2 * d];
    r.nextBytes(lut);
    // Table 0 is a softmax table (entry e = 2^14 exp(-e/16)), as the compiler makes them.
    for (int e = 0; e < 256; e++) {
      int v = (int) Math.round(16384 * Math.exp(-e / 16.0));
      lut[2 * e] = (byte) v;
      lut[2 * e + 1] = (byte) (v >> 8);
    }
    long accIn = IN + abuf.length;
    long wbufIn = accIn + acc.length;
    long lutIn = wbufIn + wbuf.length;
    List<Instruction> prog = new ArrayList<>();
    prog.add(load(Buffer.ABUF, IN, d, ABUF));
    prog.add(load(Buffer.ACC, accIn, 4 * d, ACC));
    prog.add(load(Buffer.WBUF, wbufIn, d, WBUF));
    prog.add(load(Buffer.LUT, lutIn, 2 * d, lutRows));
    prog.add(Instruction.of(Opcode.FENCE));
    for (Instruction in : body) {
      prog.add(in);
    }
    prog.add(Instruction.of(Opcode.FENCE));
    long abufOut = OUT;
    long accOut = abufOut + abuf.length;
    long wbufOut = accOut + acc.length;
    prog.add(store(Buffer.ABUF, abufOut, d, ABUF));
    prog.add(store(Buffer.ACC, accOut, 4 * d, ACC));
    prog.add(store(Buffer.WBUF, wbufOut, d, WBUF));
    prog.add(Instruction.of(Opcode.HALT));
    int outBytes = abuf.length + acc.length + wbuf.length;

    Outcome a = run(emu, prog, new byte[][] {abuf, acc, wbuf, lut}, outBytes);
    Outcome b = run(rtl, prog, new byte[][] {abuf, acc, wbuf, lut}, outBytes);
    if (a.result.error() != b.result.error() || a.result.errorPc() != b.result.errorPc()) {
      return "emulator ended " + a.result.describe() + ", RTL " + b.result.describe();
    }
    if (!a.counters.equals(b.counters)) {
      return "counters: emulator " + a.counters + ", RTL " + b.counters;
    }
    if (!a.result.ok()) {
      return null;  // a failed run's STOREs did not run
    }
    String[] names = {"ABUF", "ACC", "WBUF"};
    int[] rowBytes = {d, 4 * d, d};
    int off = 0;
    for (int k = 0; k < 3; k++) {
      int len = k == 0 ? abuf.length : k == 1 ? acc.length : wbuf.length;
      for (int i = 0; i < len; i++) {
        if (a.out[off + i] != b.out[off + i]) {
          int row = i / rowBytes[k];
          return String.format("%s row %d byte %d: emulator %d, RTL %d", names[k], row,
              i % rowBytes[k], a.out[off + i], b.out[off + i]);
        }
      }
      off += len;
    }
    return null;
  }

  private record Outcome(RunResult result, Map<Counter, Long> counters, byte[] out) {}

  private static Outcome run(Device dev, List<Instruction> prog, byte[][] inputs, int outBytes) {
    long at = IN;
    for (byte[] in : inputs) {
      Dma.write(dev, at, in);
      at += in.length;
    }
    Dma.write(dev, OUT, new byte[outBytes]);
    Dma.write(dev, 0, dev.info().encode(prog));
    dev.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
    dev.start(0, prog.size());
    RunResult res = dev.await(Duration.ofSeconds(60));
    Map<Counter, Long> counters = new java.util.EnumMap<>(dev.counters());
    counters.remove(Counter.TOTAL_CYCLES);
    return new Outcome(res, counters, Dma.read(dev, OUT, outBytes));
  }

  private static Instruction load(Buffer b, long addr, int bytes, int rows) {
    return Instruction.of(Opcode.LOAD).with(Isa.Load.BUF, b.id()).with(Isa.Load.DST_ROW, 0)
        .with(Isa.Load.ELEM_BYTES, bytes).with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, rows).with(Isa.Load.Y_SIZE, 1).with(Isa.Load.X_STRIDE, bytes);
  }

  private static Instruction store(Buffer b, long addr, int bytes, int rows) {
    return Instruction.of(Opcode.STORE).with(Isa.Store.BUF, b.id()).with(Isa.Store.SRC_ROW, 0)
        .with(Isa.Store.ELEM_BYTES, bytes).with(Isa.Store.HBM_ADDR, addr)
        .with(Isa.Store.X_SIZE, rows).with(Isa.Store.Y_SIZE, 1).with(Isa.Store.X_STRIDE, bytes);
  }

  /** One field of {@code in} (not the opcode or the waits) set to a random value of its width. */
  private static Instruction mutate(Instruction in, Random r) {
    List<InstrField> fields = in.opcode().fields().stream()
        .filter(f -> f != Isa.OPCODE && f != Isa.WAIT).toList();
    InstrField f = fields.get(r.nextInt(fields.size()));
    long v = r.nextLong() & ((1L << f.width()) - 1);
    if (f.kind() == InstrField.Kind.INT) {
      v = (v << (64 - f.width())) >> (64 - f.width());
    }
    return in.with(f, v);
  }

  /** Source rows start below 128, destinations either the same rows or rows from 128 on. */
  private static int dst(Random r, int src, int rows, int limit) {
    if (r.nextBoolean()) {
      return src;
    }
    return 128 + r.nextInt(Math.max(1, limit - 128 - rows + 1));
  }

  private static Instruction random(Opcode op, Random r, DeviceParams p) {
    int d = p.lanes();
    int tables = p.rows(Buffer.LUT) / p.tableRows();
    int rows = 1 + r.nextInt(r.nextInt(4) == 0 ? 100 : 20);
    int a = r.nextInt(128 - Math.min(rows, 127));
    Instruction in = Instruction.of(op).waitFor(Unit.VECTOR);
    switch (op) {
      case REQUANT -> {
        int n = 1 + r.nextInt(ACC - 3);
        in = in.with(Isa.Requant.ACC_ROW, r.nextInt(ACC - n + 1))
            .with(Isa.Requant.DST_ROW, r.nextInt(ABUF - n + 1)).with(Isa.Requant.ROWS, n)
            .with(Isa.Requant.PARAM_ROW, r.nextInt(ACC - 2))
            .with(Isa.Requant.ZERO_POINT, r.nextInt(256) - 128)
            .with(Isa.Requant.RELU, r.nextBoolean());
      }
      case VMAX, VADD -> {
        int b = r.nextInt(128 - Math.min(rows, 127));
        in = in.with(Isa.Vadd.A_ROW, a).with(Isa.Vadd.B_ROW, b).with(Isa.Vadd.ROWS, rows)
            .with(Isa.Vadd.DST_ROW, r.nextBoolean() ? a : 128 + r.nextInt(129 - rows));
        if (op == Opcode.VADD) {
          in = in.with(Isa.Vadd.A_ZERO, r.nextInt(256) - 128)
              .with(Isa.Vadd.B_ZERO, r.nextInt(256) - 128)
              .with(Isa.Vadd.OUT_ZERO, r.nextInt(256) - 128)
              .with(Isa.Vadd.A_MULT, r.nextInt()).with(Isa.Vadd.B_MULT, r.nextInt())
              .with(Isa.Vadd.SHIFT, r.nextInt(64)).with(Isa.Vadd.RELU, r.nextBoolean());
        }
      }
      case VLUT -> in = in.with(Isa.Vlut.A_ROW, a).with(Isa.Vlut.ROWS, rows)
          .with(Isa.Vlut.DST_ROW, dst(r, a, rows, ABUF)).with(Isa.Vlut.TABLE, r.nextInt(tables));
      case VSCALE -> in = in.with(Isa.Vscale.A_ROW, a).with(Isa.Vscale.ROWS, rows)
          .with(Isa.Vscale.DST_ROW, dst(r, a, rows, ABUF))
          .with(Isa.Vscale.PARAM_ROW, r.nextInt(ACC - 3))
          .with(Isa.Vscale.A_ZERO, r.nextInt(256) - 128)
          .with(Isa.Vscale.OUT_ZERO, r.nextInt(256) - 128);
      case VMUL -> {
        boolean bcast = r.nextBoolean();
        int b = r.nextInt(128 - (bcast ? 1 : Math.min(rows, 127)));
        in = in.with(Isa.Vmul.A_ROW, a).with(Isa.Vmul.B_ROW, b).with(Isa.Vmul.ROWS, rows)
            .with(Isa.Vmul.B_BCAST, bcast).with(Isa.Vmul.DST_ROW, 128 + r.nextInt(129 - rows))
            .with(Isa.Vmul.A_ZERO, r.nextInt(256) - 128)
            .with(Isa.Vmul.B_ZERO, r.nextInt(256) - 128)
            .with(Isa.Vmul.OUT_ZERO, r.nextInt(256) - 128).with(Isa.Vmul.MULT, r.nextInt())
            .with(Isa.Vmul.SHIFT, r.nextInt(64));
        if (!bcast && r.nextBoolean()) {
          in = in.with(Isa.Vmul.DST_ROW, a);
        }
      }
      case VREDUCE -> {
        boolean max = r.nextBoolean();
        boolean lanes = r.nextBoolean();
        int n = lanes && !max ? Math.min(rows, ACC) : rows;
        int dstRows = lanes ? n : 1;
        int dstRow = max ? (lanes && r.nextBoolean() ? a : 128 + r.nextInt(129 - dstRows))
            : r.nextInt(ACC - dstRows + 1);
        in = in.with(Isa.Vreduce.A_ROW, a).with(Isa.Vreduce.ROWS, n)
            .with(Isa.Vreduce.MAX, max).with(Isa.Vreduce.LANES, lanes)
            .with(Isa.Vreduce.ACCUMULATE, r.nextBoolean()).with(Isa.Vreduce.DST_ROW, dstRow)
            .with(Isa.Vreduce.VALID, lanes ? 1 + r.nextInt(d) : 0);
      }
      case VMAC -> {
        int n = Math.min(rows, ACC);
        in = in.with(Isa.Vmac.A_ROW, a).with(Isa.Vmac.ROWS, n)
            .with(Isa.Vmac.ACC_ROW, r.nextInt(ACC - n + 1)).with(Isa.Vmac.W_ROW, r.nextInt(WBUF))
            .with(Isa.Vmac.ACCUMULATE, r.nextBoolean());
      }
      case VSOFTMAX, VNORM -> {
        int groupRows = 1 + r.nextInt(4);
        int groups = 1 + r.nextInt(Math.max(1, Math.min(24, 127 / groupRows)));
        int all = groups * groupRows;
        int src = r.nextInt(128 - all + 1);
        int valid = 1 + r.nextInt(groupRows * d);
        if (op == Opcode.VSOFTMAX) {
          in = in.with(Isa.Vsoftmax.A_ROW, src).with(Isa.Vsoftmax.GROUPS, groups)
              .with(Isa.Vsoftmax.GROUP_ROWS, groupRows).with(Isa.Vsoftmax.VALID, valid)
              .with(Isa.Vsoftmax.DST_ROW, dst(r, src, all, ABUF))
              .with(Isa.Vsoftmax.TABLE, r.nextBoolean() ? 0 : r.nextInt(tables))
              .with(Isa.Vsoftmax.OUT_ZERO, r.nextInt(256) - 128)
              .with(Isa.Vsoftmax.SHIFT, 30 + r.nextInt(34))
              .with(Isa.Vsoftmax.MULT, r.nextInt(1 << 16));
        } else {
          long eps = switch (r.nextInt(3)) {
            case 0 -> 0;
            case 1 -> r.nextInt(1000);
            default -> r.nextLong() & 0xFFFF_FFFFL;
          };
          in = in.with(Isa.Vnorm.A_ROW, src).with(Isa.Vnorm.GROUPS, groups)
              .with(Isa.Vnorm.GROUP_ROWS, groupRows).with(Isa.Vnorm.VALID, valid)
              .with(Isa.Vnorm.DST_ROW, dst(r, src, all, ABUF))
              .with(Isa.Vnorm.PARAM_ROW, r.nextInt(ACC - 3 * groupRows + 1))
              .with(Isa.Vnorm.OUT_ZERO, r.nextInt(256) - 128).with(Isa.Vnorm.EPS, eps);
        }
      }
      case VTRANS -> {
        boolean toW = r.nextBoolean();
        int blocks = 1 + r.nextInt(toW ? WBUF / d : 4);
        int all = blocks * d;
        int src = r.nextInt(128 - all + 1);
        in = in.with(Isa.Vtrans.BUF, (toW ? Buffer.WBUF : Buffer.ABUF).id())
            .with(Isa.Vtrans.A_ROW, src).with(Isa.Vtrans.BLOCKS, blocks)
            .with(Isa.Vtrans.DST_ROW, toW ? r.nextInt(WBUF - all + 1) : dst(r, src, all, ABUF));
      }
      default -> throw new IllegalArgumentException(op + " is not the VECTOR unit's");
    }
    return in;
  }
}
