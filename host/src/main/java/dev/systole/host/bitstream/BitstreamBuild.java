package dev.systole.host.bitstream;

import dev.systole.spec.ContractSpec;
import dev.systole.spec.SpecException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import dev.systole.host.io.OutputFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One bitstream build, from a clone to a folder named by its build id holding the bitstream, the
 * flash image, the utilization and timing reports and the manifest.
 *
 * <p>Everything that can go wrong before Vivado's hours of work is checked first: the parameters
 * against the contract and the card, Vivado's presence and version, the flow's files. The build
 * id is the build's start time in seconds since 1970 (32 bits, unique per second, and readable as
 * a date), made the folder's name and passed to the RTL's BuildId parameter, so the BUILD_ID
 * register of the programmed board names this folder. The manifest is written last, from the
 * outputs on disk: a folder without one is a build that did not finish.
 */
public final class BitstreamBuild {
  /** The reports a build writes beside the bitstream. */
  public static final String UTILIZATION = "utilization.rpt";
  public static final String TIMING = "timing_summary.rpt";
  private static final long GIT_TIMEOUT_SECONDS = 20;

  private BitstreamBuild() {}

  /** What a build is made of, known before Vivado runs. */
  public record Inputs(Board board, Map<String, Long> params, int buildId, Instant date,
      String vivado, int contractMajor, int contractMinor, String commit) {}

  /**
   * The parameters of a build of {@code board} from the contract in {@code root}.
   *
   * @throws IllegalArgumentException if the contract cannot be read, or an assignment is bad, or
   *     the parameters do not fit the card
   */
  public static Map<String, Long> params(ContractSpec spec, Map<String, Long> fixed, Board board,
      String assignments) {
    Map<String, Long> params = BuildParams.resolve(spec, fixed, assignments);
    board.check(params);
    return params;
  }

  /** The parameters the RTL in {@code root} fixes ({@link BuildParams#fixed}). */
  public static Map<String, Long> fixed(Path root) {
    return BuildParams.fixed(root.resolve("fpga/rtl/systole_ip.sv"));
  }

  /** The contract in {@code root}, with a spec error as a bad input. */
  public static ContractSpec contract(Path root) {
    try {
      return ContractSpec.load(root.resolve("fpga/spec/contract.toml"));
    } catch (SpecException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * Makes the build folder under {@code outRoot}, named by the build id the clock gives (the next
   * free second if a build of the same second exists), and writes its {@code params.tcl}.
   */
  public static Path prepare(ContractSpec spec, Inputs in, Path outRoot) {
    int id = in.buildId();
    Path dir;
    try {
      Files.createDirectories(outRoot);
      while (true) {
        dir = outRoot.resolve(String.format("%08x", id));
        try {
          Files.createDirectory(dir);
          break;
        } catch (java.nio.file.FileAlreadyExistsException e) {
          id++;
        }
      }
      writeWhole(dir.resolve(AddressMap.FILE), AddressMap.tcl(spec, in.board(), in.params(), id));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a build folder in " + outRoot + ": "
          + e.getMessage(), e);
    }
    return dir;
  }

  /** The build id of a build started at {@code now}: seconds since 1970, as 32 bits. */
  public static int buildId(Clock clock) {
    return (int) clock.instant().getEpochSecond();
  }

  /** The build id a folder made by {@link #prepare} is named by. */
  public static int buildId(Path dir) {
    return (int) Long.parseLong(dir.getFileName().toString(), 16);
  }

  /**
   * The commit checked out in {@code root}, with {@code -dirty} if tracked files have changed, or
   * {@code unknown} when git cannot say.
   */
  public static String commit(Path root) {
    Optional<String> head = git(root, "rev-parse", "HEAD");
    if (head.isEmpty()) {
      return "unknown";
    }
    Optional<String> status = git(root, "status", "--porcelain", "--untracked-files=no");
    return head.get() + (status.isPresent() && !status.get().isEmpty() ? "-dirty" : "");
  }

  private static Optional<String> git(Path root, String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", root.toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(GIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 ? Optional.of(out) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * Writes the manifest of the finished build in {@code dir}: the inputs, a SHA-256 of each
   * output, and the slacks of its timing report.
   *
   * @throws VivadoException if an output is missing (the build did not finish)
   */
  public static Manifest seal(Path dir, Inputs in) {
    List<String> names = List.of(in.board().bitFile(), in.board().mcsFile(), UTILIZATION,
        TIMING);
    Map<String, Manifest.Output> outputs = new LinkedHashMap<>();
    for (String n : names) {
      Path f = dir.resolve(n);
      if (!Files.isRegularFile(f)) {
        throw new VivadoException("the build wrote no " + n + " in " + dir + " (its log:"
            + " build.log there): it did not finish, so it has no manifest");
      }
      outputs.put(n, new Manifest.Output(sha256(f), size(f)));
    }
    Optional<TimingSummary> timing;
    try {
      timing = TimingSummary.parse(Files.readString(dir.resolve(TIMING),
          StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(TIMING), e);
    }
    Manifest m = new Manifest(in.board().name(), in.board().part(), buildId(dir),
        in.date().truncatedTo(ChronoUnit.SECONDS).toString(), in.vivado(), in.contractMajor(),
        in.contractMinor(), in.commit(), in.params(), timing.map(TimingSummary::met)
            .orElse(false), timing.map(TimingSummary::wnsNs).orElse(null),
        timing.map(TimingSummary::whsNs).orElse(null), outputs);
    m.write(dir);
    return m;
  }

  /** The SHA-256 of a file, in lower-case hexadecimal. */
  public static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes {@code file} whole or not at all: a temporary file beside it, renamed over it. */
  static void writeWhole(Path file, String text) throws IOException {
    OutputFiles.write(file, o -> o.write(text.getBytes(StandardCharsets.UTF_8)));
  }
}
