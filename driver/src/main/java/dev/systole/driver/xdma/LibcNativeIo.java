package dev.systole.driver.xdma;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * {@link NativeIo} on the C library through {@link LibC}. Each method makes one call and, if it
 * failed, reads errno right after it on the same thread (see {@link LibC} for why that is the
 * call's errno). An enum for the single stateless instance, as Caffeine does for its system
 * ticker; the native library is loaded by the first call, not before.
 */
enum LibcNativeIo implements NativeIo {
  INSTANCE;

  private static int minusErrno() {
    return -Native.getLastError();
  }

  @Override
  public int open(String path, int flags) {
    int fd = LibC.open(path, flags);
    return fd >= 0 ? fd : minusErrno();
  }

  @Override
  public void close(int fd) {
    LibC.close(fd);
  }

  @Override
  public long pread(int fd, long address, long count, long offset) {
    long n = LibC.pread(fd, new Pointer(address), count, offset);
    return n >= 0 ? n : minusErrno();
  }

  @Override
  public long pwrite(int fd, long address, long count, long offset) {
    long n = LibC.pwrite(fd, new Pointer(address), count, offset);
    return n >= 0 ? n : minusErrno();
  }

  @Override
  public int read(int fd, long address, int count) {
    long n = LibC.read(fd, new Pointer(address), count);
    return n >= 0 ? (int) n : minusErrno();
  }

  /**
   * {@inheritDoc} The {@code struct pollfd} lives in native memory freed when the call returns,
   * not when the collector gets round to it: a device that waits for events all the time would
   * otherwise leave native memory and cleaner records behind faster than they are reclaimed.
   */
  @Override
  public int poll(int fd, short events, int timeoutMillis) {
    try (Memory pfd = new Memory(LibC.POLLFD_BYTES)) {
      pfd.setInt(LibC.POLLFD_FD, fd);
      pfd.setShort(LibC.POLLFD_EVENTS, events);
      pfd.setShort(LibC.POLLFD_REVENTS, (short) 0);
      int n = LibC.poll(pfd, 1, timeoutMillis);
      if (n < 0) {
        return minusErrno();
      }
      return n == 0 ? 0 : pfd.getShort(LibC.POLLFD_REVENTS) & 0xFFFF;
    }
  }

  @Override
  public int flock(int fd, int operation) {
    return LibC.flock(fd, operation) == 0 ? 0 : minusErrno();
  }

  @Override
  public long mmap(long length, int prot, int flags, int fd, long offset) {
    Pointer p = LibC.mmap(null, length, prot, flags, fd, offset);
    return LibC.MAP_FAILED.equals(p) ? minusErrno() : Pointer.nativeValue(p);
  }

  @Override
  public int munmap(long address, long length) {
    return LibC.munmap(new Pointer(address), length) == 0 ? 0 : minusErrno();
  }

  @Override
  public String strerror(int errno) {
    return LibC.strerror(errno);
  }
}
