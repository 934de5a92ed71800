package dev.systole.host.run;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.run.HbmAllocator.Region;
import java.util.List;

/**
 * A device graph placed on a device: the weights and constants of its layers resident in card
 * memory, and the programs compiled for it so far, one per batch size up to the session's
 * {@link Session#programLimit()}, each with card memory for every tensor of the graph and
 * staging buffers for the graph's inputs and outputs. Obtained from
 * {@link Session#load(DeviceGraph)}; valid until {@link Session#unload(LoadedDeviceGraph)} or the
 * session closes.
 */
public final class LoadedDeviceGraph {
  final DeviceGraph graph;
  /** Card memory of the layers' weight tiles and constants, freed on unload. */
  final List<Region> resident;
  final int batchPerRun;
  final ProgramCache programs;

  LoadedDeviceGraph(DeviceGraph graph, List<Region> resident, int batchPerRun,
      ProgramCache programs) {
    this.graph = graph;
    this.resident = List.copyOf(resident);
    this.batchPerRun = batchPerRun;
    this.programs = programs;
  }

  public DeviceGraph graph() {
    return graph;
  }

  /**
   * The largest batch one device run takes; larger batches are split. It keeps a program that
   * grows with every batch item, as a convolution's does, within
   * {@link Session#MAX_PROGRAM_INSTRUCTIONS}.
   */
  public int batchPerRun() {
    return batchPerRun;
  }

  /** The program for batches of {@code batch}, if it has been compiled. */
  public GraphCompiler.Program program(int batch) {
    return programs.program(batch);
  }

  /** How many programs (batch sizes) are compiled and cached. */
  public int cachedPrograms() {
    return programs.size();
  }

  /** The batch sizes whose programs are cached, the least recently used first. */
  public List<Integer> cachedBatches() {
    return programs.batches();
  }

  /** Card memory the layers' weight tiles and constants hold while the graph is loaded. */
  public long residentBytes() {
    return resident.stream().mapToLong(Region::size).sum();
  }

  /** Card memory the cached programs hold (their code and tensors; the weights are apart). */
  public long cachedProgramBytes() {
    return programs.cardBytes();
  }
}
