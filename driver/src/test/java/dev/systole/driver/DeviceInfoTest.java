package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Unit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a program's bytes are written for devices of older contract versions. */
class DeviceInfoTest {
  private static final List<Instruction> PROGRAM = Assembler.parseProgram("""
      VADD wait=LOAD rows=4 dst_row=8
      STORE wait=VECTOR+LOAD buf=ABUF elem_bytes=16 hbm_addr=0x1000 x_size=4 y_size=1 x_stride=16
      REQUANT wait=EXEC rows=2
      HALT
      """);

  private static DeviceInfo device(int minor) {
    return new DeviceInfo("xdma:0", "xdma", Contract.VERSION_MAJOR, minor, 0,
        DeviceParams.defaults().with("VECTOR_UNIT=0,LUT_ROWS=0"));
  }

  @Test
  void aDeviceOfThisVersionReadsTheProgramAsItIs() {
    assertArrayEquals(Instruction.encode(PROGRAM), device(Contract.VERSION_MINOR)
        .encode(PROGRAM));
  }

  @Test
  void onADeviceWithoutBit11TheVectorWaitIsWrittenAsTheExecWaitItMeansThere() {
    for (int minor : new int[] {0, 1}) {
      byte[] bytes = device(minor).encode(PROGRAM);
      assertNotEquals(0, Unit.VECTOR.waitMask() & PROGRAM.get(1).waitMask(), "test premise");
      for (int i = 0; i < PROGRAM.size(); i++) {
        Instruction got = Instruction.read(bytes, i * Contract.INSTRUCTION_BYTES);
        int want = PROGRAM.get(i).waitMask();
        if ((want & Unit.VECTOR.waitMask()) != 0) {
          want = want & ~Unit.VECTOR.waitMask() | Unit.EXEC.waitMask();
        }
        assertEquals(want, got.waitMask(), "instruction " + i + " on a 1." + minor + " device,"
            + " where bit 11 is reserved");
      }
    }
  }
}
