package dev.systole.host.bitstream;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the clone is: the folder holding {@code fpga/spec/contract.toml}, as {@code scripts/systole}
 * passes it ({@code -Dsystole.root}), else the working directory or one above it. The bitstream
 * flow and the manifests of builds live there.
 */
public final class Repository {
  private Repository() {}

  /** The repository root, if this runs from a clone. */
  public static Optional<Path> root() {
    String prop = System.getProperty("systole.root");
    Path p = prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("").toAbsolutePath();
    for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
      if (Files.isRegularFile(q.resolve("fpga/spec/contract.toml"))) {
        return Optional.of(q);
      }
    }
    return Optional.empty();
  }

  /**
   * The repository root.
   *
   * @throws IllegalArgumentException saying where it looked
   */
  public static Path require() {
    return root().orElseThrow(() -> new IllegalArgumentException("cannot find the Systole"
        + " repository (no fpga/spec/contract.toml in " + Path.of("").toAbsolutePath()
        + " or above it): run this from a clone, through scripts/systole"));
  }

  /** Where builds are looked for by default: the repository's {@code bitstreams/}. */
  public static java.util.List<Path> manifestDirs() {
    return root().map(r -> java.util.List.of(r.resolve("bitstreams")))
        .orElse(java.util.List.of());
  }
}
