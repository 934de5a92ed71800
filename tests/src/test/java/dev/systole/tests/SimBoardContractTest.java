package dev.systole.tests;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.XdmaProvider;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.simboard.SimBoard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The device contract on XdmaDevice, making its real system calls against a sim board that
 * serves the emulator engine from a directory: the code that will drive a board, on every test
 * run.
 */
class SimBoardContractTest extends DeviceContractTest {
  private static Path dir;
  private static SimBoard board;

  @BeforeAll
  static void startBoard() throws Exception {
    dir = Files.createTempDirectory("systole-simboard");
    board = SimBoard.start(dir.resolve("board"), DeviceParams.defaults(), Set.of());
    System.setProperty(XdmaProvider.ROOT_PROPERTY, board.directory().toString());
  }

  @AfterAll
  static void stopBoard() {
    System.clearProperty(XdmaProvider.ROOT_PROPERTY);
    board.close();
  }

  @Override
  protected Device open() {
    return Devices.open("xdma:0");
  }
}
