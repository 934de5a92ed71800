package dev.systole.driver.contract;

import java.util.ArrayList;
import java.util.List;

/**
 * Rows of one on-chip buffer that an instruction reads, writes or both: the one statement of what
 * each instruction touches, which the ordering check and the emulator's scheduler both use.
 *
 * @param read whether the rows are read (a write that accumulates reads them too)
 * @param write whether the rows are written
 * @param streamed a MATMUL's read of ABUF or WBUF, which ends when the array can take the next
 *     MATMUL; every other access ends at the instruction's completion
 */
public record RowAccess(Buffer buffer, long first, long count, boolean read, boolean write,
    boolean streamed) {
  static RowAccess read(Buffer b, long first, long count, boolean streamed) {
    return new RowAccess(b, first, count, true, false, streamed);
  }

  static RowAccess write(Buffer b, long first, long count, boolean alsoRead) {
    return new RowAccess(b, first, count, alsoRead, true, false);
  }

  /** Whether this access and {@code other} touch a common row of the same buffer. */
  public boolean overlaps(RowAccess other) {
    return buffer == other.buffer && first < other.first + other.count
        && other.first < first + count;
  }

  /** "reads", "writes" or "reads and writes", for messages. */
  public String verb() {
    return read && write ? "reads and writes" : write ? "writes" : "reads";
  }

  /**
   * The buffer rows {@code in} touches (CONTRACT.md 6), for a build of {@code p}; HBM bytes are
   * not buffer rows and are left to the caller.
   */
  public static List<RowAccess> of(Instruction in, DeviceParams p) {
    int d = p.lanes();
    List<RowAccess> out = new ArrayList<>(4);
    switch (in.opcode()) {
      case LOAD -> out.add(write(Buffer.fromId(in.get(Isa.Load.BUF)),
          in.get(Isa.Load.DST_ROW), InstructionCheck.rowsTouched(in, true), false));
      case STORE -> out.add(read(Buffer.fromId(in.get(Isa.Store.BUF)),
          in.get(Isa.Store.SRC_ROW), InstructionCheck.rowsTouched(in, false), false));
      case MATMUL -> {
        long rows = in.get(Isa.Matmul.ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Matmul.A_ROW), rows, true));
        if (in.flag(Isa.Matmul.W_LOAD)) {
          out.add(read(Buffer.WBUF, in.get(Isa.Matmul.W_ROW), d, true));
        }
        if (in.flag(Isa.Matmul.W_PRELOAD)) {
          out.add(read(Buffer.WBUF, in.get(Isa.Matmul.PRE_ROW), d, true));
        }
        out.add(write(Buffer.ACC, in.get(Isa.Matmul.ACC_ROW), rows,
            in.flag(Isa.Matmul.ACCUMULATE)));
      }
      case REQUANT -> {
        long rows = in.get(Isa.Requant.ROWS);
        out.add(read(Buffer.ACC, in.get(Isa.Requant.ACC_ROW), rows, false));
        out.add(read(Buffer.ACC, in.get(Isa.Requant.PARAM_ROW), 3, false));
        out.add(write(Buffer.ABUF, in.get(Isa.Requant.DST_ROW), rows, false));
      }
      case VMAX -> binary(out, in.get(Isa.Vmax.A_ROW), in.get(Isa.Vmax.B_ROW),
          in.get(Isa.Vmax.ROWS), in.get(Isa.Vmax.DST_ROW), in.get(Isa.Vmax.ROWS));
      case VADD -> binary(out, in.get(Isa.Vadd.A_ROW), in.get(Isa.Vadd.B_ROW),
          in.get(Isa.Vadd.ROWS), in.get(Isa.Vadd.DST_ROW), in.get(Isa.Vadd.ROWS));
      case FENCE, HALT -> { }
      case VLUT -> {
        long rows = in.get(Isa.Vlut.ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Vlut.A_ROW), rows, false));
        out.add(table(in.get(Isa.Vlut.TABLE), p));
        out.add(write(Buffer.ABUF, in.get(Isa.Vlut.DST_ROW), rows, false));
      }
      case VSCALE -> {
        long rows = in.get(Isa.Vscale.ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Vscale.A_ROW), rows, false));
        out.add(read(Buffer.ACC, in.get(Isa.Vscale.PARAM_ROW), 4, false));
        out.add(write(Buffer.ABUF, in.get(Isa.Vscale.DST_ROW), rows, false));
      }
      case VMUL -> {
        long rows = in.get(Isa.Vmul.ROWS);
        binary(out, in.get(Isa.Vmul.A_ROW), in.get(Isa.Vmul.B_ROW),
            in.flag(Isa.Vmul.B_BCAST) ? 1 : rows, in.get(Isa.Vmul.DST_ROW), rows);
      }
      case VREDUCE -> {
        long rows = in.get(Isa.Vreduce.ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Vreduce.A_ROW), rows, false));
        out.add(write(in.flag(Isa.Vreduce.MAX) ? Buffer.ABUF : Buffer.ACC,
            in.get(Isa.Vreduce.DST_ROW), in.flag(Isa.Vreduce.LANES) ? rows : 1,
            in.flag(Isa.Vreduce.ACCUMULATE)));
      }
      case VMAC -> {
        long rows = in.get(Isa.Vmac.ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Vmac.A_ROW), rows, false));
        out.add(read(Buffer.WBUF, in.get(Isa.Vmac.W_ROW), 1, false));
        out.add(write(Buffer.ACC, in.get(Isa.Vmac.ACC_ROW), rows,
            in.flag(Isa.Vmac.ACCUMULATE)));
      }
      case VSOFTMAX -> {
        long rows = in.get(Isa.Vsoftmax.GROUPS) * in.get(Isa.Vsoftmax.GROUP_ROWS);
        out.add(read(Buffer.ABUF, in.get(Isa.Vsoftmax.A_ROW), rows, false));
        out.add(table(in.get(Isa.Vsoftmax.TABLE), p));
        out.add(write(Buffer.ABUF, in.get(Isa.Vsoftmax.DST_ROW), rows, false));
      }
      case VNORM -> {
        long groupRows = in.get(Isa.Vnorm.GROUP_ROWS);
        long rows = in.get(Isa.Vnorm.GROUPS) * groupRows;
        out.add(read(Buffer.ABUF, in.get(Isa.Vnorm.A_ROW), rows, false));
        out.add(read(Buffer.ACC, in.get(Isa.Vnorm.PARAM_ROW), 3 * groupRows, false));
        out.add(write(Buffer.ABUF, in.get(Isa.Vnorm.DST_ROW), rows, false));
      }
      case VTRANS -> {
        long rows = in.get(Isa.Vtrans.BLOCKS) * d;
        out.add(read(Buffer.ABUF, in.get(Isa.Vtrans.A_ROW), rows, false));
        out.add(write(Buffer.fromId(in.get(Isa.Vtrans.BUF)),
            in.get(Isa.Vtrans.DST_ROW), rows, false));
      }
    }
    return out;
  }

  /** Two ABUF sources and an ABUF destination, as VMAX, VADD and VMUL have. */
  private static void binary(List<RowAccess> out, long a, long b, long bRows, long dst,
      long rows) {
    out.add(read(Buffer.ABUF, a, rows, false));
    out.add(read(Buffer.ABUF, b, bRows, false));
    out.add(write(Buffer.ABUF, dst, rows, false));
  }

  /** The LUT rows of table {@code t}. */
  private static RowAccess table(long t, DeviceParams p) {
    return read(Buffer.LUT, t * p.tableRows(), p.tableRows(), false);
  }
}
