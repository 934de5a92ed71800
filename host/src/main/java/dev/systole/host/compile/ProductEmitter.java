package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import java.util.List;

/**
 * Emits a {@link ProductLayer}, CONTRACT.md 11.9: for each matrix of the batch and each block of
 * its rows, the rows of A are loaded into ABUF by K chunk (one LOAD with A's row stride), then
 * for each block of D columns of B its weight tiles are made (one LOAD of B's rows straight into
 * WBUF, or, for a transposed B, one LOAD of its columns into ABUF and one VTRANS into WBUF), a
 * MATMUL per K chunk accumulates, REQUANT brings the block to int8 and a STORE writes it with
 * C's row stride. Rows past K and columns past N of each tile are zero, loaded as padding.
 *
 * <p>The requantization's three parameter rows go into ACC once; the accumulators follow them.
 * Each step waits for the unit whose rows it reuses (a LOAD for the MATMULs and VTRANS that
 * read what it wrote, and VECTOR for the MATMULs that read VTRANS's tiles; EXEC and VECTOR
 * before a LOAD overwrites rows the array or the lanes may still read; EXEC for the REQUANT of
 * what the MATMULs summed, and STORE before it overwrites the rows being stored): the product is a small part of a transformer's
 * work next to its projections, so it is kept simple rather than overlapped.
 */
final class ProductEmitter {
  /** Waits for the array and the vector lanes, before a LOAD overwrites rows either reads. */
  private static final int ARRAY_AND_LANES = Unit.EXEC.waitMask() | Unit.VECTOR.waitMask();

  private ProductEmitter() {}

  /** Card bytes of the requantization rows: bias 0, the multiplier and the shift in every lane. */
  static byte[] constants(ProductLayer l, int d) {
    byte[] b = new byte[3 * 4 * d];
    for (int j = 0; j < d; j++) {
      putInt(b, 4 * (d + j), l.multiplier());
      putInt(b, 4 * (2 * d + j), l.shift());
    }
    return b;
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >>> 8);
    b[at + 2] = (byte) (v >>> 16);
    b[at + 3] = (byte) (v >>> 24);
  }

  static void emit(List<Instruction> out, DeviceParams p, DeviceGraph.Node node, int batch,
      long a, long b, long c, long constants) {
    ProductLayer l = (ProductLayer) node.layer();
    if (batch != l.rows()) {
      throw new IllegalArgumentException("product '" + node.name() + "' was made for "
          + l.rows() + " rows (a whole sequence), not " + batch + " (expected the same)");
    }
    int d = p.lanes();
    int kcs = WeightLayout.chunks(l.k(), d);
    int full = l.k() / d;
    int tail = l.k() % d;
    if (kcs * d > p.wbufRows() || kcs > 65535) {
      throw new IllegalArgumentException("product '" + node.name() + "': K = " + l.k()
          + " needs " + kcs * d + " WBUF rows but the device has " + p.wbufRows()
          + " (expected K at most " + p.wbufRows() + ")");
    }
    int staging = kcs * d;
    int mb = Math.min(l.m(), Math.min((p.abufRows() - staging) / (kcs + 1), p.accRows() - 3));
    if (mb < 1) {
      throw new IllegalArgumentException("product '" + node.name() + "': K = " + l.k()
          + " leaves no ABUF rows for A (expected K at most about " + p.abufRows() * d / 2
          + ")");
    }
    int aRows = 0;
    int stageRow = kcs * mb;
    int outRow = stageRow + staging;
    int accRow = 3;
    long[] aBase = l.aBase();
    long[] bBase = l.bBase();
    long[] cBase = l.cBase();
    out.add(Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.ACC.id())
        .with(Isa.Load.ELEM_BYTES, 4 * d)
        .with(Isa.Load.HBM_ADDR, constants)
        .with(Isa.Load.X_SIZE, 3)
        .with(Isa.Load.Y_SIZE, 1)
        .with(Isa.Load.X_STRIDE, 4 * d));
    boolean first = true;
    for (int g = 0; g < l.batches(); g++) {
      for (int m0 = 0; m0 < l.m(); m0 += mb) {
        int rows = Math.min(mb, l.m() - m0);
        long at = a + aBase[g] + m0 * l.aRow();
        // A chunk kc of row i into ABUF row kc * rows + i.
        if (full > 0) {
          out.add(wait(load(Buffer.ABUF, aRows, d, at, rows, l.aRow(), full, d, 0),
              first ? 0 : ARRAY_AND_LANES));
        }
        if (tail > 0) {
          out.add(wait(load(Buffer.ABUF, aRows + full * rows, tail, at + (long) full * d,
              rows, l.aRow(), 1, 0, 0), first && full == 0 ? 0 : ARRAY_AND_LANES));
        }
        for (int nb = 0; nb * d < l.n(); nb++) {
          int nw = Math.min(d, l.n() - nb * d);
          long bAt = b + bBase[g] + (long) nb * d * l.bN();
          if (l.bN() == 1) {
            // B row k (kc * D + r) into WBUF row k, columns past N and rows past K zero.
            out.add(wait(load(Buffer.WBUF, 0, nw, bAt, l.k(), l.bK(), 1, 0, kcs * d - l.k()),
                ARRAY_AND_LANES));
          } else {
            // B column j of chunk kc into ABUF row kc * D + j, then each block transposed.
            if (full > 0) {
              out.add(wait(load(Buffer.ABUF, stageRow, d, bAt, nw, l.bN(), full, d, d - nw),
                  ARRAY_AND_LANES));
            }
            if (tail > 0) {
              out.add(wait(load(Buffer.ABUF, stageRow + full * d, tail, bAt + (long) full * d,
                  nw, l.bN(), 1, 0, d - nw), ARRAY_AND_LANES));
            }
            out.add(Instruction.of(Opcode.VTRANS)
                .with(Isa.WAIT, Unit.LOAD.waitMask())
                .with(Isa.Vtrans.BUF, Buffer.WBUF.id())
                .with(Isa.Vtrans.A_ROW, stageRow)
                .with(Isa.Vtrans.DST_ROW, 0)
                .with(Isa.Vtrans.BLOCKS, kcs));
          }
          for (int kc = 0; kc < kcs; kc++) {
            out.add(Instruction.of(Opcode.MATMUL)
                .with(Isa.WAIT, kc == 0 ? Unit.LOAD.waitMask() | Unit.VECTOR.waitMask() : 0)
                .with(Isa.Matmul.ACCUMULATE, kc > 0 ? 1 : 0)
                .with(Isa.Matmul.W_LOAD, 1)
                .with(Isa.Matmul.W_ROW, kc * d)
                .with(Isa.Matmul.A_ROW, aRows + kc * rows)
                .with(Isa.Matmul.ACC_ROW, accRow)
                .with(Isa.Matmul.ROWS, rows));
          }
          out.add(Instruction.of(Opcode.REQUANT)
              .with(Isa.WAIT, Unit.STORE.waitMask() | Unit.EXEC.waitMask())
              .with(Isa.Requant.ACC_ROW, accRow)
              .with(Isa.Requant.DST_ROW, outRow)
              .with(Isa.Requant.ROWS, rows)
              .with(Isa.Requant.PARAM_ROW, 0)
              .with(Isa.Requant.ZERO_POINT, l.zeroPoint()));
          out.add(Instruction.of(Opcode.STORE)
              .with(Isa.WAIT, Unit.VECTOR.waitMask())
              .with(Isa.Store.BUF, Buffer.ABUF.id())
              .with(Isa.Store.SRC_ROW, outRow)
              .with(Isa.Store.ELEM_BYTES, nw)
              .with(Isa.Store.HBM_ADDR, c + cBase[g] + m0 * l.cRow() + (long) nb * d)
              .with(Isa.Store.X_SIZE, rows)
              .with(Isa.Store.Y_SIZE, 1)
              .with(Isa.Store.X_STRIDE, l.cRow()));
          first = false;
        }
      }
    }
  }

  /**
   * A LOAD into {@code buf} from {@code row}: {@code count} runs {@code runStride} apart, each
   * of {@code xSize} elements of {@code elem} bytes {@code xStride} apart followed by
   * {@code pad} elements of zeros.
   */
  private static Instruction load(Buffer buf, int row, int elem, long addr, int xSize,
      long xStride, int count, long runStride, int pad) {
    return Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, buf.id())
        .with(Isa.Load.DST_ROW, row)
        .with(Isa.Load.ELEM_BYTES, elem)
        .with(Isa.Load.HBM_ADDR, addr)
        .with(Isa.Load.X_SIZE, xSize)
        .with(Isa.Load.Y_SIZE, count)
        .with(Isa.Load.X_STRIDE, xStride)
        .with(Isa.Load.Y_STRIDE, runStride)
        .with(Isa.Load.X_PAD1, pad)
        .with(Isa.Load.PAD_VALUE, 0);
  }

  private static Instruction wait(Instruction in, long mask) {
    return in.with(Isa.WAIT, in.waitMask() | mask);
  }
}
