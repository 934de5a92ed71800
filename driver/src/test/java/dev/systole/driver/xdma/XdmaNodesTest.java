package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node names, and board discovery over a sysfs tree built in a temporary directory. */
class XdmaNodesTest {
  @TempDir
  Path tmp;

  @Test
  void nodesAreNamedAsTheDriverNamesThem() {
    XdmaNodes zero = XdmaNodes.of(0);
    assertEquals(Path.of("/dev/xdma0_user"), zero.user());
    assertEquals(Path.of("/dev/xdma0_h2c_0"), zero.h2c(0));
    assertEquals(Path.of("/dev/xdma0_c2h_3"), zero.c2h(3));
    assertEquals(Path.of("/dev/xdma0_events_15"), zero.events(15));
    XdmaNodes sim = new XdmaNodes(tmp, 2);
    assertEquals("xdma2", sim.name());
    assertEquals(tmp.resolve("xdma2_h2c_1"), sim.h2c(1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sim.h2c(4));
    assertEquals("h2c channel 4 (expected 0..3)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> sim.events(16));
    assertEquals("user interrupt 16 (expected 0..15)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new XdmaNodes(tmp, -1));
    assertEquals("board number -1 (expected >= 0)", e.getMessage());
  }

  private Path function(Path sys, String address, String vendor, String device, String driver,
      String... link) throws Exception {
    Path dir = Files.createDirectories(sys.resolve(address));
    Files.writeString(dir.resolve("vendor"), vendor + "\n");
    Files.writeString(dir.resolve("device"), device + "\n");
    if (driver != null) {
      Files.createSymbolicLink(dir.resolve("driver"),
          Path.of("../../../bus/pci/drivers").resolve(driver));
    }
    String[] names = {"current_link_speed", "max_link_speed", "current_link_width",
        "max_link_width"};
    for (int i = 0; i < link.length; i++) {
      Files.writeString(dir.resolve(names[i]), link[i] + "\n");
    }
    return dir;
  }

  @Test
  void findsXilinxFunctionsAndNumbersTheXdmaBoundOnesInPciOrder() throws Exception {
    Path sys = Files.createDirectories(tmp.resolve("sys/bus/pci/devices"));
    function(sys, "0000:03:00.0", "0x10ee", "0x903f", "xdma", "8.0 GT/s PCIe", "8.0 GT/s PCIe",
        "16", "16");
    function(sys, "0000:01:00.0", "0x10ee", "0x9038", "xdma", "8.0 GT/s PCIe", "8.0 GT/s PCIe",
        "4", "16");
    function(sys, "0000:02:00.0", "0x10ee", "0x5000", "vfio-pci");
    function(sys, "0000:00:1f.0", "0x8086", "0xa324", "xdma");
    function(sys, "10000:00:00.0", "0x10ee", "0x903f", "xdma", "2.5 GT/s PCIe",
        "8.0 GT/s PCIe");
    function(sys, "0000:04:00.1", "0x10ee", "0x903f", null);
    Files.createDirectories(sys.resolve("not-a-function"));
    Path dev = Files.createDirectories(tmp.resolve("dev"));
    for (String node : List.of("xdma0_user", "xdma0_h2c_0", "xdma0_c2h_0", "xdma0_events_0",
        "xdma1_user", "xdma10_user", "null")) {
      Files.createFile(dev.resolve(node));
    }

    List<PciBoard> boards = XdmaNodes.find(sys, dev);

    assertEquals(List.of("0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.1",
        "10000:00:00.0"), boards.stream().map(PciBoard::address).toList());
    PciBoard first = boards.get(0);
    assertEquals(new PciBoard("0000:01:00.0", 0x10ee, 0x9038, Optional.of("xdma"),
        Optional.of("8.0 GT/s PCIe"), Optional.of("8.0 GT/s PCIe"), OptionalInt.of(4),
        OptionalInt.of(16), OptionalInt.of(0), List.of(dev.resolve("xdma0_c2h_0"),
        dev.resolve("xdma0_events_0"), dev.resolve("xdma0_h2c_0"), dev.resolve("xdma0_user"))),
        first);
    assertTrue(first.xdmaBound());
    assertTrue(first.linkDegraded(), "x4 of x16");

    PciBoard vfio = boards.get(1);
    assertEquals(Optional.of("vfio-pci"), vfio.driver());
    assertFalse(vfio.xdmaBound());
    assertEquals(OptionalInt.empty(), vfio.board());
    assertEquals(List.of(), vfio.nodes());
    assertEquals(OptionalInt.empty(), vfio.currentLinkWidth());
    assertFalse(vfio.linkDegraded(), "unknown is not degraded");

    PciBoard second = boards.get(2);
    assertEquals(OptionalInt.of(1), second.board());
    assertEquals(0x903f, second.device());
    assertEquals(List.of(dev.resolve("xdma1_user")), second.nodes());
    assertFalse(second.linkDegraded());

    assertEquals(Optional.empty(), boards.get(3).driver());
    PciBoard third = boards.get(4);
    assertEquals(OptionalInt.of(2), third.board());
    assertEquals(List.of(), third.nodes(), "bound, but the driver made no nodes");
    assertTrue(third.linkDegraded(), "2.5 of 8 GT/s");
  }

  @Test
  void noSysfsMeansNoBoards() {
    assertEquals(List.of(), XdmaNodes.find(tmp.resolve("missing"), tmp.resolve("dev")));
  }

  @Test
  void pciAddressesOrderByNumberNotByText() {
    assertTrue(XdmaNodes.pciOrder("0000:ff:1f.7") < XdmaNodes.pciOrder("10000:00:00.0"));
    assertTrue(XdmaNodes.pciOrder("0000:01:00.0") < XdmaNodes.pciOrder("0000:01:00.1"));
    assertEquals(-1, XdmaNodes.pciOrder("0000:01:20.0"));
    assertEquals(-1, XdmaNodes.pciOrder("pci0000:00"));
    assertEquals(-1, XdmaNodes.pciOrder("0000:0g:00.0"));
  }
}
