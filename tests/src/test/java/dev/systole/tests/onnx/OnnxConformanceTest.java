package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuModel;
import dev.systole.host.graph.Graph;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import dev.systole.tests.onnx.BackendTestSuite.Exclusion;
import dev.systole.tests.onnx.BackendTestSuite.Result;
import dev.systole.tests.onnx.BackendTestSuite.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every ONNX backend test of Debian's libonnx-testdata (ONNX's node tests, the models exported
 * from PyTorch's modules and operators, and the simple models) through Systole's path to its CPU
 * engine: Systole reads the model ({@code Onnx.read}), its writer gives it back to ONNX Runtime
 * ({@link CpuModel}, op by op as written), and the outputs are compared with the expected ones:
 * integers exactly, floats within ONNX's tolerances. So every op, interpreted by Systole or kept
 * opaque, proves that the reader and the writer keep the model whole. Systole's own shape
 * inference is held to the expected shapes for the nodes it interprets.
 *
 * <p>Writes {@code target/onnx-conformance.md}: the counts for all tests and for the tests of
 * the ops Systole interprets (the only ones run before, when Systole's own CPU interpreter ran
 * them), the not-supported tests counted by reason, and a table of every test. The data's root
 * is {@code -Dsystole.onnx.testdata=DIR} (default: where the Debian package puts it).
 */
class OnnxConformanceTest {
  private static final Path DEFAULT_ROOT = Path.of("/usr/share/libonnx-testdata/data");

  /**
   * The suites with a model per test: ONNX's node tests, the PyTorch-exported ones and the
   * simple models. Not {@code real}: Debian ships only a {@code data.json} per model there (the
   * address of a large zoo model, resnet50, vgg19, to download), no model and no data.
   */
  static final List<String> SUITES =
      List.of("node", "pytorch-converted", "pytorch-operator", "simple");

  /** The tests of the ops Systole interprets that passed before: its own CPU interpreter. */
  static final int CLAIMED_PASSES_BEFORE = 222;

  /**
   * The floor for passes of all tests: the 939 measured (libonnx-testdata 1.12.0, ONNX Runtime
   * 1.22.0) less 10, about 1 %, for a change of the data or of ONNX Runtime that turns a few
   * passes into "not supported" (a kernel dropped, a test's data remade). A regression of the
   * reader or the writer makes tests fail rather than go missing, and fails on its own.
   */
  static final int ALL_PASSES_FLOOR = 929;

  private static final String TRAINING_BN = "training-mode BatchNormalization: Systole refuses"
      + " training_mode=1 when it builds the graph (it interprets BatchNormalization in inference"
      + " only), though ONNX Runtime 1.22 would run it";
  private static final String RANDOM_DROPOUT =
      "random dropout in training mode: the data was drawn with another generator";
  private static final String RANDOM_BERNOULLI = "random sampling: the data was drawn with"
      + " NumPy's generator, ONNX Runtime draws with its own (a seed does not make them agree)";
  private static final String ALIGN_CORNERS = "align_corners when downsampling: ONNX 1.12's"
      + " reference scales coordinates by (in - 1) / (in x scale - 1), a fractional output"
      + " length, ONNX Runtime by (in - 1) / (out - 1), the output's length";

  /**
   * Tests whose expected outputs ONNX Runtime does not give, each with why and the mismatch
   * that reason predicts. (ONNX Runtime's own runner of these tests skips the training-mode,
   * MaxUnpool and Resize ones too.)
   */
  static final Map<String, Exclusion> EXCLUDED = Map.ofEntries(
      Map.entry("node/test_batchnorm_epsilon_training_mode",
          new Exclusion(TRAINING_BN, "training mode is not supported")),
      Map.entry("node/test_batchnorm_example_training_mode",
          new Exclusion(TRAINING_BN, "training mode is not supported")),
      Map.entry("node/test_training_dropout", new Exclusion(RANDOM_DROPOUT, "element")),
      Map.entry("node/test_training_dropout_default", new Exclusion(RANDOM_DROPOUT, "element")),
      Map.entry("node/test_training_dropout_default_mask",
          new Exclusion(RANDOM_DROPOUT, "element")),
      Map.entry("node/test_training_dropout_mask", new Exclusion(RANDOM_DROPOUT, "element")),
      Map.entry("node/test_bernoulli", new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_bernoulli_double", new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_bernoulli_double_expanded",
          new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_bernoulli_expanded", new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_bernoulli_seed", new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_bernoulli_seed_expanded", new Exclusion(RANDOM_BERNOULLI, "element")),
      Map.entry("node/test_maxunpool_export_with_output_shape", new Exclusion("the data puts"
          + " each value at its index in the 4x4 input that was pooled, not at that flat index"
          + " of the 5x5 output_shape as MaxUnpool defines it; ONNX Runtime follows the"
          + " definition", "element 5 is 5.0, expected 0.0")),
      Map.entry("node/test_resize_downsample_scales_linear_align_corners",
          new Exclusion(ALIGN_CORNERS, "element 1 is 4.0, expected 3.1428")),
      Map.entry("node/test_resize_downsample_scales_cubic_align_corners",
          new Exclusion(ALIGN_CORNERS, "element 1 is 2.5, expected 2.395")));

  /**
   * Absolute tolerances looser than ONNX's 1e-7, for DFTs computed in float32 whose expected
   * outputs were computed in float64: the outputs reach 54 to 1912, where float32 values are
   * 4e-6 to 1.2e-4 apart, and a sum of many such terms leaves errors of that order (1.1e-4
   * measured) where the exact value is 0. 1e-3 is at most 2e-5 of any of these outputs' largest
   * value; the relative tolerance stays ONNX's. (ONNX Runtime's own runner of these tests
   * takes 1e-4 for two of them.)
   */
  static final Map<String, Double> ATOL = Map.of(
      "node/test_dft", 1e-3, "node/test_dft_axis", 1e-3, "node/test_dft_inverse", 1e-3,
      "node/test_stft", 1e-3, "node/test_stft_with_window", 1e-3);

  /** {@code graph} run by Systole's CPU engine, op by op as written. */
  static Map<String, Tensor> runOnCpu(Graph graph, Map<String, Tensor> inputs) {
    try (CpuModel m = CpuModel.load(graph, CpuEngine.get(), CpuEngine.Rewrites.NONE)) {
      return m.run(inputs);
    }
  }

  /** {@code graph} loaded into Systole's CPU engine, and closed. */
  static void loadOnCpu(Graph graph) {
    CpuModel.load(graph, CpuEngine.get(), CpuEngine.Rewrites.NONE).close();
  }

  @Test
  void everyBackendTestRunsThroughTheReaderTheWriterAndOnnxRuntime() throws IOException {
    Path root = Path.of(System.getProperty("systole.onnx.testdata", DEFAULT_ROOT.toString()));
    Tools.requireDirectory(root.resolve("node"), "libonnx-testdata");
    BackendTestSuite suite = new BackendTestSuite(OnnxConformanceTest::runOnCpu,
        OnnxConformanceTest::loadOnCpu, EXCLUDED, ATOL);
    long start = System.nanoTime();
    List<Result> results = new ArrayList<>();
    for (String dir : SUITES) {
      if (Files.isDirectory(root.resolve(dir))) {
        results.addAll(suite.runAll(root.resolve(dir)));
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    List<Result> claimed = results.stream().filter(Result::claimed).toList();
    Map<Status, Integer> all = counts(results);
    Map<Status, Integer> ours = counts(claimed);

    String allLine = line(all, results.size());
    String claimedLine = line(ours, claimed.size());
    StringBuilder md = new StringBuilder("# ONNX backend tests: CPU engine\n\n");
    md.append(String.format(Locale.ROOT, "Every test of libonnx-testdata's %s suites: the"
        + " model read by Systole, written back by Systole's writer and run by ONNX Runtime %s"
        + " (no rewrites); integer outputs exactly, float outputs within ONNX's rtol %s and"
        + " atol %s (%s). %.1f s.%n%n", String.join(", ", SUITES),
        OrtEnvironment.getEnvironment().getVersion(), BackendTestSuite.RTOL,
        BackendTestSuite.ATOL, looserAtol(), seconds));
    md.append("| tests | pass | fail | excluded | not supported | total |\n")
        .append("|---|---|---|---|---|---|\n")
        .append(row("all", all, results.size()))
        .append(row("of the ops Systole interprets", ours, claimed.size()))
        .append("\n").append(CLAIMED_PASSES_BEFORE).append(" passes before (Systole's own CPU"
            + " interpreter, claimed ops only).\n\n");
    md.append("## Not supported, by reason\n\n| reason | all | of the ops Systole interprets |\n"
        + "|---|---|---|\n");
    Map<String, Long> byReason = reasons(results, r -> true);
    Map<String, Long> claimedByReason = reasons(results, Result::claimed);
    byReason.forEach((reason, n) -> md.append("| ").append(escape(reason)).append(" | ")
        .append(n).append(" | ").append(claimedByReason.getOrDefault(reason, 0L))
        .append(" |\n"));
    md.append("\n## Every test\n\n| test | ops Systole interprets | result | detail |\n"
        + "|---|---|---|---|\n");
    for (Result r : results) {
      md.append("| ").append(r.test()).append(" | ").append(r.claimed() ? "yes" : "no")
          .append(" | ").append(r.status().name().toLowerCase(Locale.ROOT).replace('_', ' '))
          .append(" | ").append(escape(r.detail())).append(" |\n");
    }
    Path report = Path.of("target", "onnx-conformance.md");
    Files.createDirectories(report.getParent());
    Files.writeString(report, md);
    System.out.printf(Locale.ROOT, "ONNX conformance, CPU engine (Systole's reader and writer,"
        + " ONNX Runtime): all tests: %s; of the ops Systole interprets: %s (%d passes before,"
        + " Systole's own CPU interpreter, claimed ops only); %.1f s; not supported by reason"
        + " and every test in %s%n", allLine, claimedLine, CLAIMED_PASSES_BEFORE, seconds,
        report.toAbsolutePath());

    List<Result> failed = results.stream().filter(r -> r.status() == Status.FAIL).toList();
    assertTrue(failed.isEmpty(), failed.size() + " tests failed:\n"
        + String.join("\n", failed.stream().map(r -> r.test() + ": " + r.detail()).toList()));
    assertEquals(EXCLUDED.size(), all.getOrDefault(Status.EXCLUDED, 0),
        "every exclusion names a test that exists and fails as its reason says");
    assertTrue(ours.getOrDefault(Status.PASS, 0) >= CLAIMED_PASSES_BEFORE,
        "the tests of the ops Systole interprets pass as before: " + claimedLine);
    assertTrue(all.getOrDefault(Status.PASS, 0) >= ALL_PASSES_FLOOR,
        "at least " + ALL_PASSES_FLOOR + " tests pass: " + allLine);
  }

  /** The looser absolute tolerances, as "atol 0.001 for node/test_dft, node/test_stft". */
  private static String looserAtol() {
    Map<Double, TreeSet<String>> byValue = new TreeMap<>();
    ATOL.forEach((test, atol) -> byValue.computeIfAbsent(atol, k -> new TreeSet<>())
        .add(test));
    return String.join("; ", byValue.entrySet().stream().map(e -> "atol " + e.getKey()
        + " for " + String.join(", ", e.getValue())).toList());
  }

  private static Map<Status, Integer> counts(List<Result> results) {
    Map<Status, Integer> counts = new EnumMap<>(Status.class);
    results.forEach(r -> counts.merge(r.status(), 1, Integer::sum));
    return counts;
  }

  private static String line(Map<Status, Integer> c, int total) {
    return String.format(Locale.ROOT, "%d pass, %d fail, %d excluded, %d not supported (of %d)",
        c.getOrDefault(Status.PASS, 0), c.getOrDefault(Status.FAIL, 0),
        c.getOrDefault(Status.EXCLUDED, 0), c.getOrDefault(Status.NOT_SUPPORTED, 0), total);
  }

  private static String row(String label, Map<Status, Integer> c, int total) {
    return String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d |%n", label,
        c.getOrDefault(Status.PASS, 0), c.getOrDefault(Status.FAIL, 0),
        c.getOrDefault(Status.EXCLUDED, 0), c.getOrDefault(Status.NOT_SUPPORTED, 0), total);
  }

  /** The not-supported tests that {@code which} selects, counted by reason, most first. */
  private static Map<String, Long> reasons(List<Result> results, Predicate<Result> which) {
    Map<String, Long> counts = results.stream()
        .filter(r -> r.status() == Status.NOT_SUPPORTED && which.test(r))
        .collect(Collectors.groupingBy(Result::reason, TreeMap::new, Collectors.counting()));
    Map<String, Long> sorted = new LinkedHashMap<>();
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
