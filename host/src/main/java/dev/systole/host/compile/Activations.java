package dev.systole.host.compile;

import dev.systole.driver.contract.Instruction;
import java.util.List;

/**
 * The activations of a matrix layer as {@link MatmulEmitter} sees them: {@link #rows()} rows of
 * {@link #chunks()} K chunks of D lanes each, cut into blocks that are loaded into ABUF one chunk
 * (a run of {@code block.rows()} buffer rows) at a time.
 */
interface Activations {
  /** A run of consecutive rows {@code [m0, m0 + rows)}. */
  record Block(int m0, int rows) {}

  /** Rows of the layer (M). */
  int rows();

  /** K chunks of D lanes. */
  int chunks();

  /** Cuts the rows into blocks of at most {@code maxRows} (at least 1) rows each. */
  List<Block> blocks(int maxRows);

  /**
   * Appends the LOADs that put chunks {@code [from, to)} of the block's rows into ABUF, chunk c
   * at row {@code dstRow + (c - from) * block.rows()}, one buffer row per activation row.
   */
  void load(Block block, int from, int to, int dstRow, List<Instruction> into);

  /** Whether every chunk takes a LOAD of its own (else a LOAD covers many chunks). */
  boolean loadPerChunk();
}
