package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ONNX backend tests of Debian's libonnx-testdata (the node tests, and the models exported
 * from PyTorch's modules and operators), for every op Systole claims, through
 * Systole's CPU engine (ONNX Runtime, fed the graph as Systole reads and writes it): integer outputs exactly, float outputs within ONNX's tolerances, and the
 * shapes inference gives equal to the expected ones. Writes {@code target/onnx-conformance.md}, a
 * table of every test with pass, fail, excluded or not supported and why. The data's root is
 * {@code -Dsystole.onnx.testdata=DIR} (default: where the Debian package puts it).
 */
class OnnxConformanceTest {
  private static final Path DEFAULT_ROOT = Path.of("/usr/share/libonnx-testdata/data");

  /** The suites with a model per test: ONNX's node tests and the PyTorch-exported ones. */
  static final List<String> SUITES =
      List.of("node", "pytorch-converted", "pytorch-operator", "simple");

  private static final String TRAINING_BN =
      "training-mode BatchNormalization (ONNX Runtime runs inference)";
  private static final String RANDOM_DROPOUT =
      "random dropout in training mode: the data was drawn with another generator";

  /** Tests of claimed ops whose expected outputs Systole does not give, each with why. */
  static final Map<String, Exclusion> EXCLUDED = Map.of(
      "node/test_batchnorm_epsilon_training_mode", new Exclusion(TRAINING_BN),
      "node/test_batchnorm_example_training_mode", new Exclusion(TRAINING_BN),
      "node/test_training_dropout", new Exclusion(RANDOM_DROPOUT),
      "node/test_training_dropout_default", new Exclusion(RANDOM_DROPOUT),
      "node/test_training_dropout_default_mask", new Exclusion(RANDOM_DROPOUT),
      "node/test_training_dropout_mask", new Exclusion(RANDOM_DROPOUT));

  /** {@code graph} run by Systole's CPU engine, op by op as written. */
  static Map<String, Tensor> runOnCpu(Graph graph, Map<String, Tensor> inputs) {
    try (CpuModel m = CpuModel.load(graph, CpuEngine.get(), CpuEngine.Rewrites.NONE)) {
      return m.run(inputs);
    }
  }

  @Test
  void theCpuEnginePassesEveryBackendTestOfTheOpsSystoleClaims() throws IOException {
    Path root = Path.of(System.getProperty("systole.onnx.testdata", DEFAULT_ROOT.toString()));
    Tools.requireDirectory(root.resolve("node"), "libonnx-testdata");
    BackendTestSuite suite = new BackendTestSuite(
        OnnxConformanceTest::runOnCpu, EXCLUDED);
    List<Result> results = new ArrayList<>();
    for (String dir : SUITES) {
      if (Files.isDirectory(root.resolve(dir))) {
        results.addAll(suite.runAll(root.resolve(dir)));
      }
    }

    Map<Status, Integer> counts = new EnumMap<>(Status.class);
    StringBuilder table = new StringBuilder("# ONNX backend tests: CPU engine\n\n");
    results.forEach(r -> counts.merge(r.status(), 1, Integer::sum));
    String summary = String.format("%d pass, %d fail, %d excluded, %d not supported (of %d)",
        counts.getOrDefault(Status.PASS, 0), counts.getOrDefault(Status.FAIL, 0),
        counts.getOrDefault(Status.EXCLUDED, 0), counts.getOrDefault(Status.NOT_SUPPORTED, 0),
        results.size());
    table.append(summary).append("\n\n| test | result | detail |\n|---|---|---|\n");
    for (Result r : results) {
      table.append("| ").append(r.test()).append(" | ")
          .append(r.status().name().toLowerCase().replace('_', ' ')).append(" | ")
          .append(r.detail().replace("|", "\\|").replace("\n", " ")).append(" |\n");
    }
    Path report = Path.of("target", "onnx-conformance.md");
    Files.createDirectories(report.getParent());
    Files.writeString(report, table);
    System.out.println("ONNX conformance, CPU engine: " + summary + "; table in "
        + report.toAbsolutePath());

    List<Result> failed = results.stream().filter(r -> r.status() == Status.FAIL).toList();
    assertTrue(failed.isEmpty(), failed.size() + " claimed-op tests failed:\n"
        + String.join("\n", failed.stream().map(r -> r.test() + ": " + r.detail()).toList()));
    assertEquals(EXCLUDED.size(), counts.getOrDefault(Status.EXCLUDED, 0),
        "every exclusion names a test that exists and is refused as its reason says");
    assertTrue(counts.getOrDefault(Status.PASS, 0) > 150,
        "the claimed ops have well over 150 tests; found " + counts.get(Status.PASS));
  }
}
