package dev.systole.driver;

import io.netty.buffer.ByteBuf;

/**
 * A device for tests of {@link AbstractDevice}'s register protocol: a subclass scripts what
 * registers read and records what is written; transfers do nothing and events never come.
 */
abstract class RegisterOnlyDevice extends AbstractDevice {
  RegisterOnlyDevice(String name, Ticker ticker) {
    super(name, ticker);
  }

  @Override
  void rawDmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length) {}

  @Override
  void rawDmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length) {}

  @Override
  void waitForEvent(long maxNanos) {}

  @Override
  String backend() {
    return "test";
  }

  @Override
  public void close() {}
}
