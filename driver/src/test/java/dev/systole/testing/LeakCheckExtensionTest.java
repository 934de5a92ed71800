package dev.systole.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leak check must see a buffer that was dropped without release. */
class LeakCheckExtensionTest {
  @Test
  void aDroppedBufferIsReported() {
    leakOne();
    List<String> leaks = List.of();
    for (int i = 0; i < 10 && leaks.isEmpty(); i++) {
      leaks = LeakCheckExtension.collectLeaks();
    }
    assertFalse(leaks.isEmpty(), "a leaked pooled direct buffer was not reported");
    assertTrue(leaks.get(0).contains("ByteBuf"), leaks.get(0));
  }

  private static void leakOne() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
    leaked.writeInt(42);
  }
}
