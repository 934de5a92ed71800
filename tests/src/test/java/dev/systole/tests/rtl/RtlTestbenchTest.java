package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The RTL lints clean under Verilator -Wall, and every unit testbench in fpga/tb passes. */
class RtlTestbenchTest {
  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  static String run(List<String> cmd, int minutes) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(Tools.root().toFile())
        .redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(minutes, TimeUnit.MINUTES), cmd + " did not finish");
    assertEquals(0, p.exitValue(), cmd + " failed:\n" + out);
    return out;
  }

  @Test
  void theRtlIsLintClean() throws Exception {
    String out = run(List.of("scripts/rtl-lint"), 5);
    assertTrue(out.contains("files clean (tops systole_top and systole_ip)"), out);
  }

  @Test
  void everyUnitTestbenchPasses() throws Exception {
    String out = run(List.of("scripts/rtl-tests"), 20);
    System.out.println(out);
    assertTrue(out.matches("(?s).*rtl-tests: [1-9][0-9]* passed, 0 failed.*"), out);
  }
}
