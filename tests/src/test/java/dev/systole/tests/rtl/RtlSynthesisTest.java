package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.testing.Tools;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RTL stays synthesisable: the whole accelerator elaborates in yosys from systole_ip, the top
 * a board's block design instantiates, and a processing element puts its int8 multiply in a
 * DSP48E2. This is the quick part of {@code
 * scripts/synth-report} (seconds); the full report at default parameters takes minutes and is run
 * by hand.
 */
class RtlSynthesisTest {
  @BeforeAll
  static void needYosys() {
    Tools.require("yosys", "yosys");
  }

  @Test
  void theDesignElaboratesAndTheMacMapsToADsp() throws Exception {
    String out = RtlTestbenchTest.run(List.of("scripts/synth-report", "--check"), 5);
    assertTrue(out.contains("systole_ip and the systole_top inside it elaborate in yosys"), out);
    assertTrue(out.matches("(?s).*systole_pe synthesises to [1-9]\\d* DSP48E2.*"), out);
  }
}
