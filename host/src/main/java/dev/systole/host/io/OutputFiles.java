package dev.systole.host.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every file a command writes is written here: into a temporary file beside it, flushed to
 * disk, then renamed over the target, so a command that fails half-way (a transfer that times
 * out, a full disk) leaves any earlier file exactly as it was and never a truncated one. The
 * names of files made from model values are chosen here too, all of them before anything is
 * written: characters a file system may treat specially become {@code _}, and two values that
 * would land on the same name (also when they differ only in case, which some file systems fold)
 * are told apart by a numbered suffix, so no output overwrites another. The price is a rename
 * per file and a temporary file as large as the target in the same directory.
 */
public final class OutputFiles {
  private OutputFiles() {}

  /** What goes into a file. */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * A distinct file in {@code dir} for each of {@code values}, named after it with {@code
   * suffix}: characters other than {@code [A-Za-z0-9._-]} become {@code _}, a leading dot
   * becomes {@code _} (no hidden files, no {@code .} or {@code ..}), and a name already taken,
   * ignoring case, gets {@code _2}, {@code _3}, ... before the suffix, in the order given.
   */
  public static Map<String, Path> names(Path dir, Collection<String> values, String suffix) {
    Map<String, Path> files = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    for (String v : values) {
      String base = v.replaceAll("[^A-Za-z0-9._-]", "_");
      if (base.isEmpty() || base.startsWith(".")) {
        base = "_" + base;
      }
      String name = base;
      for (int k = 2; !taken.add(name.toLowerCase(Locale.ROOT)); k++) {
        name = base + "_" + k;
      }
      files.put(v, dir.resolve(name + suffix));
    }
    return files;
  }

  /**
   * Refuses {@code dir} as a directory to write into if it exists and is not a directory, before
   * a command does any work (it is created when the first file is written).
   */
  public static void checkDirectory(String option, Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException(option + " " + dir + " is a file (expected a directory,"
          + " or a path to create one at)");
    }
  }

  /**
   * Refuses {@code file} as a file to write if it is a directory or its directory is a file,
   * before a command does any work.
   */
  public static void checkFile(String option, Path file) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(option + " " + file + " is a directory (expected a"
          + " file name)");
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      checkDirectory(option + "'s directory", dir);
    }
  }

  /**
   * Writes {@code content} to {@code file} whole or not at all, creating its directory if
   * missing.
   */
  public static void write(Path file, Content content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch));
        content.writeTo(out);
        out.flush();
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
