package dev.systole.host.golden;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Finds golden programs: those bundled with Systole (from {@code tests/golden}, copied into the
 * jar at build time) or those of a directory. Either way the set is what its
 * {@link GoldenManifest} lists, in its order, and every file must have the hash listed: a set
 * whose files went missing, were added or were edited is refused, naming the file, rather than
 * run as far as it goes, so a self-test can only pass on the programs that were generated.
 */
public final class GoldenSet {
  private GoldenSet() {}

  /**
   * The bundled programs.
   *
   * @throws IllegalStateException naming the file if the build lacks one the manifest lists or
   *     holds one that differs from it
   */
  public static List<GoldenProgram> bundled() {
    String manifest = "golden/" + GoldenManifest.FILE;
    Map<String, String> listed = GoldenManifest.parse("bundled " + manifest,
        new String(resource(manifest), StandardCharsets.UTF_8));
    List<GoldenProgram> out = new ArrayList<>();
    for (Map.Entry<String, String> e : listed.entrySet()) {
      String name = "golden/" + e.getKey();
      byte[] bytes = resource(name);
      String mismatch = GoldenManifest.mismatch("bundled " + name, e.getValue(), bytes);
      if (mismatch != null) {
        throw new IllegalStateException(mismatch);
      }
      out.add(GoldenFormat.parse(e.getKey(), new String(bytes, StandardCharsets.UTF_8)));
    }
    return out;
  }

  /**
   * The programs of {@code dir}, as its manifest lists them.
   *
   * @throws IOException naming the file if the directory has no manifest, lacks a file it lists,
   *     holds a {@code .golden} file it does not list, or a file differs from its hash
   */
  public static List<GoldenProgram> fromDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("golden program directory " + dir + " does not exist");
    }
    Path manifest = dir.resolve(GoldenManifest.FILE);
    if (!Files.isRegularFile(manifest)) {
      throw new IOException(dir + " has no " + GoldenManifest.FILE + " (expected one line per"
          + " golden program, its SHA-256, two spaces and its file name, as"
          + " 'sha256sum *.golden > " + GoldenManifest.FILE + "' writes it)");
    }
    Map<String, String> listed;
    try {
      listed = GoldenManifest.parse(manifest.toString(), Files.readString(manifest));
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    TreeSet<String> present = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".golden"))
          .forEach(present::add);
    }
    for (String name : listed.keySet()) {
      if (!present.contains(name)) {
        throw new IOException(dir.resolve(name) + " is listed in " + manifest
            + " but is missing");
      }
    }
    for (String name : present) {
      if (!listed.containsKey(name)) {
        throw new IOException(dir.resolve(name) + " is not listed in " + manifest
            + " (list it with its SHA-256, or remove it)");
      }
    }
    List<GoldenProgram> out = new ArrayList<>();
    for (Map.Entry<String, String> e : listed.entrySet()) {
      Path p = dir.resolve(e.getKey());
      byte[] bytes = Files.readAllBytes(p);
      String mismatch = GoldenManifest.mismatch(p.toString(), e.getValue(), bytes);
      if (mismatch != null) {
        throw new IOException(mismatch);
      }
      out.add(GoldenFormat.parse(p.toString(), new String(bytes, StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static byte[] resource(String name) {
    try (InputStream in = GoldenSet.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("bundled " + name + " is missing from the build"
            + " (expected from tests/golden; rebuild, or run scripts/generate-golden)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read bundled " + name + ": " + e.getMessage(), e);
    }
  }
}
