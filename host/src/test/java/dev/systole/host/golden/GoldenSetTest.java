package dev.systole.host.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A golden set is exactly what its manifest lists: nothing missing, added or changed. */
class GoldenSetTest {
  @TempDir
  Path dir;

  private static String program(String name) {
    return "name " + name + "\nprogram 0x0\n  HALT\nend\nexpect ok\nexpect counter INSTRET 1\n";
  }

  @BeforeEach
  void writeSet() throws IOException {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("b.golden", program("b"));
    files.put("a.golden", program("a"));
    for (Map.Entry<String, String> e : files.entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
    Files.writeString(dir.resolve(GoldenManifest.FILE), GoldenManifest.write(files, "a test"));
  }

  private String error() {
    return assertThrows(IOException.class, () -> GoldenSet.fromDirectory(dir)).getMessage();
  }

  @Test
  void runsTheListedProgramsInTheListedOrder() throws IOException {
    assertEquals(List.of("b", "a"),
        GoldenSet.fromDirectory(dir).stream().map(GoldenProgram::name).toList());
  }

  @Test
  void aDeletedFileIsAnErrorNamingIt() throws IOException {
    Files.delete(dir.resolve("a.golden"));
    assertEquals(dir.resolve("a.golden") + " is listed in " + dir.resolve("MANIFEST")
        + " but is missing", error());
  }

  @Test
  void anUnlistedFileIsAnErrorNamingIt() throws IOException {
    Files.writeString(dir.resolve("c.golden"), program("c"));
    assertEquals(dir.resolve("c.golden") + " is not listed in " + dir.resolve("MANIFEST")
        + " (list it with its SHA-256, or remove it)", error());
  }

  @Test
  void aChangedFileIsAnErrorNamingIt() throws IOException {
    Files.writeString(dir.resolve("a.golden"), program("a").replace("INSTRET 1", "INSTRET 2"));
    String message = error();
    assertTrue(message.startsWith(dir.resolve("a.golden") + " has SHA-256 "), message);
    assertTrue(message.endsWith(" its manifest lists (the file changed after the manifest was"
        + " written)"), message);
  }

  @Test
  void aDirectoryWithoutAManifestIsRefused() throws IOException {
    Files.delete(dir.resolve(GoldenManifest.FILE));
    assertTrue(error().startsWith(dir + " has no MANIFEST (expected one line per golden"
        + " program, its SHA-256, two spaces and its file name"), error());
  }

  @Test
  void malformedManifestsNameTheLine() throws IOException {
    Path manifest = dir.resolve(GoldenManifest.FILE);
    Files.writeString(manifest, "# comment\nabc  a.golden\n");
    assertEquals(manifest + " line 2: \"abc  a.golden\" (expected a SHA-256 in 64 lower-case"
        + " hex digits, two spaces and a file name)", error());
    String hash = "0".repeat(64);
    Files.writeString(manifest, hash + "  ../a.golden\n");
    assertTrue(error().startsWith(manifest + " line 1: \"../a.golden\" is not a golden file of"
        + " this directory"), error());
    Files.writeString(manifest, hash + "  a.golden\n" + hash + "  a.golden\n");
    assertEquals(manifest + " line 2: a.golden is listed twice", error());
    Files.writeString(manifest, "# nothing\n");
    assertEquals(manifest + " lists no golden program", error());
  }

  @Test
  void theBundledSetMatchesItsManifest() {
    List<GoldenProgram> bundled = GoldenSet.bundled();
    assertFalse(bundled.isEmpty());
    assertEquals("halt", bundled.get(0).name());
  }
}
