package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cpu.Interpreter;
import dev.systole.testing.Tools;
import dev.systole.tests.onnx.BackendTestSuite.Exclusion;
import dev.systole.tests.onnx.BackendTestSuite.Result;
import dev.systole.tests.onnx.BackendTestSuite.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ONNX backend node tests of Debian's libonnx-testdata, for every op Systole claims, through
 * the CPU interpreter: integer outputs exactly, float outputs within ONNX's tolerances, and the
 * shapes inference gives equal to the expected ones. Writes {@code target/onnx-conformance.md}, a
 * table of every test with pass, fail, excluded or not supported and why. The data's root is
 * {@code -Dsystole.onnx.testdata=DIR} (default: where the Debian package puts it).
 */
class OnnxConformanceTest {
  private static final Path DEFAULT_ROOT = Path.of("/usr/share/libonnx-testdata/data");

  /** Tests of claimed ops that Systole refuses on purpose, each with its reason. */
  static final Map<String, Exclusion> EXCLUDED = Map.of(
      "test_batchnorm_epsilon_training_mode", new Exclusion(
          "training-mode BatchNormalization (Systole runs inference)", "training_mode"),
      "test_batchnorm_example_training_mode", new Exclusion(
          "training-mode BatchNormalization (Systole runs inference)", "training_mode"),
      "test_training_dropout", new Exclusion(
          "random dropout in training mode", "training_mode is true"),
      "test_training_dropout_default", new Exclusion(
          "random dropout in training mode", "training_mode is true"),
      "test_training_dropout_default_mask", new Exclusion(
          "random dropout in training mode", "training_mode is true"),
      "test_training_dropout_mask", new Exclusion(
          "random dropout in training mode", "training_mode is true"),
      "test_identity_opt", new Exclusion(
          "an optional-typed input (Systole reads tensors only)", "reads tensors only"),
      "test_identity_sequence", new Exclusion(
          "a sequence-typed input (Systole reads tensors only)", "reads tensors only"));

  @Test
  void theInterpreterPassesEveryNodeTestOfTheOpsSystoleClaims() throws IOException {
    Path root = Path.of(System.getProperty("systole.onnx.testdata", DEFAULT_ROOT.toString()));
    Tools.requireDirectory(root.resolve("node"), "libonnx-testdata");
    BackendTestSuite suite = new BackendTestSuite(
        (graph, inputs) -> Interpreter.create(graph).run(inputs), EXCLUDED);
    List<Result> results = suite.runAll(root.resolve("node"));

    Map<Status, Integer> counts = new EnumMap<>(Status.class);
    StringBuilder table = new StringBuilder("# ONNX backend node tests: CPU interpreter\n\n");
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
    System.out.println("ONNX conformance, CPU interpreter: " + summary + "; table in "
        + report.toAbsolutePath());

    List<Result> failed = results.stream().filter(r -> r.status() == Status.FAIL).toList();
    assertTrue(failed.isEmpty(), failed.size() + " claimed-op tests failed:\n"
        + String.join("\n", failed.stream().map(r -> r.test() + ": " + r.detail()).toList()));
    assertEquals(EXCLUDED.size(), counts.getOrDefault(Status.EXCLUDED, 0),
        "every exclusion names a test that exists and is refused as its reason says");
    assertTrue(counts.getOrDefault(Status.PASS, 0) > 150,
        "the claimed ops have well over 150 node tests; found " + counts.get(Status.PASS));
  }
}
