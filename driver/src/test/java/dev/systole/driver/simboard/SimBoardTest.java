package dev.systole.driver.simboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives a sim board from the host side the way a host process does, with plain file system
 * calls: the register window mapped shared, programs and data written into the card memory file
 * at their card addresses, interrupts read from the FIFO.
 */
class SimBoardTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults().with(Map.of(Param.HBM_MB,
      64L));
  private static final VarHandle WORD =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long DEADLINE_NANOS = 5_000_000_000L;
  private static final int DONE = RegField.STATUS_DONE.mask();
  private static final int ERROR = RegField.STATUS_ERROR.mask();
  private static final int BUSY = RegField.STATUS_BUSY.mask();
  private static final int INT_BITS = RegField.INT_STATUS_DONE.mask()
      | RegField.INT_STATUS_ERROR.mask();

  @TempDir
  Path dir;

  private SimBoard board;
  private MappedByteBuffer window;

  @AfterEach
  void stop() {
    if (board != null) {
      board.close();
    }
  }

  private void start(Fault... faults) throws IOException {
    Set<Fault> set = EnumSet.noneOf(Fault.class);
    set.addAll(java.util.List.of(faults));
    board = SimBoard.start(dir, PARAMS, set);
    try (FileChannel ch = FileChannel.open(dir.resolve(SimBoard.USER_NODE),
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      window = ch.map(FileChannel.MapMode.READ_WRITE, 0, Contract.REGISTER_WINDOW_BYTES);
    }
  }

  // ---- the host side ----

  private int read(int offset) {
    return (int) WORD.getVolatile(window, offset);
  }

  private int read(Reg reg) {
    return read(reg.offset());
  }

  private void write(int offset, int value) {
    WORD.setVolatile(window, offset, value);
  }

  private void write(Reg reg, int value) {
    write(reg.offset(), value);
  }

  private long counter(Counter c) {
    while (true) {
      long hi = read(c.hi()) & 0xFFFFFFFFL;
      long lo = read(c.lo()) & 0xFFFFFFFFL;
      if ((read(c.hi()) & 0xFFFFFFFFL) == hi) {
        return hi << 32 | lo;
      }
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE_NANOS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.onSpinWait();
    }
  }

  /** Writes CTRL and waits until the board has taken the command (CTRL reads 0 again). */
  private void command(RegField bit) {
    write(Reg.CTRL, bit.mask());
    await("CTRL reads 0", () -> read(Reg.CTRL) == 0);
  }

  private void dmaWrite(long address, byte[] data) throws IOException {
    try (FileChannel ch = FileChannel.open(dir.resolve(SimBoard.H2C_NODE),
        StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        ch.write(buf, address + buf.position());
      }
    }
  }

  private byte[] dmaRead(long address, int length) throws IOException {
    try (FileChannel ch = FileChannel.open(dir.resolve(SimBoard.C2H_NODE),
        StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate(length);
      while (buf.hasRemaining()) {
        if (ch.read(buf, address + buf.position()) < 0) {
          throw new IOException("short read at 0x" + Long.toHexString(address + buf.position()));
        }
      }
      return buf.array();
    }
  }

  /** Runs a program at card address {@code address} by the contract's protocol, to DONE. */
  private int run(long address, String program) throws IOException {
    byte[] code = Instruction.encode(Assembler.parseProgram(program));
    dmaWrite(address, code);
    assertEquals(0, read(Reg.STATUS) & BUSY, "refuse to start while BUSY");
    write(Reg.INT_STATUS, INT_BITS);
    write(Reg.PROG_ADDR_LO, (int) address);
    write(Reg.PROG_ADDR_HI, (int) (address >>> 32));
    write(Reg.PROG_LEN, code.length / Contract.INSTRUCTION_BYTES);
    command(RegField.CTRL_START);
    await("STATUS is DONE", () -> (read(Reg.STATUS) & (BUSY | DONE)) == DONE);
    return read(Reg.STATUS);
  }

  // ---- the tests ----

  @Test
  void theNodesAreThereAsTheProtocolSays() throws IOException {
    start();
    assertEquals(Contract.REGISTER_WINDOW_BYTES, Files.size(dir.resolve(SimBoard.USER_NODE)));
    assertTrue(Files.isRegularFile(dir.resolve(SimBoard.H2C_NODE)));
    assertEquals(PARAMS.hbmBytes(), Files.size(dir.resolve(SimBoard.H2C_NODE)));
    assertTrue(Files.isSameFile(dir.resolve(SimBoard.H2C_NODE), dir.resolve(SimBoard.C2H_NODE)));
    assertEquals(2, Files.getAttribute(dir.resolve(SimBoard.H2C_NODE), "unix:nlink"));
    assertEquals(0010000, (int) Files.getAttribute(dir.resolve(SimBoard.EVENTS_NODE),
        "unix:mode") & 0170000, "the events node is a FIFO");
    assertEquals(ProcessHandle.current().pid() + "\n",
        Files.readString(dir.resolve(SimBoard.PID_FILE)));
    String json = Files.readString(dir.resolve(SimBoard.JSON_FILE));
    assertTrue(json.contains("\"engine\": \"emulator\""), json);
    assertTrue(json.contains("\"HBM_MB\": 64"), json);
    assertTrue(json.contains("\"faults\": []"), json);
  }

  @Test
  void identificationAndParametersAreInTheWindow() throws IOException {
    start();
    assertEquals(Contract.MAGIC, read(Reg.MAGIC));
    assertEquals(Contract.VERSION, read(Reg.VERSION));
    assertEquals(0, read(Reg.BUILD_ID));
    assertEquals(PARAMS, DeviceParams.fromRegisters(this::read));
    assertEquals(0, read(Reg.STATUS));
    assertTrue(counter(Counter.TOTAL_CYCLES) >= 0);
    long before = counter(Counter.TOTAL_CYCLES);
    await("TOTAL_CYCLES advances", () -> counter(Counter.TOTAL_CYCLES) > before);
  }

  @Test
  void writesHaveTheContractsSemantics() throws IOException {
    start();
    write(Reg.SCRATCH, 0xCAFEF00D);
    write(Reg.MAGIC, 0x12345678);
    write(0xFFC, 0x5A5A5A5A);
    write(Reg.INT_ENABLE, 0xFFFFFFFF);
    await("the writes are applied", () -> read(Reg.INT_ENABLE) == 0x3);
    assertEquals(0xCAFEF00D, read(Reg.SCRATCH));
    await("MAGIC restored", () -> read(Reg.MAGIC) == Contract.MAGIC);
    await("an unnamed offset reads 0", () -> read(0xFFC) == 0);
    for (int value : new int[] {0, 1, -1, 0x80000000, 42}) {
      write(Reg.SCRATCH, value);
      await("SCRATCH reads " + value, () -> read(Reg.SCRATCH) == value);
    }
  }

  @Test
  void aHaltProgramRunsAndReportsCounters() throws IOException {
    start();
    assertEquals(DONE, run(0x1000, "HALT"));
    assertEquals(0, read(Reg.ERROR_CODE));
    assertEquals(0, read(Reg.PC));
    assertEquals(1, counter(Counter.INSTRET));
    assertTrue(counter(Counter.CYCLES) > 0);
    assertEquals(counter(Counter.CYCLES), counter(Counter.BUSY_CYCLES));
  }

  @Test
  void aLoadStoreProgramMovesDataInCardMemory() throws IOException {
    start();
    byte[] data = new byte[64];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (3 * i + 1);
    }
    dmaWrite(0x20_0000, data);
    int status = run(0x1000, """
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x200000 x_size=4 x_stride=16 y_size=1
        STORE buf=ABUF elem_bytes=16 hbm_addr=0x300000 x_size=4 x_stride=16 y_size=1 wait=LOAD
        HALT
        """);
    assertEquals(DONE, status);
    assertArrayEquals(data, dmaRead(0x30_0000, data.length));
    assertEquals(3, counter(Counter.INSTRET));
    assertEquals(64, counter(Counter.BYTES_READ));
    assertEquals(64, counter(Counter.BYTES_WRITTEN));
    assertEquals(2, read(Reg.PC));
  }

  @Test
  void anErrorProgramReportsItsCodeAndPc() throws IOException {
    start();
    int status = run(0x2000, """
        FENCE
        FENCE
        .word 0xFF 0 0 0
        HALT
        """);
    assertEquals(DONE | ERROR, status);
    assertEquals(ErrorCode.BAD_OPCODE.code(), read(Reg.ERROR_CODE));
    assertEquals(2, read(Reg.ERROR_PC));
    assertEquals(INT_BITS, read(Reg.INT_STATUS) & ~SimBoard.INT_STATUS_MARK);
  }

  @Test
  void intStatusClearsWhenTheHostWritesBackTheValueItRead() throws IOException {
    start();
    run(0x1000, "HALT");
    int raw = read(Reg.INT_STATUS);
    assertEquals(SimBoard.INT_STATUS_MARK | RegField.INT_STATUS_DONE.mask(), raw,
        "bit 31 is set in the window");
    int pending = raw & INT_BITS;
    write(Reg.INT_STATUS, pending);
    await("INT_STATUS cleared", () -> (read(Reg.INT_STATUS) & INT_BITS) == 0);
    assertEquals(SimBoard.INT_STATUS_MARK, read(Reg.INT_STATUS));
    write(Reg.INT_STATUS, 0);
    await("INT_STATUS marked again", () -> read(Reg.INT_STATUS) == SimBoard.INT_STATUS_MARK);
  }

  @Test
  void twoCommandsBackToBackAreBothTakenWhenTheHostWaitsForCtrlZero() throws IOException {
    start();
    run(0x1000, "FENCE\nHALT");
    assertEquals(2, counter(Counter.INSTRET));
    command(RegField.CTRL_CLEAR_COUNTERS);
    assertEquals(0, counter(Counter.INSTRET), "CLEAR_COUNTERS is visible once CTRL reads 0");
    command(RegField.CTRL_START);
    await("STATUS is DONE", () -> (read(Reg.STATUS) & (BUSY | DONE)) == DONE);
    assertEquals(2, counter(Counter.INSTRET));
    command(RegField.CTRL_SOFT_RESET);
    assertEquals(0, read(Reg.STATUS), "SOFT_RESET is visible once CTRL reads 0");
    assertEquals(0, counter(Counter.INSTRET));
  }

  @Test
  void aRunningProgramShowsBusyAndSoftResetAbortsIt() throws IOException {
    start();
    String longProgram = "MATMUL w_load=1 rows=4096\n" + "MATMUL rows=4096\n".repeat(5_000)
        + "HALT\n";
    byte[] code = Instruction.encode(Assembler.parseProgram(longProgram));
    dmaWrite(0, code);
    write(Reg.PROG_LEN, code.length / Contract.INSTRUCTION_BYTES);
    command(RegField.CTRL_START);
    assertEquals(BUSY, read(Reg.STATUS), "START is visible once CTRL reads 0");
    await("PC advances", () -> read(Reg.PC) > 1);
    command(RegField.CTRL_SOFT_RESET);
    assertEquals(0, read(Reg.STATUS));
    assertEquals(0, read(Reg.PC));
  }

  @Test
  void anEnabledInterruptArrivesOnTheFifoAfterDone() throws IOException {
    start();
    try (FileInputStream events = new FileInputStream(
        dir.resolve(SimBoard.EVENTS_NODE).toFile())) {
      run(0x1000, "HALT");
      sleep(20);
      assertEquals(0, events.available(), "no interrupt while INT_ENABLE is 0");

      write(Reg.INT_ENABLE, RegField.INT_ENABLE_DONE.mask());
      awaitEvent(events);
      assertEquals(DONE, read(Reg.STATUS) & DONE);
      write(Reg.INT_STATUS, INT_BITS);
      await("INT_STATUS cleared", () -> (read(Reg.INT_STATUS) & INT_BITS) == 0);

      byte[] code = Instruction.encode(Assembler.parseProgram("FENCE\nHALT"));
      dmaWrite(0x1000, code);
      write(Reg.PROG_LEN, 2);
      write(Reg.PROG_ADDR_LO, 0x1000);
      write(Reg.CTRL, RegField.CTRL_START.mask());
      awaitEvent(events);
      assertEquals(DONE, read(Reg.STATUS), "STATUS is final when the interrupt arrives");
      assertEquals(1 + 2, counter(Counter.INSTRET), "the counters are final too");
      sleep(20);
      assertEquals(0, events.available(), "one word per rising edge");
    }
  }

  private static void awaitEvent(FileInputStream events) throws IOException {
    await("an interrupt word", () -> {
      try {
        return events.available() >= 4;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    byte[] word = new byte[4];
    assertEquals(4, events.read(word));
    assertEquals(1, ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getInt());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  // ---- faults ----

  @Test
  void hangLeavesStatusBusyUntilSoftReset() throws IOException {
    start(Fault.HANG);
    dmaWrite(0, Instruction.encode(Assembler.parseProgram("HALT")));
    write(Reg.PROG_LEN, 1);
    command(RegField.CTRL_START);
    assertEquals(BUSY, read(Reg.STATUS));
    sleep(50);
    assertEquals(BUSY, read(Reg.STATUS));
    assertEquals(0, counter(Counter.INSTRET), "nothing ran");
    command(RegField.CTRL_SOFT_RESET);
    assertEquals(0, read(Reg.STATUS));

    board.clear(Fault.HANG);
    assertEquals(DONE, run(0, "HALT"));
    board.inject(Fault.HANG);
    write(Reg.INT_STATUS, INT_BITS);
    command(RegField.CTRL_START);
    assertEquals(BUSY, read(Reg.STATUS));
    assertEquals(0, counter(Counter.CYCLES), "START's zeros are shown while it hangs");
  }

  @Test
  void linkDownReadsAllOnesAndIgnoresWrites() throws IOException {
    start();
    write(Reg.SCRATCH, 7);
    board.inject(Fault.LINK_DOWN);
    for (int offset = 0; offset < Contract.REGISTER_WINDOW_BYTES; offset += 4) {
      assertEquals(-1, read(offset), "offset 0x" + Integer.toHexString(offset));
    }
    write(Reg.SCRATCH, 9);
    write(Reg.CTRL, RegField.CTRL_SOFT_RESET.mask());
    await("the writes are undone", () -> read(Reg.SCRATCH) == -1 && read(Reg.CTRL) == -1);
    assertTrue(Files.readString(dir.resolve(SimBoard.JSON_FILE)).contains("\"link-down\""));
    board.clear(Fault.LINK_DOWN);
    assertEquals(Contract.MAGIC, read(Reg.MAGIC));
    assertEquals(7, read(Reg.SCRATCH), "the writes were ignored, the reset too");
    assertEquals(0, read(0xFFC));
  }

  @Test
  void spuriousInterruptsComeWithoutDone() throws IOException {
    start(Fault.SPURIOUS_IRQ);
    try (FileInputStream events = new FileInputStream(
        dir.resolve(SimBoard.EVENTS_NODE).toFile())) {
      for (int i = 0; i < 3; i++) {
        awaitEvent(events);
        assertEquals(0, read(Reg.STATUS));
      }
      board.clear(Fault.SPURIOUS_IRQ);
      events.read(new byte[events.available()]);
      sleep(20);
      assertEquals(0, events.available());
    }
  }

  @Test
  void dmaFailFailsTransfersWithRealErrnos() throws IOException {
    start();
    byte[] data = {1, 2, 3, 4};
    dmaWrite(0x4000, data);
    board.inject(Fault.DMA_FAIL);
    IOException write = assertThrows(IOException.class, () -> dmaWrite(0x4000, data));
    assertTrue(write.getMessage().contains("No space left on device"), write.toString());
    IOException read = assertThrows(IOException.class, () -> dmaRead(0x4000, 4));
    assertTrue(read.getMessage().contains("Is a directory"), read.toString());

    board.clear(Fault.DMA_FAIL);
    assertArrayEquals(data, dmaRead(0x4000, 4), "the card memory survived the fault");
    assertTrue(Files.isSameFile(dir.resolve(SimBoard.H2C_NODE), dir.resolve(SimBoard.C2H_NODE)));
    assertEquals(DONE, run(0, "HALT"));
  }

  @Test
  void dmaFailAtStart() throws IOException {
    start(Fault.DMA_FAIL);
    assertTrue(Files.isSymbolicLink(dir.resolve(SimBoard.H2C_NODE)));
    assertTrue(Files.isDirectory(dir.resolve(SimBoard.C2H_NODE)));
    assertThrows(IOException.class, () -> Files.write(dir.resolve(SimBoard.H2C_NODE),
        new byte[] {1}, StandardOpenOption.WRITE));
    assertTrue(Files.readString(dir.resolve(SimBoard.JSON_FILE)).contains("\"dma-fail\""));
  }

  @Test
  void dmaShortCutsReadsPastTheCut() throws IOException {
    start();
    long cut = SimBoard.DMA_SHORT_CUT;
    board.inject(Fault.DMA_SHORT);
    assertEquals(cut, Files.size(dir.resolve(SimBoard.C2H_NODE)));
    try (FileChannel ch = FileChannel.open(dir.resolve(SimBoard.C2H_NODE),
        StandardOpenOption.READ)) {
      assertEquals(16, ch.read(ByteBuffer.allocate(64), cut - 16), "a read across the cut");
      assertEquals(-1, ch.read(ByteBuffer.allocate(64), 2 * cut), "a read past it");
    }
    assertTrue(Files.readString(dir.resolve(SimBoard.JSON_FILE))
        .contains("\"dma_short_cut\": " + cut));
    board.clear(Fault.DMA_SHORT);
    assertEquals(PARAMS.hbmBytes(), Files.size(dir.resolve(SimBoard.C2H_NODE)));
    assertArrayEquals(new byte[64], dmaRead(2 * cut, 64));
  }

  @Test
  void noIrqEndsProgramsButWritesNoInterrupt() throws IOException {
    start(Fault.NO_IRQ);
    try (FileInputStream events = new FileInputStream(
        dir.resolve(SimBoard.EVENTS_NODE).toFile())) {
      write(Reg.INT_ENABLE, RegField.INT_ENABLE_DONE.mask());
      assertEquals(DONE, run(0x1000, "HALT"));
      assertEquals(RegField.INT_STATUS_DONE.mask(), read(Reg.INT_STATUS) & INT_BITS,
          "the device raised its line");
      sleep(20);
      assertEquals(0, events.available(), "but no word reached the FIFO");
      board.clear(Fault.NO_IRQ);
      write(Reg.INT_STATUS, INT_BITS);
      await("INT_STATUS cleared", () -> (read(Reg.INT_STATUS) & INT_BITS) == 0);
      run(0x1000, "HALT");
      awaitEvent(events);
    }
  }

  @Test
  void dmaCorruptLosesHostWritesSilently() throws IOException {
    start();
    byte[] before = {1, 2, 3, 4};
    dmaWrite(0x4000, before);
    board.inject(Fault.DMA_CORRUPT);
    dmaWrite(0x4000, new byte[] {9, 9, 9, 9});
    assertArrayEquals(before, dmaRead(0x4000, 4), "the write went nowhere");
    assertTrue(Files.readString(dir.resolve(SimBoard.JSON_FILE)).contains("\"dma-corrupt\""));
    IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
        () -> board.inject(Fault.DMA_FAIL));
    assertEquals("faults dma-fail and dma-corrupt both replace the h2c node (expected one of"
        + " them)", both.getMessage());
    board.clear(Fault.DMA_CORRUPT);
    dmaWrite(0x4000, new byte[] {9, 9, 9, 9});
    assertArrayEquals(new byte[] {9, 9, 9, 9}, dmaRead(0x4000, 4));
    assertTrue(Files.isSameFile(dir.resolve(SimBoard.H2C_NODE), dir.resolve(SimBoard.C2H_NODE)));
  }

  @Test
  void aStuckBitReadsZeroThroughTheAcceleratorsPorts() throws IOException {
    start(Fault.HBM_STUCK_BIT);
    long at = SimBoard.stuckBitAddress(PARAMS);
    long region = PARAMS.hbmBytes() / PARAMS.hbmChannels();
    assertEquals(5 * region + 0x3039, at);
    assertTrue(Files.readString(dir.resolve(SimBoard.JSON_FILE))
        .contains("\"stuck_bit\": {\"address\": " + at + ", \"bit\": 4, \"value\": 0}"));
    long block = at & ~0xFL;
    byte[] ones = new byte[16];
    java.util.Arrays.fill(ones, (byte) 0xFF);
    dmaWrite(block, ones);
    assertArrayEquals(ones, dmaRead(block, 16), "DMA reaches the file directly");
    long copy = 0x100000;
    assertEquals(DONE, run(0x1000, "LOAD buf=ABUF elem_bytes=16 hbm_addr=" + block
        + " x_size=1 y_size=1\nSTORE buf=ABUF elem_bytes=16 wait=LOAD hbm_addr=" + copy
        + " x_size=1 y_size=1\nHALT"));
    byte[] copied = dmaRead(copy, 16);
    int index = (int) (at - block);
    for (int i = 0; i < 16; i++) {
      assertEquals(i == index ? (byte) 0xEF : (byte) 0xFF, copied[i], "byte " + i);
    }
    board.clear(Fault.HBM_STUCK_BIT);
    run(0x1000, "LOAD buf=ABUF elem_bytes=16 hbm_addr=" + block
        + " x_size=1 y_size=1\nSTORE buf=ABUF elem_bytes=16 wait=LOAD hbm_addr=" + copy
        + " x_size=1 y_size=1\nHALT");
    assertArrayEquals(ones, dmaRead(copy, 16));
  }

  @Test
  void aStuckBitNeedsAnEngineThatReadsThroughTheBoard() throws IOException {
    SimEngine.Factory other = (p, file, memory) -> {
      SimEngine e = SimEngine.emulator().create(p, file, memory);
      return new SimEngine() {
        @Override
        public String name() {
          return "rtl";
        }

        @Override
        public int buildId() {
          return e.buildId();
        }

        @Override
        public int readRegister(int offset) {
          return e.readRegister(offset);
        }

        @Override
        public void writeRegister(int offset, int value) {
          e.writeRegister(offset, value);
        }

        @Override
        public void setInterruptListener(Runnable listener) {
          e.setInterruptListener(listener);
        }

        @Override
        public void close() {
          e.close();
        }
      };
    };
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SimBoard.start(dir, PARAMS, Set.of(Fault.HBM_STUCK_BIT), other));
    assertEquals("fault hbm-stuck-bit needs the emulator engine (the rtl engine reads the card"
        + " memory file itself)", e.getMessage());
    board = SimBoard.start(dir, PARAMS, Set.of(), other);
    e = assertThrows(IllegalArgumentException.class, () -> board.inject(Fault.HBM_STUCK_BIT));
    assertEquals("fault hbm-stuck-bit needs the emulator engine (the rtl engine reads the card"
        + " memory file itself)", e.getMessage());
  }

  @Test
  void thePciDirectoryShowsTheLinkAsSysfsWould() throws IOException {
    start();
    Path pci = dir.resolve(SimBoard.PCI_DIR);
    assertEquals("0x10ee", Files.readString(pci.resolve("vendor")).strip());
    assertEquals("8.0 GT/s PCIe", Files.readString(pci.resolve("current_link_speed")).strip());
    assertEquals("16", Files.readString(pci.resolve("current_link_width")).strip());
    board.inject(Fault.LINK_DEGRADED);
    assertEquals("8", Files.readString(pci.resolve("current_link_width")).strip());
    assertEquals("16", Files.readString(pci.resolve("max_link_width")).strip());
    board.inject(Fault.LINK_DOWN);
    assertEquals("0", Files.readString(pci.resolve("current_link_width")).strip());
    assertEquals("Unknown", Files.readString(pci.resolve("current_link_speed")).strip());
    board.clear(Fault.LINK_DOWN);
    board.clear(Fault.LINK_DEGRADED);
    assertEquals("16", Files.readString(pci.resolve("current_link_width")).strip());
    assertEquals(Contract.MAGIC, read(Reg.MAGIC));
  }

  // ---- life cycle ----

  @Test
  void twoBoardsStartedAtOnceOnOneDirectoryLeaveOneServing() throws Exception {
    for (int round = 0; round < 5; round++) {
      java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        List<java.util.concurrent.Future<SimBoard>> starts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          starts.add(pool.submit(() -> {
            together.await();
            return SimBoard.start(dir, PARAMS, Set.of());
          }));
        }
        List<SimBoard> serving = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (java.util.concurrent.Future<SimBoard> f : starts) {
          try {
            serving.add(f.get());
          } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof IllegalArgumentException, e.getCause().toString());
            refused.add(e.getCause().getMessage());
          }
        }
        assertEquals(1, serving.size(), "round " + round + ": " + refused);
        assertTrue(refused.get(0).startsWith(dir + " is "), refused.get(0));
        serving.get(0).close();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void closeRemovesThePidFileAndARestartReplacesTheNodes() throws IOException {
    start(Fault.DMA_FAIL);
    IllegalArgumentException busy = assertThrows(IllegalArgumentException.class,
        () -> SimBoard.start(dir, PARAMS, Set.of()));
    assertTrue(busy.getMessage().contains("is served by process"), busy.getMessage());
    board.close();
    assertFalse(Files.exists(dir.resolve(SimBoard.PID_FILE)));
    assertTrue(Files.exists(dir.resolve(SimBoard.USER_NODE)));

    start();
    assertTrue(Files.isSameFile(dir.resolve(SimBoard.H2C_NODE), dir.resolve(SimBoard.C2H_NODE)));
    assertEquals(Contract.MAGIC, read(Reg.MAGIC));
    assertNotEquals(0, read(Reg.ARRAY_ROWS));
    assertThrows(IllegalStateException.class, () -> {
      SimBoard closed = board;
      closed.close();
      closed.inject(Fault.HANG);
    });
  }
}
