package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import org.junit.jupiter.api.Test;

/** The open-time handshake every backend shares, on a device whose registers a test chooses. */
class HandshakeTest {
  /** Registers of the default build, with MAGIC and VERSION as given. */
  private static final class Fixed extends RegisterOnlyDevice {
    private final int magic;
    private final int version;

    Fixed(int magic, int version) {
      super("xdma:7", Ticker.system());
      this.magic = magic;
      this.version = version;
      handshake();
    }

    @Override
    int rawRead(int offset) {
      if (offset == Reg.MAGIC.offset()) {
        return magic;
      }
      if (offset == Reg.VERSION.offset()) {
        return version;
      }
      for (Param p : Param.values()) {
        if (p.register().offset() == offset) {
          return (int) DeviceParams.defaults().get(p);
        }
      }
      return 0;
    }

    @Override
    void rawWrite(int offset, int value) {}
  }

  @Test
  void aBitstreamOfAnotherMajorVersionIsRefusedNamingBoth() {
    DeviceException e = assertThrows(DeviceException.class,
        () -> new Fixed(Contract.MAGIC, 0x0002_0003));
    assertTrue(e.getMessage().contains("device implements contract 2.3 but this host speaks"
        + " contract " + Contract.VERSION_MAJOR + "." + Contract.VERSION_MINOR), e.getMessage());
  }

  @Test
  void aNewerMinorVersionIsAccepted() {
    Fixed d = new Fixed(Contract.MAGIC, (Contract.VERSION_MAJOR << 16) | 9);
    assertEquals(9, d.info().versionMinor());
  }

  @Test
  void somethingThatIsNotSystoleIsRefused() {
    DeviceException e = assertThrows(DeviceException.class, () -> new Fixed(0x12345678, 0));
    assertTrue(e.getMessage().contains("not a Systole accelerator: MAGIC reads 0x12345678"),
        e.getMessage());
  }
}
