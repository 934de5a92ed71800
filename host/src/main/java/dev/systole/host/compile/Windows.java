package dev.systole.host.compile;

import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import java.util.ArrayList;
import java.util.List;

/**
 * Window LOADs over an NHWC image (CONTRACT.md 11.1): for one kernel position, the input pixels
 * that a tile of output pixels reads form a strided 2-D block of the image, which one LOAD moves
 * into consecutive ABUF rows in output order, writing the out-of-image positions as padding.
 * Shared by convolutions (padding = the input's zero point) and max pooling (padding = -128).
 */
final class Windows {
  private Windows() {}

  /**
   * Output pixels {@code [oy0, oy1) x [ox0, ox1)} of one image, in row-major order: several whole
   * rows, or a run of one row when a row is longer than a tile may be.
   */
  record Tile(int image, int oy0, int oy1, int ox0, int ox1) {
    int pixels() {
      return (oy1 - oy0) * (ox1 - ox0);
    }

    /** Index of the tile's first pixel in the NHWC output {@code [N][oh][ow]}. */
    int firstPixel(int oh, int ow) {
      return (image * oh + oy0) * ow + ox0;
    }
  }

  /**
   * Cuts {@code images} outputs of {@code oh x ow} pixels into tiles of at most
   * {@code maxPixels}, of even sizes, each within one image.
   */
  static List<Tile> tiles(int images, int oh, int ow, int maxPixels) {
    List<Tile> tiles = new ArrayList<>();
    for (int n = 0; n < images; n++) {
      if (ow <= maxPixels) {
        int count = ceilDiv(oh, maxPixels / ow);
        int rows = ceilDiv(oh, count);
        for (int oy = 0; oy < oh; oy += rows) {
          tiles.add(new Tile(n, oy, Math.min(oh, oy + rows), 0, ow));
        }
      } else {
        int count = ceilDiv(ow, maxPixels);
        int cols = ceilDiv(ow, count);
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox += cols) {
            tiles.add(new Tile(n, oy, oy + 1, ox, Math.min(ow, ox + cols)));
          }
        }
      }
    }
    return tiles;
  }

  /** The tile whose first pixel is {@code m0} of an {@code [N][oh][ow]} output, of {@code rows}. */
  static Tile tileAt(int m0, int rows, int oh, int ow) {
    int n = m0 / (oh * ow);
    int r = m0 % (oh * ow);
    int oy = r / ow;
    int ox = r % ow;
    if (ox == 0 && rows % ow == 0) {
      return new Tile(n, oy, oy + rows / ow, 0, ow);
    }
    return new Tile(n, oy, oy + 1, ox, ox + rows);
  }

  /**
   * The LOAD of kernel position {@code (ky, kx)} for {@code tile}: one ABUF row per output pixel
   * from {@code dstRow}, holding {@code elemBytes} bytes of the input pixel it reads (the rest of
   * the row and out-of-image pixels are {@code padValue}). Null when every pixel of the tile
   * reads padding at this position.
   *
   * @param base card address of the tile's image plus the channel block's byte offset
   */
  static Instruction load(long base, int h, int w, int c, int elemBytes, Window win, int ky,
      int kx, Tile tile, int dstRow, int padValue) {
    int dy = ky * win.dilationH() - win.padTop();
    int dx = kx * win.dilationW() - win.padLeft();
    int yPad0 = 0;
    int yPad1 = 0;
    for (int oy = tile.oy0(); oy < tile.oy1(); oy++) {
      long iy = (long) oy * win.strideH() + dy;
      yPad0 += iy < 0 ? 1 : 0;
      yPad1 += iy >= h ? 1 : 0;
    }
    int xPad0 = 0;
    int xPad1 = 0;
    for (int ox = tile.ox0(); ox < tile.ox1(); ox++) {
      long ix = (long) ox * win.strideW() + dx;
      xPad0 += ix < 0 ? 1 : 0;
      xPad1 += ix >= w ? 1 : 0;
    }
    int ySize = tile.oy1() - tile.oy0() - yPad0 - yPad1;
    int xSize = tile.ox1() - tile.ox0() - xPad0 - xPad1;
    if (ySize <= 0 || xSize <= 0) {
      return null;
    }
    long iy0 = (long) (tile.oy0() + yPad0) * win.strideH() + dy;
    long ix0 = (long) (tile.ox0() + xPad0) * win.strideW() + dx;
    return Instruction.of(Opcode.LOAD)
        .with(Isa.Load.BUF, Buffer.ABUF.id())
        .with(Isa.Load.DST_ROW, dstRow)
        .with(Isa.Load.ELEM_BYTES, elemBytes)
        .with(Isa.Load.PAD_VALUE, padValue)
        .with(Isa.Load.HBM_ADDR, base + (iy0 * w + ix0) * c)
        .with(Isa.Load.X_SIZE, xSize)
        .with(Isa.Load.Y_SIZE, ySize)
        .with(Isa.Load.X_STRIDE, (long) win.strideW() * c)
        .with(Isa.Load.Y_STRIDE, (long) win.strideH() * w * c)
        .with(Isa.Load.X_PAD0, xPad0)
        .with(Isa.Load.X_PAD1, xPad1)
        .with(Isa.Load.Y_PAD0, yPad0)
        .with(Isa.Load.Y_PAD1, yPad1);
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
