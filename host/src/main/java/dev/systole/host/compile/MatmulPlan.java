package dev.systole.host.compile;

/**
 * How one matrix layer (a GEMM, or a convolution as the array runs it) was tiled: M rows, K and N,
 * the rows of an m-block, the K chunks of a step, the loop order, the steps, the buffer rows its
 * LOADs write (a proxy for memory traffic) and the multiply-accumulates the array does, padding
 * included. What {@link MatmulEmitter} chose, for reports and tests.
 */
public record MatmulPlan(int m, int k, int n, int mTile, int chunksPerStep, Order order,
    int steps, long loadedRows, long macs) {
  /**
   * Which operand stays in its buffer while the other streams: the m-block of activations (every
   * n-tile's weights stream past it), the n-tile's weights (every m-block's activations stream
   * past them), all the weights (when they fit WBUF), or neither, when K is too large for a
   * whole row of chunks and is split into steps.
   */
  public enum Order {
    ACTIVATIONS_RESIDENT,
    WEIGHTS_RESIDENT,
    /** Every weight tile of the layer loaded into WBUF once, every m-block streaming past. */
    ALL_RESIDENT,
    K_SPLIT,
    /**
     * K split into steps as well, but a step's slice of an m-block's activations stays while the
     * weights of every n-tile for those chunks stream past, and ACC holds the partial sums of
     * every n-tile of the block: activations load once, and blocks can be as large as the
     * buffers hold for a step, so each weight tile loaded serves more rows.
     */
    ACTIVATION_STEPS;

    /** Whether K is cut into several steps, each with its own slice of activations. */
    public boolean splitsK() {
      return this == K_SPLIT || this == ACTIVATION_STEPS;
    }
  }
}
