package dev.systole.driver.emulator;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.RowAccess;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What one step of a decoded program touches, compactly, so that the decoder can tell cheaply
 * whether two steps may run in either order (a chain moved up to pair with the one before it,
 * {@code DecodedProgram.pairs}): buffer rows as merged ranges
 * (read or written), and the span of HBM bytes a LOAD reads or a STORE writes (the span from the
 * first byte to the last, a safe over-estimate of a strided transfer).
 */
final class StepAccess {
  private final int[] buffer;
  private final int[] first;
  private final int[] end;
  private final boolean[] write;
  private final long hbmLo;
  private final long hbmHi;
  private final boolean hbmWrite;

  private StepAccess(List<RowAccess> rows, long hbmLo, long hbmHi, boolean hbmWrite) {
    List<RowAccess> merged = merge(rows);
    int n = merged.size();
    buffer = new int[n];
    first = new int[n];
    end = new int[n];
    write = new boolean[n];
    for (int i = 0; i < n; i++) {
      RowAccess a = merged.get(i);
      buffer[i] = a.buffer().ordinal();
      first[i] = (int) a.first();
      end[i] = (int) (a.first() + a.count());
      write[i] = a.write();
    }
    this.hbmLo = hbmLo;
    this.hbmHi = hbmHi;
    this.hbmWrite = hbmWrite;
  }

  /** The access of one instruction: its buffer rows and, for LOAD and STORE, its HBM bytes. */
  static StepAccess of(Instruction in, List<RowAccess> rows) {
    Opcode op = in.opcode();
    if (op == Opcode.LOAD) {
      return new StepAccess(rows, in.get(Isa.Load.HBM_ADDR), end(in.get(Isa.Load.HBM_ADDR),
          in.get(Isa.Load.ELEM_BYTES), in.get(Isa.Load.X_SIZE), in.get(Isa.Load.Y_SIZE),
          in.get(Isa.Load.X_STRIDE), in.get(Isa.Load.Y_STRIDE)), false);
    }
    if (op == Opcode.STORE) {
      return new StepAccess(rows, in.get(Isa.Store.HBM_ADDR), end(in.get(Isa.Store.HBM_ADDR),
          in.get(Isa.Store.ELEM_BYTES), in.get(Isa.Store.X_SIZE), in.get(Isa.Store.Y_SIZE),
          in.get(Isa.Store.X_STRIDE), in.get(Isa.Store.Y_STRIDE)), true);
    }
    return new StepAccess(rows, 0, 0, false);
  }

  /** The access of a chain of MATMULs: the rows its members read and the rows it accumulates. */
  static StepAccess ofChain(List<RowAccess> rows) {
    return new StepAccess(rows, 0, 0, false);
  }

  /**
   * What two steps touch together, for a step that runs both (two chains, {@link
   * DecodedProgram.Step#pair}, or a run of LOADs, {@link DecodedProgram.Step#run}): their rows,
   * and the span of HBM bytes from the lowest of theirs to the highest.
   */
  static StepAccess union(StepAccess a, StepAccess b) {
    List<RowAccess> rows = new ArrayList<>();
    for (StepAccess s : List.of(a, b)) {
      for (int i = 0; i < s.buffer.length; i++) {
        rows.add(new RowAccess(Buffer.values()[s.buffer[i]], s.first[i], s.end[i] - s.first[i],
            true, s.write[i], false));
      }
    }
    boolean none = a.hbmHi <= a.hbmLo;
    boolean noneB = b.hbmHi <= b.hbmLo;
    long lo = none ? b.hbmLo : noneB ? a.hbmLo : Math.min(a.hbmLo, b.hbmLo);
    long hi = none ? b.hbmHi : noneB ? a.hbmHi : Math.max(a.hbmHi, b.hbmHi);
    return new StepAccess(rows, lo, hi, a.hbmWrite || b.hbmWrite);
  }

  private static long end(long addr, long elem, long xSize, long ySize, long xStride,
      long yStride) {
    return addr + (ySize - 1) * yStride + (xSize - 1) * xStride + elem;
  }

  /**
   * Whether this step and {@code other} touch a row or HBM byte in common and one of them writes
   * it, so that they must run in program order.
   */
  boolean conflicts(StepAccess other) {
    if (hbmHi > hbmLo && other.hbmHi > other.hbmLo && (hbmWrite || other.hbmWrite)
        && hbmLo < other.hbmHi && other.hbmLo < hbmHi) {
      return true;
    }
    for (int i = 0; i < buffer.length; i++) {
      for (int j = 0; j < other.buffer.length; j++) {
        if (buffer[i] == other.buffer[j] && (write[i] || other.write[j])
            && first[i] < other.end[j] && other.first[j] < end[i]) {
          return true;
        }
      }
    }
    return false;
  }

  /** Reads and writes of each buffer as few ranges as cover them (a write that also reads is a write). */
  private static List<RowAccess> merge(List<RowAccess> rows) {
    List<RowAccess> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparingInt((RowAccess a) -> a.buffer().ordinal())
        .thenComparing(RowAccess::write).thenComparingLong(RowAccess::first));
    List<RowAccess> out = new ArrayList<>();
    for (RowAccess a : sorted) {
      if (a.count() == 0) {
        continue;
      }
      RowAccess last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.buffer() == a.buffer() && last.write() == a.write()
          && a.first() <= last.first() + last.count()) {
        long to = Math.max(last.first() + last.count(), a.first() + a.count());
        out.set(out.size() - 1, new RowAccess(a.buffer(), last.first(), to - last.first(),
            true, a.write(), false));
      } else {
        out.add(a);
      }
    }
    return out;
  }
}
