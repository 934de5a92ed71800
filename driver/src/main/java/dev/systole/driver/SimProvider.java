package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.rtl.RtlEngine;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.xdma.NativeIo;
import dev.systole.driver.xdma.XdmaNodes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Opens {@code sim}: the RTL under Verilator behind a sim board of its own, on a temporary
 * directory, driven by the same {@code XdmaDevice} that drives a board; closing the device stops
 * the board and removes the directory. {@code sim:MEM=hbm} puts the realistic HBM model behind the
 * memory ports instead of the fixed-latency one; other arguments are build parameters, as for
 * {@code emulator} ({@code sim:ARRAY=8,MEM=hbm}).
 */
public final class SimProvider implements DeviceProvider {
  @Override
  public String scheme() {
    return "sim";
  }

  @Override
  public String usage() {
    return "sim[:MEM=fixed|hbm,PARAM=VALUE,...] (the RTL under Verilator on a sim board of its"
        + " own; needs Verilator)";
  }

  @Override
  public Device open(String argument, Ticker ticker) {
    RtlEngine.Memory memory = RtlEngine.Memory.FIXED;
    List<String> rest = new ArrayList<>();
    for (String part : argument.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      if (p.toUpperCase(Locale.ROOT).startsWith("MEM=")) {
        memory = RtlEngine.Memory.parse(p.substring(4));
      } else {
        rest.add(p);
      }
    }
    DeviceParams params = DeviceParams.defaults().with(String.join(",", rest));
    Path dir;
    try {
      dir = Files.createTempDirectory("systole-sim");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a directory for the sim board", e);
    }
    SimBoard board = null;
    try {
      board = SimBoard.start(dir, params, Set.of(), RtlEngine.factory(memory));
      SimBoard served = board;
      String name = memory == RtlEngine.Memory.FIXED ? "sim" : "sim:MEM=hbm";
      return new XdmaDevice(name, new XdmaNodes(dir, 0), NativeIo.libc(), ticker,
          XdmaDevice.Completion.INTERRUPT).owning(() -> {
            served.close();
            deleteTree(dir);
          });
    } catch (IOException | RuntimeException e) {
      if (board != null) {
        board.close();
      }
      deleteTree(dir);
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot start the sim board", io) : (RuntimeException) e;
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory left behind is harmless.
    }
  }
}
