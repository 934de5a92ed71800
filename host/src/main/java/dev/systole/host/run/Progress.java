package dev.systole.host.run;

/**
 * Where a long step stands: calibration's slices, a run's steps. The command line shows it on a
 * terminal and nowhere else ({@code TerminalProgress}); {@link #NONE} says nothing.
 */
@FunctionalInterface
public interface Progress {
  /** Says nothing. */
  Progress NONE = (stage, done, total) -> { };

  /** {@code done} of {@code total} units of {@code stage} are done; done == total ends it. */
  void update(String stage, long done, long total);
}
