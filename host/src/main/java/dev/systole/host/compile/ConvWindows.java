package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import java.util.List;

/**
 * A convolution's activations for {@link MatmulEmitter}: a row per output pixel of an NHWC batch,
 * and a K chunk per kernel position and block of D input channels, {@code ((ky*kw + kx)*Cb +
 * cb)}. Blocks are tiles of output pixels within one image, so a chunk of a block is one window
 * LOAD, padded with the input's zero point. A window that lies wholly in the padding (an input
 * smaller than the kernel's reach) repeats a row of zero points kept in card memory instead.
 */
final class ConvWindows implements Activations {
  private final long x;
  private final int images;
  private final int h;
  private final int w;
  private final int c;
  private final Window win;
  private final int oh;
  private final int ow;
  private final int d;
  private final int zx;
  private final long zeroRow;

  /**
   * @param x the NHWC input {@code [images][h][w][c]}
   * @param zeroRow card address of D bytes holding {@code zx}
   */
  ConvWindows(long x, int images, int h, int w, int c, Window win, int d, int zx, long zeroRow) {
    this.x = x;
    this.images = images;
    this.h = h;
    this.w = w;
    this.c = c;
    this.win = win;
    this.oh = win.outHeight(h, false);
    this.ow = win.outWidth(w, false);
    this.d = d;
    this.zx = zx;
    this.zeroRow = zeroRow;
    if ((long) images * oh * ow > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("conv output of " + images + "x" + oh + "x" + ow
          + " pixels (expected at most " + Integer.MAX_VALUE + " per run)");
    }
  }

  @Override
  public int rows() {
    return images * oh * ow;
  }

  @Override
  public int chunks() {
    return win.kernelH() * win.kernelW() * blocksOfChannels();
  }

  private int blocksOfChannels() {
    return WeightLayout.chunks(c, d);
  }

  @Override
  public List<Block> blocks(int maxRows) {
    return Windows.tiles(images, oh, ow, maxRows).stream()
        .map(t -> new Block(t.firstPixel(oh, ow), t.pixels())).toList();
  }

  @Override
  public void load(Block b, int from, int to, int dstRow, List<Instruction> into) {
    Windows.Tile tile = Windows.tileAt(b.m0(), b.rows(), oh, ow);
    int cbs = blocksOfChannels();
    long image = x + (long) tile.image() * h * w * c;
    for (int chunk = from; chunk < to; chunk++) {
      int cb = chunk % cbs;
      int position = chunk / cbs;
      int row = dstRow + (chunk - from) * b.rows();
      Instruction in = Windows.load(image + (long) cb * d, h, w, c, Math.min(d, c - cb * d), win,
          position / win.kernelW(), position % win.kernelW(), tile, row, zx);
      if (in == null) {
        in = Instruction.of(Opcode.LOAD)
            .with(Isa.Load.BUF, Buffer.ABUF.id())
            .with(Isa.Load.DST_ROW, row)
            .with(Isa.Load.ELEM_BYTES, d)
            .with(Isa.Load.PAD_VALUE, zx)
            .with(Isa.Load.HBM_ADDR, zeroRow)
            .with(Isa.Load.X_SIZE, b.rows())
            .with(Isa.Load.Y_SIZE, 1)
            .with(Isa.Load.X_STRIDE, 0);
      }
      into.add(in);
    }
  }

  @Override
  public boolean loadPerChunk() {
    return true;
  }
}
