package dev.systole.driver;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * What every backend does the same way once it can read and write registers and move bytes: the
 * open-time handshake, argument checks before any access, the start and completion protocol of
 * the contract, consistent 64-bit counter reads, and turning an error status into an explanation.
 * A backend supplies only the raw accesses and a way to wait for the device to say something.
 */
abstract class AbstractDevice implements Device {
  private final String name;
  private final Ticker ticker;
  private DeviceInfo info;
  private long programAddress;
  /**
   * Whether a CTRL write of this device failed (a board that did not take it in time): the
   * command may still be pending and be taken later, half-way through the next start's register
   * writes, so the next start soft-resets the device first.
   */
  private boolean unsettled;
  /** Whether this device started a program and has not yet seen it end. */
  private volatile boolean running;
  private int programLength;

  AbstractDevice(String name, Ticker ticker) {
    this.name = name;
    this.ticker = ticker;
  }

  /** Reads a register; the offset has been checked. */
  abstract int rawRead(int offset);

  /** Writes a register; the offset has been checked. */
  abstract void rawWrite(int offset, int value);

  /** Copies to card memory; both ranges have been checked and length is positive. */
  abstract void rawDmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length);

  /** Copies from card memory; both ranges have been checked and length is positive. */
  abstract void rawDmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length);

  /**
   * Blocks until the device may have ended a program, or at most {@code maxNanos}. Returning early
   * is allowed: the caller re-reads STATUS.
   */
  abstract void waitForEvent(long maxNanos) throws InterruptedException;

  /** A short name of the backend for {@link DeviceInfo}. */
  abstract String backend();

  /** Called just before a program starts, after the previous run's interrupts are acknowledged. */
  void beforeStart() {}

  /** A backend without an interrupt line of its own to wait on has none to report. */
  @Override
  public boolean awaitInterrupt(Duration timeout) {
    throw new UnsupportedOperationException(name + " (" + backend() + ") has no interrupt line"
        + " to wait on");
  }

  /**
   * Reads identification and parameters and refuses a device that is not a Systole accelerator of
   * this host's contract major version. Backends call this at the end of opening.
   */
  final void handshake() {
    int magic = rawRead(Reg.MAGIC.offset());
    if (magic != Contract.MAGIC) {
      throw new DeviceException(String.format("%s: not a Systole accelerator: MAGIC reads 0x%08x"
          + " (expected 0x%08x)%s", name, magic, Contract.MAGIC,
          magic == -1 ? "; all ones usually means the link is down or the device is not"
              + " programmed" : ""));
    }
    int version = rawRead(Reg.VERSION.offset());
    int major = RegField.VERSION_MAJOR.get(version);
    int minor = RegField.VERSION_MINOR.get(version);
    if (major != Contract.VERSION_MAJOR) {
      throw new DeviceException(String.format("%s: device implements contract %d.%d but this host"
          + " speaks contract %d.%d; load a bitstream built from the same contract major version",
          name, major, minor, Contract.VERSION_MAJOR, Contract.VERSION_MINOR));
    }
    DeviceParams params;
    try {
      params = DeviceParams.fromRegisters(this::rawRead);
    } catch (IllegalArgumentException e) {
      throw new DeviceException(name + ": device reports parameters this host cannot use: "
          + e.getMessage(), e);
    }
    info = new DeviceInfo(name, backend(), major, minor, rawRead(Reg.BUILD_ID.offset()), params);
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final DeviceInfo info() {
    return info;
  }

  static void checkRegisterOffset(int offset) {
    if (offset < 0 || offset > Contract.REGISTER_WINDOW_BYTES - 4 || (offset & 3) != 0) {
      throw new IndexOutOfBoundsException(String.format(
          "register offset 0x%x (expected a multiple of 4 in 0x000..0x%03x)", offset,
          Contract.REGISTER_WINDOW_BYTES - 4));
    }
  }

  @Override
  public final int readRegister(int offset) {
    checkRegisterOffset(offset);
    return rawRead(offset);
  }

  @Override
  public final void writeRegister(int offset, int value) {
    checkRegisterOffset(offset);
    rawWrite(offset, value);
  }

  private void checkDma(String op, long cardAddress, ByteBuf buf, int index, int length) {
    if (length < 0 || index < 0 || index > buf.capacity() - length) {
      throw new IndexOutOfBoundsException(String.format(
          "%s %s: buffer index %d, length %d (expected 0 <= index, 0 <= length, index + length"
              + " <= capacity(%d))", name, op, index, length, buf.capacity()));
    }
    long hbm = info.params().hbmBytes();
    if (cardAddress < 0 || cardAddress > hbm - length) {
      throw new IndexOutOfBoundsException(String.format(
          "%s %s: card address 0x%x, length %d (expected 0 <= address, address + length <= 0x%x,"
              + " the HBM size)", name, op, cardAddress, length, hbm));
    }
  }

  @Override
  public final void dmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length) {
    checkDma("DMA write", cardAddress, src, srcIndex, length);
    if (length > 0) {
      rawDmaWrite(cardAddress, src, srcIndex, length);
    }
  }

  @Override
  public final void dmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length) {
    checkDma("DMA read", cardAddress, dst, dstIndex, length);
    if (length > 0) {
      rawDmaRead(cardAddress, dst, dstIndex, length);
    }
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException if the program this device started last is still running
   * @throws DeviceBusyException if the device is running a program this device did not start
   */
  @Override
  public final void start(long address, int instructions) {
    if (unsettled) {
      reset();
    }
    int status = rawRead(Reg.STATUS.offset());
    if (RegField.STATUS_BUSY.isSet(status)) {
      if (!running) {
        throw new DeviceBusyException(name, status);
      }
      throw new IllegalStateException(String.format("%s: cannot start the program at 0x%x: the"
          + " program at 0x%x is still running (STATUS 0x%x)", name, address, programAddress,
          status));
    }
    running = true;
    programAddress = address;
    programLength = instructions;
    rawWrite(Reg.INT_STATUS.offset(), RegField.INT_STATUS_DONE.mask()
        | RegField.INT_STATUS_ERROR.mask());
    beforeStart();
    rawWrite(Reg.PROG_ADDR_LO.offset(), (int) address);
    rawWrite(Reg.PROG_ADDR_HI.offset(), (int) (address >>> 32));
    rawWrite(Reg.PROG_LEN.offset(), instructions);
    writeCtrl(RegField.CTRL_START.mask());
  }

  /** Writes CTRL; a write that fails leaves the device {@link #unsettled}. */
  private void writeCtrl(int value) {
    try {
      rawWrite(Reg.CTRL.offset(), value);
    } catch (RuntimeException e) {
      unsettled = true;
      running = false;
      throw e;
    }
  }

  @Override
  public final RunResult await(Duration timeout) {
    return awaitEnd(timeout, false);
  }

  @Override
  public final RunResult awaitProgress(Duration stall) {
    return awaitEnd(stall, true);
  }

  /**
   * Waits for STATUS to say DONE. The deadline is {@code timeout} from now; with {@code
   * whileProgressing}, a deadline at which PC has moved since the last one is pushed back by
   * another {@code timeout}.
   */
  private RunResult awaitEnd(Duration timeout, boolean whileProgressing) {
    long deadline = ticker.nanoTime() + timeout.toNanos();
    int lastPc = whileProgressing ? rawRead(Reg.PC.offset()) : 0;
    while (true) {
      int status = rawRead(Reg.STATUS.offset());
      if (!RegField.STATUS_BUSY.isSet(status) && RegField.STATUS_DONE.isSet(status)) {
        running = false;
        return result(status);
      }
      long now = ticker.nanoTime();
      long left = deadline - now;
      if (left <= 0) {
        int pc = rawRead(Reg.PC.offset());
        if (whileProgressing && pc != lastPc) {
          lastPc = pc;
          deadline = now + timeout.toNanos();
          continue;
        }
        reset();
        throw new DeviceTimeoutException(String.format("%s: program at 0x%x (%d instructions) %s"
            + " (STATUS 0x%x, at instruction %d); the device was reset", name, programAddress,
            programLength, whileProgressing ? String.format("made no progress for %d ms",
                timeout.toMillis()) : String.format("did not finish within %d ms",
                timeout.toMillis()), status, pc), timeout);
      }
      try {
        waitForEvent(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DeviceException(name + ": interrupted while waiting for the program at 0x"
            + Long.toHexString(programAddress), e);
      }
    }
  }

  private RunResult result(int status) {
    long cycles = counter(Counter.CYCLES);
    if (!RegField.STATUS_ERROR.isSet(status)) {
      return new RunResult(name, programAddress, programLength, ErrorCode.NONE, 0, 0, null, "",
          cycles);
    }
    int codeValue = rawRead(Reg.ERROR_CODE.offset());
    long pc = rawRead(Reg.ERROR_PC.offset()) & 0xFFFFFFFFL;
    ErrorCode code = ErrorCode.fromCode(codeValue);
    Instruction instruction = null;
    String reason = "";
    if (code == ErrorCode.PROG_RANGE) {
      reason = String.format("PROG_LEN must be at least 1 and PROG_ADDR a multiple of %d, with"
          + " the whole program below 0x%x", Contract.PROGRAM_ALIGNMENT,
          info.params().hbmBytes());
    } else if (code == ErrorCode.PROG_END) {
      reason = "the program has no HALT: it ran past its last instruction";
    } else if (pc < programLength) {
      instruction = readInstruction(programAddress + pc * Contract.INSTRUCTION_BYTES);
      if (instruction != null) {
        InstructionCheck.Violation v = InstructionCheck.check(instruction, info.params());
        if (v != null) {
          reason = v.reason();
        } else if (code == ErrorCode.NO_WEIGHTS) {
          reason = "no weight tile in the array: set w_load, or w_swap after a w_preload";
        }
      }
    }
    return new RunResult(name, programAddress, programLength, code, codeValue, pc, instruction,
        reason, cycles);
  }

  private Instruction readInstruction(long address) {
    if (address < 0 || address > info.params().hbmBytes() - Contract.INSTRUCTION_BYTES) {
      return null;
    }
    ByteBuf buf = Unpooled.buffer(Contract.INSTRUCTION_BYTES);
    try {
      rawDmaRead(address, buf, 0, Contract.INSTRUCTION_BYTES);
      return Instruction.read(buf, 0);
    } finally {
      buf.release();
    }
  }

  private long counter(Counter c) {
    while (true) {
      int hi = rawRead(c.hi().offset());
      int lo = rawRead(c.lo().offset());
      if (rawRead(c.hi().offset()) == hi) {
        return (hi & 0xFFFFFFFFL) << 32 | (lo & 0xFFFFFFFFL);
      }
    }
  }

  @Override
  public final Map<Counter, Long> counters() {
    Map<Counter, Long> out = new EnumMap<>(Counter.class);
    for (Counter c : Counter.values()) {
      out.put(c, counter(c));
    }
    return out;
  }

  @Override
  public final void reset() {
    writeCtrl(RegField.CTRL_SOFT_RESET.mask());
    running = false;
    unsettled = false;
  }

  @Override
  public String toString() {
    return name;
  }
}
