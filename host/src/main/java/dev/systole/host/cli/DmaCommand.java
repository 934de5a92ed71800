package dev.systole.host.cli;

import dev.systole.host.io.OutputFiles;
import dev.systole.driver.Device;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.host.cli.diag.Hexdump;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.cli.diag.Sizes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code systole dma}: card memory read to a hexdump or a file, or written from a file, in
 * transfers of at most {@value #CHUNK_MIB} MiB through one pooled direct buffer.
 */
@Command(name = "dma", mixinStandardHelpOptions = true,
    description = "Read card memory (HBM) to a hexdump or a file, or write it from a file.",
    subcommands = {DmaCommand.Read.class, DmaCommand.Write.class})
final class DmaCommand implements Runnable {
  private static final int CHUNK_MIB = 16;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Refuses a range that is empty or leaves HBM, naming the range and HBM's end. */
  static void checkRange(Device d, long address, long length) {
    long hbm = d.info().params().hbmBytes();
    if (length < 1 || address < 0 || address > hbm - length) {
      throw new IllegalArgumentException(String.format("card range 0x%x, %d bytes (expected"
          + " length >= 1 and 0 <= address, address + length <= 0x%x, the %s of HBM of %s)",
          address, length, hbm, Sizes.format(hbm), d.name()));
    }
  }

  /**
   * The fields a transfer's JSON starts with (host/DIAGNOSTICS.md); a read adds its bytes, and
   * both end with the seconds it took.
   */
  private static Map<String, Object> json(long address, long length, Path file) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", 1);
    m.put("address", address);
    m.put("length", length);
    m.put("file", file == null ? null : file.toString());
    return m;
  }

  /** {@code systole dma read}. */
  @Command(name = "read", mixinStandardHelpOptions = true,
      description = "Read LEN bytes of card memory at ADDR and print a hexdump, or write them"
          + " to FILE with --out.")
  static final class Read implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Parameters(index = "0", paramLabel = "ADDR", description = "Card address (0x...).")
    String address;

    @Parameters(index = "1", paramLabel = "LEN", description = "Bytes, e.g. 256 or 4K.")
    String length;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the bytes to FILE.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
    boolean json;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      long at = Sizes.parse("ADDR", address);
      long len = Sizes.parse("LEN", length);
      if (file != null) {
        OutputFiles.checkFile("--out", file);
      }
      StringBuilder hex = new StringBuilder();
      long t0;
      long nanos;
      try (Device d = device.open(json ? DeviceOption.silent() : out)) {
        checkRange(d, at, len);
        int chunk = (int) Math.min(len, CHUNK_MIB << 20);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(chunk);
        Hexdump dump = file == null && !json ? new Hexdump(out) : null;
        t0 = System.nanoTime();
        try {
          if (file != null) {
            OutputFiles.write(file, o -> {
              for (long done = 0; done < len; ) {
                int n = (int) Math.min(chunk, len - done);
                d.dmaRead(at + done, buf, 0, n);
                buf.getBytes(0, o, n);
                done += n;
              }
            });
          } else {
            byte[] line = new byte[16];
            for (long done = 0; done < len; ) {
              int n = (int) Math.min(chunk, len - done);
              d.dmaRead(at + done, buf, 0, n);
              byte[] bytes = new byte[n];
              buf.getBytes(0, bytes);
              for (int i = 0; i < n; i += 16) {
                int k = Math.min(16, n - i);
                System.arraycopy(bytes, i, line, 0, k);
                if (dump != null) {
                  dump.line(at + done + i, line, k);
                } else {
                  hex.append(HexFormat.of().formatHex(line, 0, k));
                }
              }
              done += n;
            }
          }
        } finally {
          buf.release();
        }
        nanos = System.nanoTime() - t0;
        if (dump != null) {
          dump.end(at + len);
        }
      }
      if (json) {
        Map<String, Object> m = json(at, len, file);
        m.put("hex", file == null ? hex.toString() : null);
        m.put("seconds", nanos / 1e9);
        out.println(Json.write(m));
      } else if (file != null) {
        out.printf(Locale.ROOT, "read %d bytes at card address 0x%x into %s (%.0f MB/s)%n", len,
            at, file, len / (nanos / 1e9) / 1e6);
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** {@code systole dma write}. */
  @Command(name = "write", mixinStandardHelpOptions = true,
      description = {"Write the bytes of FILE to card memory at ADDR.",
          "Refused while a program runs (the contract leaves DMA under a running program"
              + " undefined) unless --force."})
  static final class Write implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DeviceOption device;

    @Parameters(index = "0", paramLabel = "ADDR", description = "Card address (0x...).")
    String address;

    @Parameters(index = "1", paramLabel = "FILE", description = "The bytes to write.")
    Path file;

    @Option(names = "--force", description = "Write even while a program runs.")
    boolean force;

    @Option(names = "--json", description = "Print one JSON object (host/DIAGNOSTICS.md).")
    boolean json;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      long at = Sizes.parse("ADDR", address);
      long len = Files.size(file);
      if (len == 0) {
        throw new IllegalArgumentException(file + " is empty (expected at least 1 byte)");
      }
      long nanos;
      try (Device d = device.open(json ? DeviceOption.silent() : out)) {
        checkRange(d, at, len);
        int status = d.read(Reg.STATUS);
        if (RegField.STATUS_BUSY.isSet(status) && !force) {
          throw new CommandLine.ParameterException(spec.commandLine(), String.format("%s is"
              + " running a program (STATUS 0x%x BUSY, at instruction %d): DMA into memory it"
              + " uses is undefined; wait for it, reset it (systole reg write CTRL 0x2 --force)"
              + " or add --force", d.name(), status, d.read(Reg.PC)));
        }
        int chunk = (int) Math.min(len, CHUNK_MIB << 20);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(chunk);
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
          for (long done = 0; done < len; ) {
            int n = (int) Math.min(chunk, len - done);
            for (int r = 0; r < n; ) {
              int got = buf.setBytes(r, ch, done + r, n - r);
              if (got < 0) {
                throw new IOException(file + " ended at byte " + (done + r) + " while being"
                    + " read (expected " + len + " bytes)");
              }
              r += got;
            }
            d.dmaWrite(at + done, buf, 0, n);
            done += n;
          }
        } finally {
          buf.release();
        }
        nanos = System.nanoTime() - t0;
      }
      if (json) {
        Map<String, Object> m = json(at, len, file);
        m.put("seconds", nanos / 1e9);
        out.println(Json.write(m));
      } else {
        out.printf(Locale.ROOT, "wrote %d bytes of %s to card addresses 0x%x..0x%x (%.0f"
            + " MB/s)%n", len, file, at, at + len - 1, len / (nanos / 1e9) / 1e6);
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
