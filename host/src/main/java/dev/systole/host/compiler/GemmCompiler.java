package dev.systole.host.compiler;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Opcode;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a {@link LayerGraph} for a batch of M rows into one device program, tiled to the
 * parameters the device reported (never assumed).
 *
 * <p><b>Tiling.</b> A layer {@code Y (M x N) = X (M x K) * W} is cut into m-blocks of {@code mt}
 * rows and n-tiles of D columns; K is cut into chunks of D. When every K chunk of an m-block fits
 * in half of the activation region ({@code mt * KC} rows), the block is loaded once and stays in
 * ABUF while every n-tile streams through it (weights are reloaded, activations reused); otherwise
 * K is also split into steps of up to a third of WBUF, and each step loads its own slice of X.
 * When ACC can hold the partial sums of every n-tile of an m-block, a step's slice of X can
 * instead stay while every n-tile's weights for its chunks stream past; with fewer chunks per
 * step the m-blocks grow, and each weight tile serves more rows. That is what keeps the array
 * busy on the deep layers of a CNN, whose small images give short rows and whose many channels
 * give long K; the compiler picks it when its estimate of the busier unit is clearly lower.
 * X and Y stay row-major in card memory, the layout the user gave, and strided LOADs and STOREs
 * do the re-layout, so the host copies each input once into staging and nothing more.
 *
 * <p><b>Overlap.</b> Instructions issue in order and each unit takes one at a time, so a buffer
 * region can be reused without a wait once the instruction after its last reader has issued. The
 * program exploits that: the array's weights are double-buffered (each MATMUL swaps in the tile
 * the previous one preloaded and preloads the next), WBUF rotates through three regions so the
 * weights two steps ahead load while the current step computes, the next m-block's activations
 * load piecewise while the current block computes, and ACC, requantized rows and requant
 * parameters alternate between two halves so one n-tile's epilogue overlaps the next n-tile's
 * MATMULs. Only the instructions that consume freshly loaded data carry a wait.
 */
public final class GemmCompiler {
  private GemmCompiler() {}

  /** Card addresses of the program's operands, one entry per layer where per layer. */
  public record Addresses(long input, List<Long> weights, List<Long> constants,
      List<Long> outputs) {}

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

  /** How one layer was tiled, and the buffer rows its LOADs write (a proxy for traffic). */
  public record LayerPlan(int m, int k, int n, int mTile, int chunksPerStep, Order order,
      int steps, long loadedRows, long macs) {}

  /** A compiled program: its instructions and how each layer was tiled. */
  public record Program(List<Instruction> instructions, List<LayerPlan> layers) {
    /** Multiply-accumulates the array does, padding included. */
    public long arrayMacs() {
      return layers.stream().mapToLong(LayerPlan::macs).sum();
    }

    /** Multiply-accumulates the layers mean: M * K * N summed. */
    public long usefulMacs() {
      return layers.stream().mapToLong(l -> (long) l.m() * l.k() * l.n()).sum();
    }
  }

  public static Program compile(LayerGraph graph, int m, DeviceParams p, Addresses at) {
    if (m < 1) {
      throw new IllegalArgumentException("batch of " + m + " rows (expected at least 1)");
    }
    List<Instruction> out = new ArrayList<>();
    List<LayerPlan> plans = new ArrayList<>();
    long input = at.input();
    for (int i = 0; i < graph.layers().size(); i++) {
      if (i > 0) {
        out.add(Instruction.of(Opcode.FENCE));
      }
      GemmLayer layer = graph.layers().get(i);
      MatmulEmitter e = new MatmulEmitter(out, p, layer,
          new RowMajorActivations(input, m, layer.inFeatures(), p.lanes()), layer.inFeatures(),
          at.outputs().get(i), at.weights().get(i), at.constants().get(i));
      plans.add(e.emit());
      input = at.outputs().get(i);
    }
    out.add(Instruction.of(Opcode.HALT));
    return new Program(List.copyOf(out), List.copyOf(plans));
  }
}
