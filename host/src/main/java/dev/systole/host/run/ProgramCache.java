package dev.systole.host.run;

import dev.systole.driver.DeviceInfo;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.run.HbmAllocator.Region;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The programs compiled for one loaded graph, one per batch size, each with the card memory it
 * runs on (every tensor of the graph for that batch, and its code) and staging buffers for the
 * graph's inputs and outputs. A program's addresses and loop bounds are fixed when it is
 * compiled, so each batch size is compiled and placed once, and every later run of that size
 * allocates nothing: it copies its inputs into staging and starts the program.
 *
 * <p>Compiling happens outside every lock, so runs of other graphs and sizes go on meanwhile. The
 * price is two races, settled when a program is about to enter the cache: another thread may have
 * cached one for the same size first (it wins, and this one is released), or the graph may have
 * been unloaded (this one is released and the caller told). A compile that fails part way gives
 * back the card memory and staging buffers it had got.
 *
 * <p>The cache holds at most {@code limit} programs, the least recently used going first: each
 * holds card memory for every tensor of its batch and staging buffers on the heap, so a caller
 * that runs many batch sizes would otherwise hold them all until the graph is unloaded. A run
 * holds its program from {@link #get} to {@link #done}, and a program in use is never released
 * under it; the cache may pass its limit while every older program is in use, and comes back
 * to it when they are done. The price of a small limit is a compile when an evicted size comes
 * back.
 */
final class ProgramCache {
  /** A compiled program, where its code is, and the memory it runs on. */
  record Entry(GraphCompiler.Program program, Region code, List<Region> tensors,
      List<ByteBuf> stagingIn, List<ByteBuf> stagingOut) {
    /** Card memory of a node's tensor: a graph input's, or a layer's output. */
    Region tensor(DeviceGraph.Node node) {
      return tensors.get(node.index());
    }
  }

  /** Writes a program's code to card memory, or throws if the device cannot take it. */
  @FunctionalInterface
  interface CodeWriter {
    void write(long address, byte[] code);
  }

  private final DeviceGraph graph;
  private final DeviceParams params;
  private final long[] weights;
  private final long[] constants;
  private final HbmPlacement placement;
  private final CodeWriter writer;
  private final DeviceInfo device;
  private final int limit;
  /** In access order: the least recently used first. */
  private final Map<Integer, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
  /** The runs holding each program, for those held. */
  private final Map<Entry, Integer> users = new IdentityHashMap<>();
  private boolean released;

  /**
   * @param weights card addresses of the layers' weight tiles, by node index (0 for none)
   * @param constants card addresses of the layers' constants, by node index (0 for none)
   * @param device the device the programs are for: its parameters, how it reads a program's
   *     bytes, its name for the error when the graph was unloaded
   * @param limit the most programs kept, at least 1
   */
  ProgramCache(DeviceGraph graph, DeviceInfo device, long[] weights, long[] constants,
      HbmPlacement placement, CodeWriter writer, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("program cache limit " + limit + " (expected >= 1)");
    }
    this.limit = limit;
    this.graph = graph;
    this.params = device.params();
    this.weights = weights.clone();
    this.constants = constants.clone();
    this.placement = placement;
    this.writer = writer;
    this.device = device;
  }

  /**
   * The program for a batch: cached, or compiled, placed and written to card memory now; held
   * for the caller until {@link #done}.
   *
   * @throws IllegalStateException if the graph was unloaded
   */
  Entry get(int batch) {
    synchronized (this) {
      checkLoaded();
      Entry cached = entries.get(batch);
      if (cached != null) {
        return hold(cached);
      }
    }
    Entry compiled = compile(batch);
    synchronized (this) {
      Entry raced = released ? null : entries.putIfAbsent(batch, compiled);
      if (raced == null && !released) {
        hold(compiled);
        trim();
        return compiled;
      }
      release(compiled);
      checkLoaded();
      return hold(raced);
    }
  }

  /** The caller's run of {@code e}, from {@link #get}, is over. */
  synchronized void done(Entry e) {
    Integer n = users.get(e);
    if (n == null) {
      return;
    }
    if (n == 1) {
      users.remove(e);
    } else {
      users.put(e, n - 1);
    }
    trim();
  }

  private Entry hold(Entry e) {
    users.merge(e, 1, Integer::sum);
    return e;
  }

  /** Releases the least recently used programs no run holds, down to the limit. */
  private void trim() {
    Iterator<Entry> it = entries.values().iterator();
    int over = entries.size() - limit;
    while (over > 0 && it.hasNext()) {
      Entry e = it.next();
      if (!users.containsKey(e)) {
        it.remove();
        release(e);
        over--;
      }
    }
  }

  /** The most programs kept. */
  int limit() {
    return limit;
  }

  /** The batch sizes cached, the least recently used first. */
  synchronized List<Integer> batches() {
    return List.copyOf(entries.keySet());
  }

  /** Card memory the cached programs hold: their code and tensors, not the graph's weights. */
  synchronized long cardBytes() {
    long sum = 0;
    for (Entry e : entries.values()) {
      sum += e.code().size();
      for (Region r : e.tensors()) {
        sum += r.size();
      }
    }
    return sum;
  }

  /** The program for a batch if it is cached, else null; looking does not count as a use. */
  synchronized GraphCompiler.Program program(int batch) {
    for (Map.Entry<Integer, Entry> e : entries.entrySet()) {
      if (e.getKey() == batch) {
        return e.getValue().program();
      }
    }
    return null;
  }

  /** How many programs (batch sizes) are cached. */
  synchronized int size() {
    return entries.size();
  }

  /**
   * Releases every program and refuses any from now on: the graph is being unloaded. A program
   * being compiled meanwhile is released when it is done.
   */
  synchronized void release() {
    released = true;
    entries.values().forEach(this::release);
    entries.clear();
    users.clear();
  }

  /** Throws if the graph was unloaded. */
  synchronized void checkLoaded() {
    if (released) {
      throw new IllegalStateException("graph was unloaded from " + device.name());
    }
  }

  private Entry compile(int batch) {
    List<Region> tensors = placement.tensors(graph, batch);
    Region code = null;
    List<ByteBuf> staging = new ArrayList<>();
    try {
      GraphCompiler.Program program = GraphCompiler.compile(graph, batch, params,
          new GraphCompiler.Placement(tensors.stream().mapToLong(Region::address).toArray(),
              weights, constants));
      byte[] bytes = device.encode(program.instructions());
      code = placement.program(batch, bytes.length);
      List<ByteBuf> in = stage(graph.inputs(), batch, staging);
      List<ByteBuf> out = stage(graph.outputs(), batch, staging);
      writer.write(code.address(), bytes);
      return new Entry(program, code, tensors, in, out);
    } catch (RuntimeException e) {
      staging.forEach(ByteBuf::release);
      if (code != null) {
        placement.free(code);
      }
      placement.free(tensors);
      throw e;
    }
  }

  /** A staging buffer per node for its tensor of a batch, each also added to {@code all}. */
  private static List<ByteBuf> stage(List<DeviceGraph.Node> nodes, int batch, List<ByteBuf> all) {
    List<ByteBuf> bufs = new ArrayList<>();
    for (DeviceGraph.Node n : nodes) {
      ByteBuf b = Staging.allocate((int) n.outputBytes(batch));
      all.add(b);
      bufs.add(b);
    }
    return List.copyOf(bufs);
  }

  private void release(Entry e) {
    e.stagingIn().forEach(ByteBuf::release);
    e.stagingOut().forEach(ByteBuf::release);
    placement.free(e.code());
    placement.free(e.tensors());
  }
}
