package dev.systole.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.DeviceException;
import dev.systole.driver.Devices;
import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.emulator.MemoryFault;
import dev.systole.driver.rtl.RtlEngine;
import dev.systole.driver.simboard.Fault;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Example;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import dev.systole.testing.ReaderContract;
import dev.systole.testing.Tools;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The soak: the bundled Fashion-MNIST model run many times, with random batch sizes and random
 * faults injected and cleared, on the emulator from three threads over two sessions, and on the
 * RTL sim board; every answer must be exactly right or an error in words, and when it is over the
 * card memory in use and the heap are back where they started and no Netty buffer has leaked.
 *
 * <p>"Right" means equal, byte for byte, to the emulator's own answer for the same images on a
 * clean device, taken before the soak starts, not close to ONNX Runtime's float answer. The int8
 * answer differs from the float one by quantization, so a comparison with the float model needs a
 * tolerance, and a tolerance lets through exactly what a soak is there to catch: an answer made
 * from a weight tile half overwritten, a staging buffer of another run, a row of the previous
 * batch, all of which move a logit a little. The device's arithmetic is integer and deterministic,
 * and each image's answer is the same whatever batch it is in, so one clean answer per image is
 * the reference for every batch size; the RTL must give the emulator's bytes too (the RTL suites
 * hold it to that). That the clean answer is itself a good answer is ExampleAccuracyTest's to
 * show, against ONNX Runtime. An error in words is what the command line shows a user as it is, a
 * {@link DeviceException} or a {@link MemoryFault}, with none of the JDK's own phrases in its
 * message (those {@link ReaderContract#javaInternals} knows): anything else would reach the user
 * as an internal error.
 *
 * <p>The faults are the ones each device can have and recover from. On the emulator, which never
 * fails by itself, a {@link FaultyDevice} in front of it fails a card memory transfer, lets a
 * program's deadline pass, or resets the device under a running program. On the sim board they
 * are its {@link Fault}s that a host can see and survive: a hung program, failing DMA, a lost
 * link, spurious and missing interrupts, a degraded link. Its faults that corrupt card memory
 * silently (h2c writes that go nowhere, a stuck bit, the memory cut short and its end lost) are
 * left out: no host can tell a wrong answer from such a card without testing the memory, which
 * {@code systole diag} does, and a soak that required them to fail loudly would fail for the
 * device's sake, not the runtime's.
 *
 * <p>Card memory is the sessions' own account of it, the bytes their allocators hold, and must
 * be back to exactly what it was. The heap is measured after full collections, before the soak
 * (after the clean answers, so the classes of a run are loaded) and after it, in a frame the
 * soak's objects are gone from, and may be at most {@value #HEAP_TOLERANCE} bytes larger: what a
 * first use leaves for good (on the sim board about 1.5 MiB, the same after 30 iterations as
 * after 200, and level when measured every 20 iterations of a long soak) and the collector's
 * noise, far less than the programs, plans and decoded code a soak makes, which a leak keeps.
 *
 * <p>Iterations default to a few hundred on the emulator and a few dozen on the sim board, so the
 * test takes well under a minute on each; {@code -Dsystole.soak.iterations=N} and
 * {@code -Dsystole.soak.simIterations=N} make it a long soak.
 */
@ExtendWith(LeakCheckExtension.class)
class SoakTest {
  private static final int ITERATIONS = Integer.getInteger("systole.soak.iterations", 300);
  private static final int SIM_ITERATIONS = Integer.getInteger("systole.soak.simIterations", 30);
  private static final int MAX_BATCH = 12;
  /** The test images the batches are drawn from. */
  private static final int POOL = 64;
  /** One in this many iterations on the emulator injects a fault (one in two on the sim board). */
  private static final int FAULT_ODDS = 3;
  /** How much more heap may be in use after the soak than before it, after a full GC. */
  private static final long HEAP_TOLERANCE = 4L << 20;
  /** The emulator's sessions' deadline for a program that makes no progress. */
  private static final Duration STALL = Duration.ofSeconds(20);
  /** The sim board's: a hung program is caught after this. */
  private static final Duration SIM_STALL = Duration.ofSeconds(2);
  private static final List<Fault> SIM_FAULTS = List.of(Fault.HANG, Fault.DMA_FAIL,
      Fault.LINK_DOWN, Fault.SPURIOUS_IRQ, Fault.NO_IRQ, Fault.LINK_DEGRADED);

  private static String inputName;
  private static String outputName;
  private static Graph graph;
  private static Calibration calibration;
  private static Tensor pool;
  private static Tensor reference;

  @BeforeAll
  static void cleanAnswers() {
    Example ex = Example.bundled();
    inputName = ex.inputName();
    outputName = ex.outputName();
    graph = ex.model();
    calibration = Calibration.run(graph, Map.of(inputName, ex.calibration()),
        RangeObserver.Method.MINMAX);
    Tensor all = ex.toInput(ex.testImages());
    pool = slice(all, 0, POOL);
    try (Session s = Session.owning(Devices.open("emulator"));
        ModelRunner r = ModelRunner.on(s, Model.of(graph, calibration))) {
      reference = r.run(Map.of(inputName, pool)).outputs().get(outputName);
    }
  }

  /** Rows {@code [first, first + n)} of {@code t}, a copy. */
  private static Tensor slice(Tensor t, int first, int n) {
    long[] shape = t.shape().clone();
    shape[0] = n;
    Tensor out = Tensor.allocate(t.dtype(), shape);
    long row = t.numel() / t.dim(0);
    for (long i = 0; i < n * row; i++) {
      out.setFloat32(i, t.getFloat32(first * row + i));
    }
    return out;
  }

  /** The soak's counts, from every thread. */
  private static final class Figures {
    final String device;
    int iterations;
    int right;
    int errors;
    final Map<String, Integer> faults = new TreeMap<>();
    final List<String> wrong = new ArrayList<>();
    final List<String> notWords = new ArrayList<>();
    final Map<String, Integer> messages = new TreeMap<>();
    /** The fault and outcome of the iteration counted last, for a wrong answer's record. */
    String last = "no iteration before";

    Figures(String device) {
      this.device = device;
    }

    synchronized void fault(String kind) {
      faults.merge(kind, 1, Integer::sum);
    }

    synchronized int faultCount() {
      return faults.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * Counts one iteration's outcome: its output, or what it threw, and the fault this iteration
     * injected ({@code none} if none; on a shared session another thread's run may take it).
     */
    synchronized void outcome(int first, int batch, Tensor output, RuntimeException thrown,
        String fault) {
      iterations++;
      String history = last;
      last = "the one before: " + fault + ", " + (thrown != null ? "error: " + thrown.getMessage()
          : "answered");
      if (thrown != null) {
        errors++;
        String message = thrown.getMessage();
        String internals = message == null ? "no message" : ReaderContract.javaInternals(message);
        if (!(thrown instanceof DeviceException || thrown instanceof MemoryFault)
            || internals != null) {
          notWords.add(thrown + (internals == null ? "" : " (shows \"" + internals + "\")"));
        } else {
          messages.merge(fault + ": " + message.replaceAll("0x[0-9a-f]+|\\d+", "N"), 1,
              Integer::sum);
        }
        return;
      }
      String diff = difference(first, batch, output);
      if (diff == null) {
        right++;
      } else {
        wrong.add("iteration " + iterations + " (" + fault + "; " + history + "), images " + first
            + ".." + (first + batch - 1) + ": " + diff);
      }
    }

    String line(Card card, long heapBefore, long heapAfter) {
      return String.format(Locale.ROOT, "soak %s: %d iterations, %d faults injected %s, %d errors"
          + " reported, %d wrong answers; card memory in use %d bytes before, %d at most, %d"
          + " after; heap after GC %.1f MiB before, %.1f MiB after", device, iterations,
          faultCount(), faults, errors, wrong.size(), card.before(), card.peak(), card.after(),
          heapBefore / 1048576.0, heapAfter / 1048576.0);
    }
  }

  /** Where {@code output} differs from the clean answer for its images, or null if nowhere. */
  private static String difference(int first, int batch, Tensor output) {
    long classes = reference.dim(1);
    if (output.dtype() != DType.FLOAT32 || output.rank() != 2 || output.dim(0) != batch
        || output.dim(1) != classes) {
      return "output " + output.dtype() + " " + output.shapeString() + " (expected float32 "
          + batch + "x" + classes + ")";
    }
    for (long i = 0; i < batch * classes; i++) {
      float got = output.getFloat32(i);
      float want = reference.getFloat32(first * classes + i);
      if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
        return "logit " + i % classes + " of image " + (first + i / classes) + " is " + got
            + " (expected " + want + ")";
      }
    }
    return null;
  }

  /** Heap in use after full collections. */
  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** A batch of random size from the pool at a random place, and the place. */
  private record Batch(int first, int size, Tensor input) {
    static Batch random(Random rnd) {
      int size = 1 + rnd.nextInt(MAX_BATCH);
      int first = rnd.nextInt(POOL - size + 1);
      return new Batch(first, size, slice(pool, first, size));
    }
  }

  /** One session of the emulator soak: its faulty device, the session and the model's runner. */
  private record Lane(FaultyDevice device, Session session, ModelRunner runner) {}

  /** Card memory in use before, at most during, and after a soak, in bytes. */
  private record Card(long before, long peak, long after) {}

  @Test
  void emulator() throws Exception {
    Figures f = soakAndCheck("emulator", SoakTest::soakEmulator);
    assertEquals(Set.of("memory", "deadline", "reset"), f.faults.keySet(),
        "every kind of fault was injected");
  }

  /** One soak of a device. */
  @FunctionalInterface
  private interface Soak {
    Card run(Figures f) throws Exception;
  }

  /**
   * Runs {@code soak} with the heap measured after GC before and after it, prints its figures
   * and checks the soak's promises on them. The soak runs in a method of its own, so that
   * nothing of it is left in this frame for the GC.
   */
  private static Figures soakAndCheck(String device, Soak soak) throws Exception {
    Figures f = new Figures(device);
    long heapBefore = heapAfterGc();
    Card card = soak.run(f);
    long heapAfter = heapAfterGc();
    List<String> leaks = LeakCheckExtension.collectLeaks();
    System.out.println(f.line(card, heapBefore, heapAfter));
    check(f, leaks, card, heapBefore, heapAfter);
    return f;
  }

  /**
   * The emulator soak: two emulators, each behind a faulty device with a session and the model's
   * runner; two threads share the first session, a third has the second.
   */
  private static Card soakEmulator(Figures f) throws Exception {
    List<Lane> lanes = new ArrayList<>();
    long before = 0;
    long peak = 0;
    long after = 0;
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      Model model = Model.of(graph, calibration);
      for (int i = 0; i < 2; i++) {
        FaultyDevice d = new FaultyDevice(Devices.open("emulator"));
        Session s = Session.on(d, Session.DEFAULT_MAX_ROWS, STALL);
        lanes.add(new Lane(d, s, ModelRunner.on(s, model)));
        before += s.memory().usedBytes();
      }
      List<Future<Long>> done = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        Lane lane = lanes.get(t < 2 ? 0 : 1);
        Random rnd = new Random(1000 + t);
        int share = ITERATIONS / 3 + (t < ITERATIONS % 3 ? 1 : 0);
        done.add(threads.submit(() -> soak(lane, rnd, share, f)));
      }
      for (Future<Long> d : done) {
        peak = Math.max(peak, d.get(ITERATIONS + 60L, TimeUnit.SECONDS));
      }
      for (Lane l : lanes) {
        l.runner().close();
        after += l.session().memory().usedBytes();
      }
    } finally {
      threads.shutdownNow();
      for (Lane l : lanes) {
        l.runner().close();
        l.session().close();
        l.device().close();
      }
    }
    return new Card(before, peak, after);
  }

  /** One thread's iterations on its lane; returns the most card memory in use it saw. */
  private static long soak(Lane lane, Random rnd, int iterations, Figures f) {
    FaultyDevice.Kind[] kinds = FaultyDevice.Kind.values();
    long peak = 0;
    for (int i = 0; i < iterations; i++) {
      Batch b = Batch.random(rnd);
      FaultyDevice.Kind fault = rnd.nextInt(FAULT_ODDS) == 0 ? kinds[rnd.nextInt(kinds.length)]
          : null;
      boolean injected = fault != null && lane.device().inject(fault);
      Tensor out = null;
      RuntimeException thrown = null;
      try {
        out = lane.runner().run(Map.of(inputName, b.input())).outputs().get(outputName);
      } catch (RuntimeException e) {
        thrown = e;
      }
      // A fault no operation took (it found nothing to fail) was not injected after all; on a
      // shared session the other thread's run may have taken it.
      if (injected && !lane.device().clear()) {
        f.fault(fault.name().toLowerCase(Locale.ROOT));
      }
      f.outcome(b.first(), b.size(), out, thrown,
          fault == null ? "none" : fault.name().toLowerCase(Locale.ROOT));
      peak = Math.max(peak, lane.session().memory().usedBytes());
    }
    return peak;
  }

  @Test
  void simBoard() throws Exception {
    Tools.require("verilator", "verilator");
    Figures f = soakAndCheck("sim board (RTL)", SoakTest::soakSimBoard);
    if (SIM_ITERATIONS >= 4 * SIM_FAULTS.size()) {
      assertEquals(SIM_FAULTS.stream().map(Fault::label).collect(Collectors.toSet()),
          f.faults.keySet(), "every kind of fault was injected");
    }
  }

  /** A device opened on the sim board's nodes, a session on it, and the model's runner. */
  private static final class SimLane implements AutoCloseable {
    final Device device = Devices.open("xdma:0");
    final Session session = Session.on(device, Session.DEFAULT_MAX_ROWS, SIM_STALL);
    final ModelRunner runner = ModelRunner.on(session, Model.of(graph, calibration));
    final long before = session.memory().usedBytes();
    long after;

    /** Closes the runner, notes the card memory still in use, and closes the rest. */
    @Override
    public void close() {
      try {
        runner.close();
        after = session.memory().usedBytes();
      } finally {
        session.close();
        device.close();
      }
    }
  }

  /**
   * The sim board soak: the RTL under Verilator behind a sim board, driven through the XDMA
   * nodes by one session, a fault of the board's injected before a run and cleared after it. A
   * device holds the nodes it opened, so failing DMA, which the board makes by replacing the
   * nodes, is seen by a device opened while it lasts: for that fault the session is closed and a
   * new one opened on the failing board, and closed again once the fault is cleared.
   */
  private static Card soakSimBoard(Figures f) throws Exception {
    Path dir = Files.createTempDirectory("systole-soak");
    long before = 0;
    long peak = 0;
    long after = 0;
    SimBoard board = SimBoard.start(dir.resolve("board"), DeviceParams.defaults(), Set.of(),
        RtlEngine.factory(RtlEngine.Memory.FIXED));
    System.setProperty(XdmaProvider.ROOT_PROPERTY, board.directory().toString());
    SimLane lane = null;
    try {
      Random rnd = new Random(2000);
      List<Fault> next = new ArrayList<>();
      for (int i = 0; i < SIM_ITERATIONS; i++) {
        Batch b = Batch.random(rnd);
        // Every kind in turn, in a new order each round, so a short run sees them all.
        if (next.isEmpty()) {
          next.addAll(SIM_FAULTS);
          Collections.shuffle(next, rnd);
        }
        Fault fault = rnd.nextBoolean() ? next.remove(next.size() - 1) : null;
        boolean reopen = fault == Fault.DMA_FAIL;
        if (reopen && lane != null) {
          lane.close();
          after += lane.after;
          lane = null;
        }
        if (fault != null) {
          board.inject(fault);
          f.fault(fault.label());
        }
        Tensor out = null;
        RuntimeException thrown = null;
        try {
          if (lane == null) {
            lane = new SimLane();
            before += lane.before;
          }
          out = lane.runner.run(Map.of(inputName, b.input())).outputs().get(outputName);
        } catch (RuntimeException e) {
          thrown = e;
        } finally {
          if (fault != null) {
            board.clear(fault);
          }
        }
        f.outcome(b.first(), b.size(), out, thrown, fault == null ? "none" : fault.label());
        if (lane != null) {
          peak = Math.max(peak, lane.session.memory().usedBytes());
          if (reopen) {
            lane.close();
            after += lane.after;
            lane = null;
          }
        }
      }
      if (lane != null) {
        lane.close();
        after += lane.after;
        lane = null;
      }
    } finally {
      if (lane != null) {
        lane.close();
      }
      System.clearProperty(XdmaProvider.ROOT_PROPERTY);
      board.close();
      deleteTree(dir);
    }
    return new Card(before, peak, after);
  }

  /** The soak's promises, checked on its figures. */
  private static void check(Figures f, List<String> leaks, Card card, long heapBefore,
      long heapAfter) {
    f.messages.forEach((m, n) -> System.out.println("  " + n + " x " + m));
    assertEquals(List.of(), f.wrong, f.device + ": wrong answers");
    assertEquals(List.of(), f.notWords, f.device + ": errors not in words");
    assertTrue(f.faultCount() > 0, f.device + ": no fault was injected");
    assertTrue(f.errors > 0, f.device + ": no fault was reported");
    assertTrue(f.errors <= f.faultCount(), f.device + ": " + f.errors + " errors for "
        + f.faultCount() + " faults (expected an error only where a fault was injected)");
    assertTrue(f.right > 0, f.device + ": no answer was right");
    assertEquals(card.before(), card.after(), f.device + ": card memory in use after the soak");
    assertEquals(List.of(), leaks, f.device + ": leaked Netty buffers");
    assertTrue(heapAfter <= heapBefore + HEAP_TOLERANCE, String.format(Locale.ROOT,
        "%s: heap after GC %.1f MiB after the soak, %.1f MiB before (expected at most %d MiB"
            + " more)", f.device, heapAfter / 1048576.0, heapBefore / 1048576.0,
        HEAP_TOLERANCE >> 20));
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    }
  }
}
