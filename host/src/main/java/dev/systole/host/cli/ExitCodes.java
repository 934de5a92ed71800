package dev.systole.host.cli;

/** Exit codes of the systole command, the same for every subcommand. */
public final class ExitCodes {
  private ExitCodes() {}

  /** Everything asked for was done and every check passed. */
  public static final int OK = 0;
  /** The command ran, and a check it made failed (a test, a comparison). */
  public static final int CHECK_FAILED = 1;
  /** The command line was wrong (picocli's own code for usage errors). */
  public static final int USAGE = 2;
  /** A device could not be opened, timed out, or reported an error. */
  public static final int DEVICE_ERROR = 3;
  /** An input (a file, a model, a value) was malformed or did not fit. */
  public static final int BAD_INPUT = 4;
  /** The device asked for is not there at all (no board, no nodes), or none was found. */
  public static final int NO_DEVICE = 5;
  /**
   * Systole failed in a way it does not expect (a bug): the message says so and names the log
   * file holding the trace. 70 is EX_SOFTWARE of BSD's sysexits.
   */
  public static final int INTERNAL_ERROR = 70;
}
