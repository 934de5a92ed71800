package dev.systole.host.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.DeviceInfo;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import dev.systole.host.compile.RandomLayers;
import dev.systole.host.run.HbmAllocator.Region;
import dev.systole.testing.LeakCheckExtension;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The programs of one graph, one per batch size, with their card memory and staging buffers: what
 * a compile places, what is released on unload, what a failed compile and the two races (an
 * unload, another compile of the same size) leave. No device: code "written" is recorded, and
 * every test ends with no Netty buffer leaked and nothing left in card memory but what it holds.
 */
@ExtendWith(LeakCheckExtension.class)
class ProgramCacheTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();
  private static final DeviceGraph GRAPH = RandomLayers.residualNetwork(new Random(1),
      new Shape(6, 6, 3), 8);

  private final List<Long> written = new ArrayList<>();
  private final List<byte[]> code = new ArrayList<>();

  private ProgramCache cache(HbmAllocator hbm, ProgramCache.CodeWriter writer) {
    return cache(hbm, writer, 8);
  }

  private ProgramCache cache(HbmAllocator hbm, ProgramCache.CodeWriter writer, int limit) {
    long[] none = new long[GRAPH.nodes().size()];
    return new ProgramCache(GRAPH, new DeviceInfo("emulator", "emulator",
        Contract.VERSION_MAJOR, Contract.VERSION_MINOR, 0, PARAMS), none, none,
        new HbmPlacement(hbm), writer, limit);
  }

  private void record(long address, byte[] bytes) {
    written.add(address);
    code.add(bytes);
  }

  private static long footprint(ProgramCache.Entry e) {
    return e.code().size() + e.tensors().stream().mapToLong(Region::size).sum();
  }

  private static List<ByteBuf> staging(ProgramCache.Entry e) {
    return Stream.concat(e.stagingIn().stream(), e.stagingOut().stream()).toList();
  }

  @AfterEach
  void leakedNothing() {
    assertEquals(List.of(), LeakCheckExtension.collectLeaks());
  }

  @Test
  void eachBatchSizeIsCompiledPlacedAndWrittenOnce() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    ProgramCache cache = cache(hbm, this::record);
    ProgramCache.Entry three = cache.get(3);
    assertSame(three, cache.get(3), "a second run of the size compiles nothing");
    assertSame(three.program(), cache.program(3));
    assertEquals(3, three.program().batch());
    assertEquals(List.of(three.code().address()), written);
    assertArrayEquals(Instruction.encode(three.program().instructions()), code.get(0));
    for (Node n : GRAPH.nodes()) {
      assertEquals(n.outputBytes(3), three.tensor(n).size(), n.name());
    }
    assertEquals(GRAPH.inputs().size(), three.stagingIn().size());
    assertEquals(GRAPH.outputs().size(), three.stagingOut().size());
    assertEquals(GRAPH.outputs().get(0).outputBytes(3), three.stagingOut().get(0).capacity());
    ProgramCache.Entry five = cache.get(5);
    assertEquals(2, cache.size());
    assertNull(cache.program(4));
    assertEquals(footprint(three) + footprint(five), hbm.usedBytes());
    cache.release();
  }

  @Test
  void releaseGivesBackEveryProgramAndRefusesMore() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    ProgramCache cache = cache(hbm, this::record);
    List<ByteBuf> bufs = new ArrayList<>(staging(cache.get(1)));
    bufs.addAll(staging(cache.get(4)));
    cache.release();
    assertEquals(0, hbm.usedBytes());
    assertTrue(bufs.stream().allMatch(b -> b.refCnt() == 0), "staging buffers released");
    assertEquals(0, cache.size());
    assertNull(cache.program(1));
    assertEquals("graph was unloaded from emulator", assertThrows(IllegalStateException.class,
        () -> cache.get(1)).getMessage());
    assertThrows(IllegalStateException.class, cache::checkLoaded);
  }

  @Test
  void aCompileThatFailsGivesBackWhatItGot() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    ProgramCache refused = cache(hbm, (address, bytes) -> {
      throw new IllegalStateException("session on emulator is closed");
    });
    assertEquals("session on emulator is closed", assertThrows(IllegalStateException.class,
        () -> refused.get(2)).getMessage());
    assertEquals(0, hbm.usedBytes(), "after the code could not be written");
    assertEquals(0, refused.size());

    long tensors = GRAPH.nodes().stream().mapToLong(n -> n.outputBytes(2) + Staging.ALIGNMENT)
        .sum();
    HbmAllocator small = new HbmAllocator(tensors, 1);
    OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
        () -> cache(small, this::record).get(2));
    assertTrue(e.getMessage().contains("program for a batch of 2 needs"), e.getMessage());
    assertEquals(0, small.usedBytes(), "after the code did not fit");

    HbmAllocator tiny = new HbmAllocator(Staging.ALIGNMENT, 1);
    assertThrows(OutOfDeviceMemoryException.class, () -> cache(tiny, this::record).get(2));
    assertEquals(0, tiny.usedBytes(), "after the tensors did not fit");
    assertEquals(List.of(), written);
  }

  @Test
  void aProgramCompiledWhileTheGraphIsUnloadedIsReleased() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    AtomicReference<ProgramCache> self = new AtomicReference<>();
    ProgramCache cache = cache(hbm, (address, bytes) -> self.get().release());
    self.set(cache);
    assertEquals("graph was unloaded from emulator", assertThrows(IllegalStateException.class,
        () -> cache.get(3)).getMessage());
    assertEquals(0, cache.size(), "it never enters the cache");
    assertEquals(0, hbm.usedBytes());
  }

  @Test
  void theFirstProgramCachedForASizeWinsAndTheOtherIsReleased() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    AtomicReference<ProgramCache> self = new AtomicReference<>();
    AtomicReference<ProgramCache.Entry> first = new AtomicReference<>();
    AtomicBoolean racing = new AtomicBoolean();
    ProgramCache cache = cache(hbm, (address, bytes) -> {
      record(address, bytes);
      if (!racing.getAndSet(true)) {
        first.set(self.get().get(3));
      }
    });
    self.set(cache);
    ProgramCache.Entry got = cache.get(3);
    assertSame(first.get(), got, "the program cached while this one compiled");
    assertEquals(2, written.size(), "both compiled");
    assertEquals(1, cache.size());
    assertEquals(footprint(got), hbm.usedBytes(), "the loser's memory is given back");
    cache.release();
    assertEquals(0, hbm.usedBytes());
  }

  @Test
  void theLeastRecentlyUsedProgramsGoPastTheLimit() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    ProgramCache cache = cache(hbm, this::record, 3);
    for (int batch = 1; batch <= 4; batch++) {
      cache.done(cache.get(batch));
    }
    assertEquals(List.of(2, 3, 4), cache.batches(), "batch 1, least recently used, went");
    cache.done(cache.get(2));
    ProgramCache.Entry five = cache.get(5);
    cache.done(five);
    assertEquals(List.of(4, 2, 5), cache.batches(), "3 went: 2 was used again");
    assertNull(cache.program(3));
    assertEquals(cache.cardBytes(), hbm.usedBytes(), "an evicted program's memory is freed");
    long held = 0;
    for (int batch : cache.batches()) {
      ProgramCache.Entry e = cache.get(batch);
      held += footprint(e);
      cache.done(e);
    }
    assertEquals(held, cache.cardBytes());
    cache.release();
    assertEquals(0, hbm.usedBytes());
  }

  @Test
  void aProgramInUseIsNotEvictedUntilItsRunIsDone() {
    HbmAllocator hbm = new HbmAllocator(1L << 30, 32);
    ProgramCache cache = cache(hbm, this::record, 1);
    ProgramCache.Entry one = cache.get(1);
    ProgramCache.Entry two = cache.get(2);
    assertEquals(List.of(1, 2), cache.batches(), "both in use: the cache passes its limit");
    assertTrue(staging(one).stream().allMatch(b -> b.refCnt() == 1), "one is still usable");
    cache.done(one);
    assertEquals(List.of(2), cache.batches(), "one goes when its run is done");
    assertTrue(staging(one).stream().allMatch(b -> b.refCnt() == 0));
    cache.done(two);
    assertEquals(List.of(2), cache.batches());
    assertEquals(footprint(two), hbm.usedBytes());
    cache.release();
  }
}
