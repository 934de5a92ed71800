package dev.systole.driver.xdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bindings against the real C library: results, and errno read back as -errno. */
class LibcNativeIoTest {
  private final NativeIo io = NativeIo.libc();

  @TempDir
  Path dir;

  @Test
  void failedCallsReturnTheirOwnErrno() {
    assertEquals(-LibC.ENOENT, io.open(dir.resolve("missing").toString(), LibC.O_RDONLY));
    assertEquals(-LibC.EISDIR, io.open(dir.toString(), LibC.O_RDWR));
    assertEquals(-LibC.EBADF, io.pread(-1, 0, 0, 0));
    assertEquals(-LibC.EBADF, io.pwrite(-1, 0, 0, 0));
    assertEquals(-LibC.EBADF, io.read(-1, 0, 0));
    assertEquals(-LibC.EBADF, io.flock(-1, LibC.LOCK_EX));
    int dirFd = io.open(dir.toString(), LibC.O_RDONLY);
    try {
      assertEquals(-LibC.ENODEV, io.mmap(4096, LibC.PROT_READ, LibC.MAP_SHARED, dirFd, 0));
      assertEquals(-LibC.EINVAL, io.mmap(0, LibC.PROT_READ, LibC.MAP_SHARED, dirFd, 0));
    } finally {
      io.close(dirFd);
    }
    assertEquals(-LibC.EINVAL, io.munmap(1, 4096));
    assertEquals(LibC.POLLNVAL, io.poll(1 << 20, LibC.POLLIN, 0), "no such descriptor");
  }

  @Test
  void successfulCallsReturnWhatCReturns() throws Exception {
    Path file = dir.resolve("file");
    Files.write(file, new byte[] {1, 2, 3, 4, 5});
    int fd = io.open(file.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
    assertTrue(fd >= 0, "fd " + fd);
    try {
      assertEquals(0, io.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB));
      assertEquals(0, io.flock(fd, LibC.LOCK_UN));
      assertEquals(LibC.POLLIN, io.poll(fd, LibC.POLLIN, 0) & LibC.POLLIN);
      long address = io.mmap(4096, LibC.PROT_READ, LibC.MAP_SHARED, fd, 0);
      assertTrue(address > 0, "address " + address);
      assertEquals(0x04030201, new Pointer(address).getInt(0));
      assertEquals(0, io.munmap(address, 4096));
    } finally {
      io.close(fd);
    }
    assertEquals("Input/output error", io.strerror(LibC.EIO));
    assertEquals("Connection timed out", io.strerror(LibC.ETIMEDOUT));
  }

  @Test
  void describedErrnosNameTheConstant() {
    assertEquals("EIO (Input/output error, errno 5)", NativeIoException.describe(io, LibC.EIO));
    assertEquals("ENOSPC (No space left on device, errno 28)",
        NativeIoException.describe(io, LibC.ENOSPC));
    assertEquals("(Unknown error 4000, errno 4000)", NativeIoException.describe(io, 4000));
  }
}
