package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a link's state as sysfs gives it, and what it says about the link. */
class PcieLinkTest {
  private static PcieLink link(String speed, int width, String maxSpeed, int maxWidth) {
    return new PcieLink(Optional.of(speed), OptionalInt.of(width), Optional.of(maxSpeed),
        OptionalInt.of(maxWidth));
  }

  @Test
  void aFullLinkIsNeitherDownNorDegradedAndHasItsRawRate() {
    PcieLink gen3x16 = link("8.0 GT/s PCIe", 16, "8.0 GT/s PCIe", 16);
    assertFalse(gen3x16.down());
    assertFalse(gen3x16.degraded());
    assertEquals(8e9 * 128 / 130 / 8 * 16, gen3x16.bytesPerSecond().getAsDouble(), 1);
    assertEquals("8.0 GT/s PCIe x16", gen3x16.now());
    PcieLink gen1x1 = link("2.5 GT/s PCIe", 1, "2.5 GT/s PCIe", 1);
    assertEquals(2.5e9 * 0.8 / 8, gen1x1.bytesPerSecond().getAsDouble(), 1);
  }

  @Test
  void aSlowerOrNarrowerLinkIsDegraded() {
    assertTrue(link("8.0 GT/s PCIe", 8, "8.0 GT/s PCIe", 16).degraded());
    assertTrue(link("2.5 GT/s PCIe", 16, "8.0 GT/s PCIe", 16).degraded());
    assertFalse(link("16.0 GT/s PCIe", 16, "16.0 GT/s PCIe", 16).degraded());
  }

  @Test
  void aLinkWithNoLanesOrAnUnknownSpeedIsDown() {
    PcieLink down = link("Unknown", 0, "8.0 GT/s PCIe", 16);
    assertTrue(down.down());
    assertFalse(down.degraded(), "down, not merely degraded");
    assertTrue(down.bytesPerSecond().isEmpty());
  }

  @Test
  void readsTheAttributesOfAFunctionDirectoryAndToleratesMissingOnes(@TempDir Path dir)
      throws Exception {
    Files.writeString(dir.resolve("current_link_speed"), "5.0 GT/s PCIe\n");
    Files.writeString(dir.resolve("current_link_width"), "4\n");
    PcieLink l = PcieLink.read(dir);
    assertTrue(l.known());
    assertEquals("5.0 GT/s PCIe x4", l.now());
    assertEquals("? x?", l.max());
    assertFalse(l.degraded(), "nothing to compare with");
    assertFalse(PcieLink.read(dir.resolve("missing")).known());
  }
}
