package dev.systole.tests;

import dev.systole.driver.Device;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/** Card memory of a device as byte arrays, through a direct buffer that is always released. */
public final class Dma {
  private Dma() {}

  /** Writes {@code bytes} to card memory at {@code address}. */
  public static void write(Device device, long address, byte[] bytes) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
    try {
      buf.writeBytes(bytes);
      device.dmaWrite(address, buf);
    } finally {
      buf.release();
    }
  }

  /** The {@code length} bytes of card memory at {@code address}. */
  public static byte[] read(Device device, long address, int length) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(length);
    try {
      device.dmaRead(address, buf, 0, length);
      byte[] out = new byte[length];
      buf.getBytes(0, out);
      return out;
    } finally {
      buf.release();
    }
  }
}
