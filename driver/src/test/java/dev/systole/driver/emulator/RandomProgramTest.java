package dev.systole.driver.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.InstrField;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Bad programs give an error status, never an exception inside the emulator and never a hang:
 * thousands of programs of random instructions (random fields of real opcodes, and raw random
 * words) each end with DONE, and when they fail, ERROR_CODE names a contract error.
 */
class RandomProgramTest {
  @Test
  void randomProgramsAlwaysEndWithAStatus() throws Exception {
    DeviceParams params = DeviceParams.defaults().with(Map.of(Param.HBM_MB, 4L,
        Param.ABUF_ROWS, 256L, Param.WBUF_ROWS, 256L, Param.ACC_ROWS, 256L));
    SparseMemory memory = new SparseMemory(params.hbmBytes());
    List<Throwable> escaped = new CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> escaped.add(e));
    Random r = new Random(99);
    int failures = 0;
    try (Accelerator acc = new Accelerator(params, memory, 0)) {
      for (int run = 0; run < 3000; run++) {
        int n = 1 + r.nextInt(6);
        byte[] code = new byte[n * Contract.INSTRUCTION_BYTES];
        for (int i = 0; i < n; i++) {
          randomInstruction(r).write(code, i * Contract.INSTRUCTION_BYTES);
        }
        memory.write(0, code, 0, code.length);
        acc.writeRegister(Reg.PROG_ADDR_LO.offset(), 0);
        acc.writeRegister(Reg.PROG_LEN.offset(), n);
        acc.writeRegister(Reg.CTRL.offset(), RegField.CTRL_START.mask());
        assertTrue(acc.awaitIdle(10, TimeUnit.SECONDS), "run " + run + " did not end");
        int status = acc.readRegister(Reg.STATUS.offset());
        assertTrue(RegField.STATUS_DONE.isSet(status), "run " + run + ": STATUS " + status);
        if (RegField.STATUS_ERROR.isSet(status)) {
          failures++;
          int code0 = acc.readRegister(Reg.ERROR_CODE.offset());
          assertTrue(ErrorCode.fromCode(code0) != null && code0 != 0, "code " + code0);
        }
      }
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(previous);
    }
    assertEquals(List.of(), escaped);
    assertTrue(failures > 1000, "most random programs fail: " + failures);
  }

  private static Instruction randomInstruction(Random r) {
    if (r.nextInt(10) == 0) {
      return Instruction.ofWords(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
    }
    Opcode op = Opcode.values()[r.nextInt(Opcode.values().length)];
    Instruction in = Instruction.of(op);
    for (InstrField f : op.fields().subList(1, op.fields().size())) {
      long v;
      switch (r.nextInt(3)) {
        case 0 -> v = 0;
        case 1 -> v = Math.min(f.encodingMax(), r.nextInt(64));
        default -> v = f.encodingMin() + Math.floorMod(r.nextLong(),
            f.encodingMax() - f.encodingMin() + 1);
      }
      in = in.with(f, v);
    }
    return in;
  }
}
