package dev.systole.driver.rtl;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds, building it first if needed, the Verilator build of the RTL for a set of parameters: the
 * shared library {@code libsystole_sim.so} that {@code scripts/build-rtl-sim} makes from
 * {@code fpga/rtl} and {@code fpga/sim} and caches, so only the first use of a configuration pays
 * for Verilator.
 */
public final class RtlBuild {
  /** System property naming the repository root, where fpga/ and scripts/ are. */
  public static final String ROOT_PROPERTY = "systole.root";
  private static final String SCRIPT = "scripts/build-rtl-sim";

  private RtlBuild() {}

  /** The repository root: {@value #ROOT_PROPERTY}, else the working directory or a parent of it. */
  public static Path root() {
    String prop = System.getProperty(ROOT_PROPERTY);
    if (prop != null && !prop.isBlank()) {
      Path p = Path.of(prop).toAbsolutePath();
      if (Files.isRegularFile(p.resolve(SCRIPT))) {
        return p;
      }
      throw new RtlUnavailableException("the RTL sources are not under " + p + " (expected "
          + SCRIPT + " there; " + ROOT_PROPERTY + " names the Systole repository)");
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(SCRIPT)) && Files.isDirectory(p.resolve("fpga/rtl"))) {
        return p;
      }
    }
    throw new RtlUnavailableException("the RTL sources (fpga/rtl, " + SCRIPT + ") were not found"
        + " above " + Path.of("").toAbsolutePath() + "; run from the Systole repository or set -D"
        + ROOT_PROPERTY);
  }

  /** The RTL's parameters for a device configuration, as {@code Name=Value} for -G. */
  static List<String> parameters(DeviceParams p) {
    if (p.arrayRows() != p.arrayCols()) {
      throw new IllegalArgumentException("the RTL array is square; got " + p.arrayRows() + "x"
          + p.arrayCols());
    }
    return List.of("ArrayDim=" + p.arrayRows(), "AbufRows=" + p.abufRows(),
        "WbufRows=" + p.wbufRows(), "AccRows=" + p.accRows(), "HbmMb=" + p.hbmMb(),
        "HbmChannels=" + p.hbmChannels(), "ClockKhz=" + p.clockKhz(),
        "VectorUnit=" + p.get(Param.VECTOR_UNIT), "LutRows=" + p.get(Param.LUT_ROWS));
  }

  /**
   * The library for {@code params}, built if the cache has none (which takes a minute or two and
   * says so on standard error).
   *
   * @throws RtlUnavailableException if Verilator or the sources are missing, or the build fails
   */
  public static Path library(DeviceParams params) {
    Path root = root();
    List<String> cmd = new ArrayList<>();
    cmd.add(root.resolve(SCRIPT).toString());
    for (String p : parameters(params)) {
      cmd.add("--param");
      cmd.add(p);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    try {
      Process proc = pb.start();
      proc.getOutputStream().close();
      String out;
      try (InputStream in = proc.getInputStream()) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        in.transferTo(buf);
        out = buf.toString(StandardCharsets.UTF_8).strip();
      }
      int rc = proc.waitFor();
      if (rc != 0) {
        throw new RtlUnavailableException(SCRIPT + " failed (exit " + rc + ", its messages are"
            + " above)" + (rc == 3 ? ": Verilator is not installed (Debian: apt-get install"
            + " verilator)" : ""));
      }
      String last = out.lines().reduce((a, b) -> b).orElse("");
      Path lib = Path.of(last);
      if (!Files.isRegularFile(lib)) {
        throw new RtlUnavailableException(SCRIPT + " printed \"" + last + "\", not the path of"
            + " the built library");
      }
      return lib;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + SCRIPT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RtlUnavailableException("interrupted while building the RTL simulation");
    }
  }
}
