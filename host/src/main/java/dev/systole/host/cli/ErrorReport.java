package dev.systole.host.cli;

import dev.systole.driver.DeviceBusyException;
import dev.systole.driver.DeviceException;
import dev.systole.driver.DeviceNotFoundException;
import dev.systole.driver.emulator.MemoryFault;
import dev.systole.host.bitstream.VivadoException;
import dev.systole.host.graph.ModelException;
import dev.systole.host.io.OutputFiles;
import dev.systole.host.run.OutOfDeviceMemoryException;
import dev.systole.spec.SpecException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the user reads when a command fails: a one-line message and an exit code. An exception
 * Systole throws on purpose carries a message written for the user (what was wrong, what was
 * expected), and is shown as it is; it is recognised by its type and by being thrown from
 * Systole's own code. A file-system error from the JDK is put in words, with its path. Anything
 * else is a bug: its text ("Cannot invoke ...", a class name) would mean nothing to the user, so
 * it is reported as an internal error with the part of Systole it came from, and its trace goes
 * to a log file whose path the message gives, for the bug report. The log directory is
 * {@code $SYSTOLE_LOG_DIR}, else {@code $XDG_CACHE_HOME/systole/logs}, else
 * {@code ~/.cache/systole/logs}; {@code SYSTOLE_DEBUG=1} also prints the trace.
 */
final class ErrorReport {
  private static final String OWN = "dev.systole.";
  /** Systole's packages by what they do, longest prefix first, for an internal error's line. */
  private static final List<Map.Entry<String, String>> AREAS = List.of(
      Map.entry("dev.systole.host.importer", "reading the model"),
      Map.entry("dev.systole.host.graph", "the model's graph"),
      Map.entry("dev.systole.host.quantize", "quantization"),
      Map.entry("dev.systole.host.partition", "partitioning the model"),
      Map.entry("dev.systole.host.compile", "compiling for the device"),
      Map.entry("dev.systole.host.cpu", "the CPU engine"),
      Map.entry("dev.systole.host.run", "running the model"),
      Map.entry("dev.systole.host.tensor", "tensor handling"),
      Map.entry("dev.systole.host.bitstream", "the bitstream tools"),
      Map.entry("dev.systole.host.cli", "the command"),
      Map.entry("dev.systole.driver", "the device driver"),
      Map.entry("dev.systole.spec", "the contract"));

  private ErrorReport() {}

  /** The exit code and the line to print for {@code e}. */
  record Outcome(int code, String message) {}

  /**
   * Classifies {@code e}, thrown by command {@code command} run with {@code args}; for an
   * internal error the trace is written to a log file in {@code logDir} first.
   */
  static Outcome of(Throwable e, String command, List<String> args, Path logDir) {
    if (e instanceof DeviceBusyException) {
      return new Outcome(ExitCodes.DEVICE_ERROR, command + ": " + e.getMessage() + "; "
          + resetCommand(args) + " recovers it");
    }
    if (e instanceof DeviceNotFoundException) {
      return new Outcome(ExitCodes.NO_DEVICE, command + ": " + e.getMessage());
    }
    if (e instanceof DeviceException || e instanceof VivadoException
        || e instanceof MemoryFault) {
      return new Outcome(ExitCodes.DEVICE_ERROR, command + ": " + e.getMessage());
    }
    Throwable t = e instanceof UncheckedIOException && e.getCause() != null ? e.getCause() : e;
    if (t instanceof FileSystemException fs) {
      return new Outcome(ExitCodes.BAD_INPUT, command + ": " + fileProblem(fs));
    }
    boolean userFacing = e instanceof ModelException || e instanceof SpecException
        || e instanceof OutOfDeviceMemoryException || e instanceof IllegalArgumentException
        || e instanceof IndexOutOfBoundsException || e instanceof IOException
        || e instanceof UncheckedIOException;
    if (userFacing && e.getMessage() != null && thrownByUs(e)) {
      return new Outcome(ExitCodes.BAD_INPUT, command + ": " + e.getMessage());
    }
    if (t instanceof IOException && t.getMessage() != null) {
      return new Outcome(ExitCodes.BAD_INPUT, command + ": " + t.getMessage());
    }
    String where;
    try {
      where = "the trace is in " + log(e, command, args, logDir);
    } catch (IOException | RuntimeException failed) {
      where = "the trace could not be written to " + logDir + " (" + (failed
          instanceof FileSystemException fs ? fileProblem(fs) : "the write failed")
          + "); SYSTOLE_DEBUG=1 prints it";
    }
    return new Outcome(ExitCodes.INTERNAL_ERROR, command + ": internal error in " + area(e)
        + ", not a problem with the input; " + where + " (please attach it to a bug report)");
  }

  /**
   * The command that soft-resets the device {@code args} name: {@code systole reset} with
   * their {@code --device} and {@code --xdma-root}, in either of picocli's forms.
   */
  static String resetCommand(List<String> args) {
    StringBuilder sb = new StringBuilder("systole reset");
    for (String option : List.of("--device", "--xdma-root")) {
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        if (a.equals(option) && i + 1 < args.size()) {
          sb.append(' ').append(option).append(' ').append(args.get(i + 1));
        } else if (a.startsWith(option + "=")) {
          sb.append(' ').append(option).append(' ').append(a.substring(option.length() + 1));
        }
      }
    }
    return sb.toString();
  }

  /**
   * Whether {@code t} was thrown by Systole's own code, so its message was written for the user;
   * one thrown inside the JDK or a library was not.
   */
  static boolean thrownByUs(Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    return st.length > 0 && st[0].getClassName().startsWith(OWN);
  }

  /** The part of Systole {@code t} came from: its innermost frame in Systole's code. */
  static String area(Throwable t) {
    for (StackTraceElement f : t.getStackTrace()) {
      for (Map.Entry<String, String> a : AREAS) {
        if (f.getClassName().startsWith(a.getKey() + ".")) {
          return a.getValue();
        }
      }
    }
    return "a library Systole uses";
  }

  /** A file-system error in words: the path and what the system said of it. */
  static String fileProblem(FileSystemException e) {
    String path = e.getFile() == null ? "a file" : e.getFile();
    String other = e.getOtherFile() == null ? "" : " (and " + e.getOtherFile() + ")";
    String what;
    if (e instanceof NoSuchFileException) {
      what = "no such file or directory";
    } else if (e instanceof AccessDeniedException) {
      what = "permission denied";
    } else if (e instanceof FileAlreadyExistsException) {
      what = "is in the way (a file exists where a directory or a new file is wanted)";
    } else if (e instanceof NotDirectoryException) {
      what = "is not a directory";
    } else if (e instanceof DirectoryNotEmptyException) {
      what = "is a directory that is not empty";
    } else {
      what = e.getReason() == null ? "the file system refused the operation" : e.getReason();
    }
    return path + other + ": " + what;
  }

  /** The directory internal errors are logged to, from the environment. */
  static Path logDirectory(Map<String, String> env) {
    String dir = env.get("SYSTOLE_LOG_DIR");
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir);
    }
    String cache = env.get("XDG_CACHE_HOME");
    Path base = cache != null && !cache.isBlank() ? Path.of(cache)
        : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("systole").resolve("logs");
  }

  private static Path log(Throwable e, String command, List<String> args, Path dir)
      throws IOException {
    LocalDateTime now = LocalDateTime.now();
    Path file = dir.resolve(String.format(Locale.ROOT, "systole-%s-%d.log",
        now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")), ProcessHandle.current()
            .pid()));
    StringWriter text = new StringWriter();
    PrintWriter w = new PrintWriter(text);
    w.println("time: " + now);
    w.println("version: " + String.join(" ", new SystoleCli.Version().getVersion()));
    w.println("java: " + System.getProperty("java.version") + " on " + System.getProperty(
        "os.name") + " " + System.getProperty("os.arch"));
    w.println("command: systole " + String.join(" ", args));
    e.printStackTrace(w);
    w.flush();
    OutputFiles.write(file, o -> o.write(text.toString().getBytes(StandardCharsets.UTF_8)));
    return file;
  }
}
