package dev.systole.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Device} must do, whatever is behind it. Each backend subclasses this with a
 * way to open one: the emulator always, sim boards and real boards where they are present.
 */
public abstract class DeviceContractTest {
  protected Device device;

  protected abstract Device open();

  @BeforeEach
  void openDevice() {
    device = open();
    device.reset();
  }

  @AfterEach
  void closeDevice() {
    device.close();
  }

  private ByteBuf buffer(int size) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
  }

  private void loadProgram(long address, List<Instruction> program) {
    byte[] code = Instruction.encode(program);
    ByteBuf buf = buffer(code.length);
    try {
      buf.writeBytes(code);
      device.dmaWrite(address, buf);
    } finally {
      buf.release();
    }
  }

  @Test
  void identifiesItself() {
    assertEquals(Contract.MAGIC, device.read(Reg.MAGIC));
    assertEquals(Contract.VERSION, device.read(Reg.VERSION));
    assertEquals(Contract.VERSION_MAJOR, device.info().versionMajor());
    assertEquals(device.info().params().arrayRows(), device.read(Reg.ARRAY_ROWS));
    assertEquals(device.info().params().hbmMb(), device.read(Reg.HBM_MB));
  }

  @Test
  void scratchHoldsEveryPattern() {
    for (int v : new int[] {0, -1, 0x55555555, 0xAAAAAAAA, 1, 0x80000000, 0x12345678}) {
      device.write(Reg.SCRATCH, v);
      assertEquals(v, device.read(Reg.SCRATCH));
    }
  }

  @Test
  void readOnlyAndUnnamedRegistersIgnoreWrites() {
    device.write(Reg.MAGIC, 0);
    assertEquals(Contract.MAGIC, device.read(Reg.MAGIC));
    device.write(Reg.ARRAY_ROWS, 99);
    assertEquals(device.info().params().arrayRows(), device.read(Reg.ARRAY_ROWS));
    device.writeRegister(0xF00, 0x1234);
    assertEquals(0, device.readRegister(0xF00));
    assertEquals(0, device.read(Reg.CTRL), "CTRL reads 0");
  }

  @Test
  void registerOffsetsAreCheckedBeforeAnyAccess() {
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
        () -> device.readRegister(Contract.REGISTER_WINDOW_BYTES));
    assertTrue(e.getMessage().contains("register offset 0x1000 (expected a multiple of 4 in"
        + " 0x000..0xffc)"), e.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> device.readRegister(-4));
    assertThrows(IndexOutOfBoundsException.class, () -> device.writeRegister(0x7A, 1));
  }

  @Test
  void dmaRoundTripsAtOddAddressesAndSizes() {
    Random r = new Random(1);
    for (int size : new int[] {1, 3, 31, 32, 33, 4096, 65537, 300_000}) {
      long address = 0x40_0000L + r.nextInt(1 << 20) | 1;
      ByteBuf out = buffer(size + 7);
      ByteBuf back = buffer(size + 5);
      try {
        for (int i = 0; i < size + 7; i++) {
          out.setByte(i, r.nextInt());
        }
        device.dmaWrite(address, out, 7, size);
        back.setZero(0, size + 5);
        device.dmaRead(address, back, 5, size);
        assertEquals(out.slice(7, size), back.slice(5, size), "size " + size);
        assertEquals(0, out.readerIndex());
        assertEquals(0, back.writerIndex());
      } finally {
        out.release();
        back.release();
      }
    }
  }

  @Test
  void dmaOutsideHbmIsRefusedAndWritesNothing() {
    long end = device.info().params().hbmBytes();
    ByteBuf buf = buffer(64);
    try {
      buf.setZero(0, 64);
      buf.setByte(0, 0x42);
      device.dmaWrite(end - 64, buf, 0, 64);
      buf.setByte(0, 0x17);
      IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
          () -> device.dmaWrite(end - 63, buf, 0, 64));
      assertTrue(e.getMessage().contains("the HBM size"), e.getMessage());
      device.dmaRead(end - 64, buf, 0, 64);
      assertEquals(0x42, buf.getByte(0), "the refused write changed nothing");
      assertThrows(IndexOutOfBoundsException.class, () -> device.dmaRead(-1, buf, 0, 1));
      e = assertThrows(IndexOutOfBoundsException.class, () -> device.dmaRead(0, buf, 1, 64));
      assertTrue(e.getMessage().contains("capacity(64)"), e.getMessage());
      device.dmaWrite(end, buf, 0, 0);
    } finally {
      buf.release();
    }
  }

  @Test
  void aProgramRunsAndCountsAndRaisesDone() {
    loadProgram(0x1000, Assembler.parseProgram("FENCE\nFENCE\nHALT"));
    device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
    RunResult r = device.run(0x1000, 3, Duration.ofSeconds(30));
    assertTrue(r.ok(), r.describe());
    assertTrue(r.cycles() > 0);
    Map<Counter, Long> c = device.counters();
    assertEquals(3, c.get(Counter.INSTRET));
    assertEquals(r.cycles(), c.get(Counter.CYCLES));
    assertEquals(r.cycles(), c.get(Counter.BUSY_CYCLES));
    int status = device.read(Reg.STATUS);
    assertTrue(RegField.STATUS_DONE.isSet(status));
    assertFalse(RegField.STATUS_ERROR.isSet(status));
    assertEquals(RegField.INT_STATUS_DONE.mask(), device.read(Reg.INT_STATUS));
    device.run(0x1000, 3, Duration.ofSeconds(30));
    assertEquals(6, device.counters().get(Counter.INSTRET), "counters accumulate");
    assertEquals(2 * r.cycles(), device.counters().get(Counter.BUSY_CYCLES));
    long total = device.counters().get(Counter.TOTAL_CYCLES);
    assertTrue(total >= 2 * r.cycles(), "TOTAL_CYCLES " + total + " below BUSY_CYCLES");
    device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
    assertEquals(0, device.counters().get(Counter.INSTRET));
  }

  @Test
  void anEnabledInterruptArrivesWhenAProgramEnds() {
    loadProgram(0x1000, List.of(Assembler.parse("FENCE"), Assembler.parse("HALT")));
    device.write(Reg.INT_ENABLE, RegField.INT_ENABLE_DONE.mask());
    device.start(0x1000, 2);
    assertTrue(device.awaitInterrupt(Duration.ofSeconds(10)), "no interrupt within 10 s");
    assertTrue(RegField.STATUS_DONE.isSet(device.read(Reg.STATUS)),
        "the interrupt came before DONE");
    assertTrue(device.await(Duration.ofSeconds(10)).ok());
    assertEquals(RegField.INT_STATUS_DONE.mask(), device.read(Reg.INT_STATUS));
  }

  @Test
  void theClockCounterAdvancesWhileIdle() throws InterruptedException {
    long before = device.counters().get(Counter.TOTAL_CYCLES);
    Thread.sleep(20);
    long after = device.counters().get(Counter.TOTAL_CYCLES);
    assertTrue(after > before, "TOTAL_CYCLES did not advance: " + before + " then " + after);
  }

  @Test
  void aFailingProgramIsReportedWithItsInstruction() {
    loadProgram(0x2000, Assembler.parseProgram("FENCE\nMATMUL w_load=1 rows=0\nHALT"));
    device.start(0x2000, 3);
    RunResult r = device.await(Duration.ofSeconds(30));
    assertEquals(ErrorCode.ZERO_LENGTH, r.error());
    assertEquals(1, r.errorPc());
    assertEquals(Assembler.parse("MATMUL w_load=1 rows=0"), r.instruction());
    assertTrue(r.describe().contains("MATMUL rows=0 (expected >= 1)"), r.describe());
    assertEquals(RegField.INT_STATUS_DONE.mask() | RegField.INT_STATUS_ERROR.mask(),
        device.read(Reg.INT_STATUS));
    assertEquals(1, device.counters().get(Counter.INSTRET), "the faulting one is not counted");
  }

  @Test
  void resetReturnsRegistersToTheirResetValues() {
    device.write(Reg.SCRATCH, 77);
    device.write(Reg.INT_ENABLE, 3);
    device.write(Reg.PROG_LEN, 9);
    device.reset();
    for (Reg reg : new Reg[] {Reg.SCRATCH, Reg.INT_ENABLE, Reg.PROG_LEN, Reg.STATUS,
        Reg.ERROR_CODE}) {
      assertEquals(reg.reset(), device.read(reg), reg.name());
    }
    assertEquals(0, device.counters().get(Counter.BUSY_CYCLES));
  }
}
