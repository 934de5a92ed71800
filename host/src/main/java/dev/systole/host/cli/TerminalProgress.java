package dev.systole.host.cli;

import dev.systole.host.run.Progress;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress on a terminal: one line on standard error, rewritten in place ({@code \r}) as a
 * step advances and erased when it ends, at most every tenth of a second. When standard output
 * is not a terminal (a pipe, a file, a test), nothing is shown, so logs and JSON stay clean.
 */
final class TerminalProgress implements Progress {
  private static final long EVERY_NANOS = 100_000_000L;
  private final PrintWriter err;
  private long last;
  private int width;

  TerminalProgress(PrintWriter err) {
    this.err = err;
  }

  /** Progress on {@code err} if the process runs on a terminal, else {@link Progress#NONE}. */
  static Progress on(PrintWriter err) {
    return System.console() != null ? new TerminalProgress(err) : Progress.NONE;
  }

  @Override
  public synchronized void update(String stage, long done, long total) {
    long now = System.nanoTime();
    if (done >= total) {
      if (width > 0) {
        err.print("\r" + " ".repeat(width) + "\r");
        err.flush();
        width = 0;
      }
      return;
    }
    if (width > 0 && now - last < EVERY_NANOS) {
      return;
    }
    last = now;
    String line = String.format(Locale.ROOT, "  %s %d/%d (%d %%)", stage, done, total,
        total == 0 ? 0 : done * 100 / total);
    err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
    err.flush();
    width = Math.max(width, line.length());
  }
}
