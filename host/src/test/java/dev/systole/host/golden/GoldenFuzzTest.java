package dev.systole.host.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.systole.testing.ReaderContract;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The golden program format and the manifest of a golden set on any text: a program or a
 * manifest, or an IllegalArgumentException that names the file. A program read is written and
 * read back to the same text. The corpus holds golden files of the bundled set (a passing
 * program, error programs, one with data blocks), the bundled manifest, and every input that once
 * broke a reader.
 */
class GoldenFuzzTest {
  private static final String SOURCE = "input.golden";

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8);
    GoldenProgram g = ReaderContract.check(SOURCE, data,
        List.of(IllegalArgumentException.class), () -> GoldenFormat.parse(SOURCE, text));
    if (g == null) {
      return;
    }
    String written = GoldenFormat.write(g);
    assertEquals(written, GoldenFormat.write(GoldenFormat.parse(SOURCE, written)));
  }

  @FuzzTest(maxDuration = "5m")
  void manifest(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8);
    Map<String, String> listed = ReaderContract.check(GoldenManifest.FILE, data,
        List.of(IllegalArgumentException.class),
        () -> GoldenManifest.parse(GoldenManifest.FILE, text));
    if (listed == null) {
      return;
    }
    String again = listed.entrySet().stream().map(e -> e.getValue() + "  " + e.getKey() + "\n")
        .reduce("", String::concat);
    assertEquals(listed, GoldenManifest.parse(GoldenManifest.FILE, again));
  }
}
