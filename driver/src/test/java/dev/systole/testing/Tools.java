package dev.systole.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Where tests find the repository and external tools. A test that needs a tool calls
 * {@link #require}: on a laptop without it the test is skipped with a message naming the tool and
 * how to get it; in CI ({@code CI=true}) a missing tool fails the test, so CI never skips.
 */
public final class Tools {
  private Tools() {}

  /** The repository root (Maven passes it as {@code systole.root}). */
  public static Path root() {
    String prop = System.getProperty("systole.root");
    Path p = prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("fpga/spec/contract.toml"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("cannot find the repository root (no fpga/spec/contract.toml"
          + " above " + Path.of("").toAbsolutePath() + ")");
    }
    return p;
  }

  /** Whether this run is CI, where every tool must be present. */
  public static boolean ci() {
    String v = System.getProperty("systole.ci", System.getenv("CI"));
    return v != null && v.equalsIgnoreCase("true");
  }

  /** Skips (laptop) or fails (CI) the calling test unless {@code present}. */
  public static void require(boolean present, String tool, String howToGet) {
    if (present) {
      return;
    }
    String message = tool + " is not available (" + howToGet + ")";
    if (ci()) {
      throw new AssertionError("CI requires " + message);
    }
    System.err.println("SKIPPED: " + message);
    Assumptions.abort(message);
  }
}
