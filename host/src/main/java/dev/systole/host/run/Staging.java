package dev.systole.host.run;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Direct buffers that tensors pass through on their way to and from the device, aligned to
 * 4 KiB as DMA engines want them. They come from one pooled allocator and each compiled program
 * keeps its own for as long as it is cached, so a run allocates nothing: the only copy on the way
 * in is the one from the caller's tensor into its staging buffer.
 */
public final class Staging {
  /** DMA alignment: the XDMA driver pins pages, and page-aligned buffers map to whole pages. */
  public static final int ALIGNMENT = 4096;

  private static final PooledByteBufAllocator ALLOCATOR = new PooledByteBufAllocator(true, 0,
      Math.max(1, Runtime.getRuntime().availableProcessors()), 8192, 9, 0, 0, false, ALIGNMENT);

  private Staging() {}

  /** A direct, 4 KiB-aligned buffer of exactly {@code size} bytes; the caller releases it. */
  public static ByteBuf allocate(int size) {
    return ALLOCATOR.directBuffer(size, size);
  }
}
