package dev.systole.host.cli.diag;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceException;
import dev.systole.driver.DeviceTimeoutException;
import dev.systole.driver.RunResult;
import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.host.bitstream.Manifest;
import dev.systole.host.bitstream.Manifests;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The tests of {@code systole validate}, in the order a bring-up engineer reads them: the link,
 * register access, DMA integrity and bandwidth, HBM, interrupts, compute, counters, and reset and
 * recovery. Each reports pass, warn, fail or skip with one line of reason and its figures.
 *
 * <p>Validation owns the device while it runs: it overwrites card memory (a range in the middle
 * for DMA, the tested HBM ranges, and the last {@value #RESERVED_KIB} KiB for its programs) and
 * resets the device. A test that fails because the device stopped answering (the link went down,
 * MAGIC reads wrong) ends the run: the tests after it are skipped, saying why, rather than each
 * failing with the same error.
 */
public final class Validation {
  /** The tests, by name, in the order they run. */
  public static final List<String> TESTS = List.of("link", "build", "scratch", "dma-integrity",
      "dma-bandwidth", "hbm", "interrupt", "selftest", "counters", "reset");

  /** KiB at the top of HBM kept for the tests' programs and data. */
  static final int RESERVED_KIB = 256;
  private static final int INTERRUPT_RUNS = 10;
  private static final int BANDWIDTH_RUNS = 5;
  private static final long CLOCK_WATCH_MILLIS = 100;

  /** A test's verdict. */
  public enum Verdict {
    PASS,
    WARN,
    FAIL,
    SKIP
  }

  /** How one test ended: verdict, reason in words, figures, and how long it took. */
  public record Outcome(String test, Verdict verdict, String reason, Map<String, Object> figures,
      double seconds) {}

  /**
   * How to run the suite.
   *
   * @param timeout the deadline of each program the tests run
   * @param dmaMaxBytes the largest DMA transfer of the integrity and bandwidth tests
   * @param hbmRanges the ranges the HBM test covers, as {@code {start, length}}; empty for a
   *     sample of {@code hbmSampleBytes} at the start of each channel's region
   * @param hbmSampleBytes the sample per channel region when no range is given
   * @param seed the seed of the random data, different on every run so that data left in card
   *     memory by an earlier run cannot pass for data read back now
   * @param progress told what a long test is doing, for a terminal
   * @param manifestDirs where the build test looks for the manifest of the device's build
   */
  public record Options(Duration timeout, long dmaMaxBytes, List<long[]> hbmRanges,
      long hbmSampleBytes, long seed, Consumer<String> progress, List<Path> manifestDirs) {}

  private final Device device;
  private final DeviceParams params;
  private final Optional<Boards.DeviceLink> link;
  private final boolean physicalLink;
  private final Options options;
  private final long reserved;
  private String current = "";

  /**
   * @param link the device's link, if known
   * @param physicalLink whether the link is a real one (sysfs), so that DMA bandwidth can be
   *     judged against it; a sim board's link is a label
   */
  public Validation(Device device, Optional<Boards.DeviceLink> link, boolean physicalLink,
      Options options) {
    this.device = device;
    this.params = device.info().params();
    this.link = link;
    this.physicalLink = physicalLink;
    this.options = options;
    this.reserved = params.hbmBytes() - RESERVED_KIB * 1024L;
  }

  /**
   * The tests named, in suite order.
   *
   * @throws IllegalArgumentException naming an unknown test and the known ones
   */
  public static List<String> select(List<String> names) {
    for (String n : names) {
      if (!TESTS.contains(n)) {
        throw new IllegalArgumentException("no test \"" + n + "\" (expected some of "
            + String.join(", ", TESTS) + ")");
      }
    }
    return TESTS.stream().filter(names::contains).toList();
  }

  /**
   * Runs {@code tests}, telling {@code each} every outcome as it comes.
   *
   * @throws IllegalArgumentException before any test runs, if the HBM ranges do not fit
   */
  public List<Outcome> run(List<String> tests, Consumer<Outcome> each) {
    if (tests.contains("hbm")) {
      hbmRanges();
    }
    List<Outcome> out = new ArrayList<>();
    String lost = null;
    for (String t : tests) {
      Outcome o;
      if (lost != null) {
        o = new Outcome(t, Verdict.SKIP, "not run: " + lost, Map.of(), 0);
      } else {
        o = runOne(t);
        if (o.verdict() == Verdict.FAIL) {
          String gone = answering();
          if (gone != null) {
            lost = "the device stopped answering during " + t + " (" + gone + ")";
          }
        }
      }
      out.add(o);
      each.accept(o);
    }
    return out;
  }

  /** Null if the device still identifies itself, otherwise what it does instead. */
  private String answering() {
    try {
      int magic = device.read(Reg.MAGIC);
      return magic == Contract.MAGIC ? null : String.format("MAGIC reads 0x%08x", magic);
    } catch (DeviceException e) {
      return e.getMessage();
    }
  }

  private void progress(String text) {
    options.progress().accept(current + ": " + text);
  }

  private Outcome runOne(String test) {
    current = test;
    long t0 = System.nanoTime();
    Result r;
    try {
      r = switch (test) {
        case "link" -> link(link, device.info().backend());
        case "build" -> build();
        case "scratch" -> scratch();
        case "dma-integrity" -> dmaIntegrity();
        case "dma-bandwidth" -> dmaBandwidth();
        case "hbm" -> hbm();
        case "interrupt" -> interrupt();
        case "selftest" -> selftest("");
        case "counters" -> counters();
        case "reset" -> reset();
        default -> throw new IllegalArgumentException("no test " + test);
      };
    } catch (DeviceTimeoutException e) {
      r = new Result(Verdict.FAIL, "HUNG: " + e.getMessage(), new LinkedHashMap<>());
    } catch (DeviceException | IllegalStateException | IndexOutOfBoundsException e) {
      r = new Result(Verdict.FAIL, e.getMessage(), new LinkedHashMap<>());
    }
    return new Outcome(test, r.verdict(), r.reason(), r.figures(),
        (System.nanoTime() - t0) / 1e9);
  }

  record Result(Verdict verdict, String reason, Map<String, Object> figures) {}

  private static Result result(Verdict v, String reason, Object... figures) {
    return new Result(v, reason, Examination.map(figures));
  }

  // ---- build ----

  /** The device's parameter registers against the manifest of the build it reports. */
  private Result build() {
    int id = device.info().buildId();
    if (id == 0) {
      return result(Verdict.SKIP, "build id 0: the emulator, or a build without an id, has no"
          + " manifest to compare with", "build_id", Examination.hex(id));
    }
    Manifests.Lookup found = Manifests.find(options.manifestDirs(), id);
    if (found.match().isEmpty()) {
      return result(Verdict.SKIP, String.format("build 0x%08x is none of the %d manifests in %s"
          + " (pass --manifests DIR with its folder)", id, found.read(),
          options.manifestDirs().isEmpty() ? "(no folder given)" : options.manifestDirs()
              .stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", "))),
          "build_id", Examination.hex(id));
    }
    Manifest m = found.match().get().manifest();
    BuildCheck.Comparison c = BuildCheck.compare(device, m);
    String where = found.match().get().file().toString();
    if (!c.differences().isEmpty()) {
      return result(Verdict.FAIL, "the parameter registers differ from the manifest " + where
          + ": " + String.join("; ", c.differences()), "build_id", m.buildIdHex(), "manifest",
          where, "differences", c.differences());
    }
    String notes = c.notes().isEmpty() ? "" : "; " + String.join("; ", c.notes());
    if (!m.timingMet()) {
      return result(Verdict.WARN, c.compared() + " parameters equal the manifest's, but build "
          + m.buildIdHex() + " did not meet timing" + notes, "build_id", m.buildIdHex(),
          "manifest", where, "timing_met", false);
    }
    return result(Verdict.PASS, c.compared() + " parameters equal the manifest's (" + where
        + ", built " + m.date() + ")" + notes, "build_id", m.buildIdHex(), "manifest", where,
        "timing_met", true);
  }

  // ---- link ----

  /** The link test on its own, for a device that did not open. */
  public static Outcome linkOnly(Optional<Boards.DeviceLink> link) {
    Result r = link(link, "xdma");
    return new Outcome("link", r.verdict(), r.reason(), r.figures(), 0);
  }

  private static Result link(Optional<Boards.DeviceLink> link, String backend) {
    if (link.isEmpty()) {
      return result(Verdict.SKIP, backend.equals("emulator") ? "the emulator runs in this"
          + " process: no PCIe link" : "no link state known for this device (not in sysfs)");
    }
    Boards.DeviceLink l = link.get();
    Object[] figures = {"source", l.source(), "current_speed",
        l.link().currentSpeed().orElse(null), "current_width", l.link().currentWidth().isPresent()
        ? l.link().currentWidth().getAsInt() : null, "max_speed", l.link().maxSpeed().orElse(null),
        "max_width", l.link().maxWidth().isPresent() ? l.link().maxWidth().getAsInt() : null};
    return switch (Boards.state(l.link())) {
      case "down" -> result(Verdict.FAIL, "link DOWN: " + l.link().now() + " (at most "
          + l.link().max() + "); the board is gone from the bus, in reset or not programmed",
          figures);
      case "degraded" -> result(Verdict.WARN, String.format(Locale.ROOT, "link DEGRADED: %s,"
          + " below the %s both ends support; DMA is limited to %.0f MB/s raw",
          l.link().now(), l.link().max(), l.link().bytesPerSecond().orElse(0) / 1e6), figures);
      case "unknown" -> result(Verdict.WARN, "link state unknown: " + l.source()
          + " has no link attributes", figures);
      default -> result(Verdict.PASS, String.format(Locale.ROOT, "%s, the most both ends"
          + " support (%.0f MB/s raw)", l.link().now(), l.link().bytesPerSecond().orElse(0)
          / 1e6), figures);
    };
  }

  // ---- scratch ----

  private Result scratch() {
    List<Integer> patterns = new ArrayList<>(List.of(0, -1, 0x55555555, 0xAAAAAAAA, 0x12345678,
        0xEDCBA987));
    for (int i = 0; i < 32; i++) {
      patterns.add(1 << i);
      patterns.add(~(1 << i));
    }
    java.util.Random r = new java.util.Random(options.seed());
    for (int i = 0; i < 16; i++) {
      patterns.add(r.nextInt());
    }
    long readNanos = 0;
    long writeNanos = 0;
    for (int v : patterns) {
      long t0 = System.nanoTime();
      device.write(Reg.SCRATCH, v);
      long t1 = System.nanoTime();
      int got = device.read(Reg.SCRATCH);
      long t2 = System.nanoTime();
      writeNanos += t1 - t0;
      readNanos += t2 - t1;
      if (got != v) {
        return result(Verdict.FAIL, String.format("SCRATCH: wrote 0x%08x, read 0x%08x (bits"
            + " 0x%08x differ): register writes or reads are corrupted", v, got, v ^ got));
      }
    }
    int magic = device.read(Reg.MAGIC);
    int version = device.read(Reg.VERSION);
    if (magic != Contract.MAGIC || version != (device.info().versionMajor() << 16
        | device.info().versionMinor())) {
      return result(Verdict.FAIL, String.format("after the SCRATCH writes MAGIC reads 0x%08x and"
          + " VERSION 0x%08x: writes land on other registers", magic, version));
    }
    double readUs = readNanos / 1e3 / patterns.size();
    double writeUs = writeNanos / 1e3 / patterns.size();
    return result(Verdict.PASS, String.format(Locale.ROOT, "%d patterns written to SCRATCH and"
        + " read back, MAGIC and VERSION unchanged; a register read takes %.2f us, a write %.2f"
        + " us", patterns.size(), readUs, writeUs), "patterns", patterns.size(), "read_us",
        readUs, "write_us", writeUs);
  }

  // ---- DMA ----

  /** Transfer sizes: 1 and 3 bytes, one below and above each power of 4, and the largest. */
  static List<Long> dmaSizes(long max) {
    List<Long> sizes = new ArrayList<>(List.of(1L, 3L));
    for (long p = 4; p <= max; p *= 4) {
      sizes.add(p - 1);
      if (p + 1 <= max) {
        sizes.add(p + 1);
      }
    }
    if (sizes.get(sizes.size() - 1) != max) {
      sizes.add(max);
    }
    return sizes.stream().filter(s -> s <= max).distinct().toList();
  }

  private long dmaMax() {
    return Math.max(1, Math.min(Math.min(options.dmaMaxBytes(), params.hbmBytes() / 4),
        Integer.MAX_VALUE - 8));
  }

  private static void random(ByteBuffer v, int length, long seed) {
    for (int i = 0; i < length; i += 8) {
      long w = HbmTest.splitmix(seed + i);
      if (i + 8 <= length) {
        v.putLong(i, w);
      } else {
        for (int j = i; j < length; j++) {
          v.put(j, (byte) (w >>> (8 * (j - i))));
        }
      }
    }
  }

  private Result dmaIntegrity() {
    long max = dmaMax();
    List<Long> sizes = dmaSizes(max);
    long base = params.hbmBytes() / 2;
    int capacity = (int) max + 8;
    ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(capacity);
    ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(capacity);
    long bytes = 0;
    int bad = 0;
    String first = null;
    try {
      for (int i = 0; i < sizes.size(); i++) {
        long size = sizes.get(i);
        long card = base + ((i * 4099L) % 65536 | 1);
        int outIndex = i % 8;
        int inIndex = (i * 3 + 1) % 8;
        progress(String.format("transfer %d/%d: %s at card address 0x%x",
            i + 1, sizes.size(), Sizes.format(size), card));
        long seed = options.seed() ^ (i * 0x2545F4914F6CDD1DL);
        ByteBuffer sent = HbmTest.view(out, outIndex, (int) size);
        ByteBuffer back = HbmTest.view(in, inIndex, (int) size);
        random(sent, (int) size, seed);
        random(back, (int) size, ~seed);
        device.dmaWrite(card, out, outIndex, (int) size);
        device.dmaRead(card, in, inIndex, (int) size);
        bytes += size;
        long wrong = 0;
        int at = -1;
        for (int j = 0; j < size; j += 8) {
          if (j + 8 <= size && sent.getLong(j) == back.getLong(j)) {
            continue;
          }
          for (int k = j; k < Math.min(size, j + 8); k++) {
            if (sent.get(k) != back.get(k)) {
              at = at < 0 ? k : at;
              wrong++;
            }
          }
        }
        if (wrong > 0) {
          bad++;
          if (first == null) {
            first = String.format("%s written to card address 0x%x came back with %d byte%s"
                + " wrong, the first at card address 0x%x (wrote 0x%02x, read 0x%02x)",
                Sizes.format(size), card, wrong, wrong == 1 ? "" : "s", card + at,
                sent.get(at) & 0xFF, back.get(at) & 0xFF);
          }
        }
      }
    } finally {
      out.release();
      in.release();
    }
    Object[] figures = {"transfers", sizes.size(), "largest_bytes", max, "bytes", bytes,
        "corrupted_transfers", bad, "seed", options.seed()};
    if (bad > 0) {
      return result(Verdict.FAIL, String.format("DMA CORRUPTION: %d of %d transfers read back"
          + " different from what was written; %s", bad, sizes.size(), first), figures);
    }
    return result(Verdict.PASS, String.format("%d transfers of 1 B to %s at odd card addresses"
        + " and unaligned host buffers, host to card and back: every byte matches",
        sizes.size(), Sizes.format(max)), figures);
  }

  private Result dmaBandwidth() {
    int size = (int) Math.min(dmaMax(), 64L << 20);
    long card = params.hbmBytes() / 2;
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(size);
    long[] h2c = new long[BANDWIDTH_RUNS];
    long[] c2h = new long[BANDWIDTH_RUNS];
    try {
      buf.setZero(0, size);
      for (int i = 0; i < BANDWIDTH_RUNS; i++) {
        progress(String.format("run %d/%d, %s each way", i + 1,
            BANDWIDTH_RUNS, Sizes.format(size)));
        long t0 = System.nanoTime();
        device.dmaWrite(card, buf, 0, size);
        long t1 = System.nanoTime();
        device.dmaRead(card, buf, 0, size);
        h2c[i] = t1 - t0;
        c2h[i] = System.nanoTime() - t1;
      }
    } finally {
      buf.release();
    }
    Arrays.sort(h2c);
    Arrays.sort(c2h);
    double up = size / (h2c[BANDWIDTH_RUNS / 2] / 1e9) / 1e6;
    double down = size / (c2h[BANDWIDTH_RUNS / 2] / 1e9) / 1e6;
    String text = String.format(Locale.ROOT, "host to card %.0f MB/s, card to host %.0f MB/s"
        + " (median of %d transfers of %s)", up, down, BANDWIDTH_RUNS, Sizes.format(size));
    Map<String, Object> figures = Examination.map("h2c_mb_per_s", up, "c2h_mb_per_s", down,
        "transfer_bytes", size, "runs", BANDWIDTH_RUNS);
    if (physicalLink && link.isPresent() && link.get().link().bytesPerSecond().isPresent()) {
      double raw = link.get().link().bytesPerSecond().getAsDouble() / 1e6;
      figures.put("link_raw_mb_per_s", raw);
      double worst = Math.min(up, down) / raw;
      text += String.format(Locale.ROOT, "; %.0f %% of the link's raw %.0f MB/s", worst * 100,
          raw);
      if (worst < 0.25) {
        return new Result(Verdict.WARN, text + ", under a quarter: check the link, the IOMMU"
            + " and the driver's settings", figures);
      }
    }
    return new Result(Verdict.PASS, text, figures);
  }

  // ---- HBM ----

  /** The ranges the HBM test covers, each inside one channel's region, below the reserved top. */
  List<HbmTest.Range> hbmRanges() {
    long region = params.hbmBytes() / params.hbmChannels();
    int row = params.lanes() * 4;
    List<long[]> asked = options.hbmRanges();
    List<long[]> ranges = new ArrayList<>();
    if (asked.isEmpty()) {
      long sample = Math.min(options.hbmSampleBytes(), region) / row * row;
      for (int c = 0; c < params.hbmChannels(); c++) {
        long start = c * region;
        long end = Math.min(start + sample, reserved);
        if (end > start) {
          ranges.add(new long[] {start, end - start});
        }
      }
    } else {
      for (long[] r : asked) {
        if (r[0] % row != 0 || r[1] % row != 0 || r[1] <= 0) {
          throw new IllegalArgumentException(String.format("--hbm-range 0x%x:0x%x (expected a"
              + " start and a length that are multiples of %d, the bytes of an ACC row, the"
              + " length > 0)", r[0], r[1], row));
        }
        if (r[0] < 0 || r[0] + r[1] > reserved) {
          throw new IllegalArgumentException(String.format("--hbm-range 0x%x:0x%x (expected a"
              + " range in 0x0..0x%x: validate keeps the top %d KiB of the %s of HBM for its"
              + " programs)", r[0], r[1], reserved, RESERVED_KIB, Sizes.format(params.hbmBytes())));
        }
        ranges.add(r);
      }
    }
    List<HbmTest.Range> out = new ArrayList<>();
    for (long[] r : ranges) {
      for (long a = r[0]; a < r[0] + r[1]; ) {
        int channel = (int) (a / region);
        long end = Math.min(r[0] + r[1], (channel + 1) * region);
        out.add(new HbmTest.Range(a, end - a, channel));
        a = end;
      }
    }
    return out;
  }

  private Result hbm() {
    List<HbmTest.Range> ranges = hbmRanges();
    long total = ranges.stream().mapToLong(HbmTest.Range::length).sum();
    long channels = ranges.stream().mapToInt(HbmTest.Range::channel).distinct().count();
    HbmTest test = new HbmTest(device, reserved + 64 * 1024, options.timeout(), options.seed(),
        this::progress);
    HbmTest.Findings f = test.run(ranges);
    String what = String.format("%s in %d range%s over %d channel region%s, %d patterns,"
        + " written by DMA, copied in place by the accelerator, read back by DMA",
        Sizes.format(total), ranges.size(), ranges.size() == 1 ? "" : "s", channels,
        channels == 1 ? "" : "s", HbmTest.PATTERNS);
    Map<String, Object> figures = Examination.map("bytes", total, "ranges", ranges.size(),
        "channels", channels, "patterns", HbmTest.PATTERNS, "wrong_bytes", f.wrongBytes,
        "seed", options.seed());
    if (f.firstAddress < 0) {
      return new Result(Verdict.PASS, what + ": no errors", figures);
    }
    int[] s = f.stuck.get(f.firstAddress);
    StringBuilder stuck = new StringBuilder();
    for (int bit = 0; bit < 8; bit++) {
      if ((s[0] >> bit & 1) != 0 && (s[1] >> bit & 1) == 0) {
        stuck.append(stuck.length() == 0 ? "" : ", ").append("bit ").append(bit)
            .append(" reads 0 whenever 1 is written (stuck at 0)");
      } else if ((s[1] >> bit & 1) != 0 && (s[0] >> bit & 1) == 0) {
        stuck.append(stuck.length() == 0 ? "" : ", ").append("bit ").append(bit)
            .append(" reads 1 whenever 0 is written (stuck at 1)");
      } else if ((s[0] >> bit & 1) != 0) {
        stuck.append(stuck.length() == 0 ? "" : ", ").append("bit ").append(bit)
            .append(" reads wrong both ways");
      }
    }
    figures.put("first_address", f.firstAddress);
    figures.put("first_pattern", HbmTest.patternName(f.firstPattern));
    figures.put("wrong_addresses", f.stuck.size());
    return new Result(Verdict.FAIL, String.format("HBM ERROR at card address 0x%x (channel %d):"
        + " %s under %s (wrote 0x%02x, read 0x%02x); %d wrong byte%s at %s%d address%s in all;"
        + " tested %s", f.firstAddress, f.firstChannel, stuck, HbmTest.patternName(
            f.firstPattern), f.firstWrote, f.firstRead, f.wrongBytes, f.wrongBytes == 1 ? ""
            : "s", f.stuck.size() >= 64 ? "at least " : "", f.stuck.size(),
        f.stuck.size() == 1 ? "" : "es", what), figures);
  }

  // ---- interrupt ----

  private Result interrupt() {
    long program = reserved;
    Programs.load(device, program, List.of(Assembler.parse("FENCE"), Assembler.parse("HALT")));
    long[] latency = new long[INTERRUPT_RUNS];
    int spurious = 0;
    for (int i = 0; i < INTERRUPT_RUNS; i++) {
      progress("run " + (i + 1) + "/" + INTERRUPT_RUNS);
      device.write(Reg.INT_ENABLE, RegField.INT_ENABLE_DONE.mask()
          | RegField.INT_ENABLE_ERROR.mask());
      long t0 = System.nanoTime();
      device.start(program, 2);
      long deadline = t0 + options.timeout().toNanos();
      boolean arrived;
      while (true) {
        try {
          arrived = device.awaitInterrupt(Duration.ofNanos(Math.max(0,
              deadline - System.nanoTime())));
        } catch (UnsupportedOperationException e) {
          device.await(options.timeout());
          return result(Verdict.SKIP, e.getMessage());
        }
        if (!arrived || RegField.STATUS_DONE.isSet(device.read(Reg.STATUS))) {
          break;
        }
        spurious++;
      }
      latency[i] = System.nanoTime() - t0;
      if (!arrived) {
        int status = device.read(Reg.STATUS);
        int pending = device.read(Reg.INT_STATUS);
        int enable = device.read(Reg.INT_ENABLE);
        if (RegField.STATUS_BUSY.isSet(status)) {
          device.reset();
          return result(Verdict.FAIL, String.format("the program did not end within %d ms"
              + " (STATUS 0x%x BUSY), so no interrupt was due; the device was reset (the"
              + " selftest says more)", options.timeout().toMillis(), status));
        }
        return result(Verdict.FAIL, String.format("NO INTERRUPT: run %d of %d ended (STATUS 0x%x"
            + " %s, INT_STATUS 0x%x, INT_ENABLE 0x%x: the line is %s at the device) but no"
            + " interrupt reached the host within %d ms: check the XDMA user interrupt (MSI-X)"
            + " and the driver's events node", i + 1, INTERRUPT_RUNS, status,
            Registers.brief(Reg.STATUS, status), pending, enable, (pending & enable) != 0
                ? "high" : "low", options.timeout().toMillis()), "delivered", i,
            "runs", INTERRUPT_RUNS);
      }
      device.await(options.timeout()).throwIfFailed();
    }
    long[] sorted = latency.clone();
    Arrays.sort(sorted);
    double median = sorted[INTERRUPT_RUNS / 2] / 1e3;
    double max = sorted[INTERRUPT_RUNS - 1] / 1e3;
    Object[] figures = {"delivered", INTERRUPT_RUNS, "runs", INTERRUPT_RUNS, "latency_median_us",
        median, "latency_max_us", max, "spurious", spurious};
    String text = String.format(Locale.ROOT, "%d of %d interrupts delivered; from START to the"
        + " interrupt: median %.0f us, max %.0f us", INTERRUPT_RUNS, INTERRUPT_RUNS, median, max);
    if (spurious > 0) {
      return result(Verdict.WARN, text + "; " + spurious + " interrupt" + (spurious == 1 ? ""
          : "s") + " arrived with no program ended (spurious)", figures);
    }
    return result(Verdict.PASS, text, figures);
  }

  // ---- compute ----

  private Result selftest(String after) {
    List<GoldenProgram> programs = GoldenSet.bundled();
    boolean exact = device.info().backend().equals("emulator") || device.name().equals("sim");
    GoldenRunner runner = new GoldenRunner(options.timeout(), exact);
    int passed = 0;
    int failed = 0;
    int skipped = 0;
    String first = null;
    for (int i = 0; i < programs.size(); i++) {
      GoldenProgram g = programs.get(i);
      progress(String.format("program %d/%d, %s", i + 1, programs.size(),
          g.name()));
      GoldenRunner.Outcome o = runner.run(device, g);
      switch (o.verdict()) {
        case PASS -> passed++;
        case SKIP -> skipped++;
        case FAIL -> {
          failed++;
          if (first == null) {
            first = g.name() + ": " + String.join("; ", o.problems());
          }
          if (String.join(" ", o.problems()).contains("did not finish within")) {
            return result(Verdict.FAIL, String.format("%sHUNG: %s; stopped after %d of %d"
                + " programs", after, first, i + 1, programs.size()), "passed", passed, "failed",
                failed, "programs", programs.size());
          }
        }
      }
    }
    Object[] figures = {"passed", passed, "failed", failed, "skipped", skipped, "programs",
        programs.size(), "timing_checked", exact};
    if (failed > 0) {
      return result(Verdict.FAIL, String.format("%s%d of %d golden programs failed; first %s",
          after, failed, programs.size(), first), figures);
    }
    if (passed == 0) {
      return result(Verdict.SKIP, after + "no golden program fits this build (they are written"
          + " for the default parameters)", figures);
    }
    return result(Verdict.PASS, String.format("%s%d golden programs: status, results and"
        + " counters as expected%s%s", after, passed, exact ? ", cycles exact" : "",
        skipped > 0 ? " (" + skipped + " skipped: other parameters)" : ""), figures);
  }

  // ---- counters ----

  private Result counters() {
    long before = device.counters().get(Counter.TOTAL_CYCLES);
    long t0 = System.nanoTime();
    try {
      Thread.sleep(CLOCK_WATCH_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long after = device.counters().get(Counter.TOTAL_CYCLES);
    double mhz = (after - before) / ((System.nanoTime() - t0) / 1e9) / 1e6;
    if (after <= before) {
      return result(Verdict.FAIL, "TOTAL_CYCLES does not advance (" + before + " then " + after
          + " after " + CLOCK_WATCH_MILLIS + " ms): the kernel clock is not running");
    }
    int d = params.lanes();
    int rows = Math.min(256, Math.min(params.abufRows(), params.accRows()));
    long weights = reserved + 4096;
    long activations = weights + (long) d * d;
    long program = reserved;
    Programs.load(device, program, List.of(
        Assembler.parse(String.format("LOAD buf=WBUF elem_bytes=%d hbm_addr=%d x_size=%d"
            + " y_size=1 x_stride=%d", d, weights, d, d)),
        Assembler.parse(String.format("LOAD buf=ABUF elem_bytes=%d hbm_addr=%d x_size=%d"
            + " y_size=1 x_stride=%d", d, activations, rows, d)),
        Assembler.parse(String.format("MATMUL wait=LOAD w_load=1 rows=%d", rows)),
        Assembler.parse("HALT")));
    device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
    RunResult run = device.run(program, 4, options.timeout());
    Map<Counter, Long> c = device.counters();
    Map<Counter, Long> want = new LinkedHashMap<>();
    want.put(Counter.MACS, (long) rows * d * d);
    want.put(Counter.ARRAY_CYCLES, (long) rows);
    want.put(Counter.INSTRET, 4L);
    want.put(Counter.BYTES_READ, (long) d * d + (long) rows * d);
    want.put(Counter.BYTES_WRITTEN, 0L);
    want.put(Counter.CYCLES, run.cycles());
    want.put(Counter.BUSY_CYCLES, run.cycles());
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<Counter, Long> e : want.entrySet()) {
      if (!c.get(e.getKey()).equals(e.getValue())) {
        wrong.add(e.getKey() + " = " + c.get(e.getKey()) + ", expected " + e.getValue());
      }
    }
    if (run.cycles() <= 0) {
      wrong.add("CYCLES = " + run.cycles() + ", expected > 0");
    }
    if (c.get(Counter.TOTAL_CYCLES) < c.get(Counter.BUSY_CYCLES)) {
      wrong.add("TOTAL_CYCLES = " + c.get(Counter.TOTAL_CYCLES) + " < BUSY_CYCLES = "
          + c.get(Counter.BUSY_CYCLES));
    }
    Object[] figures = {"clock_mhz", mhz, "macs", c.get(Counter.MACS), "cycles", run.cycles()};
    String program4 = String.format("LOAD, LOAD, MATMUL of %d rows through a %dx%d tile, HALT",
        rows, d, d);
    if (!wrong.isEmpty()) {
      return result(Verdict.FAIL, "after " + program4 + ": " + String.join("; ", wrong),
          figures);
    }
    double expected = params.clockKhz() / 1000.0;
    String text = String.format(Locale.ROOT, "TOTAL_CYCLES advances at %.1f MHz; after %s: MACS"
        + " = %,d = %d x %d x %d, ARRAY_CYCLES, INSTRET, BYTES_READ, BYTES_WRITTEN, CYCLES and"
        + " BUSY_CYCLES as expected", mhz, program4, c.get(Counter.MACS), rows, d, d);
    if (Math.abs(mhz - expected) > 0.1 * expected) {
      return result(Verdict.WARN, text + String.format(Locale.ROOT, "; but the clock runs at"
          + " %.3f MHz, not the %.1f MHz of CLOCK_KHZ (a simulator's clock, or a clock set up"
          + " wrong)", mhz, expected), figures);
    }
    return result(Verdict.PASS, text, figures);
  }

  // ---- reset ----

  private Result reset() {
    long program = reserved;
    int d = params.lanes();
    int rows = Math.min(params.abufRows(), 65535);
    List<Instruction> longRun = new ArrayList<>();
    longRun.add(Assembler.parse(String.format("LOAD buf=WBUF elem_bytes=%d hbm_addr=%d x_size=%d"
        + " y_size=1 x_stride=%d", d, reserved + 4096, d, d)));
    for (int i = 0; i < 64; i++) {
      longRun.add(Assembler.parse(String.format("MATMUL wait=LOAD w_load=1 rows=%d", rows)));
    }
    longRun.add(Assembler.parse("HALT"));
    Programs.load(device, program, longRun);
    device.write(Reg.SCRATCH, 0x5A5A5A5A);
    device.write(Reg.INT_ENABLE, RegField.INT_ENABLE_DONE.mask());
    device.start(program, longRun.size());
    device.reset();
    List<String> wrong = new ArrayList<>();
    for (Reg r : List.of(Reg.STATUS, Reg.SCRATCH, Reg.INT_ENABLE, Reg.INT_STATUS,
        Reg.PROG_ADDR_LO, Reg.PROG_ADDR_HI, Reg.PROG_LEN, Reg.ERROR_CODE, Reg.PC)) {
      int v = device.read(r);
      if (v != r.reset()) {
        wrong.add(String.format("%s = 0x%x, expected 0x%x", r, v, r.reset()));
      }
    }
    Map<Counter, Long> c = device.counters();
    for (Counter k : Counter.values()) {
      if (k != Counter.TOTAL_CYCLES && c.get(k) != 0) {
        wrong.add(k + " = " + c.get(k) + ", expected 0");
      }
    }
    if (!wrong.isEmpty()) {
      return result(Verdict.FAIL, "SOFT_RESET during a run left registers set: "
          + String.join("; ", wrong));
    }
    Result again = selftest("after a SOFT_RESET that aborted a running program: ");
    return new Result(again.verdict(), again.reason(), again.figures());
  }
}
