package dev.systole.host.cli.diag;

import dev.systole.driver.Device;
import dev.systole.driver.contract.Instruction;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;

/** Small programs the diagnostics run, written to card memory through a pooled direct buffer. */
final class Programs {
  private Programs() {}

  static void load(Device device, long address, List<Instruction> program) {
    byte[] code = device.info().encode(program);
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(code.length);
    try {
      buf.writeBytes(code);
      device.dmaWrite(address, buf);
    } finally {
      buf.release();
    }
  }
}
