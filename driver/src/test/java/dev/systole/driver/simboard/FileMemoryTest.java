package dev.systole.driver.simboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.emulator.MemoryFault;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileMemoryTest {
  private static final long HBM = 16L << 30;

  @TempDir
  Path dir;

  @Test
  void sixteenGibIsASparseFileWhoseBytesAreCardAddresses() throws IOException {
    Path file = dir.resolve("hbm");
    try (FileMemory m = FileMemory.create(file, HBM)) {
      assertEquals(HBM, m.size());
      assertEquals(HBM, Files.size(file));
      byte[] data = new byte[100_000];
      for (int i = 0; i < data.length; i++) {
        data[i] = (byte) (i * 13);
      }
      long address = HBM - data.length - 3;
      m.write(address, data, 0, data.length);
      byte[] back = new byte[data.length];
      m.read(address, back, 0, back.length);
      assertArrayEquals(data, back);
      byte[] unwritten = new byte[64];
      unwritten[7] = 1;
      m.read(1L << 33, unwritten, 0, 64);
      assertArrayEquals(new byte[64], unwritten);
      byte[] inFile = new byte[16];
      try (var ch = java.nio.channels.FileChannel.open(file)) {
        ch.read(java.nio.ByteBuffer.wrap(inFile), address + 50);
      }
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 50, 66), inFile);
    }
    assertThrows(FileAlreadyExistsException.class, () -> FileMemory.create(file, HBM));
  }

  @Test
  void byteBufTransfersKeepIndices() throws IOException {
    ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(20_000);
    ByteBuf dst = Unpooled.buffer(20_000);
    try (FileMemory m = FileMemory.create(dir.resolve("hbm"), 1 << 20)) {
      for (int i = 0; i < 20_000; i++) {
        src.setByte(i, i * 7);
      }
      m.write(1000, src, 10, 15_000);
      m.read(1000, dst, 5, 15_000);
      for (int i = 0; i < 15_000; i++) {
        assertEquals(src.getByte(10 + i), dst.getByte(5 + i));
      }
      assertEquals(0, src.readerIndex());
      assertEquals(0, dst.writerIndex());
    } finally {
      src.release();
      dst.release();
    }
  }

  @Test
  void aShortFileReadsAsZerosPastItsEnd() throws IOException {
    try (FileMemory m = FileMemory.create(dir.resolve("hbm"), 1 << 20)) {
      byte[] ones = new byte[64];
      java.util.Arrays.fill(ones, (byte) 1);
      m.write(4096 - 32, ones, 0, 64);
      m.setFileLength(4096);
      byte[] back = new byte[64];
      m.read(4096 - 32, back, 0, 64);
      for (int i = 0; i < 64; i++) {
        assertEquals(i < 32 ? 1 : 0, back[i], "byte " + i);
      }
      ByteBuf buf = Unpooled.buffer(64);
      try {
        buf.setBytes(0, ones);
        m.read(4096 - 32, buf, 0, 64);
        assertEquals(1, buf.getByte(31));
        assertEquals(0, buf.getByte(32));
      } finally {
        buf.release();
      }
    }
  }

  @Test
  void outOfRangeIsRefusedAndAFailedFileIsAMemoryFault() throws IOException {
    FileMemory m = FileMemory.create(dir.resolve("hbm"), 1 << 20);
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
        () -> m.write((1 << 20) - 10, new byte[20], 0, 20));
    assertTrue(e.getMessage().contains("write of 20 bytes at card address 0xffff6"),
        e.getMessage());
    m.close();
    MemoryFault f = assertThrows(MemoryFault.class, () -> m.read(0, new byte[4], 0, 4));
    assertTrue(f.getMessage().startsWith("read of 4 bytes at card address 0x0 in "),
        f.getMessage());
  }
}
