package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link Device#awaitProgress} against a device whose STATUS and PC are scripted per look, on a
 * clock that jumps a second per look: a slow program that keeps issuing is waited for however
 * long it takes, a stalled one is cut off after the stall, and {@link Device#await} keeps its
 * total deadline.
 */
class AwaitProgressTest {
  private static final int BUSY = RegField.STATUS_BUSY.mask();
  private static final int DONE = RegField.STATUS_DONE.mask();

  /** Busy for {@code busyLooks} looks at STATUS, then done; PC as {@code pcAtLook} says. */
  static final class Scripted extends RegisterOnlyDevice {
    final int busyLooks;
    final IntUnaryOperator pcAtLook;
    int statusLooks;
    int resets;

    Scripted(int busyLooks, IntUnaryOperator pcAtLook, AtomicLong clock) {
      super("scripted", () -> clock.addAndGet(1_000_000_000L));
      this.busyLooks = busyLooks;
      this.pcAtLook = pcAtLook;
    }

    @Override
    int rawRead(int offset) {
      if (offset == Reg.STATUS.offset()) {
        return statusLooks++ < busyLooks ? BUSY : DONE;
      }
      if (offset == Reg.PC.offset()) {
        return pcAtLook.applyAsInt(statusLooks);
      }
      return 0;
    }

    @Override
    void rawWrite(int offset, int value) {
      if (offset == Reg.CTRL.offset() && RegField.CTRL_SOFT_RESET.isSet(value)) {
        resets++;
      }
    }
  }

  @Test
  void aSlowProgramThatKeepsIssuingIsWaitedForToTheEnd() {
    // 100 looks of a second each, the PC moving every look: far past the 3 s stall.
    Scripted d = new Scripted(100, look -> look, new AtomicLong());
    RunResult r = d.awaitProgress(Duration.ofSeconds(3));
    assertTrue(r.ok());
    assertEquals(0, d.resets);
  }

  @Test
  void aProgramWhosePcStopsIsCutOffAfterTheStallAndTheDeviceReset() {
    // The PC moves for 10 looks, then stays at 10: a hang in the middle of a program.
    Scripted d = new Scripted(1_000, look -> Math.min(look, 10), new AtomicLong());
    DeviceTimeoutException e = assertThrows(DeviceTimeoutException.class,
        () -> d.awaitProgress(Duration.ofSeconds(3)));
    assertTrue(e.getMessage().contains("made no progress for 3000 ms"), e.getMessage());
    assertTrue(e.getMessage().contains("at instruction 10"), e.getMessage());
    assertTrue(d.statusLooks < 30, "cut off within two stalls of the PC stopping, not at the"
        + " end: " + d.statusLooks + " looks");
    assertEquals(1, d.resets);
  }

  @Test
  void awaitKeepsItsTotalDeadlineEvenWhileThePcMoves() {
    Scripted d = new Scripted(100, look -> look, new AtomicLong());
    DeviceTimeoutException e = assertThrows(DeviceTimeoutException.class,
        () -> d.await(Duration.ofSeconds(3)));
    assertTrue(e.getMessage().contains("did not finish within 3000 ms"), e.getMessage());
    assertEquals(1, d.resets);
  }
}
