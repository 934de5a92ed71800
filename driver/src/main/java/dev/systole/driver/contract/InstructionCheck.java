package dev.systole.driver.contract;

/**
 * The static checks the contract puts on every instruction, in the order the contract gives, so
 * the first failing check decides the error code on every implementation. The emulator uses this
 * to stop a bad program; the host uses it to explain, in words, an error a device reported by code.
 * The one dynamic check (NO_WEIGHTS: is there a tile in the array) needs the array's state and is
 * left to the executor.
 */
public final class InstructionCheck {
  private InstructionCheck() {}

  /** Why an instruction is illegal: the code the device reports and a sentence for a person. */
  public record Violation(ErrorCode code, String reason) {
    @Override
    public String toString() {
      return code + ": " + reason;
    }
  }

  /** The first violated check, or null if the instruction is legal for a device with {@code p}. */
  public static Violation check(Instruction in, DeviceParams p) {
    Opcode op = in.opcode();
    if (op == null) {
      return new Violation(ErrorCode.BAD_OPCODE,
          String.format("opcode 0x%02x names no instruction", in.opcodeValue()));
    }
    if (in.hasReservedBits()) {
      StringBuilder bits = new StringBuilder();
      for (int w = 0; w < Instruction.WORDS; w++) {
        long set = in.reservedBitsSet(w);
        for (int b = 0; b < 64 && bits.length() < 60; b++) {
          if ((set & (1L << b)) != 0) {
            bits.append(bits.length() == 0 ? "" : ", ").append(64 * w + b);
          }
        }
      }
      return new Violation(ErrorCode.RESERVED_BITS,
          op + " has reserved bits set (bits " + bits + "); they must be 0");
    }
    return switch (op) {
      case LOAD -> transfer(in, p, true);
      case STORE -> transfer(in, p, false);
      case MATMUL -> matmul(in, p);
      case REQUANT -> requant(in, p);
      case VMAX -> vector(in, p, Isa.Vmax.A_ROW, Isa.Vmax.B_ROW, Isa.Vmax.DST_ROW,
          Isa.Vmax.ROWS);
      case VADD -> vector(in, p, Isa.Vadd.A_ROW, Isa.Vadd.B_ROW, Isa.Vadd.DST_ROW,
          Isa.Vadd.ROWS);
      case FENCE, HALT -> null;
    };
  }

  private static Violation transfer(Instruction in, DeviceParams p, boolean load) {
    InstrField bufF = load ? Isa.Load.BUF : Isa.Store.BUF;
    InstrField elemF = load ? Isa.Load.ELEM_BYTES : Isa.Store.ELEM_BYTES;
    InstrField rowF = load ? Isa.Load.DST_ROW : Isa.Store.SRC_ROW;
    InstrField addrF = load ? Isa.Load.HBM_ADDR : Isa.Store.HBM_ADDR;
    InstrField xsF = load ? Isa.Load.X_SIZE : Isa.Store.X_SIZE;
    InstrField ysF = load ? Isa.Load.Y_SIZE : Isa.Store.Y_SIZE;
    InstrField xstF = load ? Isa.Load.X_STRIDE : Isa.Store.X_STRIDE;
    InstrField ystF = load ? Isa.Load.Y_STRIDE : Isa.Store.Y_STRIDE;
    String name = load ? "LOAD" : "STORE";
    Buffer buf = Buffer.fromId(in.get(bufF));
    long elem = in.get(elemF);
    if (buf == null) {
      return new Violation(ErrorCode.BAD_FIELD,
          name + " buf=" + in.get(bufF) + " names no buffer (expected ABUF, WBUF or ACC)");
    }
    if (buf.laneBytes() > 1 && elem % buf.laneBytes() != 0) {
      return new Violation(ErrorCode.BAD_FIELD, name + " elem_bytes=" + elem + " is not whole "
          + buf + " lanes (expected a multiple of " + buf.laneBytes() + ")");
    }
    long xs = in.get(xsF);
    long ys = in.get(ysF);
    if (elem == 0 || xs == 0 || ys == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, String.format(
          "%s moves nothing: elem_bytes=%d x_size=%d y_size=%d (expected all >= 1)", name, elem,
          xs, ys));
    }
    int rowBytes = p.rowBytes(buf);
    if (elem > rowBytes) {
      return new Violation(ErrorCode.OVERSIZED, String.format(
          "%s elem_bytes=%d is larger than one %s row (expected 1 to %d)", name, elem, buf,
          rowBytes));
    }
    long rows = rowsTouched(in, load);
    long first = in.get(rowF);
    if (first + rows > p.rows(buf)) {
      return new Violation(ErrorCode.BUF_RANGE, String.format(
          "%s touches %s rows %d..%d (expected within 0..%d)", name, buf, first,
          first + rows - 1, p.rows(buf) - 1));
    }
    long addr = in.get(addrF);
    long end = addr + (ys - 1) * in.get(ystF) + (xs - 1) * in.get(xstF) + elem;
    if (end > p.hbmBytes()) {
      return new Violation(ErrorCode.HBM_RANGE, String.format(
          "%s touches HBM bytes 0x%x..0x%x (expected below 0x%x, the HBM size)", name, addr,
          end - 1, p.hbmBytes()));
    }
    return null;
  }

  /** Buffer rows a LOAD writes (padding included) or a STORE reads. */
  public static long rowsTouched(Instruction in, boolean load) {
    if (load) {
      long w = in.get(Isa.Load.X_PAD0) + in.get(Isa.Load.X_SIZE) + in.get(Isa.Load.X_PAD1);
      long h = in.get(Isa.Load.Y_PAD0) + in.get(Isa.Load.Y_SIZE) + in.get(Isa.Load.Y_PAD1);
      return w * h;
    }
    return in.get(Isa.Store.X_SIZE) * in.get(Isa.Store.Y_SIZE);
  }

  private static Violation matmul(Instruction in, DeviceParams p) {
    if (in.flag(Isa.Matmul.W_LOAD) && in.flag(Isa.Matmul.W_SWAP)) {
      return new Violation(ErrorCode.BAD_FIELD,
          "MATMUL sets both w_load and w_swap (expected at most one)");
    }
    long rows = in.get(Isa.Matmul.ROWS);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "MATMUL rows=0 (expected >= 1)");
    }
    Violation v = range("MATMUL", Buffer.ABUF, in.get(Isa.Matmul.A_ROW), rows, p);
    if (v == null) {
      v = range("MATMUL", Buffer.ACC, in.get(Isa.Matmul.ACC_ROW), rows, p);
    }
    if (v == null && in.flag(Isa.Matmul.W_LOAD)) {
      v = range("MATMUL w_load", Buffer.WBUF, in.get(Isa.Matmul.W_ROW), p.arrayRows(), p);
    }
    if (v == null && in.flag(Isa.Matmul.W_PRELOAD)) {
      v = range("MATMUL w_preload", Buffer.WBUF, in.get(Isa.Matmul.PRE_ROW), p.arrayRows(), p);
    }
    return v;
  }

  private static Violation requant(Instruction in, DeviceParams p) {
    long rows = in.get(Isa.Requant.ROWS);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "REQUANT rows=0 (expected >= 1)");
    }
    Violation v = range("REQUANT", Buffer.ACC, in.get(Isa.Requant.ACC_ROW), rows, p);
    if (v == null) {
      v = range("REQUANT parameters", Buffer.ACC, in.get(Isa.Requant.PARAM_ROW), 3, p);
    }
    if (v == null) {
      v = range("REQUANT", Buffer.ABUF, in.get(Isa.Requant.DST_ROW), rows, p);
    }
    return v;
  }

  private static Violation vector(Instruction in, DeviceParams p, InstrField aF, InstrField bF,
      InstrField dF, InstrField rowsF) {
    String name = in.opcode().name();
    long rows = in.get(rowsF);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, name + " rows=0 (expected >= 1)");
    }
    long a = in.get(aF);
    long b = in.get(bF);
    long d = in.get(dF);
    for (long src : new long[] {a, b}) {
      if (src != d && src < d + rows && d < src + rows) {
        return new Violation(ErrorCode.BAD_FIELD, String.format(
            "%s destination rows %d..%d partly overlap source rows %d..%d (expected the same"
                + " rows or none in common)", name, d, d + rows - 1, src, src + rows - 1));
      }
    }
    Violation v = range(name, Buffer.ABUF, a, rows, p);
    if (v == null) {
      v = range(name, Buffer.ABUF, b, rows, p);
    }
    if (v == null) {
      v = range(name, Buffer.ABUF, d, rows, p);
    }
    return v;
  }

  private static Violation range(String what, Buffer buf, long first, long rows,
      DeviceParams p) {
    if (first + rows > p.rows(buf)) {
      return new Violation(ErrorCode.BUF_RANGE, String.format(
          "%s touches %s rows %d..%d (expected within 0..%d)", what, buf, first, first + rows - 1,
          p.rows(buf) - 1));
    }
    return null;
  }
}
