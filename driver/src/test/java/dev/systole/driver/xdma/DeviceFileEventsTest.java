package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.DeviceException;
import dev.systole.driver.Ticker;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The events node: a FIFO, as a sim board serves it, for waiting with a deadline and reading
 * words, and {@link FakeIo} for EINTR during a wait, which a test cannot make the kernel do on
 * cue.
 */
class DeviceFileEventsTest {
  @TempDir
  Path dir;

  private Path fifo;

  @BeforeEach
  void mkfifo() throws Exception {
    fifo = dir.resolve("xdma0_events_0");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertEquals(0, p.waitFor(), "mkfifo");
  }

  private DeviceFile openEvents() {
    return DeviceFile.open(NativeIo.libc(), fifo, DeviceFile.O_RDONLY | DeviceFile.O_NONBLOCK);
  }

  private static byte[] littleEndian(int value) {
    return new byte[] {(byte) value, (byte) (value >> 8), (byte) (value >> 16),
        (byte) (value >> 24)};
  }

  @Test
  void waitsUntilAWordArrivesAndReadsItLittleEndian() throws Exception {
    try (DeviceFile events = openEvents(); OutputStream board = new FileOutputStream(
        fifo.toFile())) {
      Thread writer = new Thread(() -> {
        try {
          Thread.sleep(100);
          board.write(littleEndian(0x0a0b0c0d));
          board.flush();
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      writer.start();
      long begin = System.nanoTime();
      int revents = events.pollIn(10_000, Ticker.system());
      long waited = System.nanoTime() - begin;
      writer.join();
      assertEquals(LibC.POLLIN, revents & LibC.POLLIN);
      assertTrue(waited >= 50_000_000L && waited < 5_000_000_000L, "waited " + waited + " ns");
      assertEquals(0x0a0b0c0d, events.readInt());
      assertEquals(0, events.pollIn(0, Ticker.system()), "the word was consumed");
    }
  }

  @Test
  void timesOutWhenNothingArrives() throws Exception {
    DeviceFile events = openEvents();
    OutputStream idleBoard = new FileOutputStream(fifo.toFile());
    try {
      long begin = System.nanoTime();
      assertEquals(0, events.pollIn(60, Ticker.system()));
      long waited = System.nanoTime() - begin;
      assertTrue(waited >= 55_000_000L, "waited " + waited + " ns");
      NativeIoException e = assertThrows(NativeIoException.class, events::readInt);
      assertEquals(LibC.EAGAIN, e.errno());
      assertEquals("read " + fifo + ", 4 bytes: EAGAIN (Resource temporarily unavailable,"
          + " errno 11)", e.getMessage());
    } finally {
      idleBoard.close();
      events.close();
    }
  }

  @Test
  void queuedWordsAreDrainedThenAHangUpIsReported() throws Exception {
    try (DeviceFile events = openEvents()) {
      try (OutputStream board = new FileOutputStream(fifo.toFile())) {
        board.write(littleEndian(1));
        board.write(littleEndian(-2));
      }
      assertTrue((events.pollIn(0, Ticker.system()) & LibC.POLLIN) != 0);
      assertEquals(1, events.readInt());
      assertEquals(-2, events.readInt());
      DeviceException e = assertThrows(DeviceException.class,
          () -> events.pollIn(1000, Ticker.system()));
      assertEquals("poll " + fifo + ": revents 0x10 without POLLIN, POLLHUP: no process has the"
          + " node open for writing any more", e.getMessage());
      e = assertThrows(DeviceException.class, events::readInt);
      assertEquals("read " + fifo + ": end of file: no process has the node open for writing"
          + " any more", e.getMessage());
    }
  }

  @Test
  void aShortWordIsReported() throws Exception {
    try (DeviceFile events = openEvents()) {
      try (OutputStream board = new FileOutputStream(fifo.toFile())) {
        board.write(new byte[] {1, 2});
      }
      DeviceException e = assertThrows(DeviceException.class, events::readInt);
      assertEquals("read " + fifo + ": 2 of the 4 bytes of an event word", e.getMessage());
    }
  }

  @Test
  void eintrWaitsAgainForWhatIsLeftOfTheDeadline() {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    FakeIo io = new FakeIo();
    try (DeviceFile events = DeviceFile.open(io, fifo, DeviceFile.O_RDONLY)) {
      io.calls.clear();
      io.then(-LibC.EINTR, -LibC.EINTR, LibC.POLLIN).onCall = call -> now.addAndGet(30_400_000L);
      assertEquals(LibC.POLLIN, events.pollIn(100, now::get));
    }
    assertEquals(List.of(100L, 70L, 40L), io.counts(), "timeouts passed to poll, rounded up");
  }

  @Test
  void eintrAfterTheDeadlineIsATimeout() {
    AtomicLong now = new AtomicLong();
    FakeIo io = new FakeIo();
    try (DeviceFile events = DeviceFile.open(io, fifo, DeviceFile.O_RDONLY)) {
      io.calls.clear();
      io.then(-LibC.EINTR).onCall = call -> now.addAndGet(100_000_000L);
      assertEquals(0, events.pollIn(100, now::get));
    }
    assertEquals(1, io.calls.size());
  }

  @Test
  void pollFailuresAndInvalidDescriptorsAreReported() {
    FakeIo io = new FakeIo();
    try (DeviceFile events = DeviceFile.open(io, fifo, DeviceFile.O_RDONLY)) {
      io.then(LibC.POLLNVAL, -LibC.EINVAL, LibC.POLLIN | LibC.POLLHUP, LibC.POLLERR);
      DeviceException e = assertThrows(DeviceException.class,
          () -> events.pollIn(10, Ticker.system()));
      assertTrue(e.getMessage().endsWith("revents 0x20 without POLLIN, POLLNVAL: the descriptor"
          + " is not open"), e.getMessage());
      NativeIoException n = assertThrows(NativeIoException.class,
          () -> events.pollIn(10, Ticker.system()));
      assertEquals(LibC.EINVAL, n.errno());
      assertEquals(LibC.POLLIN | LibC.POLLHUP, events.pollIn(10, Ticker.system()),
          "a word to read comes first");
      e = assertThrows(DeviceException.class, () -> events.pollIn(10, Ticker.system()));
      assertTrue(e.getMessage().contains("POLLERR"), e.getMessage());
      IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
          () -> events.pollIn(-1, Ticker.system()));
      assertEquals("poll " + fifo + ": timeout -1 ms (expected >= 0)", a.getMessage());
    }
  }
}
