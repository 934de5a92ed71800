package dev.systole.tests.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed golden programs are exactly what the generator makes today. Run with
 * {@code -Dsystole.regenerate=true} (scripts/generate-golden) to rewrite them instead.
 */
class GoldenFilesTest {
  @Test
  void committedGoldenFilesAreUpToDate() throws Exception {
    Path dir = Tools.root().resolve("tests/golden");
    Map<String, String> files = GoldenGenerator.files();
    if (Boolean.getBoolean("systole.regenerate")) {
      try (Stream<Path> old = Files.list(dir)) {
        for (Path p : old.toList()) {
          Files.delete(p);
        }
      }
      for (Map.Entry<String, String> e : files.entrySet()) {
        Files.writeString(dir.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
      }
    }
    try (Stream<Path> present = Files.list(dir)) {
      assertEquals(new TreeSet<>(files.keySet()), present.map(p -> p.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new)),
          "tests/golden holds other files than the generator makes (run scripts/generate-golden)");
    }
    for (Map.Entry<String, String> e : files.entrySet()) {
      assertEquals(e.getValue(), Files.readString(dir.resolve(e.getKey())),
          "tests/golden/" + e.getKey() + " is out of date (run scripts/generate-golden)");
    }
  }
}
