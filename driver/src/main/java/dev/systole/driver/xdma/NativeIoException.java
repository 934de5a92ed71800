package dev.systole.driver.xdma;

import dev.systole.driver.DeviceException;
import java.nio.file.Path;

/**
 * A system call on a device node that failed with an errno. It carries the call, the node, the
 * offset (the card address, for a DMA node) and the length of the failing call as data, so that a
 * caller can tell a timeout from a bus error or retry one chunk, and its message says all of them
 * with the errno named, for example {@code pwrite /dev/xdma0_h2c_0 at card address 0x1000, 4096
 * bytes: EIO (Input/output error, errno 5)}.
 */
public final class NativeIoException extends DeviceException {
  private final int errno;
  private final String operation;
  private final Path path;
  private final long offset;
  private final long length;

  NativeIoException(String message, int errno, String operation, Path path, long offset,
      long length) {
    super(message);
    this.errno = errno;
    this.operation = operation;
    this.path = path;
    this.offset = offset;
    this.length = length;
  }

  /** The errno, positive. */
  public int errno() {
    return errno;
  }

  /** The C name of the call that failed: {@code pwrite}, {@code open}, {@code mmap}, ... */
  public String operation() {
    return operation;
  }

  /** The device node. */
  public Path path() {
    return path;
  }

  /** The file offset of the failing call (the card address on a DMA node), or -1 if none. */
  public long offset() {
    return offset;
  }

  /** The byte count of the failing call, or -1 if none. */
  public long length() {
    return length;
  }

  /** {@code EIO (Input/output error, errno 5)}: the symbolic name where known, and the text. */
  static String describe(NativeIo io, int errno) {
    String name = name(errno);
    String text = io.strerror(errno);
    return (name == null ? "" : name + " ") + "(" + text + ", errno " + errno + ")";
  }

  private static String name(int errno) {
    return switch (errno) {
      case LibC.EPERM -> "EPERM";
      case LibC.ENOENT -> "ENOENT";
      case LibC.EINTR -> "EINTR";
      case LibC.EIO -> "EIO";
      case LibC.ENXIO -> "ENXIO";
      case LibC.EBADF -> "EBADF";
      case LibC.EAGAIN -> "EAGAIN";
      case LibC.ENOMEM -> "ENOMEM";
      case LibC.EACCES -> "EACCES";
      case LibC.EFAULT -> "EFAULT";
      case LibC.EBUSY -> "EBUSY";
      case LibC.ENODEV -> "ENODEV";
      case LibC.EISDIR -> "EISDIR";
      case LibC.EINVAL -> "EINVAL";
      case LibC.ENOSPC -> "ENOSPC";
      case LibC.EPROTO -> "EPROTO";
      case LibC.ETIMEDOUT -> "ETIMEDOUT";
      default -> null;
    };
  }
}
