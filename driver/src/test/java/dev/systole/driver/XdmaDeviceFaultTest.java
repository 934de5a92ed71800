package dev.systole.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.simboard.Fault;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.xdma.NativeIo;
import dev.systole.driver.xdma.NativeIoException;
import dev.systole.driver.xdma.XdmaNodes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each fault a board can show, injected into a sim board (or, for what a file cannot do, into
 * the system calls): XdmaDevice reports it within its deadline, in words, leaves the caller's
 * buffers as they were, and recovers by reset where the contract allows.
 */
class XdmaDeviceFaultTest {
  private SimBoard board;
  private XdmaNodes nodes;

  @BeforeEach
  void start() throws Exception {
    Path dir = Files.createTempDirectory("systole-faults");
    board = SimBoard.start(dir.resolve("board"), DeviceParams.defaults()
        .with(Map.of(Param.HBM_MB, 64L)), Set.of());
    nodes = new XdmaNodes(board.directory(), 0);
  }

  @AfterEach
  void stop() {
    board.close();
  }

  private XdmaDevice open(NativeIo io) {
    return new XdmaDevice("xdma:0", nodes, io, Ticker.system(),
        XdmaDevice.Completion.INTERRUPT);
  }

  private static ByteBuf pattern(int size) {
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
    for (int i = 0; i < size; i++) {
      b.writeByte(i * 7 + 3);
    }
    return b;
  }

  private static void assertPattern(ByteBuf b) {
    for (int i = 0; i < b.capacity(); i++) {
      assertEquals((byte) (i * 7 + 3), b.getByte(i), "caller's buffer changed at " + i);
    }
  }

  private static void load(Device d, long address, List<Instruction> program) {
    byte[] code = Instruction.encode(program);
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(code.length);
    try {
      b.writeBytes(code);
      d.dmaWrite(address, b);
    } finally {
      b.release();
    }
  }

  @Test
  void aProgramThatNeverFinishesIsCaughtByItsDeadlineAndTheDeviceRecovers() throws Exception {
    try (XdmaDevice d = open(NativeIo.libc())) {
      load(d, 0, Assembler.parseProgram("HALT"));
      board.inject(Fault.HANG);
      d.start(0, 1);
      long begin = System.nanoTime();
      DeviceTimeoutException e = assertThrows(DeviceTimeoutException.class,
          () -> d.await(Duration.ofMillis(300)));
      long took = (System.nanoTime() - begin) / 1_000_000;
      assertTrue(took < 2000, "took " + took + " ms for a 300 ms deadline");
      assertTrue(e.getMessage().contains("did not finish within 300 ms"), e.getMessage());
      assertTrue(e.getMessage().contains("the device was reset"), e.getMessage());
      board.clear(Fault.HANG);
      assertTrue(d.run(0, 1, Duration.ofSeconds(10)).ok());
    }
  }

  @Test
  void aProgramLeftRunningByAnotherHostIsReportedAsSuchAndAResetEndsIt() throws Exception {
    try (XdmaDevice killed = open(NativeIo.libc())) {
      load(killed, 0, Assembler.parseProgram("HALT"));
      board.inject(Fault.HANG);
      killed.start(0, 1);
    }
    try (XdmaDevice d = open(NativeIo.libc())) {
      DeviceBusyException e = assertThrows(DeviceBusyException.class, () -> d.start(0, 1));
      assertEquals("xdma:0", e.device());
      assertTrue(e.getMessage().startsWith("xdma:0 is BUSY (STATUS 0x00000001) with a program"
          + " this process did not start"), e.getMessage());
      board.clear(Fault.HANG);
      d.reset();
      assertTrue(d.run(0, 1, Duration.ofSeconds(10)).ok());
      board.inject(Fault.HANG);
      d.start(0, 1);
      assertThrows(IllegalStateException.class, () -> d.start(0, 1),
          "its own program still running is the caller's error, not another host's");
      d.reset();
    }
  }

  @Test
  void aSimBoardWhoseProcessIsGoneIsReportedGone() throws Exception {
    XdmaProvider.checkSimBoardServes(board.directory());
    board.close();
    DeviceNotFoundException e = assertThrows(DeviceNotFoundException.class,
        () -> XdmaProvider.checkSimBoardServes(board.directory()));
    assertTrue(e.getMessage().startsWith("the sim board in " + board.directory() + " is gone:"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("start one with systole simboard --dir "
        + board.directory() + ")"), e.getMessage());
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    Files.writeString(board.directory().resolve(SimBoard.PID_FILE), ended.pid() + "\n");
    assertThrows(DeviceNotFoundException.class,
        () -> XdmaProvider.checkSimBoardServes(board.directory()),
        "a pid file naming a process that has ended");
  }

  @Test
  void aLostLinkIsReportedAsSuch() throws Exception {
    try (XdmaDevice d = open(NativeIo.libc())) {
      board.inject(Fault.LINK_DOWN);
      DeviceException e = assertThrows(DeviceException.class, () -> d.read(Reg.STATUS));
      assertTrue(e.getMessage().contains("link lost: registers read all ones"), e.getMessage());
    }
    DeviceException e = assertThrows(DeviceException.class, () -> open(NativeIo.libc()));
    assertTrue(e.getMessage().contains("MAGIC reads 0xffffffff"), e.getMessage());
    assertTrue(e.getMessage().contains("link is down"), e.getMessage());
    board.clear(Fault.LINK_DOWN);
    try (XdmaDevice d = open(NativeIo.libc())) {
      assertEquals(0x53595354, d.read(Reg.MAGIC));
    }
  }

  @Test
  void spuriousInterruptsDoNotEndAWaitEarly() throws Exception {
    try (XdmaDevice d = open(NativeIo.libc())) {
      board.inject(Fault.SPURIOUS_IRQ);
      load(d, 0, Assembler.parseProgram("MATMUL w_load=1 rows=4096\n"
          + "MATMUL rows=4096\n".repeat(300) + "HALT"));
      RunResult r = d.run(0, 302, Duration.ofSeconds(60));
      assertTrue(r.ok(), r.describe());
      assertEquals(302, d.counters().get(dev.systole.driver.contract.Counter.INSTRET));
    }
  }

  @Test
  void aFailingDmaNamesTheErrnoAndLeavesTheBufferIntact() throws Exception {
    // The nodes fail from the start, as a board whose DMA engine is broken does.
    board.inject(Fault.DMA_FAIL);
    try (XdmaDevice d = open(NativeIo.libc())) {
      ByteBuf b = pattern(8192);
      try {
        NativeIoException e = assertThrows(NativeIoException.class,
            () -> d.dmaWrite(0x3000, b, 0, 8192));
        assertTrue(e.getMessage().contains("ENOSPC"), e.getMessage());
        assertTrue(e.getMessage().contains("0x3000"), e.getMessage());
        assertPattern(b);
        e = assertThrows(NativeIoException.class, () -> d.dmaRead(0x3000, b, 0, 8192));
        assertTrue(e.getMessage().contains("EISDIR"), e.getMessage());
        assertPattern(b);
      } finally {
        b.release();
      }
    }
    board.clear(Fault.DMA_FAIL);
    try (XdmaDevice d = open(NativeIo.libc())) {
      assertTrue(runHalt(d));
    }
  }

  @Test
  void shortTransfersAreResumedThenReportedWhereTheyStopped() throws Exception {
    try (XdmaDevice d = open(NativeIo.libc())) {
      board.inject(Fault.DMA_SHORT);
      long cut = SimBoard.DMA_SHORT_CUT;
      ByteBuf b = pattern(64 * 1024);
      try {
        d.dmaRead(cut - 4096, b, 0, 4096);
        DeviceException e = assertThrows(DeviceException.class,
            () -> d.dmaRead(cut - 4096, b, 0, 64 * 1024));
        assertTrue(e.getMessage().contains(String.format("stopped at card address 0x%x", cut)),
            e.getMessage());
      } finally {
        b.release();
      }
    }
  }

  /** The kernel, except that DMA calls the predicate picks answer with {@code result}. */
  private static NativeIo failing(LongPredicate onOffset, long result) {
    NativeIo real = NativeIo.libc();
    return new NativeIo() {
      @Override
      public int open(String path, int flags) {
        return real.open(path, flags);
      }

      @Override
      public void close(int fd) {
        real.close(fd);
      }

      @Override
      public long pread(int fd, long address, long count, long offset) {
        return onOffset.test(offset) ? result : real.pread(fd, address, count, offset);
      }

      @Override
      public long pwrite(int fd, long address, long count, long offset) {
        return onOffset.test(offset) ? result : real.pwrite(fd, address, count, offset);
      }

      @Override
      public int read(int fd, long address, int count) {
        return real.read(fd, address, count);
      }

      @Override
      public int poll(int fd, short events, int timeoutMillis) {
        return real.poll(fd, events, timeoutMillis);
      }

      @Override
      public int flock(int fd, int operation) {
        return real.flock(fd, operation);
      }

      @Override
      public long mmap(long length, int prot, int flags, int fd, long offset) {
        return real.mmap(length, prot, flags, fd, offset);
      }

      @Override
      public int munmap(long address, long length) {
        return real.munmap(address, length);
      }

      @Override
      public String strerror(int errno) {
        return real.strerror(errno);
      }
    };
  }

  @Test
  void aTransferThatNeverCompletesIsReportedWithItsAddress() {
    // The XDMA driver ends a transfer that never completes with ETIMEDOUT (errno 110).
    try (XdmaDevice d = open(failing(offset -> offset >= 0x10000, -110))) {
      ByteBuf b = pattern(4096);
      try {
        NativeIoException e = assertThrows(NativeIoException.class,
            () -> d.dmaWrite(0x10000, b, 0, 4096));
        assertEquals(110, e.errno());
        assertTrue(e.getMessage().contains("ETIMEDOUT"), e.getMessage());
        assertTrue(e.getMessage().contains("0x10000"), e.getMessage());
        assertPattern(b);
      } finally {
        b.release();
      }
      assertTrue(runHalt(d), "the device still works below the failing range");
    }
  }

  private static boolean runHalt(Device d) {
    load(d, 0, Assembler.parseProgram("HALT"));
    return d.run(0, 1, Duration.ofSeconds(10)).ok();
  }

  @Test
  void aSecondProcessCannotOpenTheSameBoard() {
    try (XdmaDevice d = open(NativeIo.libc())) {
      DeviceException e = assertThrows(DeviceException.class, () -> open(NativeIo.libc()));
      assertTrue(e.getMessage().startsWith("xdma0 is in use: process "
          + ProcessHandle.current().pid() + " ("), e.getMessage());
    }
  }

}
