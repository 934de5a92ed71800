package dev.systole.driver.xdma;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.systole.driver.DeviceException;
import dev.systole.driver.Ticker;
import java.nio.file.Path;

/**
 * An open device node, and the loops every caller of its system calls would otherwise write:
 * resuming partial transfers, splitting them at the kernel's per-call limit, retrying EINTR, and
 * turning an errno into a {@link NativeIoException} that names the call, the node, the card
 * address and the byte count. Nothing is retried that could hide a fault: ETIMEDOUT and EIO fail
 * at once (the XDMA driver has already waited out its own timeout, or the engine has reported an
 * error), and a transfer that keeps moving nothing fails naming the card address where it
 * stopped. The file owns its descriptor, which is opened close-on-exec so that a child process (a
 * sim board) inherits neither the descriptor nor its lock.
 *
 * <p>A DeviceFile is used by one thread at a time, and closed when no call on it is in progress.
 */
public final class DeviceFile implements AutoCloseable {
  /** {@code open(2)} flags, with their C names and Linux values. */
  public static final int O_RDONLY = LibC.O_RDONLY;
  public static final int O_WRONLY = LibC.O_WRONLY;
  public static final int O_RDWR = LibC.O_RDWR;
  public static final int O_NONBLOCK = LibC.O_NONBLOCK;

  /** The most bytes Linux moves in one {@code read} or {@code write} call, on any file. */
  public static final long MAX_TRANSFER = 0x7ffff000L;

  /** Consecutive EINTR returns after which a call is reported instead of retried again. */
  static final int MAX_INTERRUPTS = 100;

  /** Consecutive transfer calls that move no byte after which the transfer is reported. */
  static final int MAX_STALLS = 3;

  private final NativeIo io;
  private final Path path;
  private int fd;

  private DeviceFile(NativeIo io, Path path, int fd) {
    this.io = io;
    this.path = path;
    this.fd = fd;
  }

  /**
   * Opens {@code path} with {@code flags} ({@link #O_RDWR} and the like) and close-on-exec.
   *
   * @throws NativeIoException if open fails; a missing node and a denied permission say what to
   *     check
   */
  public static DeviceFile open(NativeIo io, Path path, int flags) {
    int interrupts = 0;
    int fd;
    do {
      fd = io.open(path.toString(), flags | LibC.O_CLOEXEC);
    } while (fd == -LibC.EINTR && ++interrupts < MAX_INTERRUPTS);
    if (fd >= 0) {
      return new DeviceFile(io, path, fd);
    }
    int errno = -fd;
    String hint = switch (errno) {
      case LibC.ENOENT -> "; the node does not exist: is the xdma driver loaded (lsmod | grep"
          + " xdma), and are the directory and the board number right?";
      case LibC.EACCES, LibC.EPERM -> "; permission denied: run with read and write access to "
          + path + " (a udev rule that gives your group the xdma nodes, or root)";
      case LibC.EBUSY -> "; the node is busy: another process has it open";
      case LibC.ENXIO, LibC.ENODEV -> "; there is no device behind the node: is the board still"
          + " on the bus (lspci -d 10ee:)?";
      default -> "";
    };
    throw new NativeIoException("open " + path + ": " + NativeIoException.describe(io, errno)
        + hint, errno, "open", path, -1, -1);
  }

  public Path path() {
    return path;
  }

  NativeIo io() {
    return io;
  }

  int fd() {
    if (fd < 0) {
      throw new IllegalStateException(path + " is closed");
    }
    return fd;
  }

  /**
   * Takes an exclusive {@code flock} on the node without waiting, so that two processes never
   * drive one board. The lock goes with the open file: closing this file releases it.
   *
   * @param what the name of what the lock guards, for the message ({@code xdma0})
   * @throws DeviceException if another open file holds the lock
   */
  /**
   * Who holds the flock on {@code file}, from the kernel's lock table ({@code /proc/locks} lists
   * each lock with the pid and the inode): "process 1234 (java ...)", or a general phrase when the
   * table cannot tell.
   */
  static String holder(Path file, Path locks) {
    try {
      long inode = ((Number) java.nio.file.Files.getAttribute(file, "unix:ino")).longValue();
      for (String line : java.nio.file.Files.readAllLines(locks)) {
        String[] f = line.trim().split("\\s+");
        // "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF" (an entry may start with "->").
        int i = f.length > 0 && f[0].equals("->") ? 1 : 0;
        if (f.length >= i + 6 && f[i + 1].equals("FLOCK") && f[i + 5].endsWith(":" + inode)) {
          String pid = f[i + 4];
          Path cmdline = Path.of("/proc", pid, "cmdline");
          String command = java.nio.file.Files.exists(cmdline)
              ? new String(java.nio.file.Files.readAllBytes(cmdline),
                  java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').strip() : "";
          if (command.length() > 80) {
            command = command.substring(0, 77) + "...";
          }
          return "process " + pid + (command.isEmpty() ? "" : " (" + command + ")");
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // The table is a courtesy: without it the message still says the node is locked.
    }
    return "another process (or another open file in this one)";
  }

  public void lockExclusive(String what) {
    int interrupts = 0;
    int r;
    do {
      r = io.flock(fd(), LibC.LOCK_EX | LibC.LOCK_NB);
    } while (r == -LibC.EINTR && ++interrupts < MAX_INTERRUPTS);
    if (r == -LibC.EWOULDBLOCK) {
      throw new DeviceException(what + " is in use: " + holder(path, Path.of("/proc/locks"))
          + " holds the lock on " + path);
    }
    if (r < 0) {
      throw new NativeIoException("flock " + path + ": " + NativeIoException.describe(io, -r),
          -r, "flock", path, -1, -1);
    }
  }

  /**
   * Copies {@code length} bytes from native memory at {@code memoryAddress} to the node at file
   * offset {@code cardAddress}, with as many {@code pwrite} calls as it takes.
   *
   * @throws NativeIoException for an errno, with the card address and length of the failing call
   * @throws DeviceException if calls stop moving bytes, with the card address where they stopped
   */
  public void writeFully(long cardAddress, long memoryAddress, long length) {
    transfer(true, cardAddress, memoryAddress, length);
  }

  /**
   * Copies {@code length} bytes from the node at file offset {@code cardAddress} to native memory
   * at {@code memoryAddress}, with as many {@code pread} calls as it takes.
   *
   * @throws NativeIoException for an errno, with the card address and length of the failing call
   * @throws DeviceException if calls stop moving bytes (end of file, for a regular file), with the
   *     card address where they stopped
   */
  public void readFully(long cardAddress, long memoryAddress, long length) {
    transfer(false, cardAddress, memoryAddress, length);
  }

  private void transfer(boolean write, long cardAddress, long memoryAddress, long length) {
    String op = write ? "pwrite" : "pread";
    if (length < 0 || cardAddress < 0 || cardAddress > Long.MAX_VALUE - length) {
      throw new IllegalArgumentException(String.format("%s %s: card address 0x%x, length %d"
          + " (expected 0 <= address, 0 <= length, address + length <= 0x%x)", op, path,
          cardAddress, length, Long.MAX_VALUE));
    }
    if (memoryAddress == 0 && length > 0) {
      throw new IllegalArgumentException(op + " " + path + ": memory address 0 for " + length
          + " bytes");
    }
    int fd = fd();
    long done = 0;
    int stalls = 0;
    int interrupts = 0;
    while (done < length) {
      long at = cardAddress + done;
      long chunk = Math.min(MAX_TRANSFER, length - done);
      long n = write
          ? io.pwrite(fd, memoryAddress + done, chunk, at)
          : io.pread(fd, memoryAddress + done, chunk, at);
      if (n > 0) {
        done += n;
        stalls = 0;
        interrupts = 0;
      } else if (n == 0) {
        if (++stalls == MAX_STALLS) {
          throw new DeviceException(String.format("%s %s: transfer stopped at card address 0x%x,"
              + " %d of %d bytes moved (%d calls in a row moved nothing)", op, path, at, done,
              length, MAX_STALLS));
        }
      } else if (n != -LibC.EINTR || ++interrupts == MAX_INTERRUPTS) {
        int errno = (int) -n;
        String hint = switch (errno) {
          case LibC.ETIMEDOUT -> "; the DMA did not complete within the xdma driver's transfer"
              + " timeout (10 s by default)";
          case LibC.EINTR -> "; interrupted " + MAX_INTERRUPTS + " times in a row";
          default -> "";
        };
        throw new NativeIoException(String.format("%s %s at card address 0x%x, %d bytes: %s%s",
            op, path, at, chunk, NativeIoException.describe(io, errno), hint), errno, op, path,
            at, chunk);
      }
    }
  }

  /**
   * Waits until the node is readable or {@code timeoutMillis} have passed, by {@code ticker}'s
   * time: an EINTR waits again for what is left.
   *
   * @return {@code poll}'s revents: 0 if the time passed, otherwise with POLLIN set
   * @throws DeviceException if the node reports an error or hang-up with nothing to read, because
   *     then nothing will ever arrive
   */
  public int pollIn(int timeoutMillis, Ticker ticker) {
    if (timeoutMillis < 0) {
      throw new IllegalArgumentException("poll " + path + ": timeout " + timeoutMillis
          + " ms (expected >= 0)");
    }
    int fd = fd();
    long deadline = ticker.nanoTime() + timeoutMillis * 1_000_000L;
    int wait = timeoutMillis;
    while (true) {
      int revents = io.poll(fd, LibC.POLLIN, wait);
      if (revents >= 0) {
        return checkRevents(revents);
      }
      if (revents != -LibC.EINTR) {
        throw new NativeIoException("poll " + path + ": "
            + NativeIoException.describe(io, -revents), -revents, "poll", path, -1, -1);
      }
      long left = deadline - ticker.nanoTime();
      if (left <= 0) {
        return 0;
      }
      wait = (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
    }
  }

  private int checkRevents(int revents) {
    if ((revents & LibC.POLLIN) != 0 || revents == 0) {
      return revents;
    }
    String why;
    if ((revents & LibC.POLLNVAL) != 0) {
      why = "POLLNVAL: the descriptor is not open";
    } else if ((revents & LibC.POLLHUP) != 0) {
      why = "POLLHUP: no process has the node open for writing any more";
    } else {
      why = "POLLERR: the node reports an error";
    }
    throw new DeviceException(String.format("poll %s: revents 0x%x without POLLIN, %s", path,
        revents, why));
  }

  /**
   * Reads one 4-byte event word, in host byte order (little-endian on x86_64 and aarch64, which is
   * what the XDMA driver and the sim board write). Call it once {@link #pollIn} has reported
   * POLLIN: with no word pending, the XDMA driver's read blocks with no timeout of its own, and a
   * FIFO opened {@link #O_NONBLOCK} fails with EAGAIN.
   *
   * @throws NativeIoException for an errno
   * @throws DeviceException for end of file or a short read
   */
  public int readInt() {
    int fd = fd();
    try (Memory word = new Memory(4)) {
      int interrupts = 0;
      int n;
      do {
        n = io.read(fd, Pointer.nativeValue(word), 4);
      } while (n == -LibC.EINTR && ++interrupts < MAX_INTERRUPTS);
      if (n == 4) {
        return word.getInt(0);
      }
      if (n < 0) {
        throw new NativeIoException("read " + path + ", 4 bytes: "
            + NativeIoException.describe(io, -n), -n, "read", path, -1, 4);
      }
      throw new DeviceException(n == 0
          ? "read " + path + ": end of file: no process has the node open for writing any more"
          : "read " + path + ": " + n + " of the 4 bytes of an event word");
    }
  }

  /** Closes the descriptor, releasing its lock; closing again does nothing. */
  @Override
  public void close() {
    if (fd >= 0) {
      int closing = fd;
      fd = -1;
      io.close(closing);
    }
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
