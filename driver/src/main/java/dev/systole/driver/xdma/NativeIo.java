package dev.systole.driver.xdma;

/**
 * The system calls an XDMA board is driven with, in C's terms but with errno folded into the
 * result: every call returns what C returns on success and {@code -errno} on failure, so there is
 * no errno state to read afterwards. That makes this the seam where tests stand in for the kernel:
 * a fake returns any count or errno, in any order, with no file behind it, which is how partial
 * transfers, EINTR, ETIMEDOUT and EIO are tested without a board. Memory is a native address
 * (for a Netty direct buffer, {@code memoryAddress() + index}); nothing here checks it.
 *
 * <p>The real implementation is {@link #libc()}. {@link DeviceFile} and {@link RegisterWindow}
 * turn the results into exceptions.
 */
public interface NativeIo {
  /** The C library of this process. */
  static NativeIo libc() {
    return LibcNativeIo.INSTANCE;
  }

  /** {@code open(2)}: a file descriptor, or -errno. */
  int open(String path, int flags);

  /** {@code close(2)}. Linux releases the descriptor whatever close returns, so there is none. */
  void close(int fd);

  /** {@code pread(2)} into {@code address}: the bytes read (0 at end of file), or -errno. */
  long pread(int fd, long address, long count, long offset);

  /** {@code pwrite(2)} from {@code address}: the bytes written, or -errno. */
  long pwrite(int fd, long address, long count, long offset);

  /** {@code read(2)} into {@code address}: the bytes read (0 at end of file), or -errno. */
  int read(int fd, long address, int count);

  /**
   * {@code poll(2)} of one descriptor: its {@code revents}, 0 if {@code timeoutMillis} passed
   * first, or -errno.
   */
  int poll(int fd, short events, int timeoutMillis);

  /** {@code flock(2)}: 0, or -errno. */
  int flock(int fd, int operation);

  /**
   * {@code mmap(2)} at an address of the kernel's choice: the address, or -errno (user-space
   * addresses are positive, and errno values are below 4096).
   */
  long mmap(long length, int prot, int flags, int fd, long offset);

  /** {@code munmap(2)}: 0, or -errno. */
  int munmap(long address, long length);

  /** {@code strerror(3)}: the C library's description of {@code errno}. */
  String strerror(int errno);
}
