package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.DeviceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Remove, rescan and secondary bus reset on a fake sysfs tree shaped like the kernel's. */
class PciSysfsTest {
  static final String BRIDGE = "0000:00:01.1";
  static final String BOARD = "0000:03:00.0";

  @TempDir
  Path tmp;

  /** sys/devices/pci0000:00/BRIDGE/BOARD, linked from sys/bus/pci/devices; returns the latter. */
  static Path tree(Path sys) throws Exception {
    Path root = Files.createDirectories(sys.resolve("devices/pci0000:00"));
    Path bridge = Files.createDirectories(root.resolve(BRIDGE));
    Path board = Files.createDirectories(bridge.resolve(BOARD));
    byte[] config = new byte[256];
    config[PciSysfs.BRIDGE_CONTROL] = 0x13;
    Files.write(bridge.resolve("config"), config);
    for (Path f : List.of(board, bridge)) {
      Files.writeString(f.resolve("remove"), "");
    }
    Path devices = Files.createDirectories(sys.resolve("bus/pci/devices"));
    Files.writeString(sys.resolve("bus/pci/rescan"), "");
    Files.createSymbolicLink(devices.resolve(BRIDGE), Path.of("../../../devices/pci0000:00",
        BRIDGE));
    Files.createSymbolicLink(devices.resolve(BOARD), Path.of("../../../devices/pci0000:00",
        BRIDGE, BOARD));
    return devices;
  }

  @Test
  void removeAndRescanWriteOneToTheirFiles() throws Exception {
    Path devices = tree(tmp.resolve("sys"));
    PciSysfs sysfs = new PciSysfs(devices);
    sysfs.remove(BOARD);
    assertEquals("1", Files.readString(devices.resolve(BOARD).resolve("remove")));
    assertEquals("", Files.readString(devices.resolve(BRIDGE).resolve("remove")));
    sysfs.rescan();
    assertEquals("1", Files.readString(tmp.resolve("sys/bus/pci/rescan")));
  }

  @Test
  void theBridgeIsTheParentInSysDevicesAndARootPortHasNone() throws Exception {
    PciSysfs sysfs = new PciSysfs(tree(tmp.resolve("sys")));
    assertEquals(Optional.of(BRIDGE), sysfs.bridgeOf(BOARD));
    assertEquals(Optional.empty(), sysfs.bridgeOf(BRIDGE));
  }

  @Test
  void aSecondaryBusResetSetsHoldsAndClearsTheBitAndKeepsTheOthers() throws Exception {
    Path devices = tree(tmp.resolve("sys"));
    PciSysfs sysfs = new PciSysfs(devices);
    Path config = devices.resolve(BRIDGE).resolve("config");
    List<String> seen = new ArrayList<>();
    sysfs.secondaryBusReset(BRIDGE, d -> {
      try {
        seen.add(d.toMillis() + " ms with control 0x"
            + Integer.toHexString(Files.readAllBytes(config)[PciSysfs.BRIDGE_CONTROL] & 0xFF));
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
    });
    assertEquals(List.of("2 ms with control 0x53", "1000 ms with control 0x13"), seen);
    assertEquals(0x13, Files.readAllBytes(config)[PciSysfs.BRIDGE_CONTROL]);
  }

  @Test
  void badAddressesAndMissingFunctionsAreNamed() throws Exception {
    PciSysfs sysfs = new PciSysfs(tree(tmp.resolve("sys")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> sysfs.remove("03:00"));
    assertEquals("\"03:00\" is not a PCI address (expected domain:bus:device.function, e.g."
        + " 0000:03:00.0)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> sysfs.remove("0000:05:00.0"));
    assertTrue(e.getMessage().startsWith("no PCI function 0000:05:00.0 in "), e.getMessage());
  }

  @Test
  void aShortConfigFileIsNotABridge() throws Exception {
    Path devices = tree(tmp.resolve("sys"));
    Files.write(devices.resolve(BRIDGE).resolve("config"), new byte[16]);
    DeviceException e = assertThrows(DeviceException.class,
        () -> new PciSysfs(devices).secondaryBusReset(BRIDGE, d -> { }));
    assertTrue(e.getMessage().contains("is 16 bytes, too short for a bridge's configuration"
        + " header (expected at least 64)"), e.getMessage());
  }

  @Test
  void aMissingRescanFileIsSaidInWords() throws Exception {
    Path devices = tree(tmp.resolve("sys"));
    Files.delete(tmp.resolve("sys/bus/pci/rescan"));
    DeviceException e = assertThrows(DeviceException.class,
        () -> new PciSysfs(devices).rescan());
    assertTrue(e.getMessage().endsWith("no such file (is sysfs mounted?)"), e.getMessage());
  }
}
