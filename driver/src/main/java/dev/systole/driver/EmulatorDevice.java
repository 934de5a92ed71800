package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.emulator.Accelerator;
import dev.systole.driver.emulator.SparseMemory;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The accelerator emulated in this process: a full backend, not a test double. It runs the
 * contract's instruction set exactly, on a sparse HBM of the contract's size, and reports cycle
 * counts from the contract's timing model. Its interrupt line is a count of rises, which {@link
 * #awaitInterrupt} takes from.
 */
final class EmulatorDevice extends AbstractDevice {
  private final Accelerator accelerator;
  private final Semaphore interrupts = new Semaphore(0);

  EmulatorDevice(String name, DeviceParams params, Ticker ticker) {
    super(name, ticker);
    this.accelerator = new Accelerator(params, new SparseMemory(params.hbmBytes()), 0);
    accelerator.setInterruptListener(interrupts::release);
    handshake();
  }

  @Override
  void beforeStart() {
    interrupts.drainPermits();
  }

  @Override
  public boolean awaitInterrupt(Duration timeout) {
    try {
      return interrupts.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeviceException(name() + ": interrupted while waiting for an interrupt", e);
    }
  }

  @Override
  int rawRead(int offset) {
    return accelerator.readRegister(offset);
  }

  @Override
  void rawWrite(int offset, int value) {
    accelerator.writeRegister(offset, value);
  }

  @Override
  void rawDmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length) {
    accelerator.memory().write(cardAddress, src, srcIndex, length);
  }

  @Override
  void rawDmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length) {
    accelerator.memory().read(cardAddress, dst, dstIndex, length);
  }

  @Override
  void waitForEvent(long maxNanos) throws InterruptedException {
    accelerator.awaitIdle(maxNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  String backend() {
    return "emulator";
  }

  @Override
  public void close() {
    accelerator.close();
  }
}
