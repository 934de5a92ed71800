package dev.systole.host.golden;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds golden programs: those bundled with Systole (from {@code tests/golden}, copied into the
 * jar at build time, listed in {@code golden/INDEX}) or the {@code *.golden} files of a directory.
 */
public final class GoldenSet {
  private GoldenSet() {}

  public static List<GoldenProgram> bundled() {
    List<GoldenProgram> out = new ArrayList<>();
    for (String name : resource("golden/INDEX").split("\n")) {
      if (!name.isBlank()) {
        out.add(GoldenFormat.parse(name.strip(), resource("golden/" + name.strip())));
      }
    }
    return out;
  }

  public static List<GoldenProgram> fromDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("golden program directory " + dir + " does not exist");
    }
    List<GoldenProgram> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".golden")).sorted().toList()) {
        out.add(GoldenFormat.parse(p.toString(), Files.readString(p)));
      }
    }
    if (out.isEmpty()) {
      throw new IOException("no *.golden files in " + dir);
    }
    return out;
  }

  private static String resource(String name) {
    try (InputStream in = GoldenSet.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("bundled golden program " + name
            + " is missing from the build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read bundled " + name, e);
    }
  }
}
