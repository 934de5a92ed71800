package dev.systole.host.runtime;

import dev.systole.host.compiler.GemmCompiler;
import dev.systole.host.compiler.LayerGraph;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer graph placed on a device: its weights and constants resident in card memory, and the
 * programs compiled for it so far, one per batch size, each with its own program, input and
 * output regions and its staging buffers. Obtained from {@link Session#load}; valid until
 * {@link Session#unload} or the session closes.
 */
public final class LoadedGraph {
  /** One cached program: where it lives and what it runs on. */
  static final class Compiled {
    final GemmCompiler.Program program;
    final HbmAllocator.Region code;
    final HbmAllocator.Region input;
    final List<HbmAllocator.Region> outputs;
    final ByteBuf stagingIn;
    final ByteBuf stagingOut;

    Compiled(GemmCompiler.Program program, HbmAllocator.Region code, HbmAllocator.Region input,
        List<HbmAllocator.Region> outputs, ByteBuf stagingIn, ByteBuf stagingOut) {
      this.program = program;
      this.code = code;
      this.input = input;
      this.outputs = outputs;
      this.stagingIn = stagingIn;
      this.stagingOut = stagingOut;
    }
  }

  final LayerGraph graph;
  final List<HbmAllocator.Region> weights;
  final List<HbmAllocator.Region> constants;
  final Map<Integer, Compiled> programs = new HashMap<>();
  boolean unloaded;

  LoadedGraph(LayerGraph graph, List<HbmAllocator.Region> weights,
      List<HbmAllocator.Region> constants) {
    this.graph = graph;
    this.weights = weights;
    this.constants = constants;
  }

  public LayerGraph graph() {
    return graph;
  }

  /** The program for batches of {@code rows}, if it has been compiled. */
  public synchronized GemmCompiler.Program program(int rows) {
    Compiled c = programs.get(rows);
    return c == null ? null : c.program;
  }

  /** How many programs (batch sizes) are compiled and cached. */
  public synchronized int cachedPrograms() {
    return programs.size();
  }
}
