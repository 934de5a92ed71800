package dev.systole.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.DeviceBusyException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * No Java exception text reaches the user: a bug is an internal error naming the log of its
 * trace, a file-system error is put in words, and Systole's own messages pass as they are.
 */
class ErrorReportTest {
  @CommandLine.Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      String missing = System.getProperty("systole.test.no.such.property");
      return missing.length();
    }
  }

  @Test
  void aBugIsAnInternalErrorWhoseTraceIsInTheNamedLog(@TempDir Path logs) throws Exception {
    CommandLine cl = SystoleCli.commandLine(CommandLine.defaultFactory(), logs);
    cl.addSubcommand(new Boom());
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(new StringWriter()));
    int code = cl.execute("boom");
    assertEquals(ExitCodes.INTERNAL_ERROR, code);
    String line = err.toString().strip();
    assertFalse(line.contains("Cannot invoke") || line.contains("NullPointerException")
        || line.contains("\n"), line);
    Matcher m = Pattern.compile("systole boom: internal error in the command, not a problem with"
        + " the input; the trace is in (\\S+) \\(please attach it to a bug report\\)")
        .matcher(line);
    assertTrue(m.matches(), line);
    Path log = Path.of(m.group(1));
    assertEquals(logs, log.getParent());
    String trace = Files.readString(log);
    assertTrue(trace.contains("command: systole boom"), trace);
    assertTrue(trace.contains("java.lang.NullPointerException") && trace.contains(
        "ErrorReportTest$Boom.call"), trace);
  }

  @Test
  void anUnwritableLogDirectoryIsSaidAndTheErrorStillReported(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");
    ErrorReport.Outcome o = ErrorReport.of(new IllegalStateException("oops"), "systole run",
        List.of(), file.resolve("logs"));
    assertEquals(ExitCodes.INTERNAL_ERROR, o.code());
    assertTrue(o.message().contains("the trace could not be written to " + file.resolve("logs")),
        o.message());
    assertFalse(o.message().contains("oops"), o.message());
  }

  @Test
  void ownMessagesPassAndJdkMessagesDoNot(@TempDir Path logs) {
    ErrorReport.Outcome own = ErrorReport.of(new IllegalArgumentException("threads 0 (expected"
        + " 1 to 64)"), "systole run", List.of(), logs);
    assertEquals(new ErrorReport.Outcome(ExitCodes.BAD_INPUT, "systole run: threads 0 (expected"
        + " 1 to 64)"), own);
    IllegalArgumentException jdk = new IllegalArgumentException("No enum constant X.Y");
    jdk.setStackTrace(new StackTraceElement[] {new StackTraceElement("java.lang.Enum",
        "valueOf", "Enum.java", 1), new StackTraceElement("dev.systole.host.graph.Node",
        "intAttr", "Node.java", 2)});
    ErrorReport.Outcome bug = ErrorReport.of(jdk, "systole run", List.of(), logs);
    assertEquals(ExitCodes.INTERNAL_ERROR, bug.code());
    assertTrue(bug.message().startsWith("systole run: internal error in the model's graph,"),
        bug.message());
    assertFalse(bug.message().contains("enum"), bug.message());
    ErrorReport.Outcome missing = ErrorReport.of(new NoSuchFileException("/data/x.npy"),
        "systole run", List.of(), logs);
    assertEquals(new ErrorReport.Outcome(ExitCodes.BAD_INPUT,
        "systole run: /data/x.npy: no such file or directory"), missing);
  }

  @Test
  void aBusyDeviceNamesTheResetThatRecoversIt(@TempDir Path logs) {
    ErrorReport.Outcome o = ErrorReport.of(new DeviceBusyException("xdma:0", 1), "systole run",
        List.of("run", "m.onnx", "--device", "xdma:0", "--xdma-root=/srv/board", "--input",
            "x.npy"), logs);
    assertEquals(ExitCodes.DEVICE_ERROR, o.code());
    assertTrue(o.message().endsWith("; systole reset --device xdma:0 --xdma-root /srv/board"
        + " recovers it"), o.message());
  }

  @Test
  void theLogDirectoryComesFromTheEnvironment() {
    assertEquals(Path.of("/var/log/s"), ErrorReport.logDirectory(Map.of("SYSTOLE_LOG_DIR",
        "/var/log/s", "XDG_CACHE_HOME", "/c")));
    assertEquals(Path.of("/c/systole/logs"), ErrorReport.logDirectory(Map.of("XDG_CACHE_HOME",
        "/c")));
    assertEquals(Path.of(System.getProperty("user.home"), ".cache", "systole", "logs"),
        ErrorReport.logDirectory(Map.of()));
  }
}
