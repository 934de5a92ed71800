package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import java.util.ArrayList;
import java.util.List;

/**
 * Activations that are a row-major int8 matrix {@code [m][k]} in card memory: a GEMM's input, and
 * also an NHWC feature map seen as {@code [N*H*W][C]} (a 1x1 convolution) or {@code [N][H*W*C]}
 * (a flattened one). Chunk c of a block is one strided LOAD of D bytes per row; a partial last
 * chunk is padded with zeros, which meet zero weights.
 */
final class RowMajorActivations implements Activations {
  private final long x;
  private final int m;
  private final int k;
  private final int d;

  RowMajorActivations(long x, int m, int k, int d) {
    this.x = x;
    this.m = m;
    this.k = k;
    this.d = d;
  }

  @Override
  public int rows() {
    return m;
  }

  @Override
  public int chunks() {
    return WeightLayout.chunks(k, d);
  }

  @Override
  public List<Block> blocks(int maxRows) {
    List<Block> blocks = new ArrayList<>();
    for (int m0 = 0; m0 < m; m0 += maxRows) {
      blocks.add(new Block(m0, Math.min(maxRows, m - m0)));
    }
    return blocks;
  }

  /**
   * The rows in {@code count} blocks of sizes as equal as can be: 49 rows in two blocks are 25
   * and 24, not 48 and 1. Each MATMUL streams a block's rows through a weight tile and holds the
   * array at least D cycles to preload the next, so a block of a few rows would cost D cycles
   * per tile for almost no work.
   */
  List<Block> evenBlocks(int count) {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0, m0 = 0; i < count; i++) {
      int rows = m / count + (i < m % count ? 1 : 0);
      blocks.add(new Block(m0, rows));
      m0 += rows;
    }
    return blocks;
  }

  @Override
  public void load(Block b, int from, int to, int dstRow, List<Instruction> into) {
    int full = Math.min(to, k / d);
    long rowAddr = x + (long) b.m0() * k;
    if (full > from) {
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, dstRow)
          .with(Isa.Load.ELEM_BYTES, d)
          .with(Isa.Load.HBM_ADDR, rowAddr + (long) from * d)
          .with(Isa.Load.X_SIZE, b.rows())
          .with(Isa.Load.X_STRIDE, k)
          .with(Isa.Load.Y_SIZE, full - from)
          .with(Isa.Load.Y_STRIDE, d));
    }
    if (to > full && k % d != 0) {
      into.add(Instruction.of(Opcode.LOAD)
          .with(Isa.Load.BUF, Buffer.ABUF.id())
          .with(Isa.Load.DST_ROW, dstRow + (long) (full - from) * b.rows())
          .with(Isa.Load.ELEM_BYTES, k % d)
          .with(Isa.Load.HBM_ADDR, rowAddr + (long) full * d)
          .with(Isa.Load.X_SIZE, b.rows())
          .with(Isa.Load.X_STRIDE, k)
          .with(Isa.Load.Y_SIZE, 1));
    }
  }

  @Override
  public boolean loadPerChunk() {
    return false;
  }
}
