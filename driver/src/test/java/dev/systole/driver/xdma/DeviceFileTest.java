package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.DeviceException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transfers, opening and locking: on real files where the kernel can produce the case (a sparse
 * file as card memory, a directory for EISDIR, a truncated file for a transfer that stops), and
 * through {@link FakeIo} for what only a board produces (partial counts, EINTR, ETIMEDOUT, EIO).
 */
class DeviceFileTest {
  private static final long GIB = 1L << 30;
  private static final Path NODE = Path.of("/dev/xdma0_h2c_0");

  @TempDir
  Path dir;

  private Path sparseCard(long size) throws Exception {
    Path card = dir.resolve("xdma0_h2c_0");
    try (RandomAccessFile f = new RandomAccessFile(card.toFile(), "rw")) {
      f.setLength(size);
    }
    return card;
  }

  private static ByteBuf direct(int length) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(length, length);
    assertTrue(buf.hasMemoryAddress(), "direct buffers expose their address");
    return buf;
  }

  /** Opens {@link #NODE} on {@code io} and forgets the open: the script is for what follows. */
  private static DeviceFile fake(FakeIo io, long... script) {
    DeviceFile f = DeviceFile.open(io, NODE, DeviceFile.O_RDWR);
    io.calls.clear();
    io.then(script);
    return f;
  }

  @Test
  void roundTripsAtOddAddressesAndSizesBeyondFourGib() throws Exception {
    Path card = sparseCard(6 * GIB);
    long[] addresses = {0, 1, 4093, 0x7fff_ffffL, 2 * GIB + 3, 5 * GIB + 4097};
    int[] sizes = {1, 3, 4097, 65_537, 7, 1_000_003};
    Random random = new Random(7);
    try (DeviceFile h2c = DeviceFile.open(NativeIo.libc(), card, DeviceFile.O_WRONLY);
        DeviceFile c2h = DeviceFile.open(NativeIo.libc(), card, DeviceFile.O_RDONLY);
        FileChannel check = FileChannel.open(card, StandardOpenOption.READ)) {
      for (int i = 0; i < addresses.length; i++) {
        byte[] data = new byte[sizes[i]];
        random.nextBytes(data);
        ByteBuf src = direct(data.length + 5);
        ByteBuf dst = direct(data.length + 9);
        try {
          src.setBytes(5, data);
          h2c.writeFully(addresses[i], src.memoryAddress() + 5, data.length);
          c2h.readFully(addresses[i], dst.memoryAddress() + 9, data.length);
          byte[] back = new byte[data.length];
          dst.getBytes(9, back);
          assertArrayEquals(data, back, "at 0x" + Long.toHexString(addresses[i]));
          ByteBuffer inFile = ByteBuffer.allocate(data.length);
          check.read(inFile, addresses[i]);
          assertArrayEquals(data, inFile.array(), "file bytes at 0x"
              + Long.toHexString(addresses[i]));
        } finally {
          src.release();
          dst.release();
        }
      }
      assertEquals(6 * GIB, Files.size(card), "writes inside the card do not grow it");
    }
  }

  @Test
  void zeroLengthTransfersMakeNoCall() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io)) {
      f.writeFully(0x1000, 0, 0);
      f.readFully(0x1000, 0, 0);
    }
    assertEquals(List.of(), io.calls);
  }

  @Test
  void splitsAtTheKernelLimitOfOneCall() {
    FakeIo io = new FakeIo();
    long length = 5 * GIB + 3;
    try (DeviceFile f = fake(io)) {
      f.writeFully(0x10, 0x7000_0000L, length);
    }
    long max = DeviceFile.MAX_TRANSFER;
    assertEquals(List.of(max, max, length - 2 * max), io.counts());
    assertEquals(List.of(0x10L, 0x10 + max, 0x10 + 2 * max), io.offsets());
    assertEquals(List.of(0x7000_0000L, 0x7000_0000L + max, 0x7000_0000L + 2 * max),
        io.calls.stream().map(FakeIo.Call::address).toList());
  }

  @Test
  void resumesPartialCounts() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, 1, 1000, 2000)) {
      f.readFully(0x2000, 0x9000, 4096);
    }
    assertEquals(List.of(4096L, 4095L, 3095L, 1095L), io.counts());
    assertEquals(List.of(0x2000L, 0x2001L, 0x23e9L, 0x2bb9L), io.offsets());
    assertEquals(List.of(0x9000L, 0x9001L, 0x93e9L, 0x9bb9L),
        io.calls.stream().map(FakeIo.Call::address).toList());
    assertTrue(io.calls.stream().allMatch(c -> c.op().equals("pread")));
  }

  @Test
  void retriesEintrAndOccasionalZeroCounts() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, -LibC.EINTR, -LibC.EINTR, 100, 0, 0, 50, -LibC.EINTR, 0, 0)) {
      f.writeFully(0, 0x1000, 200);
    }
    assertEquals(10, io.calls.size());
    assertEquals(50L, io.calls.get(9).count());
  }

  @Test
  void endlessEintrIsReportedAfterABoundedNumberOfCalls() {
    FakeIo io = new FakeIo();
    long[] interrupts = new long[1000];
    Arrays.fill(interrupts, -LibC.EINTR);
    try (DeviceFile f = fake(io, interrupts)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> f.writeFully(0x40, 0x1000, 64));
      assertEquals(LibC.EINTR, e.errno());
      assertEquals(DeviceFile.MAX_INTERRUPTS, io.calls.size());
      assertTrue(e.getMessage().contains("interrupted " + DeviceFile.MAX_INTERRUPTS
          + " times in a row"), e.getMessage());
    }
  }

  @Test
  void timeoutNamesTheCardAddressAndLengthOfTheFailingChunk() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, 4096, -LibC.ETIMEDOUT)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> f.writeFully(0x1000, 0x5000, 12288));
      assertEquals(LibC.ETIMEDOUT, e.errno());
      assertEquals("pwrite", e.operation());
      assertEquals(NODE, e.path());
      assertEquals(0x2000, e.offset());
      assertEquals(8192, e.length());
      assertEquals("pwrite /dev/xdma0_h2c_0 at card address 0x2000, 8192 bytes: ETIMEDOUT"
          + " (Connection timed out, errno 110); the DMA did not complete within the xdma"
          + " driver's transfer timeout (10 s by default)", e.getMessage());
    }
  }

  @Test
  void ioErrorIsReportedAtOnce() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, -LibC.EIO)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> f.readFully(0x1000, 0x5000, 4096));
      assertEquals("pread /dev/xdma0_h2c_0 at card address 0x1000, 4096 bytes: EIO"
          + " (Input/output error, errno 5)", e.getMessage());
      assertEquals(1, io.calls.size(), "EIO is not retried");
    }
  }

  @Test
  void repeatedZeroCountsReportWhereTheTransferStopped() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, 100, 0, 0, 0)) {
      DeviceException e = assertThrows(DeviceException.class,
          () -> f.writeFully(0x3000, 0x5000, 300));
      assertEquals("pwrite /dev/xdma0_h2c_0: transfer stopped at card address 0x3064, 100 of 300"
          + " bytes moved (3 calls in a row moved nothing)", e.getMessage());
      assertEquals(1 + DeviceFile.MAX_STALLS, io.calls.size());
    }
  }

  @Test
  void readingPastTheEndOfShortCardMemoryStopsWithTheAddress() throws Exception {
    Path card = sparseCard(8192);
    ByteBuf dst = direct(8192);
    try (DeviceFile c2h = DeviceFile.open(NativeIo.libc(), card, DeviceFile.O_RDONLY)) {
      DeviceException e = assertThrows(DeviceException.class,
          () -> c2h.readFully(4096, dst.memoryAddress(), 8192));
      assertTrue(e.getMessage().endsWith("transfer stopped at card address 0x2000, 4096 of 8192"
          + " bytes moved (3 calls in a row moved nothing)"), e.getMessage());
    } finally {
      dst.release();
    }
  }

  @Test
  void realErrnoFromTheKernelIsReported() {
    ByteBuf dst = direct(16);
    try (DeviceFile c2h = DeviceFile.open(NativeIo.libc(), dir, DeviceFile.O_RDONLY)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> c2h.readFully(0x40, dst.memoryAddress(), 16));
      assertEquals(LibC.EISDIR, e.errno());
      assertEquals("pread " + dir + " at card address 0x40, 16 bytes: EISDIR (Is a directory,"
          + " errno 21)", e.getMessage());
    } finally {
      dst.release();
    }
  }

  @Test
  void badArgumentsAreRefusedBeforeAnyCall() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> f.writeFully(-1, 0x1000, 4));
      assertTrue(e.getMessage().contains("card address 0xffffffffffffffff, length 4 (expected"
          + " 0 <= address, 0 <= length"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> f.readFully(0, 0x1000, -1));
      assertThrows(IllegalArgumentException.class,
          () -> f.readFully(Long.MAX_VALUE - 2, 0x1000, 4));
      e = assertThrows(IllegalArgumentException.class, () -> f.readFully(0, 0, 4));
      assertTrue(e.getMessage().contains("memory address 0 for 4 bytes"), e.getMessage());
      assertEquals(List.of(), io.calls);
    }
  }

  @Test
  void aMissingNodeSaysWhatToCheck() {
    Path missing = dir.resolve("xdma7_user");
    NativeIoException e = assertThrows(NativeIoException.class,
        () -> DeviceFile.open(NativeIo.libc(), missing, DeviceFile.O_RDWR));
    assertEquals(LibC.ENOENT, e.errno());
    assertEquals("open", e.operation());
    assertEquals(-1, e.offset());
    assertEquals("open " + missing + ": ENOENT (No such file or directory, errno 2); the node"
        + " does not exist: is the xdma driver loaded (lsmod | grep xdma), and are the directory"
        + " and the board number right?", e.getMessage());
  }

  @Test
  void aDeniedNodeSaysWhoNeedsAccess() {
    FakeIo io = new FakeIo().then(-LibC.EACCES);
    NativeIoException e = assertThrows(NativeIoException.class,
        () -> DeviceFile.open(io, NODE, DeviceFile.O_RDWR));
    assertEquals("open /dev/xdma0_h2c_0: EACCES (Permission denied, errno 13); permission"
        + " denied: run with read and write access to /dev/xdma0_h2c_0 (a udev rule that gives"
        + " your group the xdma nodes, or root)", e.getMessage());
  }

  @Test
  void openRetriesEintrAndAddsCloseOnExec() {
    FakeIo io = new FakeIo().then(-LibC.EINTR, 5);
    try (DeviceFile f = DeviceFile.open(io, NODE, DeviceFile.O_RDONLY | DeviceFile.O_NONBLOCK)) {
      assertEquals(5, f.fd());
      assertEquals(2, io.calls.size());
      assertEquals(LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC, io.calls.get(1).flags());
    }
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseIsRefused() {
    FakeIo io = new FakeIo();
    DeviceFile f = fake(io);
    f.close();
    f.close();
    assertEquals(1, io.closes);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> f.writeFully(0, 0x1000, 4));
    assertEquals("/dev/xdma0_h2c_0 is closed", e.getMessage());
    assertThrows(IllegalStateException.class, f::readInt);
  }

  @Test
  void aSecondOpenOfALockedNodeIsRefusedUntilTheFirstCloses() throws Exception {
    Path user = Files.write(dir.resolve("xdma0_user"), new byte[4096]);
    DeviceFile first = DeviceFile.open(NativeIo.libc(), user, DeviceFile.O_RDWR);
    first.lockExclusive("xdma0");
    try (DeviceFile second = DeviceFile.open(NativeIo.libc(), user, DeviceFile.O_RDWR)) {
      DeviceException e = assertThrows(DeviceException.class,
          () -> second.lockExclusive("xdma0"));
      assertTrue(e.getMessage().startsWith("xdma0 is in use: process "
          + ProcessHandle.current().pid() + " ("), e.getMessage());
      assertTrue(e.getMessage().endsWith(") holds the lock on " + user), e.getMessage());
      first.close();
      second.lockExclusive("xdma0");
    }
  }

  @Test
  void aHolderTheLockTableDoesNotListIsDescribedInGeneral() throws Exception {
    Path user = Files.write(dir.resolve("xdma0_user"), new byte[16]);
    Path locks = Files.writeString(dir.resolve("locks"),
        "1: POSIX  ADVISORY  WRITE 99 00:2a:1 0 EOF\n2: FLOCK  ADVISORY  WRITE 98 00:2a:2 0 EOF\n");
    assertEquals("another process (or another open file in this one)",
        DeviceFile.holder(user, locks));
    assertEquals("another process (or another open file in this one)",
        DeviceFile.holder(dir.resolve("missing"), locks));
  }

  @Test
  void lockFailuresOtherThanContentionCarryTheErrno() {
    FakeIo io = new FakeIo();
    try (DeviceFile f = fake(io, -LibC.EINTR, -LibC.EBADF)) {
      NativeIoException e = assertThrows(NativeIoException.class, () -> f.lockExclusive("x"));
      assertEquals(LibC.EBADF, e.errno());
      assertEquals(LibC.LOCK_EX | LibC.LOCK_NB, io.calls.get(0).flags());
      assertEquals(2, io.calls.size());
    }
  }
}
