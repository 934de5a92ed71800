package dev.systole.tests.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every golden program through XdmaDevice on a sim board, bytes and cycle counts exact. */
class SimBoardGoldenTest {
  @Test
  void everyGoldenProgramPassesThroughTheDeviceNodes() throws Exception {
    try (SimBoard board = SimBoard.start(Files.createTempDirectory("systole-golden")
        .resolve("board"), DeviceParams.defaults(), Set.of())) {
      System.setProperty(XdmaProvider.ROOT_PROPERTY, board.directory().toString());
      try (Device d = Devices.open("xdma:0")) {
        GoldenRunner runner = new GoldenRunner(Duration.ofSeconds(30), true);
        for (GoldenProgram g : GoldenSet.bundled()) {
          GoldenRunner.Outcome o = runner.run(d, g);
          assertEquals(GoldenRunner.Verdict.PASS, o.verdict(), o.line());
        }
      } finally {
        System.clearProperty(XdmaProvider.ROOT_PROPERTY);
      }
    }
  }
}
