package dev.systole.host.golden;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceException;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays golden programs on a device: reset, poison the expected regions, write inputs and the
 * program, run with a deadline, then compare the status, the bytes and the counters. A mismatch
 * is reported with what was expected, what was found and where.
 */
public final class GoldenRunner {
  private static final byte POISON = (byte) 0xEE;

  /** The verdict on one program. */
  public record Outcome(GoldenProgram program, Verdict verdict, List<String> problems,
      long cycles) {
    public String line() {
      return switch (verdict) {
        case PASS -> String.format("PASS  %-28s %8d cycles", program.name(), cycles);
        case SKIP -> String.format("SKIP  %-28s %s", program.name(), problems.get(0));
        case FAIL -> String.format("FAIL  %-28s %s", program.name(), String.join("; ", problems));
      };
    }
  }

  public enum Verdict {
    PASS,
    FAIL,
    SKIP
  }

  /** Counters that depend on the memory system: exact only where the timing model holds. */
  public static final Set<Counter> TIMING = EnumSet.of(Counter.CYCLES, Counter.BUSY_CYCLES,
      Counter.STALL_CYCLES);

  private final ByteBufAllocator allocator;
  private final Duration timeout;
  private final boolean checkTiming;

  /**
   * @param checkTiming whether the timing counters must equal the timing model's (true for the
   *     emulator and a fixed-latency sim board; a board's real HBM changes them)
   */
  public GoldenRunner(Duration timeout, boolean checkTiming) {
    this(PooledByteBufAllocator.DEFAULT, timeout, checkTiming);
  }

  public GoldenRunner(ByteBufAllocator allocator, Duration timeout, boolean checkTiming) {
    this.allocator = allocator;
    this.timeout = timeout;
    this.checkTiming = checkTiming;
  }

  public Outcome run(Device device, GoldenProgram g) {
    for (Map.Entry<Param, Long> e : g.requires().entrySet()) {
      long have = device.info().params().get(e.getKey());
      if (have != e.getValue()) {
        return new Outcome(g, Verdict.SKIP, List.of("needs " + e.getKey() + "=" + e.getValue()
            + ", device has " + have), 0);
      }
    }
    List<String> problems = new ArrayList<>();
    RunResult result;
    try {
      device.reset();
      device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
      for (GoldenProgram.Region r : g.expectedData()) {
        fill(device, r.address(), r.bytes().length);
      }
      for (GoldenProgram.Region r : g.inputs()) {
        write(device, r.address(), r.bytes());
      }
      write(device, g.programAddress(), device.info().encode(g.program()));
      device.start(g.programAddress(), g.program().size());
      result = device.await(timeout);
    } catch (DeviceException | IndexOutOfBoundsException | IllegalStateException e) {
      return new Outcome(g, Verdict.FAIL, List.of(e.getMessage()), 0);
    }
    if (result.error() != g.expectedError()) {
      problems.add("ended with " + (result.ok() ? "HALT" : result.describe()) + ", expected "
          + (g.expectedError() == ErrorCode.NONE ? "HALT" : g.expectedError() + " at "
          + g.expectedErrorPc()));
    } else if (!result.ok() && result.errorPc() != g.expectedErrorPc()) {
      problems.add(g.expectedError() + " at instruction " + result.errorPc() + ", expected at "
          + g.expectedErrorPc());
    }
    for (GoldenProgram.Region r : g.expectedData()) {
      String diff = compare(device, r);
      if (diff != null) {
        problems.add(diff);
      }
    }
    Map<Counter, Long> counters = device.counters();
    for (Map.Entry<Counter, Long> e : g.expectedCounters().entrySet()) {
      if (!checkTiming && TIMING.contains(e.getKey())) {
        continue;
      }
      long have = counters.get(e.getKey());
      if (have != e.getValue()) {
        problems.add(e.getKey() + " = " + have + ", expected " + e.getValue());
      }
    }
    return new Outcome(g, problems.isEmpty() ? Verdict.PASS : Verdict.FAIL, problems,
        result.cycles());
  }

  private void fill(Device device, long address, int length) {
    ByteBuf buf = allocator.directBuffer(length);
    try {
      for (int i = 0; i < length; i++) {
        buf.setByte(i, POISON);
      }
      device.dmaWrite(address, buf, 0, length);
    } finally {
      buf.release();
    }
  }

  private void write(Device device, long address, byte[] bytes) {
    ByteBuf buf = allocator.directBuffer(bytes.length);
    try {
      buf.setBytes(0, bytes);
      device.dmaWrite(address, buf, 0, bytes.length);
    } finally {
      buf.release();
    }
  }

  private String compare(Device device, GoldenProgram.Region r) {
    byte[] want = r.bytes();
    byte[] have = new byte[want.length];
    ByteBuf buf = allocator.directBuffer(want.length);
    try {
      device.dmaRead(r.address(), buf, 0, want.length);
      buf.getBytes(0, have);
    } finally {
      buf.release();
    }
    int first = -1;
    int count = 0;
    for (int i = 0; i < want.length; i++) {
      if (want[i] != have[i]) {
        count++;
        if (first < 0) {
          first = i;
        }
      }
    }
    if (first < 0) {
      return null;
    }
    return String.format("%d of %d bytes differ at 0x%x; first at 0x%x: 0x%02x, expected 0x%02x",
        count, want.length, r.address(), r.address() + first, have[first] & 0xFF,
        want[first] & 0xFF);
  }
}
