package dev.systole.driver.emulator;

import dev.systole.driver.contract.Arithmetic;
import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The accelerator's on-chip state and what each instruction does to it: the buffers, the array's
 * weight tiles, and the semantics of the contract's instructions, plain ({@link #execute}) and on
 * the fast path ({@link #one} for a decoded program's steps, {@link #chainResolved} and {@link
 * #chain} for its chains). The {@link Machine} owns
 * one and decides what runs when; card memory is shared.
 */
final class Datapath {
  private static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle SHORTS =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

  private final DeviceParams params;
  private final CardMemory memory;
  private final int lanes;
  final byte[] abuf;
  final byte[] wbuf;
  final int[] acc;
  final short[] lut;
  /**
   * The array's weight tiles, each the D×D bytes of an array from an offset ({@code activeAt},
   * {@code shadowAt}). The plain path copies a tile out of WBUF when it loads it. The fast path
   * points a tile into WBUF itself while a chain runs, since nothing writes WBUF before the chain
   * is computed, and copies only the tiles the array still holds when the chain is over ({@link
   * #takeTiles}): most tiles are used by one MATMUL only, and copying every one was about a tenth
   * of ResNet-18's time. A copy is never written.
   */
  private byte[] active;
  private int activeAt;
  private byte[] shadow;
  private int shadowAt;
  final MatmulKernel kernel;
  boolean activeValid;
  boolean shadowValid;
  /** Steps of two chains run, counted by the machine that owns this datapath. */
  private final AtomicLong pairs;
  /** Scratch of a chain: its MATMULs' weight tiles. */
  private final byte[][] chainTiles;
  private final int[] chainTileAt;
  /** WBUF as many times as a step has MATMULs: the tiles of a chain whose tiles are all in WBUF. */
  private final byte[][] wbufTiles;

  Datapath(DeviceParams params, CardMemory memory, MatmulKernel kernel, int chain,
      AtomicLong pairs) {
    this.params = params;
    this.memory = memory;
    this.lanes = params.lanes();
    this.abuf = new byte[params.abufRows() * lanes];
    this.wbuf = new byte[params.wbufRows() * lanes];
    this.acc = new int[params.accRows() * lanes];
    this.lut = new short[params.lutRows() * lanes];
    this.active = new byte[lanes * lanes];
    this.shadow = new byte[lanes * lanes];
    this.kernel = kernel;
    this.pairs = pairs;
    this.chainTiles = new byte[chain][];
    this.chainTileAt = new int[chain];
    this.wbufTiles = new byte[chain][];
    Arrays.fill(wbufTiles, wbuf);
  }

  /**
   * Everything a program can leave in the machine, as bytes: the buffers, the array's tiles and
   * whether they hold weights. Two machines that ran the same programs from the same state must
   * give equal snapshots.
   */
  byte[] snapshot() {
    ByteBuffer b = ByteBuffer.allocate(abuf.length + wbuf.length + 4 * acc.length
        + 2 * lut.length + 2 * lanes * lanes + 2);
    b.put(abuf).put(wbuf);
    b.asIntBuffer().put(acc);
    b.position(b.position() + 4 * acc.length);
    for (short v : lut) {
      b.putShort(v);
    }
    b.put(active, activeAt, lanes * lanes).put(shadow, shadowAt, lanes * lanes);
    b.put((byte) (activeValid ? 1 : 0)).put((byte) (shadowValid ? 1 : 0));
    return b.array();
  }

  /** Forgets the weight tiles held in the array (SOFT_RESET). */
  void resetArray() {
    activeValid = false;
    shadowValid = false;
  }

  /**
   * One instruction on the fast path (the caller tells the kernel of ABUF rows written); a LOAD
   * comes with its fields read once ({@link #one}).
   */
  private void executeFast(Instruction in) {
    switch (in.opcode()) {
      case STORE -> storeFast(in);
      case REQUANT -> requant(in, kernel);
      case VMAX -> vmax(in, kernel);
      case VADD -> vadd(in, kernel);
      case VMAC -> kernel.vmac(abuf, (int) in.get(Isa.Vmac.A_ROW) * lanes, wbuf,
          (int) in.get(Isa.Vmac.W_ROW) * lanes, acc, (int) in.get(Isa.Vmac.ACC_ROW) * lanes,
          (int) in.get(Isa.Vmac.ROWS), in.flag(Isa.Vmac.ACCUMULATE));
      default -> execute(in);
    }
  }

  ErrorCode dynamicCheck(Instruction in) {
    if (in.opcode() != Opcode.MATMUL) {
      return ErrorCode.NONE;
    }
    if (in.flag(Isa.Matmul.W_SWAP) ? !shadowValid
        : !in.flag(Isa.Matmul.W_LOAD) && !activeValid) {
      return ErrorCode.NO_WEIGHTS;
    }
    return ErrorCode.NONE;
  }

  void execute(Instruction in) {
    switch (in.opcode()) {
      case LOAD -> load(in);
      case STORE -> store(in);
      case MATMUL -> matmul(in);
      case REQUANT -> requant(in, kernel);
      case VMAX -> vmax(in, kernel);
      case VADD -> vadd(in, kernel);
      case FENCE, HALT -> { }
      case VLUT -> vlut(in);
      case VSCALE -> vscale(in);
      case VMUL -> vmul(in);
      case VREDUCE -> vreduce(in);
      case VMAC -> vmac(in);
      case VSOFTMAX -> vsoftmax(in);
      case VNORM -> vnorm(in);
      case VTRANS -> vtrans(in);
    }
  }

  /** The fields of a LOAD, read once ({@link DecodedProgram#loads}). */
  static final class LoadFields {
    final Buffer buf;
    final int elem;
    final int pad;
    final long addr;
    final int xSize;
    final int ySize;
    final long xStride;
    final long yStride;
    final int xPad0;
    final int xPad1;
    final int yPad0;
    final int yPad1;
    final int row;

    LoadFields(Instruction in) {
      buf = Buffer.fromId(in.get(Isa.Load.BUF));
      elem = (int) in.get(Isa.Load.ELEM_BYTES);
      pad = (int) in.get(Isa.Load.PAD_VALUE);
      addr = in.get(Isa.Load.HBM_ADDR);
      xSize = (int) in.get(Isa.Load.X_SIZE);
      ySize = (int) in.get(Isa.Load.Y_SIZE);
      xStride = in.get(Isa.Load.X_STRIDE);
      yStride = in.get(Isa.Load.Y_STRIDE);
      xPad0 = (int) in.get(Isa.Load.X_PAD0);
      xPad1 = (int) in.get(Isa.Load.X_PAD1);
      yPad0 = (int) in.get(Isa.Load.Y_PAD0);
      yPad1 = (int) in.get(Isa.Load.Y_PAD1);
      row = (int) in.get(Isa.Load.DST_ROW);
    }

    /** Rows of the buffer one row of elements takes with its padding. */
    int width() {
      return xPad0 + xSize + xPad1;
    }
  }

  private void load(Instruction in) {
    Buffer buf = Buffer.fromId(in.get(Isa.Load.BUF));
    LoadFields f = new LoadFields(in);
    int width = f.width();
    int height = f.yPad0 + f.ySize + f.yPad1;
    int row = f.row;
    int rowBytes = params.rowBytes(buf);
    byte[] tmp = buf.laneBytes() > 1 ? new byte[rowBytes] : null;
    for (int yy = 0; yy < height; yy++) {
      int y = yy - f.yPad0;
      boolean padRow = y < 0 || y >= f.ySize;
      for (int xx = 0; xx < width; xx++, row++) {
        int x = xx - f.xPad0;
        int filled = 0;
        if (!padRow && x >= 0 && x < f.xSize) {
          long a = f.addr + y * f.yStride + x * f.xStride;
          if (buf == Buffer.ACC) {
            memory.read(a, tmp, 0, f.elem);
            for (int lane = 0; lane < f.elem / 4; lane++) {
              acc[row * lanes + lane] = littleEndianInt(tmp, 4 * lane);
            }
          } else if (buf == Buffer.LUT) {
            memory.read(a, tmp, 0, f.elem);
            for (int lane = 0; lane < f.elem / 2; lane++) {
              lut[row * lanes + lane] = (short) ((tmp[2 * lane] & 0xFF) | tmp[2 * lane + 1] << 8);
            }
          } else {
            memory.read(a, buf == Buffer.ABUF ? abuf : wbuf, row * lanes, f.elem);
          }
          filled = f.elem;
        }
        if (buf == Buffer.ACC) {
          Arrays.fill(acc, row * lanes + filled / 4, (row + 1) * lanes, f.pad);
        } else if (buf == Buffer.LUT) {
          Arrays.fill(lut, row * lanes + filled / 2, (row + 1) * lanes, (short) f.pad);
        } else if (filled < rowBytes) {
          Arrays.fill(buf == Buffer.ABUF ? abuf : wbuf, row * lanes + filled, (row + 1) * lanes,
              (byte) f.pad);
        }
      }
    }
  }

  /**
   * LOAD on the fast path: into ABUF or WBUF a row of elements at a time from the card memory's
   * {@link CardMemory#gatherParts}, padding filled per run of rows; into ACC or LUT by {@link
   * #loadWide}. With {@code run} above 1, the LOAD and the {@code run - 1} after it that a decoded
   * program made one step ({@code DecodedProgram.Step#run}): each reads the elements next to the
   * one before's and writes the rows after its rows, and every element's bytes for all of them
   * are read at once.
   */
  private void loadFast(LoadFields f, int run) {
    Buffer buf = f.buf;
    if (buf != Buffer.ABUF && buf != Buffer.WBUF) {
      loadWide(f, buf);
      return;
    }
    byte[] dst = buf == Buffer.ABUF ? abuf : wbuf;
    byte pad = (byte) f.pad;
    int width = f.width();
    int rows = width * (f.yPad0 + f.ySize + f.yPad1);
    // Rows with padding are filled whole first, then their elements gathered over the fill.
    int filled = f.elem < lanes ? width : f.xPad0;
    for (int k = 0, row = f.row; k < run; k++) {
      if (f.yPad0 > 0) {
        Arrays.fill(dst, row * lanes, (row + f.yPad0 * width) * lanes, pad);
        row += f.yPad0 * width;
      }
      for (int y = 0; y < f.ySize; y++, row += width) {
        if (filled > 0) {
          Arrays.fill(dst, row * lanes, (row + filled) * lanes, pad);
        }
        if (f.elem == lanes && f.xPad1 > 0) {
          Arrays.fill(dst, (row + f.xPad0 + f.xSize) * lanes, (row + width) * lanes, pad);
        }
      }
      if (f.yPad1 > 0) {
        Arrays.fill(dst, row * lanes, (row + f.yPad1 * width) * lanes, pad);
        row += f.yPad1 * width;
      }
    }
    int row = f.row + f.yPad0 * width + f.xPad0;
    for (int y = 0; y < f.ySize; y++, row += width) {
      memory.gatherParts(f.addr + y * f.yStride, f.xStride, f.elem, run, f.xSize, dst,
          row * lanes, lanes, rows * lanes);
    }
  }

  /**
   * LOAD on the fast path into ACC (int32 lanes) or LUT (int16 lanes): each row of elements
   * gathered at once into bytes, then read as lanes; lanes the element leaves, and padding rows,
   * take the pad value sign-extended.
   */
  private void loadWide(LoadFields f, Buffer buf) {
    int laneBytes = buf.laneBytes();
    int rowBytes = params.rowBytes(buf);
    int width = f.width();
    int row = f.row;
    int filled = f.elem / laneBytes;
    byte[] bytes = new byte[f.xSize * rowBytes];
    padRows(buf, row, f.yPad0 * width, f.pad);
    row += f.yPad0 * width;
    for (int y = 0; y < f.ySize; y++) {
      padRows(buf, row, f.xPad0, f.pad);
      row += f.xPad0;
      memory.gather(f.addr + y * f.yStride, f.xStride, f.elem, f.xSize, bytes, 0, rowBytes);
      for (int x = 0; x < f.xSize; x++, row++) {
        int o = row * lanes;
        int b = x * rowBytes;
        if (buf == Buffer.ACC) {
          for (int l = 0; l < filled; l++) {
            acc[o + l] = (int) INTS.get(bytes, b + 4 * l);
          }
          Arrays.fill(acc, o + filled, o + lanes, f.pad);
        } else {
          for (int l = 0; l < filled; l++) {
            lut[o + l] = (short) SHORTS.get(bytes, b + 2 * l);
          }
          Arrays.fill(lut, o + filled, o + lanes, (short) f.pad);
        }
      }
      padRows(buf, row, f.xPad1, f.pad);
      row += f.xPad1;
    }
    padRows(buf, row, f.yPad1 * width, f.pad);
  }

  /** Fills {@code count} rows of ACC or LUT from {@code row} with the pad value. */
  private void padRows(Buffer buf, int row, int count, int pad) {
    if (buf == Buffer.ACC) {
      Arrays.fill(acc, row * lanes, (row + count) * lanes, pad);
    } else {
      Arrays.fill(lut, row * lanes, (row + count) * lanes, (short) pad);
    }
  }

  /** STORE on the fast path: from ABUF or WBUF by {@link CardMemory#scatter}, else as {@link #store}. */
  private void storeFast(Instruction in) {
    Buffer buf = Buffer.fromId(in.get(Isa.Store.BUF));
    if (buf != Buffer.ABUF && buf != Buffer.WBUF) {
      store(in);
      return;
    }
    byte[] src = buf == Buffer.ABUF ? abuf : wbuf;
    int elem = (int) in.get(Isa.Store.ELEM_BYTES);
    long addr = in.get(Isa.Store.HBM_ADDR);
    int xSize = (int) in.get(Isa.Store.X_SIZE);
    int ySize = (int) in.get(Isa.Store.Y_SIZE);
    long xStride = in.get(Isa.Store.X_STRIDE);
    long yStride = in.get(Isa.Store.Y_STRIDE);
    int row = (int) in.get(Isa.Store.SRC_ROW);
    for (int y = 0; y < ySize; y++, row += xSize) {
      memory.scatter(addr + y * yStride, xStride, elem, xSize, src, row * lanes, lanes);
    }
  }

  private void store(Instruction in) {
    Buffer buf = Buffer.fromId(in.get(Isa.Store.BUF));
    int elem = (int) in.get(Isa.Store.ELEM_BYTES);
    long addr = in.get(Isa.Store.HBM_ADDR);
    int xSize = (int) in.get(Isa.Store.X_SIZE);
    int ySize = (int) in.get(Isa.Store.Y_SIZE);
    long xStride = in.get(Isa.Store.X_STRIDE);
    long yStride = in.get(Isa.Store.Y_STRIDE);
    int row = (int) in.get(Isa.Store.SRC_ROW);
    byte[] tmp = buf.laneBytes() > 1 ? new byte[params.rowBytes(buf)] : null;
    for (int y = 0; y < ySize; y++) {
      for (int x = 0; x < xSize; x++, row++) {
        long a = addr + y * yStride + x * xStride;
        if (buf == Buffer.ACC) {
          for (int lane = 0; lane < elem / 4; lane++) {
            putLittleEndianInt(tmp, 4 * lane, acc[row * lanes + lane]);
          }
          memory.write(a, tmp, 0, elem);
        } else if (buf == Buffer.LUT) {
          for (int lane = 0; lane < elem / 2; lane++) {
            short v = lut[row * lanes + lane];
            tmp[2 * lane] = (byte) v;
            tmp[2 * lane + 1] = (byte) (v >> 8);
          }
          memory.write(a, tmp, 0, elem);
        } else {
          memory.write(a, buf == Buffer.ABUF ? abuf : wbuf, row * lanes, elem);
        }
      }
    }
  }

  /** A new tile holding the D WBUF rows from {@code wbufRow}. */
  private byte[] loadTile(int wbufRow) {
    return Arrays.copyOfRange(wbuf, wbufRow * lanes, (wbufRow + lanes) * lanes);
  }

  private void matmul(Instruction in) {
    weightsIn(in);
    kernel.run(abuf, (int) in.get(Isa.Matmul.A_ROW) * lanes, active, activeAt, acc,
        (int) in.get(Isa.Matmul.ACC_ROW) * lanes, (int) in.get(Isa.Matmul.ROWS),
        in.flag(Isa.Matmul.ACCUMULATE));
    weightsOut(in);
  }

  /** What a MATMUL does to the array's tiles before its rows stream: a swap or a load. */
  private void weightsIn(Instruction in) {
    if (in.flag(Isa.Matmul.W_SWAP)) {
      active = shadow;
      activeAt = shadowAt;
      shadowValid = false;
    }
    if (in.flag(Isa.Matmul.W_LOAD)) {
      active = loadTile((int) in.get(Isa.Matmul.W_ROW));
      activeAt = 0;
      shadowValid = false;
    }
    activeValid = true;
  }

  /** What a MATMUL does to the array's tiles after its rows: a preload of the shadow tile. */
  private void weightsOut(Instruction in) {
    if (in.flag(Isa.Matmul.W_PRELOAD)) {
      shadow = loadTile((int) in.get(Isa.Matmul.PRE_ROW));
      shadowAt = 0;
      shadowValid = true;
    }
  }

  /**
   * The MATMULs of a chain step, which share their accumulator rows and row count (or of a pair
   * of chains, which share their activation rows), in one pass of the kernel; each takes the tile
   * its flags give it, in order.
   */
  void chain(DecodedProgram program, int j) {
    takeTiles(program.tileMoves[j], chainTiles, chainTileAt);
    compute(program, j, chainTiles, chainTileAt);
  }

  /**
   * Chain step {@code j} of {@code program}, whose tiles are resolved ({@link
   * DecodedProgram#tilesResolved}): each MATMUL's tile from this datapath's WBUF rows, or a tile
   * the array held when the run began ({@code start}, {@code startAt}: active, shadow), without
   * following the array's state from MATMUL to MATMUL. A thread that runs only some of the
   * chains (a split run) could not follow it, and one that runs all of them saves the work.
   */
  void chainResolved(DecodedProgram program, int j, byte[][] start, int[] startAt) {
    int[] at = program.tileAt(j);
    byte[][] tiles = wbufTiles;
    if (program.fromStart(j)) {
      tiles = chainTiles;
      at = chainTileAt;
      int[] resolved = program.tileAt(j);
      for (int m = 0; m < resolved.length; m++) {
        int k = resolved[m];
        tiles[m] = k >= 0 ? wbuf : start[DecodedProgram.START_ACTIVE - k];
        at[m] = k >= 0 ? k : startAt[DecodedProgram.START_ACTIVE - k];
      }
    }
    compute(program, j, tiles, at);
  }

  /** Chain step {@code j} in the kernel, MATMUL m's tile at {@code tiles[m]} from {@code at[m]}. */
  private void compute(DecodedProgram program, int j, byte[][] tiles, int[] at) {
    DecodedProgram.Step step = program.steps[j];
    Instruction first = program.code[step.first()];
    kernel.chainRows(abuf, program.abufAt[j], tiles, at, step.tilesPerChain(), acc,
        (int) first.get(Isa.Matmul.ACC_ROW) * lanes, secondAccumulators(program.code, step), 0,
        (int) first.get(Isa.Matmul.ROWS), first.flag(Isa.Matmul.ACCUMULATE));
  }

  /** Step {@code j}, not a chain, on the fast path, its ABUF rows written told to the kernel. */
  void one(DecodedProgram program, int j) {
    DecodedProgram.Step step = program.steps[j];
    LoadFields f = program.loads[j];
    if (f != null) {
      loadFast(f, step.run());
    } else {
      executeFast(program.code[step.first()]);
    }
    if (step.abufRows() > 0) {
      kernel.abufWritten(step.abufRow(), step.abufRows());
    }
  }

  /** Copies the rows {@code ranges} names (buffer ordinal, first row, count) from {@code from}. */
  void copyRows(Datapath from, int[] ranges) {
    for (int i = 0; i < ranges.length; i += 3) {
      int first = ranges[i + 1] * lanes;
      int count = ranges[i + 2] * lanes;
      switch (Buffer.values()[ranges[i]]) {
        case ABUF -> {
          System.arraycopy(from.abuf, first, abuf, first, count);
          kernel.abufWritten(ranges[i + 1], ranges[i + 2]);
        }
        case WBUF -> System.arraycopy(from.wbuf, first, wbuf, first, count);
        case ACC -> System.arraycopy(from.acc, first, acc, first, count);
        case LUT -> System.arraycopy(from.lut, first, lut, first, count);
      }
    }
  }

  /** The tiles the array holds, active then shadow (copies never written), and their offsets. */
  byte[][] tiles() {
    return new byte[][] {active, shadow};
  }

  int[] tileOffsets() {
    return new int[] {activeAt, shadowAt};
  }

  /** Whether the array holds weights, as bits: 1 the active tile, 2 the shadow one. */
  int validBits() {
    return (activeValid ? 1 : 0) | (shadowValid ? 2 : 0);
  }

  /**
   * Sets what the array holds after a run whose tiles are resolved: per tile (active, shadow) from
   * {@code where} ({@link DecodedProgram#finalTiles}), copied out of this datapath's WBUF or one of
   * the tiles held at the start; {@code valid} as {@link DecodedProgram#finalValid}.
   */
  void holdTiles(int[] where, byte[][] start, int[] startAt, int valid) {
    byte[][] tile = new byte[2][];
    int[] at = new int[2];
    for (int t = 0; t < 2; t++) {
      int k = where[t];
      if (k >= 0) {
        tile[t] = Arrays.copyOfRange(wbuf, k, k + lanes * lanes);
      } else {
        tile[t] = start[DecodedProgram.START_ACTIVE - k];
        at[t] = startAt[DecodedProgram.START_ACTIVE - k];
      }
    }
    active = tile[0];
    activeAt = at[0];
    shadow = tile[1];
    shadowAt = at[1];
    activeValid = (valid & 1) != 0;
    shadowValid = (valid & 2) != 0;
  }

  /** The lane offset of the second chain's accumulators in a pair (counting it), else -1. */
  private int secondAccumulators(Instruction[] code, DecodedProgram.Step step) {
    if (!step.pair()) {
      return -1;
    }
    pairs.incrementAndGet();
    return (int) code[step.members()[step.second()]].get(Isa.Matmul.ACC_ROW) * lanes;
  }

  /**
   * Each MATMUL's weight moves in order, its tile to {@code tiles} and {@code tileAt}. A tile loaded or preloaded here points into WBUF, which the chain
   * reads before any later step writes it; the tiles the array holds when the chain is over are
   * copied out of WBUF, for the steps after it may write those rows before a later chain uses
   * them.
   */
  private void takeTiles(int[] moves, byte[][] tiles, int[] tileAt) {
    int f = DecodedProgram.MOVE_FIELDS;
    for (int m = 0; m < moves.length / f; m++) {
      int flags = moves[f * m];
      if ((flags & DecodedProgram.SWAP) != 0) {
        active = shadow;
        activeAt = shadowAt;
        shadowValid = false;
      }
      if ((flags & DecodedProgram.LOAD) != 0) {
        active = wbuf;
        activeAt = moves[f * m + 1] * lanes;
        shadowValid = false;
      }
      activeValid = true;
      tiles[m] = active;
      tileAt[m] = activeAt;
      if ((flags & DecodedProgram.PRELOAD) != 0) {
        shadow = wbuf;
        shadowAt = moves[f * m + 3] * lanes;
        shadowValid = true;
      }
    }
    if (active == wbuf) {
      active = Arrays.copyOfRange(wbuf, activeAt, activeAt + lanes * lanes);
      activeAt = 0;
    }
    if (shadow == wbuf) {
      shadow = Arrays.copyOfRange(wbuf, shadowAt, shadowAt + lanes * lanes);
      shadowAt = 0;
    }
  }


  /**
   * REQUANT: the per-lane bias, multiplier and shift read from their ACC rows, the rows done by
   * {@code k} ({@link MatmulKernel#requant}): in plain Java by {@link Arithmetic#requantize}, or
   * vectors of lanes in the vector kernel.
   */
  private void requant(Instruction in, MatmulKernel k) {
    int prm = (int) in.get(Isa.Requant.PARAM_ROW) * lanes;
    long[] bias = new long[lanes];
    long[] mult = new long[lanes];
    long[] shift = new long[lanes];
    for (int j = 0; j < lanes; j++) {
      bias[j] = acc[prm + j];
      mult[j] = acc[prm + lanes + j];
      shift[j] = acc[prm + 2 * lanes + j] & 63;
    }
    k.requant(acc, (int) in.get(Isa.Requant.ACC_ROW) * lanes, abuf,
        (int) in.get(Isa.Requant.DST_ROW) * lanes, (int) in.get(Isa.Requant.ROWS), bias, mult,
        shift, (int) in.get(Isa.Requant.ZERO_POINT), in.flag(Isa.Requant.RELU));
  }

  private void vmax(Instruction in, MatmulKernel k) {
    k.vmax(abuf, (int) in.get(Isa.Vmax.A_ROW) * lanes, (int) in.get(Isa.Vmax.B_ROW) * lanes,
        (int) in.get(Isa.Vmax.DST_ROW) * lanes, (int) in.get(Isa.Vmax.ROWS) * lanes);
  }

  private void vadd(Instruction in, MatmulKernel k) {
    k.vadd(abuf, (int) in.get(Isa.Vadd.A_ROW) * lanes, (int) in.get(Isa.Vadd.B_ROW) * lanes,
        (int) in.get(Isa.Vadd.DST_ROW) * lanes, (int) in.get(Isa.Vadd.ROWS) * lanes,
        (int) in.get(Isa.Vadd.A_ZERO), (int) in.get(Isa.Vadd.B_ZERO),
        (int) in.get(Isa.Vadd.OUT_ZERO), (int) in.get(Isa.Vadd.A_MULT),
        (int) in.get(Isa.Vadd.B_MULT), (int) in.get(Isa.Vadd.SHIFT), in.flag(Isa.Vadd.RELU));
  }


  private short[] table(long number) {
    int first = (int) number * params.tableRows() * lanes;
    return Arrays.copyOfRange(lut, first, first + 256);
  }

  private void vlut(Instruction in) {
    int rows = (int) in.get(Isa.Vlut.ROWS);
    int a = (int) in.get(Isa.Vlut.A_ROW) * lanes;
    int d = (int) in.get(Isa.Vlut.DST_ROW) * lanes;
    short[] table = table(in.get(Isa.Vlut.TABLE));
    for (int i = 0; i < rows * lanes; i++) {
      abuf[d + i] = (byte) Arithmetic.saturate8(table[abuf[a + i] + 128]);
    }
  }

  private void vscale(Instruction in) {
    int rows = (int) in.get(Isa.Vscale.ROWS);
    int a = (int) in.get(Isa.Vscale.A_ROW) * lanes;
    int d = (int) in.get(Isa.Vscale.DST_ROW) * lanes;
    int prm = (int) in.get(Isa.Vscale.PARAM_ROW) * lanes;
    int az = (int) in.get(Isa.Vscale.A_ZERO);
    int oz = (int) in.get(Isa.Vscale.OUT_ZERO);
    int[] p = Arrays.copyOfRange(acc, prm, prm + 4 * lanes);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < lanes; j++) {
        abuf[d + i * lanes + j] = (byte) Arithmetic.vscale(abuf[a + i * lanes + j], az, p[j],
            p[lanes + j], p[2 * lanes + j], p[3 * lanes + j], oz);
      }
    }
  }

  private void vmul(Instruction in) {
    int rows = (int) in.get(Isa.Vmul.ROWS);
    int a = (int) in.get(Isa.Vmul.A_ROW) * lanes;
    int b = (int) in.get(Isa.Vmul.B_ROW) * lanes;
    int d = (int) in.get(Isa.Vmul.DST_ROW) * lanes;
    int bStep = in.flag(Isa.Vmul.B_BCAST) ? 0 : lanes;
    int az = (int) in.get(Isa.Vmul.A_ZERO);
    int bz = (int) in.get(Isa.Vmul.B_ZERO);
    int oz = (int) in.get(Isa.Vmul.OUT_ZERO);
    int mult = (int) in.get(Isa.Vmul.MULT);
    int shift = (int) in.get(Isa.Vmul.SHIFT);
    // The overlap rule keeps a broadcast b row out of the destination unless rows is 1.
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < lanes; j++) {
        abuf[d + i * lanes + j] = (byte) Arithmetic.vmul(abuf[a + i * lanes + j],
            abuf[b + i * bStep + j], az, bz, oz, mult, shift);
      }
    }
  }

  private void vreduce(Instruction in) {
    int rows = (int) in.get(Isa.Vreduce.ROWS);
    int a = (int) in.get(Isa.Vreduce.A_ROW) * lanes;
    int d = (int) in.get(Isa.Vreduce.DST_ROW) * lanes;
    boolean max = in.flag(Isa.Vreduce.MAX);
    boolean accumulate = in.flag(Isa.Vreduce.ACCUMULATE);
    if (in.flag(Isa.Vreduce.LANES)) {
      int valid = (int) in.get(Isa.Vreduce.VALID);
      for (int i = 0; i < rows; i++) {
        int s = max ? -128 : 0;
        for (int l = 0; l < valid; l++) {
          int v = abuf[a + i * lanes + l];
          s = max ? Math.max(s, v) : s + v;
        }
        for (int j = 0; j < lanes; j++) {
          int o = d + i * lanes + j;
          if (max) {
            abuf[o] = (byte) (accumulate ? Math.max(abuf[o], s) : s);
          } else {
            acc[o] = accumulate ? acc[o] + s : s;
          }
        }
      }
      return;
    }
    int[] r = new int[lanes];
    Arrays.fill(r, max ? -128 : 0);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < lanes; j++) {
        int v = abuf[a + i * lanes + j];
        r[j] = max ? Math.max(r[j], v) : r[j] + v;
      }
    }
    for (int j = 0; j < lanes; j++) {
      if (max) {
        abuf[d + j] = (byte) (accumulate ? Math.max(abuf[d + j], r[j]) : r[j]);
      } else {
        acc[d + j] = accumulate ? acc[d + j] + r[j] : r[j];
      }
    }
  }

  private void vmac(Instruction in) {
    int rows = (int) in.get(Isa.Vmac.ROWS);
    int a = (int) in.get(Isa.Vmac.A_ROW) * lanes;
    int c = (int) in.get(Isa.Vmac.ACC_ROW) * lanes;
    int w = (int) in.get(Isa.Vmac.W_ROW) * lanes;
    boolean accumulate = in.flag(Isa.Vmac.ACCUMULATE);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < lanes; j++) {
        int p = abuf[a + i * lanes + j] * wbuf[w + j];
        acc[c + i * lanes + j] = accumulate ? acc[c + i * lanes + j] + p : p;
      }
    }
  }

  /** Reads the {@code valid} lanes of each group's rows, runs {@code op}, writes the rows back. */
  private interface GroupOp {
    void apply(int[] x, int n, int group, int[] y);
  }

  private void grouped(int aRow, int dstRow, int groups, int groupRows, int valid, int outZero,
      GroupOp op) {
    int[] x = new int[valid];
    int[] y = new int[valid];
    for (int g = 0; g < groups; g++) {
      int a = (aRow + g * groupRows) * lanes;
      int d = (dstRow + g * groupRows) * lanes;
      for (int l = 0; l < valid; l++) {
        x[l] = abuf[a + l];
      }
      op.apply(x, valid, g, y);
      for (int l = 0; l < groupRows * lanes; l++) {
        abuf[d + l] = (byte) (l < valid ? y[l] : outZero);
      }
    }
  }

  private void vsoftmax(Instruction in) {
    short[] table = table(in.get(Isa.Vsoftmax.TABLE));
    int oz = (int) in.get(Isa.Vsoftmax.OUT_ZERO);
    int mult = (int) in.get(Isa.Vsoftmax.MULT);
    int shift = (int) in.get(Isa.Vsoftmax.SHIFT);
    grouped((int) in.get(Isa.Vsoftmax.A_ROW), (int) in.get(Isa.Vsoftmax.DST_ROW),
        (int) in.get(Isa.Vsoftmax.GROUPS), (int) in.get(Isa.Vsoftmax.GROUP_ROWS),
        (int) in.get(Isa.Vsoftmax.VALID), oz,
        (x, n, g, y) -> Arithmetic.softmax(x, n, table, oz, mult, shift, y));
  }

  private void vnorm(Instruction in) {
    int groupRows = (int) in.get(Isa.Vnorm.GROUP_ROWS);
    int valid = (int) in.get(Isa.Vnorm.VALID);
    int prm = (int) in.get(Isa.Vnorm.PARAM_ROW);
    int oz = (int) in.get(Isa.Vnorm.OUT_ZERO);
    long eps = in.get(Isa.Vnorm.EPS);
    int[] scale = new int[valid];
    int[] bias = new int[valid];
    int[] shift = new int[valid];
    for (int l = 0; l < valid; l++) {
      int r = prm + 3 * (l / lanes);
      int j = l % lanes;
      scale[l] = acc[r * lanes + j];
      bias[l] = acc[(r + 1) * lanes + j];
      shift[l] = acc[(r + 2) * lanes + j];
    }
    grouped((int) in.get(Isa.Vnorm.A_ROW), (int) in.get(Isa.Vnorm.DST_ROW),
        (int) in.get(Isa.Vnorm.GROUPS), groupRows, valid, oz,
        (x, n, g, y) -> Arithmetic.layerNorm(x, n, eps, scale, bias, shift, oz, y));
  }

  private void vtrans(Instruction in) {
    int blocks = (int) in.get(Isa.Vtrans.BLOCKS);
    int a = (int) in.get(Isa.Vtrans.A_ROW) * lanes;
    int d = (int) in.get(Isa.Vtrans.DST_ROW) * lanes;
    byte[] dst = in.get(Isa.Vtrans.BUF) == Buffer.WBUF.id() ? wbuf : abuf;
    byte[] block = new byte[lanes * lanes];
    for (int b = 0; b < blocks; b++) {
      int off = b * lanes * lanes;
      System.arraycopy(abuf, a + off, block, 0, block.length);
      for (int i = 0; i < lanes; i++) {
        for (int j = 0; j < lanes; j++) {
          dst[d + off + j * lanes + i] = block[i * lanes + j];
        }
      }
    }
  }

  private static int littleEndianInt(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | b[i + 3] << 24;
  }

  private static void putLittleEndianInt(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }
}
