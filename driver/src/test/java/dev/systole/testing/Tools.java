package dev.systole.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the repository. */
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

}
