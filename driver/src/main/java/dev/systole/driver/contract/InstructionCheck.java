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
    if (op.requires() != null && p.get(op.requires()) == 0) {
      return new Violation(ErrorCode.BAD_OPCODE, String.format(
          "opcode 0x%02x (%s) needs a build with %s = 1 (this device has %s = 0)",
          in.opcodeValue(), op, op.requires(), op.requires()));
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
      case VLUT -> vlut(in, p);
      case VSCALE -> unary(in, p, Isa.Vscale.A_ROW, Isa.Vscale.DST_ROW, Isa.Vscale.ROWS,
          Buffer.ACC, Isa.Vscale.PARAM_ROW, 4);
      case VMUL -> vmul(in, p);
      case VREDUCE -> vreduce(in, p);
      case VMAC -> vmac(in, p);
      case VSOFTMAX -> grouped(in, p, Isa.Vsoftmax.A_ROW, Isa.Vsoftmax.DST_ROW,
          Isa.Vsoftmax.GROUPS, Isa.Vsoftmax.GROUP_ROWS, Isa.Vsoftmax.VALID);
      case VNORM -> grouped(in, p, Isa.Vnorm.A_ROW, Isa.Vnorm.DST_ROW, Isa.Vnorm.GROUPS,
          Isa.Vnorm.GROUP_ROWS, Isa.Vnorm.VALID);
      case VTRANS -> vtrans(in, p);
    };
  }

  /** The buffer a buffer field names on a device with {@code p}, or null if it has none. */
  public static Buffer buffer(long id, DeviceParams p) {
    Buffer b = Buffer.fromId(id);
    return b == null || b.requires() != null && p.get(b.requires()) == 0 ? null : b;
  }

  private static String bufferNames(DeviceParams p) {
    StringBuilder sb = new StringBuilder();
    for (Buffer b : Buffer.values()) {
      if (buffer(b.id(), p) != null) {
        sb.append(sb.length() == 0 ? "" : ", ").append(b);
      }
    }
    return sb.toString();
  }

  private static Violation vlut(Instruction in, DeviceParams p) {
    Violation v = unary(in, p, Isa.Vlut.A_ROW, Isa.Vlut.DST_ROW, Isa.Vlut.ROWS, null, null, 0);
    if (v == null) {
      v = range("VLUT table " + in.get(Isa.Vlut.TABLE), Buffer.LUT,
          in.get(Isa.Vlut.TABLE) * p.tableRows(), p.tableRows(), p);
    }
    return v;
  }

  /**
   * An instruction that maps a run of ABUF rows to a run of the same length, optionally with
   * {@code paramRows} parameter rows in {@code paramBuf}.
   */
  private static Violation unary(Instruction in, DeviceParams p, InstrField aF, InstrField dF,
      InstrField rowsF, Buffer paramBuf, InstrField paramF, int paramRows) {
    String name = in.opcode().name();
    long rows = in.get(rowsF);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, name + " rows=0 (expected >= 1)");
    }
    long a = in.get(aF);
    long d = in.get(dF);
    Violation v = overlap(name, a, rows, d, rows);
    if (v == null) {
      v = range(name, Buffer.ABUF, a, rows, p);
    }
    if (v == null) {
      v = range(name, Buffer.ABUF, d, rows, p);
    }
    if (v == null && paramBuf != null) {
      v = range(name + " parameters", paramBuf, in.get(paramF), paramRows, p);
    }
    return v;
  }

  private static Violation vmul(Instruction in, DeviceParams p) {
    long rows = in.get(Isa.Vmul.ROWS);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "VMUL rows=0 (expected >= 1)");
    }
    long a = in.get(Isa.Vmul.A_ROW);
    long b = in.get(Isa.Vmul.B_ROW);
    long d = in.get(Isa.Vmul.DST_ROW);
    long bRows = in.flag(Isa.Vmul.B_BCAST) ? 1 : rows;
    Violation v = overlap("VMUL", a, rows, d, rows);
    if (v == null) {
      v = overlap("VMUL", b, bRows, d, rows);
    }
    if (v == null) {
      v = range("VMUL", Buffer.ABUF, a, rows, p);
    }
    if (v == null) {
      v = range("VMUL", Buffer.ABUF, b, bRows, p);
    }
    if (v == null) {
      v = range("VMUL", Buffer.ABUF, d, rows, p);
    }
    return v;
  }

  private static Violation vreduce(Instruction in, DeviceParams p) {
    long rows = in.get(Isa.Vreduce.ROWS);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "VREDUCE rows=0 (expected >= 1)");
    }
    boolean lanes = in.flag(Isa.Vreduce.LANES);
    boolean max = in.flag(Isa.Vreduce.MAX);
    long valid = in.get(Isa.Vreduce.VALID);
    if (lanes && (valid < 1 || valid > p.lanes())) {
      return new Violation(ErrorCode.BAD_FIELD, "VREDUCE lanes valid=" + valid
          + " (expected 1 to " + p.lanes() + ")");
    }
    if (!lanes && valid != 0) {
      return new Violation(ErrorCode.BAD_FIELD, "VREDUCE down the rows has valid=" + valid
          + " (expected 0: valid counts lanes only with the lanes flag)");
    }
    long a = in.get(Isa.Vreduce.A_ROW);
    long d = in.get(Isa.Vreduce.DST_ROW);
    long dRows = lanes ? rows : 1;
    Violation v = max ? overlap("VREDUCE", a, rows, d, dRows) : null;
    if (v == null) {
      v = range("VREDUCE", Buffer.ABUF, a, rows, p);
    }
    if (v == null) {
      v = range("VREDUCE", max ? Buffer.ABUF : Buffer.ACC, d, dRows, p);
    }
    return v;
  }

  private static Violation vmac(Instruction in, DeviceParams p) {
    long rows = in.get(Isa.Vmac.ROWS);
    if (rows == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "VMAC rows=0 (expected >= 1)");
    }
    Violation v = range("VMAC", Buffer.ABUF, in.get(Isa.Vmac.A_ROW), rows, p);
    if (v == null) {
      v = range("VMAC", Buffer.ACC, in.get(Isa.Vmac.ACC_ROW), rows, p);
    }
    if (v == null) {
      v = range("VMAC weights", Buffer.WBUF, in.get(Isa.Vmac.W_ROW), 1, p);
    }
    return v;
  }

  private static Violation grouped(Instruction in, DeviceParams p, InstrField aF,
      InstrField dF, InstrField groupsF, InstrField groupRowsF, InstrField validF) {
    String name = in.opcode().name();
    long groups = in.get(groupsF);
    long groupRows = in.get(groupRowsF);
    long valid = in.get(validF);
    if (groups == 0 || groupRows == 0 || valid == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, String.format(
          "%s groups=%d group_rows=%d valid=%d (expected all >= 1)", name, groups, groupRows,
          valid));
    }
    if (valid > groupRows * p.lanes()) {
      return new Violation(ErrorCode.BAD_FIELD, String.format(
          "%s valid=%d is more lanes than a group of %d rows holds (expected 1 to %d)", name,
          valid, groupRows, groupRows * p.lanes()));
    }
    long rows = groups * groupRows;
    long a = in.get(aF);
    long d = in.get(dF);
    Violation v = overlap(name, a, rows, d, rows);
    if (v == null) {
      v = range(name, Buffer.ABUF, a, rows, p);
    }
    if (v == null) {
      v = range(name, Buffer.ABUF, d, rows, p);
    }
    if (v == null && in.opcode() == Opcode.VSOFTMAX) {
      v = range("VSOFTMAX table " + in.get(Isa.Vsoftmax.TABLE), Buffer.LUT,
          in.get(Isa.Vsoftmax.TABLE) * p.tableRows(), p.tableRows(), p);
    }
    if (v == null && in.opcode() == Opcode.VNORM) {
      v = range("VNORM parameters", Buffer.ACC, in.get(Isa.Vnorm.PARAM_ROW), 3 * groupRows, p);
    }
    return v;
  }

  private static Violation vtrans(Instruction in, DeviceParams p) {
    Buffer buf = buffer(in.get(Isa.Vtrans.BUF), p);
    if (buf != Buffer.ABUF && buf != Buffer.WBUF) {
      return new Violation(ErrorCode.BAD_FIELD, "VTRANS buf=" + in.get(Isa.Vtrans.BUF)
          + " (expected ABUF or WBUF)");
    }
    long blocks = in.get(Isa.Vtrans.BLOCKS);
    if (blocks == 0) {
      return new Violation(ErrorCode.ZERO_LENGTH, "VTRANS blocks=0 (expected >= 1)");
    }
    long rows = blocks * p.lanes();
    long a = in.get(Isa.Vtrans.A_ROW);
    long d = in.get(Isa.Vtrans.DST_ROW);
    Violation v = buf == Buffer.ABUF ? overlap("VTRANS", a, rows, d, rows) : null;
    if (v == null) {
      v = range("VTRANS", Buffer.ABUF, a, rows, p);
    }
    if (v == null) {
      v = range("VTRANS", buf, d, rows, p);
    }
    return v;
  }

  /**
   * Destination rows must be the source rows exactly or share none with them, so the result
   * does not depend on the order lanes are computed in.
   */
  private static Violation overlap(String name, long src, long srcRows, long dst, long dstRows) {
    boolean same = src == dst && srcRows == dstRows;
    if (!same && src < dst + dstRows && dst < src + srcRows) {
      return new Violation(ErrorCode.BAD_FIELD, String.format(
          "%s destination rows %d..%d partly overlap source rows %d..%d (expected the same"
              + " rows or none in common)", name, dst, dst + dstRows - 1, src,
          src + srcRows - 1));
    }
    return null;
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
    Buffer buf = buffer(in.get(bufF), p);
    long elem = in.get(elemF);
    if (buf == null) {
      return new Violation(ErrorCode.BAD_FIELD, name + " buf=" + in.get(bufF)
          + " names no buffer of this device (expected one of " + bufferNames(p) + ")");
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
