package dev.systole.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the repository and the external tools some of them need. */
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

  /** True in CI (Maven passes the CI variable as {@code systole.ci}). */
  public static boolean ci() {
    return "true".equals(System.getProperty("systole.ci")) || "true".equals(System.getenv("CI"));
  }

  /** Whether {@code command} is on the PATH. */
  public static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Requires {@code command} (for example verilator): without it the test is skipped with a
   * message on a developer's machine, and fails in CI, where scripts/test installs it.
   */
  public static void require(String command, String debianPackage) {
    if (onPath(command)) {
      return;
    }
    String msg = command + " is not installed (Debian: apt-get install " + debianPackage + ")";
    if (ci()) {
      fail(msg + "; CI must have it: scripts/test installs it");
    }
    assumeTrue(false, "skipped: " + msg);
  }

  /**
   * Requires the directory {@code dir} (for example a Debian data package's files): without it the
   * test is skipped with a message on a developer's machine, and fails in CI, where scripts/test
   * installs the package.
   */
  public static void requireDirectory(Path dir, String debianPackage) {
    if (Files.isDirectory(dir)) {
      return;
    }
    String msg = dir + " does not exist (Debian: apt-get install " + debianPackage + ")";
    if (ci()) {
      fail(msg + "; CI must have it: scripts/test installs it");
    }
    assumeTrue(false, "skipped: " + msg);
  }

  /**
   * Requires the file {@code file} that a script of the repository generates (for example the
   * model zoo's manifest, which scripts/make-zoo writes): without it the test is skipped with a
   * message saying how to make it on a developer's machine, and fails in CI, where scripts/test
   * runs the script.
   *
   * @param howToMake the command that makes it, for example {@code scripts/make-zoo}
   */
  public static void requireGenerated(Path file, String howToMake) {
    if (Files.isRegularFile(file)) {
      return;
    }
    String msg = file + " does not exist (make it with " + howToMake + ")";
    if (ci()) {
      fail(msg + "; CI must have it: scripts/test makes it");
    }
    assumeTrue(false, "skipped: " + msg);
  }
}
