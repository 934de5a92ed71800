package dev.systole.host.run;

import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.LayerGraph;

/**
 * A chain of GEMM layers placed on a device: the {@link LoadedDeviceGraph} of its
 * {@link LayerGraph#deviceGraph() device graph}, seen as the chain, a matrix of rows in and a
 * matrix of rows out. It adds nothing to how the chain is placed, compiled or run; a batch is a
 * number of rows. Obtained from {@link Session#load(LayerGraph)}; valid until
 * {@link Session#unload(LoadedGraph)} or the session closes.
 */
public final class LoadedGraph {
  final LayerGraph graph;
  final LoadedDeviceGraph loaded;

  LoadedGraph(LayerGraph graph, LoadedDeviceGraph loaded) {
    this.graph = graph;
    this.loaded = loaded;
  }

  public LayerGraph graph() {
    return graph;
  }

  /** The most rows one device run takes; larger batches are split. */
  public int rowsPerRun() {
    return loaded.batchPerRun();
  }

  /** The program for batches of {@code rows}, if it has been compiled. */
  public GraphCompiler.Program program(int rows) {
    return loaded.program(rows);
  }

  /** How many programs (batch sizes) are compiled and cached. */
  public int cachedPrograms() {
    return loaded.cachedPrograms();
  }
}
