package dev.systole.host.cli;

import dev.systole.driver.DeviceException;
import dev.systole.driver.DeviceNotFoundException;
import dev.systole.host.bitstream.VivadoException;
import dev.systole.host.graph.ModelException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code systole} command. Subcommands are {@code Callable<Integer>}s that print only through
 * picocli's writers, so tests run them against a {@link java.io.StringWriter} and check both the
 * exit code and the output. Exceptions become named exit codes ({@link ExitCodes}) and a one-line
 * message naming what was wrong; a stack trace is printed only with {@code SYSTOLE_DEBUG=1}.
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
    CommandLine cl = new CommandLine(new SystoleCli(), factory);
    cl.setExecutionExceptionHandler(SystoleCli::handle);
    return cl;
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    PrintWriter err = cl.getErr();
    int code;
    if (e instanceof DeviceNotFoundException) {
      code = ExitCodes.NO_DEVICE;
    } else if (e instanceof DeviceException || e instanceof VivadoException) {
      code = ExitCodes.DEVICE_ERROR;
    } else if (e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException
        || e instanceof IOException || e instanceof UncheckedIOException
        || e instanceof ModelException) {
      code = ExitCodes.BAD_INPUT;
    } else {
      code = ExitCodes.CHECK_FAILED;
    }
    err.println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage());
    if ("1".equals(System.getenv("SYSTOLE_DEBUG"))) {
      e.printStackTrace(err);
    }
    err.flush();
    return code;
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
