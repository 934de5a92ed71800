package dev.systole.host.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code systole} command. Subcommands are {@code Callable<Integer>}s that print only through
 * picocli's writers, so tests run them against a {@link java.io.StringWriter} and check both the
 * exit code and the output. Every exception a command throws comes to one handler, which turns
 * it into a named exit code ({@link ExitCodes}) and a one-line message naming what was wrong, or,
 * for one Systole did not mean to throw, an internal error naming the log file of its trace
 * ({@link ErrorReport}); a stack trace is printed only with {@code SYSTOLE_DEBUG=1}.
 */
@Command(name = "systole", mixinStandardHelpOptions = true,
    versionProvider = SystoleCli.Version.class,
    description = "Host runtime and diagnostics of the Systole inference accelerator.",
    subcommands = {DemoCommand.class, RunCommand.class, CompileCommand.class,
        SelftestCommand.class, GemmCommand.class, BenchCommand.class, DisasmCommand.class,
        SimboardCommand.class, DevicesCommand.class, ExamineCommand.class,
        ValidateCommand.class, RegCommand.class, DmaCommand.class, ProgramCommand.class,
        ResetCommand.class, BitstreamCommand.class, CommandLine.HelpCommand.class})
public final class SystoleCli implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with Systole's exception handling. */
  public static CommandLine commandLine() {
    return commandLine(CommandLine.defaultFactory());
  }

  /** The command line, its commands made by {@code factory} (tests inject clocks this way). */
  static CommandLine commandLine(CommandLine.IFactory factory) {
    return commandLine(factory, ErrorReport.logDirectory(System.getenv()));
  }

  /** The command line, logging internal errors to {@code logDir}. */
  static CommandLine commandLine(CommandLine.IFactory factory, Path logDir) {
    CommandLine cl = new CommandLine(new SystoleCli(), factory);
    cl.setExecutionExceptionHandler((e, sub, parsed) -> handle(e, sub, parsed, logDir));
    return cl;
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed,
      Path logDir) {
    PrintWriter err = cl.getErr();
    ErrorReport.Outcome o = ErrorReport.of(e, cl.getCommandSpec().qualifiedName(),
        parsed.originalArgs(), logDir);
    err.println(o.message());
    if ("1".equals(System.getenv("SYSTOLE_DEBUG"))) {
      e.printStackTrace(err);
    }
    err.flush();
    return o.code();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      Package p = SystoleCli.class.getPackage();
      String v = p.getImplementationVersion();
      return new String[] {"systole " + (v == null ? "(development build)" : v) + ", contract "
          + dev.systole.driver.contract.Contract.VERSION_MAJOR + "."
          + dev.systole.driver.contract.Contract.VERSION_MINOR};
    }
  }
}
