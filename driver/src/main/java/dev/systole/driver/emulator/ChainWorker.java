package dev.systole.driver.emulator;

import java.util.concurrent.locks.LockSupport;

/**
 * The fast path's second thread: it computes one MATMUL chain at a time, handed to it by the
 * machine's thread, with a kernel of its own ({@link MatmulKernel#sibling}). The hand-off is a
 * pair of counters: the machine posts a chain (writing its fields, then the {@code posted}
 * counter), the worker computes it and advances {@code finished}; both counters are volatile, so
 * what one thread wrote before its counter the other sees after reading it. The worker spins a
 * little before it parks, because the next chain usually follows within microseconds.
 */
final class ChainWorker implements AutoCloseable {
  private static final int SPINS = 20_000;

  final MatmulKernel kernel;
  /** The chain's ABUF offsets and weight tiles, filled by the machine before {@link #post}. */
  final int[] offsets;
  final byte[][] tiles;
  private byte[] abuf;
  private int[] acc;
  private int count;
  private int c;
  private int rows;
  private boolean accumulate;

  private volatile int posted;
  private volatile int finished;
  private volatile boolean closed;
  private volatile RuntimeException failure;
  private final Thread thread;

  ChainWorker(MatmulKernel kernel, int maxChain, int lanes) {
    this.kernel = kernel;
    this.offsets = new int[maxChain];
    this.tiles = new byte[maxChain][lanes * lanes];
    this.thread = new Thread(this::loop, "systole-emulator-chains");
    thread.setDaemon(true);
    thread.start();
  }

  /** Whether a posted chain is still being computed. */
  boolean busy() {
    return finished != posted;
  }

  /** Hands the chain in {@link #offsets} and {@link #tiles} to the worker; it must not be busy. */
  void post(byte[] abuf, int[] acc, int count, int c, int rows, boolean accumulate) {
    this.abuf = abuf;
    this.acc = acc;
    this.count = count;
    this.c = c;
    this.rows = rows;
    this.accumulate = accumulate;
    posted = posted + 1;
    LockSupport.unpark(thread);
  }

  /** Waits until the posted chain is computed; rethrows what the worker threw, if anything. */
  void await() {
    while (busy()) {
      Thread.onSpinWait();
    }
    RuntimeException e = failure;
    if (e != null) {
      failure = null;
      throw e;
    }
  }

  private void loop() {
    int done = 0;
    while (!closed) {
      int spins = 0;
      while (posted == done && !closed) {
        if (++spins < SPINS) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
      if (closed) {
        return;
      }
      try {
        kernel.compute(abuf, offsets, tiles, count, acc, c, rows, accumulate);
      } catch (RuntimeException e) {
        failure = e;
      }
      abuf = null;
      acc = null;
      done++;
      finished = done;
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
  }
}
