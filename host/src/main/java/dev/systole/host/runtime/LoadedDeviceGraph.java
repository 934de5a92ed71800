package dev.systole.host.runtime;

import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.GraphCompiler;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A device graph placed on a device: the weights and constants of its layers resident in card
 * memory, and the programs compiled for it so far, one per batch size, each with card memory for
 * every tensor of the graph and staging buffers for the graph's inputs and outputs. Obtained from
 * {@link Session#load(DeviceGraph)}; valid until {@link Session#unload(LoadedDeviceGraph)} or the
 * session closes.
 */
public final class LoadedDeviceGraph {
  /** One cached program: where it lives and the memory it runs on. */
  static final class Compiled {
    final GraphCompiler.Program program;
    final HbmAllocator.Region code;
    /** Card memory of each node's output tensor (an input's for an input), by node index. */
    final List<HbmAllocator.Region> tensors;
    final List<ByteBuf> stagingIn;
    final List<ByteBuf> stagingOut;

    Compiled(GraphCompiler.Program program, HbmAllocator.Region code,
        List<HbmAllocator.Region> tensors, List<ByteBuf> stagingIn, List<ByteBuf> stagingOut) {
      this.program = program;
      this.code = code;
      this.tensors = tensors;
      this.stagingIn = stagingIn;
      this.stagingOut = stagingOut;
    }
  }

  final DeviceGraph graph;
  /** Weight tiles and constants by node index; null where a node has none. */
  final HbmAllocator.Region[] weights;
  final HbmAllocator.Region[] constants;
  final int batchPerRun;
  final Map<Integer, Compiled> programs = new HashMap<>();
  boolean unloaded;

  LoadedDeviceGraph(DeviceGraph graph, HbmAllocator.Region[] weights,
      HbmAllocator.Region[] constants, int batchPerRun) {
    this.graph = graph;
    this.weights = weights;
    this.constants = constants;
    this.batchPerRun = batchPerRun;
  }

  public DeviceGraph graph() {
    return graph;
  }

  /**
   * The largest batch one device run takes; larger batches are split. It keeps a program within
   * {@link Session#MAX_PROGRAM_INSTRUCTIONS}, since a convolution's program grows with the batch.
   */
  public int batchPerRun() {
    return batchPerRun;
  }

  /** The program for batches of {@code batch}, if it has been compiled. */
  public synchronized GraphCompiler.Program program(int batch) {
    Compiled c = programs.get(batch);
    return c == null ? null : c.program;
  }

  /** How many programs (batch sizes) are compiled and cached. */
  public synchronized int cachedPrograms() {
    return programs.size();
  }
}
