package dev.systole.driver.xdma;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The C library calls the XDMA nodes need, bound one to one with JNA direct mapping: C names, C
 * argument order, C return conventions (-1 and errno), and the constants of Linux on x86_64 and
 * aarch64, where all of those below have the same values and {@code size_t}, {@code ssize_t},
 * {@code off_t} and {@code long} are 64 bits, hence Java {@code long}. Direct mapping
 * ({@link Native#register}) is chosen over an interface mapping because it costs several times
 * less per call, and a DMA transfer or an interrupt wait is a call each. Nothing here converts or
 * checks; {@link LibcNativeIo} does that.
 *
 * <p>errno: JNA saves errno in a per-thread slot right after every native call, before the JVM
 * can run anything that might change it, and {@link Native#getLastError()} reads that slot. So the
 * errno of a failed call is {@code Native.getLastError()} read right after it on the same thread;
 * no method declares {@code LastErrorException}, which would cost an exception per EINTR or
 * EAGAIN.
 *
 * <p>{@code open} and {@code ioctl} are variadic in C. They are declared with the fixed arguments
 * used here, which the Linux calling conventions of both architectures pass exactly as they pass
 * the named arguments of a variadic call.
 *
 * <p>The constants are compile-time constants, so code that only names them does not load the
 * native library.
 */
final class LibC {
  static {
    Native.register(LibC.class, Platform.C_LIBRARY_NAME);
  }

  private LibC() {}

  static final int O_RDONLY = 0;
  static final int O_WRONLY = 01;
  static final int O_RDWR = 02;
  static final int O_NONBLOCK = 04000;
  static final int O_CLOEXEC = 02000000;

  static final int PROT_READ = 0x1;
  static final int PROT_WRITE = 0x2;
  static final int MAP_SHARED = 0x01;
  static final Pointer MAP_FAILED = new Pointer(-1);

  static final short POLLIN = 0x001;
  static final short POLLERR = 0x008;
  static final short POLLHUP = 0x010;
  static final short POLLNVAL = 0x020;

  static final int LOCK_EX = 2;
  static final int LOCK_NB = 4;
  static final int LOCK_UN = 8;

  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int EINTR = 4;
  static final int EIO = 5;
  static final int ENXIO = 6;
  static final int EBADF = 9;
  static final int EAGAIN = 11;
  static final int EWOULDBLOCK = EAGAIN;
  static final int ENOMEM = 12;
  static final int EACCES = 13;
  static final int EFAULT = 14;
  static final int EBUSY = 16;
  static final int ENODEV = 19;
  static final int EISDIR = 21;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int EPROTO = 71;
  static final int ETIMEDOUT = 110;

  /**
   * {@code struct pollfd} of {@code <poll.h>}: {@code int fd; short events; short revents;}, 8
   * bytes, the byte offsets of its fields.
   */
  static final int POLLFD_BYTES = 8;
  static final int POLLFD_FD = 0;
  static final int POLLFD_EVENTS = 4;
  static final int POLLFD_REVENTS = 6;

  static native int open(String pathname, int flags);

  static native int close(int fd);

  static native long pread(int fd, Pointer buf, long count, long offset);

  static native long pwrite(int fd, Pointer buf, long count, long offset);

  static native long read(int fd, Pointer buf, long count);

  static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

  static native int munmap(Pointer addr, long length);

  /** {@code nfds_t} is {@code unsigned long}. */
  static native int poll(Pointer fds, long nfds, int timeout);

  static native int flock(int fd, int operation);

  static native int ioctl(int fd, NativeLong request, Pointer arg);

  static native String strerror(int errnum);
}
