package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A register window over a 4096-byte file, as a sim board serves {@code xdma0_user}. */
class RegisterWindowTest {
  @TempDir
  Path dir;

  private Path user;
  private DeviceFile file;
  private RegisterWindow window;

  @BeforeEach
  void map() throws Exception {
    user = Files.write(dir.resolve("xdma0_user"), new byte[4096]);
    file = DeviceFile.open(NativeIo.libc(), user, DeviceFile.O_RDWR);
    window = RegisterWindow.map(file, 4096);
  }

  @AfterEach
  void unmap() {
    window.close();
    file.close();
  }

  private int fileWord(FileChannel ch, int offset) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    ch.read(b, offset);
    return b.getInt(0);
  }

  @Test
  void storesReachTheFileAndFileWritesAreLoaded() throws Exception {
    try (FileChannel ch = FileChannel.open(user, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      window.write32(0x10, 0xdeadbeef);
      window.write32(0xffc, 0x01020304);
      assertEquals(0xdeadbeef, fileWord(ch, 0x10));
      assertEquals(0x01020304, fileWord(ch, 0xffc));
      ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x5eed), 0x20);
      assertEquals(0x5eed, window.read32(0x20));
      assertEquals(0xdeadbeef, window.read32(0x10));
    }
    assertEquals(4096, window.length());
    assertEquals(user, window.path());
  }

  @Test
  void offsetsOutsideTheWindowOrMisalignedAreRefused() {
    int[] bad = {-4, 4096, 4100, 2, 0xffe, Integer.MIN_VALUE};
    String[] shown = {"-0x4", "0x1000", "0x1004", "0x2", "0xffe", "-0x80000000"};
    for (int i = 0; i < bad.length; i++) {
      int offset = bad[i];
      IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
          () -> window.read32(offset));
      assertEquals(user + ": register offset " + shown[i] + " (expected a multiple of 4 in"
          + " 0x0..0xffc)", e.getMessage());
      assertThrows(IndexOutOfBoundsException.class, () -> window.write32(offset, 1));
    }
  }

  @Test
  void accessAfterCloseIsRefusedAndCloseIsIdempotent() {
    window.write32(0, 7);
    window.close();
    window.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> window.read32(0));
    assertEquals(user + ": the register window is closed", e.getMessage());
    assertThrows(IllegalStateException.class, () -> window.write32(0, 1));
  }

  @Test
  void theMappingOutlivesTheDescriptor() {
    file.close();
    window.write32(8, 42);
    assertEquals(42, window.read32(8));
  }

  @Test
  void closingWhileOtherThreadsAccessNeverFaults() throws Exception {
    int threads = 4;
    CountDownLatch running = new CountDownLatch(threads);
    AtomicInteger refused = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int offset = 4 * t;
      Thread w = new Thread(() -> {
        running.countDown();
        try {
          for (int v = 0; ; v++) {
            window.write32(offset, v);
            window.read32(offset);
          }
        } catch (IllegalStateException e) {
          refused.incrementAndGet();
        }
      });
      workers.add(w);
      w.start();
    }
    running.await();
    Thread.sleep(20);
    window.close();
    for (Thread w : workers) {
      w.join(10_000);
    }
    assertEquals(threads, refused.get());
  }

  @Test
  void aNodeThatCannotBeMappedReportsTheErrno() throws Exception {
    try (DeviceFile readOnly = DeviceFile.open(NativeIo.libc(), user, DeviceFile.O_RDONLY)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> RegisterWindow.map(readOnly, 4096));
      assertEquals(LibC.EACCES, e.errno());
      assertEquals("mmap", e.operation());
      assertEquals(4096, e.length());
      assertEquals("mmap " + user + ", 4096 bytes at offset 0x0: EACCES (Permission denied,"
          + " errno 13)", e.getMessage());
    }
    FakeIo io = new FakeIo();
    try (DeviceFile fake = DeviceFile.open(io, user, DeviceFile.O_RDWR)) {
      NativeIoException e = assertThrows(NativeIoException.class,
          () -> RegisterWindow.map(fake, 4096));
      assertEquals(LibC.ENODEV, e.errno());
      IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
          () -> RegisterWindow.map(fake, 4094));
      assertEquals("mmap " + user + ": window length 4094 (expected a positive multiple of 4)",
          a.getMessage());
    }
  }

  @Test
  void aFailedUnmapIsReportedOnceAndTheWindowStaysClosed() {
    FakeIo io = new FakeIo();
    try (DeviceFile fake = DeviceFile.open(io, user, DeviceFile.O_RDWR)) {
      io.then(0x7f00_0000_0000L, -LibC.EINVAL);
      RegisterWindow w = RegisterWindow.map(fake, 4096);
      NativeIoException e = assertThrows(NativeIoException.class, w::close);
      assertEquals("munmap " + user + ", 4096 bytes at 0x7f0000000000: EINVAL (Invalid argument,"
          + " errno 22)", e.getMessage());
      w.close();
      assertThrows(IllegalStateException.class, () -> w.read32(0));
    }
  }
}
