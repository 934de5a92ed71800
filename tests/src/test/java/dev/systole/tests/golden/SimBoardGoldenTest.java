package dev.systole.tests.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every golden program through XdmaDevice on a sim board, bytes and cycle counts exact: on a
 * board of the default build and on one without the vector unit, each program passing on the
 * build it is written for and skipped, never failed, on the other.
 */
class SimBoardGoldenTest {
  @ParameterizedTest
  @ValueSource(ints = {1, 0})
  void everyGoldenProgramPassesThroughTheDeviceNodes(int vectorUnit) throws Exception {
    DeviceParams params = DeviceParams.defaults().with(Map.of(Param.VECTOR_UNIT,
        (long) vectorUnit));
    try (SimBoard board = SimBoard.start(Files.createTempDirectory("systole-golden")
        .resolve("board"), params, Set.of())) {
      System.setProperty(XdmaProvider.ROOT_PROPERTY, board.directory().toString());
      try (Device d = Devices.open("xdma:0")) {
        assertEquals(vectorUnit, d.info().params().vectorUnit());
        GoldenRunner runner = new GoldenRunner(Duration.ofSeconds(30), true);
        for (GoldenProgram g : GoldenSet.bundled()) {
          GoldenRunner.Outcome o = runner.run(d, g);
          Long needs = g.requires().get(Param.VECTOR_UNIT);
          assertEquals(needs == null || needs == vectorUnit ? GoldenRunner.Verdict.PASS
              : GoldenRunner.Verdict.SKIP, o.verdict(), o.line());
        }
      } finally {
        System.clearProperty(XdmaProvider.ROOT_PROPERTY);
      }
    }
  }
}
