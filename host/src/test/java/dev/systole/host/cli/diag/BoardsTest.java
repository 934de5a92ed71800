package dev.systole.host.cli.diag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.simboard.SimBoard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoardsTest {
  @TempDir
  Path dir;

  @Test
  void aSimBoardsEngineAndFaultsAreReadFromItsJsonHoweverItIsLaidOut() throws IOException {
    Files.writeString(dir.resolve(SimBoard.JSON_FILE), "{\"board\":0,\"params\":{\"HBM_MB\":64,"
        + "\"engine\":\"not this one\"},\"faults\":[\"hang\",\n\"link-down\"],\"stuck_bit\":"
        + "{\"address\":5,\"faults\":[\"nor this\"]},\"engine\":\"r\\u0074l\"}");
    Boards.Sim sim = Boards.sim(dir);
    assertEquals(Optional.of("rtl"), sim.engine());
    assertEquals(List.of("hang", "link-down"), sim.faults());
  }

  @Test
  void aDirectoryWithoutSimboardJsonOrWithABrokenOneSaysNothingOfEngineAndFaults()
      throws IOException {
    Boards.Sim none = Boards.sim(dir);
    assertEquals(Optional.empty(), none.engine());
    assertEquals(List.of(), none.faults());
    Files.writeString(dir.resolve(SimBoard.JSON_FILE), "{\"engine\": \"emulator\", \"faults\":"
        + " [\"hang\"");
    Boards.Sim broken = Boards.sim(dir);
    assertEquals(Optional.empty(), broken.engine());
    assertEquals(List.of(), broken.faults());
  }
}
