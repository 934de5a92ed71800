package dev.systole.host.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HbmAllocatorTest {
  @Test
  void allocatesAlignedAndReusesFreedSpace() {
    HbmAllocator a = new HbmAllocator(1 << 20);
    HbmAllocator.Region x = a.allocate("x", 100, 4096);
    HbmAllocator.Region y = a.allocate("y", 5000, 4096);
    assertEquals(0, x.address());
    assertEquals(4096, y.address());
    a.free(x);
    HbmAllocator.Region z = a.allocate("z", 4096, 4096);
    assertEquals(0, z.address(), "first fit takes the freed block");
    a.free(y);
    a.free(z);
    assertEquals(0, a.usedBytes());
    assertEquals(0, a.allocate("all", 1 << 20, 1).address(), "freed blocks coalesce");
  }

  @Test
  void aModelThatDoesNotFitSaysWhatItNeedsAndWhatHoldsTheRest() {
    HbmAllocator a = new HbmAllocator(1 << 20);
    a.allocate("weights of layer 0", 600_000, 4096);
    OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
        () -> a.allocate("weights of layer 1", 600_000, 4096));
    assertTrue(e.getMessage().startsWith("card memory full: weights of layer 1 needs 585.9 KiB"
        + " but 438.1 KiB of 1.00 MiB is free"), e.getMessage());
    assertTrue(e.getMessage().contains("weights of layer 0 holds 585.9 KiB"), e.getMessage());
    assertEquals(600_000, e.needed());
  }

  @Test
  void badRequestsAreRefused() {
    HbmAllocator a = new HbmAllocator(1 << 20);
    assertThrows(IllegalArgumentException.class, () -> a.allocate("x", 0, 4096));
    assertThrows(IllegalArgumentException.class, () -> a.allocate("x", 10, 3000));
    HbmAllocator.Region r = a.allocate("x", 10, 1);
    a.free(r);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(r));
    assertTrue(e.getMessage().contains("not a live allocation"), e.getMessage());
  }

  @Test
  void randomAllocationsNeverOverlap() {
    HbmAllocator a = new HbmAllocator(1 << 24);
    Random r = new Random(1);
    List<HbmAllocator.Region> live = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      if (!live.isEmpty() && r.nextInt(3) == 0) {
        a.free(live.remove(r.nextInt(live.size())));
      } else {
        try {
          long align = 1L << r.nextInt(13);
          HbmAllocator.Region x = a.allocate("r" + i, 1 + r.nextInt(100_000), align);
          assertEquals(0, x.address() % align);
          for (HbmAllocator.Region o : live) {
            assertTrue(x.end() <= o.address() || o.end() <= x.address(), x + " overlaps " + o);
          }
          live.add(x);
        } catch (OutOfDeviceMemoryException full) {
          assertTrue(full.free() < 100_000 + 4096 || full.getMessage().contains("largest"));
        }
      }
    }
    long sum = live.stream().mapToLong(HbmAllocator.Region::size).sum();
    assertEquals(sum, a.usedBytes());
  }

  @Test
  void aPreferredChannelIsUsedWhileItHasRoomAndThenAnyOther() {
    HbmAllocator a = new HbmAllocator(1 << 20, 4);
    HbmAllocator.Region x = a.allocate("x", 1000, 4096, 2);
    assertEquals(2 << 18, x.address());
    assertEquals(2, a.channelOf(x.address()));
    HbmAllocator.Region y = a.allocate("y", 5000, 4096, 6);
    assertEquals(2, a.channelOf(y.address()), "channels wrap around");
    assertEquals(x.address() + 4096, y.address());
    HbmAllocator.Region big = a.allocate("big", (1 << 18) - 3 * 4096, 4096, 2);
    HbmAllocator.Region spill = a.allocate("spill", 4096, 4096, 2);
    assertEquals(0, spill.address(), "a full channel spills over to the first fit anywhere");
    assertEquals(3 << 18, big.end(), "the rest of channel 2, to its last byte");
    HbmAllocator.Region last = a.allocate("last", 100, 1, 3);
    assertEquals(3, a.channelOf(last.address()));
    assertEquals(4096, a.allocate("any", 10, 1, -1).address(), "no preference: first fit");
    assertThrows(IllegalArgumentException.class, () -> new HbmAllocator(1 << 20, 0));
  }
}
