package dev.systole.host.bitstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finding the manifest of the build a board reports: every {@code manifest.json} under the
 * folders given (the repository's {@code bitstreams/} by default, where builds land), read, and
 * the one whose build id matches taken. A manifest that cannot be read is skipped and said, not
 * fatal: one broken folder must not hide the build a user is looking for.
 */
public final class Manifests {
  /** How deep below a folder manifests are looked for: bitstreams/builds/ID/manifest.json. */
  private static final int DEPTH = 4;

  private Manifests() {}

  /** A manifest and where it was read. */
  public record Found(Path file, Manifest manifest) {}

  /**
   * What a search found: the manifest with the build id (if any), how many manifests were read,
   * and the files that could not be.
   */
  public record Lookup(List<Path> searched, Optional<Found> match, int read,
      List<String> unreadable) {}

  /** Looks for the manifest of {@code buildId} under each of {@code dirs}. */
  public static Lookup find(List<Path> dirs, int buildId) {
    Optional<Found> match = Optional.empty();
    int read = 0;
    List<String> unreadable = new ArrayList<>();
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      List<Path> files;
      try (Stream<Path> walk = Files.find(dir, DEPTH, (p, a) -> a.isRegularFile()
          && p.getFileName().toString().equals(Manifest.FILE))) {
        files = walk.sorted(Comparator.comparing(Path::toString)).toList();
      } catch (IOException | UncheckedIOException e) {
        unreadable.add(dir + ": cannot list: " + e.getMessage());
        continue;
      }
      for (Path f : files) {
        try {
          Manifest m = Manifest.read(f);
          read++;
          if (m.buildId() == buildId && match.isEmpty()) {
            match = Optional.of(new Found(f, m));
          }
        } catch (IllegalArgumentException | UncheckedIOException e) {
          unreadable.add(e.getMessage());
        }
      }
    }
    return new Lookup(List.copyOf(dirs), match, read, unreadable);
  }
}
