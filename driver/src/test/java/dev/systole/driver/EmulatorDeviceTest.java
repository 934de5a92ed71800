package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Emulator behaviour that the backend-independent contract suite does not reach. */
class EmulatorDeviceTest {
  /** About 80 G multiply-accumulates: tens of seconds of emulation, so surely still running. */
  private static final List<Instruction> LONG_PROGRAM = Assembler.parseProgram(
      "MATMUL w_load=1 rows=4096\n" + "MATMUL rows=4096\n".repeat(20_000) + "HALT\n");

  private Device device;

  @BeforeEach
  void open() {
    device = Devices.open("emulator");
  }

  @AfterEach
  void close() {
    device.close();
  }

  private static void load(Device d, long address, List<Instruction> program) {
    ByteBuf buf = Unpooled.wrappedBuffer(Instruction.encode(program));
    try {
      d.dmaWrite(address, buf);
    } finally {
      buf.release();
    }
  }

  private void load(long address, List<Instruction> program) {
    load(device, address, program);
  }

  @Test
  void parametersCanBeChosenByName() {
    try (Device small = Devices.open("emulator:ARRAY_ROWS=8,ARRAY_COLS=8,HBM_MB=64");
        Device same = Devices.open("emulator:ARRAY=8")) {
      assertEquals(small.info().params().arrayRows(), same.info().params().arrayCols());
      assertEquals(8, small.info().params().arrayRows());
      assertEquals(64L << 20, small.info().params().hbmBytes());
      assertEquals(8, small.read(Reg.ARRAY_COLS));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Devices.open("emulator:ARRAY_ROWS=8"));
    assertTrue(e.getMessage().contains("not square"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Devices.open("emulator:COLOUR=1"));
    assertTrue(e.getMessage().contains("not a contract parameter"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu:0"));
    assertTrue(e.getMessage().contains("unknown device \"tpu:0\""), e.getMessage());
  }

  @Test
  void autoFallsBackToTheEmulatorAndSaysSo() {
    StringBuilder said = new StringBuilder();
    try (Device d = Devices.open("auto", Ticker.system(), said::append)) {
      assertEquals("emulator", d.info().backend());
    }
    assertTrue(said.toString().contains("using the emulator"), said.toString());
  }

  @Test
  void aSoftResetAbortsALongProgramAndTheDeviceIsUsableAfter() {
    load(0, LONG_PROGRAM);
    device.start(0, LONG_PROGRAM.size());
    assertTrue(RegField.STATUS_BUSY.isSet(device.read(Reg.STATUS)));
    device.reset();
    assertEquals(0, device.read(Reg.STATUS));
    load(0x1000, List.of(Assembler.parse("HALT")));
    assertTrue(device.run(0x1000, 1, Duration.ofSeconds(5)).ok());
    assertEquals(1, device.counters().get(Counter.INSTRET));
  }

  @Test
  void aDeadlineResetsTheDeviceAndSaysWhere() {
    AtomicLong clock = new AtomicLong();
    // A ticker that jumps three seconds per look: the 2 s deadline has passed at the first look
    // after the first STATUS read, while the long program is still running on the emulator's
    // thread, however fast that thread is.
    try (Device d = device) {
      AbstractDevice timed = new EmulatorDevice("emulator", d.info().params(),
          () -> clock.addAndGet(3_000_000_000L));
      try {
        load(timed, 0, LONG_PROGRAM);
        timed.start(0, LONG_PROGRAM.size());
        DeviceTimeoutException e = assertThrows(DeviceTimeoutException.class,
            () -> timed.await(Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("did not finish within 2000 ms"), e.getMessage());
        assertTrue(e.getMessage().contains("the device was reset"), e.getMessage());
        assertEquals(0, timed.read(Reg.STATUS), "reset leaves the device idle");
      } finally {
        timed.close();
      }
    }
    device = Devices.open("emulator");
  }

  @Test
  void startingWhileBusyIsRefused() {
    load(0, LONG_PROGRAM);
    device.start(0, LONG_PROGRAM.size());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> device.start(0, LONG_PROGRAM.size()));
    assertTrue(e.getMessage().contains("still running"), e.getMessage());
    device.reset();
  }

  @Test
  void programErrorsAreExplainedWithTheInstruction() {
    load(0x2000, Assembler.parseProgram(
        "LOAD buf=ABUF dst_row=4090 elem_bytes=16 x_size=8 y_size=1 x_stride=16\nHALT"));
    device.start(0x2000, 2);
    RunResult r = device.await(Duration.ofSeconds(5));
    assertEquals(ErrorCode.BUF_RANGE, r.error());
    assertEquals(0, r.errorPc());
    DeviceProgramException e = assertThrows(DeviceProgramException.class, r::throwIfFailed);
    assertTrue(e.getMessage().contains("failed with BUF_RANGE at instruction 0 (LOAD"),
        e.getMessage());
    assertTrue(e.getMessage().contains("touches ABUF rows 4090..4097 (expected within 0..4095)"),
        e.getMessage());
  }

  @Test
  void interruptStatusIsWriteOneToClear() {
    load(0, List.of(Assembler.parse("HALT")));
    device.write(Reg.INT_ENABLE, 0xFFFF);
    assertEquals(3, device.read(Reg.INT_ENABLE), "only defined bits stick");
    device.start(0, 1);
    device.await(Duration.ofSeconds(5));
    assertEquals(RegField.INT_STATUS_DONE.mask(), device.read(Reg.INT_STATUS));
    device.write(Reg.INT_STATUS, RegField.INT_STATUS_ERROR.mask());
    assertEquals(RegField.INT_STATUS_DONE.mask(), device.read(Reg.INT_STATUS));
    device.write(Reg.INT_STATUS, RegField.INT_STATUS_DONE.mask());
    assertEquals(0, device.read(Reg.INT_STATUS));
  }
}
