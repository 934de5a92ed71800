package dev.systole.driver.emulator;

import java.util.concurrent.locks.LockSupport;

/**
 * The fast path's second thread. The machine posts it one task per run (its share of the run's
 * steps, see {@code Machine.runSplit}) and waits for it at the run's end. The hand-off is a pair
 * of volatile counters, so what one thread wrote before its counter the other sees
 * after reading it; the thread spins a little before it parks, because the next run of a session
 * usually follows soon.
 */
final class Worker implements AutoCloseable {
  private static final int SPINS = 20_000;

  private Runnable task;

  private volatile int posted;
  private volatile int finished;
  private volatile boolean closed;
  private volatile RuntimeException failure;
  private final Thread thread;

  Worker() {
    this.thread = new Thread(this::loop, "systole-emulator-2");
    thread.setDaemon(true);
    thread.start();
  }

  /** Hands {@code task} to the thread; the one before must be over ({@link #await}). */
  void post(Runnable task) {
    this.task = task;
    posted = posted + 1;
    LockSupport.unpark(thread);
  }

  /** Waits until the posted task is over; rethrows what it threw, if anything. */
  void await() {
    while (finished != posted) {
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
        task.run();
      } catch (RuntimeException e) {
        failure = e;
      } catch (Error e) {
        failure = new IllegalStateException("the emulator's second thread failed", e);
      }
      task = null;
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
