package dev.systole.driver.simboard;

import dev.systole.driver.emulator.CardMemory;
import dev.systole.driver.emulator.MemoryFault;
import io.netty.buffer.ByteBuf;
import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Card memory kept in a file, byte A of the file being card address A, so that another process
 * reaches the same memory with {@code pread} and {@code pwrite} on the file: this is how a sim
 * board's DMA nodes and its engine share HBM. The file is sparse: it is given its length without
 * writing anything, so a 16 GiB HBM costs disk only for the blocks written, and every access is a
 * positional read or write on one channel, which threads may share.
 *
 * <p>A file shorter than the memory (one truncated on purpose, to cut DMA transfers short) reads
 * as zeros past its end, as a hole does; a write past its end extends it. An access the file
 * system refuses throws {@link MemoryFault}, which the engine reports as MEM_FAULT.
 */
public final class FileMemory implements CardMemory, Closeable {
  private final Path file;
  private final long size;
  private final RandomAccessFile raf;
  private final FileChannel channel;

  private FileMemory(Path file, long size, RandomAccessFile raf) {
    this.file = file;
    this.size = size;
    this.raf = raf;
    this.channel = raf.getChannel();
  }

  /**
   * Creates {@code file}, which must not exist, as a sparse file of {@code size} bytes.
   *
   * @throws java.nio.file.FileAlreadyExistsException if it exists
   */
  public static FileMemory create(Path file, long size) throws IOException {
    if (size <= 0) {
      throw new IllegalArgumentException("card memory size " + size + " (expected > 0)");
    }
    Files.createFile(file);
    RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
    try {
      raf.setLength(size);
    } catch (IOException e) {
      raf.close();
      throw e;
    }
    return new FileMemory(file, size, raf);
  }

  @Override
  public long size() {
    return size;
  }

  /**
   * Sets the file's length, cutting it or extending it with a hole, whatever name the file has by
   * then; the memory's size stays.
   */
  void setFileLength(long length) throws IOException {
    raf.setLength(length);
  }

  @Override
  public void read(long address, byte[] dst, int offset, int length) {
    checkRange("read", address, length);
    ByteBuffer buf = ByteBuffer.wrap(dst, offset, length);
    try {
      while (buf.hasRemaining()) {
        int n = channel.read(buf, address + buf.position() - offset);
        if (n < 0) {
          Arrays.fill(dst, buf.position(), offset + length, (byte) 0);
          return;
        }
      }
    } catch (IOException e) {
      throw fault("read", address, length, e);
    }
  }

  @Override
  public void write(long address, byte[] src, int offset, int length) {
    checkRange("write", address, length);
    ByteBuffer buf = ByteBuffer.wrap(src, offset, length);
    try {
      while (buf.hasRemaining()) {
        channel.write(buf, address + buf.position() - offset);
      }
    } catch (IOException e) {
      throw fault("write", address, length, e);
    }
  }

  @Override
  public void read(long address, ByteBuf dst, int index, int length) {
    checkRange("read", address, length);
    try {
      int done = 0;
      while (done < length) {
        int n = dst.setBytes(index + done, channel, address + done, length - done);
        if (n < 0) {
          dst.setZero(index + done, length - done);
          return;
        }
        done += n;
      }
    } catch (IOException e) {
      throw fault("read", address, length, e);
    }
  }

  @Override
  public void write(long address, ByteBuf src, int index, int length) {
    checkRange("write", address, length);
    try {
      int done = 0;
      while (done < length) {
        done += src.getBytes(index + done, channel, address + done, length - done);
      }
    } catch (IOException e) {
      throw fault("write", address, length, e);
    }
  }

  private MemoryFault fault(String op, long address, int length, IOException e) {
    return new MemoryFault(String.format("%s of %d bytes at card address 0x%x in %s failed: %s",
        op, length, address, file, e), e);
  }

  @Override
  public void close() throws IOException {
    raf.close();
  }
}
