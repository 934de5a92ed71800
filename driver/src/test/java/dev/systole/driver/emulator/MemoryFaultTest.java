package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A card memory that fails is reported as MEM_FAULT at the instruction that touched it. */
class MemoryFaultTest {
  /** Sparse memory whose bytes from {@code bad} up fail every access. */
  private static final class FailingMemory implements CardMemory {
    private final SparseMemory inner;
    private final long bad;

    FailingMemory(long size, long bad) {
      this.inner = new SparseMemory(size);
      this.bad = bad;
    }

    private void check(long address, int length) {
      if (address + length > bad) {
        throw new MemoryFault(String.format("read error at 0x%x", Math.max(address, bad)));
      }
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
      check(address, length);
      inner.read(address, dst, offset, length);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
      check(address, length);
      inner.write(address, src, offset, length);
    }

    @Override
    public void read(long address, ByteBuf dst, int index, int length) {
      inner.read(address, dst, index, length);
    }

    @Override
    public void write(long address, ByteBuf src, int index, int length) {
      inner.write(address, src, index, length);
    }
  }

  @Test
  void aFailingReadStopsTheProgramWithMemFault() throws Exception {
    DeviceParams p = DeviceParams.defaults().with(Map.of(Param.HBM_MB, 4L));
    FailingMemory memory = new FailingMemory(p.hbmBytes(), 0x30_0000);
    List<Instruction> program = Assembler.parseProgram("""
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x1000 x_size=1 y_size=1
        STORE buf=ABUF elem_bytes=16 hbm_addr=0x2000 x_size=1 y_size=1 wait=LOAD
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x300000 x_size=1 y_size=1
        HALT
        """);
    byte[] code = Instruction.encode(program);
    memory.write(0, code, 0, code.length);
    memory.write(0x1000, new byte[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, 0, 16);
    try (Accelerator acc = new Accelerator(p, memory, 0)) {
      acc.writeRegister(Reg.PROG_LEN.offset(), program.size());
      acc.writeRegister(Reg.CTRL.offset(), RegField.CTRL_START.mask());
      assertTrue(acc.awaitIdle(10, TimeUnit.SECONDS));
      int status = acc.readRegister(Reg.STATUS.offset());
      assertEquals(RegField.STATUS_DONE.mask() | RegField.STATUS_ERROR.mask(), status);
      assertEquals(ErrorCode.MEM_FAULT.code(), acc.readRegister(Reg.ERROR_CODE.offset()));
      assertEquals(2, acc.readRegister(Reg.ERROR_PC.offset()));
      assertEquals(2, acc.readRegister(Counter.INSTRET.lo().offset()));
      byte[] stored = new byte[16];
      memory.read(0x2000, stored, 0, 16);
      assertEquals(7, stored[15], "the STORE before the fault completed");
    }
  }
}
