package dev.systole.host.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File names made from model values, and files written whole or not at all. */
class OutputFilesTest {
  @Test
  void valuesThatMapToOneNameGetDistinctFiles(@TempDir Path dir) {
    Map<String, Path> files = OutputFiles.names(dir, List.of("a/b", "a_b", "A:b", "..", "",
        "x.npy"), ".npy");
    assertEquals(dir.resolve("a_b.npy"), files.get("a/b"), "the first keeps the plain name");
    assertEquals(dir.resolve("a_b_2.npy"), files.get("a_b"));
    assertEquals(dir.resolve("A_b_3.npy"), files.get("A:b"),
        "a name that differs only in case is a collision on a case-folding file system");
    assertEquals(dir.resolve("_...npy"), files.get(".."), "no hidden file, no parent directory");
    assertEquals(dir.resolve("_.npy"), files.get(""));
    assertEquals(dir.resolve("x.npy.npy"), files.get("x.npy"));
    assertEquals(6, files.values().stream().distinct().count());
  }

  @Test
  void aFailedWriteLeavesTheEarlierFileAndNoTemporaryFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("out.bin");
    Files.writeString(file, "earlier contents");
    IOException e = assertThrows(IOException.class, () -> OutputFiles.write(file, o -> {
      o.write(new byte[100_000]);
      throw new IOException("transfer timed out");
    }));
    assertEquals("transfer timed out", e.getMessage());
    assertEquals("earlier contents", Files.readString(file));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(file), s.toList(), "the temporary file is gone");
    }
  }

  @Test
  void aWriteCreatesTheDirectoryAndReplacesTheFileWhole(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("new/dir/out.bin");
    OutputFiles.write(file, o -> o.write("first".getBytes(StandardCharsets.US_ASCII)));
    OutputFiles.write(file, o -> o.write("2nd".getBytes(StandardCharsets.US_ASCII)));
    assertArrayEquals("2nd".getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(file));
  }

  @Test
  void aDirectoryThatIsAFileIsRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
    Path f = Files.writeString(dir.resolve("f"), "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputFiles.checkDirectory("--out", f));
    assertEquals("--out " + f + " is a file (expected a directory, or a path to create one at)",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> OutputFiles.checkFile("--out", dir));
    assertTrue(e.getMessage().endsWith("is a directory (expected a file name)"), e.getMessage());
  }
}
