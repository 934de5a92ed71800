package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A CTRL write the board did not take in time may still be taken later, in the middle of the
 * next start's register writes, and run a program nobody waits for: after one, the device's next
 * start soft-resets it before it writes anything else, and only then.
 */
class UnsettledStartTest {
  private static final int START = RegField.CTRL_START.mask();
  private static final int RESET = RegField.CTRL_SOFT_RESET.mask();

  /** Records register writes; the CTRL writes listed in {@code failing} (by count) fail. */
  static final class Recording extends RegisterOnlyDevice {
    final List<String> writes = new ArrayList<>();
    final List<Integer> failing;
    int ctrlWrites;

    Recording(List<Integer> failing) {
      super("recording", System::nanoTime);
      this.failing = failing;
    }

    @Override
    int rawRead(int offset) {
      return 0;
    }

    @Override
    void rawWrite(int offset, int value) {
      if (offset == Reg.CTRL.offset()) {
        if (failing.contains(ctrlWrites++)) {
          throw new DeviceException("recording: CTRL write 0x" + Integer.toHexString(value)
              + " was not taken within 2000 ms");
        }
        writes.add(value == RESET ? "reset" : value == START ? "start" : "ctrl");
      } else if (offset == Reg.PROG_ADDR_LO.offset()) {
        writes.add("program");
      }
    }
  }

  @Test
  void aStartNotTakenMakesTheNextStartResetFirst() {
    Recording d = new Recording(List.of(0));
    assertThrows(DeviceException.class, () -> d.start(0x1000, 4));
    d.writes.clear();
    d.start(0x2000, 8);
    assertEquals(List.of("reset", "program", "start"), d.writes);
    d.writes.clear();
    d.start(0x2000, 8);
    assertEquals(List.of("program", "start"), d.writes, "settled again after the reset");
  }

  @Test
  void aResetNotTakenLeavesTheDeviceToBeResetAgain() {
    Recording d = new Recording(List.of(0, 1));
    assertThrows(DeviceException.class, () -> d.start(0x1000, 4));
    assertThrows(DeviceException.class, () -> d.start(0x1000, 4));
    d.writes.clear();
    d.start(0x1000, 4);
    assertEquals(List.of("reset", "program", "start"), d.writes);
  }

  @Test
  void startsThatAreTakenResetNothing() {
    Recording d = new Recording(List.of());
    d.start(0x1000, 4);
    d.start(0x1000, 4);
    assertEquals(List.of("program", "start", "program", "start"), d.writes);
  }
}
