package dev.systole.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.run.Progress;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TerminalProgressTest {
  @Test
  void aStepIsOneLineRewrittenInPlaceAndErasedWhenItEnds() {
    StringWriter text = new StringWriter();
    TerminalProgress p = new TerminalProgress(new PrintWriter(text));
    p.update("calibration", 32, 128);
    p.update("calibration", 64, 128);
    p.update("calibration", 128, 128);
    String s = text.toString();
    assertTrue(s.startsWith("\r  calibration 32/128 (25 %)"), s);
    assertTrue(s.endsWith("\r" + " ".repeat("  calibration 32/128 (25 %)".length()) + "\r"), s);
    assertEquals(-1, s.indexOf('\n'), "no new line: the line is rewritten");
  }

  @Test
  void withoutATerminalNothingIsShown() {
    StringWriter text = new StringWriter();
    Progress p = TerminalProgress.on(new PrintWriter(text));
    assertSame(Progress.NONE, p, "tests run without a console");
    p.update("run", 1, 2);
    assertEquals("", text.toString());
  }
}
