package dev.systole.host.bitstream;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Vivado in batch mode: {@code vivado -mode batch -source SCRIPT -tclargs ...}, the one way this
 * project drives it, for building and for programming alike. The executable is found once, on
 * the PATH or where {@code --vivado} says, so a missing installation is reported before anything
 * starts; its output goes to a file in the working folder (Vivado is verbose), and a failure's
 * message names that file and quotes its last lines.
 */
public final class Vivado {
  /** How long {@code vivado -version} may take: it starts a JVM-sized program, but no design. */
  private static final Duration VERSION_TIMEOUT = Duration.ofMinutes(2);
  private static final Pattern VERSION = Pattern.compile("Vivado v(\\d{4}\\.\\d+)");
  private static final int TAIL_LINES = 15;

  private final Path executable;

  private Vivado(Path executable) {
    this.executable = executable;
  }

  /**
   * Vivado at {@code name}: a path if it has a slash, else a command on the PATH.
   *
   * @throws VivadoException if there is no such executable
   */
  public static Vivado find(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      if (!Files.isExecutable(p)) {
        throw new VivadoException("--vivado " + name + " is not an executable file (expected the"
            + " vivado program, e.g. /tools/Xilinx/Vivado/2023.2/bin/vivado)");
      }
      return new Vivado(p.toAbsolutePath());
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path p = Path.of(dir.isEmpty() ? "." : dir, name);
        if (Files.isExecutable(p)) {
          return new Vivado(p.toAbsolutePath());
        }
      }
    }
    throw new VivadoException(name + " is not on the PATH: install Vivado (the bitstream flow"
        + " was written for " + String.join(", ", Board.U55C.vivadoVersions()) + ") and run"
        + " `source <install>/settings64.sh`, or pass --vivado FILE");
  }

  public Path executable() {
    return executable;
  }

  /**
   * The version {@code vivado -version} prints, {@code 2023.2}.
   *
   * @throws VivadoException if it does not run or prints no version
   */
  public String version() {
    Process p;
    try {
      p = new ProcessBuilder(executable.toString(), "-version").redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new VivadoException("cannot run " + executable + " -version: " + e.getMessage());
    }
    String out;
    try {
      p.getOutputStream().close();
      if (!p.waitFor(VERSION_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new VivadoException(executable + " -version did not answer within "
            + VERSION_TIMEOUT.toSeconds() + " s");
      }
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new VivadoException("cannot read what " + executable + " -version printed: "
          + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new VivadoException("interrupted while asking " + executable + " its version");
    }
    Matcher m = VERSION.matcher(out);
    if (p.exitValue() != 0 || !m.find()) {
      throw new VivadoException(executable + " -version " + (p.exitValue() != 0 ? "exited with "
          + p.exitValue() : "printed no \"Vivado vYYYY.N\"") + ": " + firstLine(out));
    }
    return m.group(1);
  }

  /**
   * Checks that this Vivado is one {@code board}'s flow was written for.
   *
   * @return the version
   * @throws VivadoException naming the version found and the ones expected
   */
  public String requireVersion(Board board) {
    String v = version();
    if (!board.vivadoVersions().contains(v)) {
      throw new VivadoException("Vivado " + v + " (" + executable + ") is not a version the "
          + board.name() + " flow was written for (expected " + String.join(" or ",
              board.vivadoVersions()) + "): its IP versions and Tcl commands are those of that"
          + " release; install it, or pass --vivado FILE to name one");
    }
    return v;
  }

  /**
   * Runs {@code script} in batch mode in {@code workDir} with {@code tclargs}, its journal off
   * and its log at {@code workDir/NAME.log}, and waits for it.
   *
   * @param name the run's name, for the log's file name ({@code build}, {@code program})
   * @throws VivadoException if it cannot start, or exits with anything but 0 (with the log's last
   *     lines)
   */
  public void batch(String name, Path script, List<String> tclargs, Path workDir) {
    Path log = workDir.resolve(name + ".log");
    Path out = workDir.resolve(name + ".out");
    List<String> cmd = new ArrayList<>(List.of(executable.toString(), "-mode", "batch",
        "-nojournal", "-notrace", "-log", log.toString(), "-source", script.toString(),
        "-tclargs"));
    cmd.addAll(tclargs);
    int code;
    try {
      Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      p.getOutputStream().close();
      code = p.waitFor();
    } catch (IOException e) {
      throw new VivadoException("cannot run " + executable + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VivadoException("interrupted while Vivado ran " + script + " (output: " + out
          + ")");
    }
    if (code != 0) {
      throw new VivadoException("Vivado exited with " + code + " running " + script.getFileName()
          + " (its output: " + out + "); the last lines:\n" + tail(out));
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES),
          lines.size())).indent(4).stripTrailing();
    } catch (IOException e) {
      return "    (cannot read it: " + e.getMessage() + ")";
    }
  }

  private static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return t.isEmpty() ? "(nothing)" : nl < 0 ? t : t.substring(0, nl);
  }
}
