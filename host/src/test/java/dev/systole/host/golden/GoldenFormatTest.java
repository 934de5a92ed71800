package dev.systole.host.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Param;
import org.junit.jupiter.api.Test;

class GoldenFormatTest {
  private static final String GOOD = """
      # Two lines
      # of description.
      name sample
      requires ARRAY_ROWS=16
      program 0x40
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x1000 x_size=1 y_size=1
        HALT
      end
      data 0x1000
        000102030405060708090a0b0c0d0e0f
      end
      expect error BUF_RANGE at 1
      expect data 0x2000
        ff
      end
      expect counter INSTRET 1
      """;

  @Test
  void parsesAndWritesBack() {
    GoldenProgram g = GoldenFormat.parse("sample.golden", GOOD);
    assertEquals("sample", g.name());
    assertEquals("Two lines\nof description.", g.description());
    assertEquals(16L, g.requires().get(Param.ARRAY_ROWS));
    assertEquals(0x40, g.programAddress());
    assertEquals(2, g.program().size());
    assertEquals(16, g.inputs().get(0).bytes().length);
    assertEquals(ErrorCode.BUF_RANGE, g.expectedError());
    assertEquals(1, g.expectedErrorPc());
    assertArrayEquals(new byte[] {-1}, g.expectedData().get(0).bytes());
    assertEquals(1L, g.expectedCounters().get(Counter.INSTRET));
    GoldenProgram again = GoldenFormat.parse("again", GoldenFormat.write(g));
    assertEquals(GoldenFormat.write(g), GoldenFormat.write(again));
  }

  private static String error(String from, String to) {
    return assertThrows(IllegalArgumentException.class,
        () -> GoldenFormat.parse("bad.golden", GOOD.replace(from, to))).getMessage();
  }

  @Test
  void malformedFilesNameTheFileLineAndProblem() {
    assertTrue(error("HALT", "HALTT").startsWith("bad.golden: line 7: unknown instruction"),
        error("HALT", "HALTT"));
    assertTrue(error("0f\n", "0g\n").contains("line 10: not hex bytes"), error("0f\n", "0g\n"));
    assertTrue(error("expect counter INSTRET 1", "expect counter INSTRUCTIONS 1")
        .contains("line 16"));
    assertTrue(error("name sample", "nmae sample").contains("unknown keyword \"nmae\""));
    assertTrue(error("expect error BUF_RANGE at 1", "").contains("missing expect ok"));
    assertTrue(error("  ff\nend", "  ff").contains("has no end"));
  }
  @Test
  void unknownNamesListTheKnownOnes() {
    assertEquals("bad.golden: line 16: unknown counter \"INSTRUCTIONS\" (expected one of "
        + String.join(", ", java.util.Arrays.stream(Counter.values()).map(Enum::name).toList())
        + ")", error("expect counter INSTRET 1", "expect counter INSTRUCTIONS 1"));
    assertTrue(error("BUF_RANGE at", "BUFF_RANGE at").startsWith("bad.golden: line 12: unknown"
        + " error code \"BUFF_RANGE\" (expected one of NONE, "), error("BUF_RANGE at", "BUFF"));
    assertTrue(error("ARRAY_ROWS=16", "ROWS=16").startsWith("bad.golden: line 4: unknown"
        + " parameter \"ROWS\" (expected one of ARRAY_ROWS, "), error("ARRAY_ROWS=16", "ROWS=16"));
    assertEquals("bad.golden: line 4: requires ARRAY_ROWS=0 (expected "
        + Param.ARRAY_ROWS.min() + " to " + Param.ARRAY_ROWS.max() + ")",
        error("ARRAY_ROWS=16", "ARRAY_ROWS=0"));
    assertEquals("bad.golden: line 12: expect error NONE (expected a code other than NONE, or"
        + " expect ok)", error("BUF_RANGE at", "NONE at"));
  }

  @Test
  void contradictingOrRepeatedStatementsAreRefused() {
    assertEquals("bad.golden: line 17: expect counter INSTRET is given twice, on line 16 and"
        + " again here (expected once)", error("expect counter INSTRET 1",
            "expect counter INSTRET 1\nexpect counter INSTRET 2"));
    assertEquals("bad.golden: line 13: expect ok / expect error is given twice, on line 12 and"
        + " again here (expected once)", error("expect error BUF_RANGE at 1",
            "expect error BUF_RANGE at 1\nexpect ok"));
    assertEquals("bad.golden: line 4: name is given twice, on line 3 and again here (expected"
        + " once)", error("name sample", "name sample\nname other"));
    assertEquals("bad.golden: line 4: requires ARRAY_ROWS is given twice, on line 4 and again"
        + " here (expected once)", error("ARRAY_ROWS=16", "ARRAY_ROWS=16 ARRAY_ROWS=8"));
    assertEquals("bad.golden: line 16: expect data 0x2000 (1 bytes) overlaps the expect data"
        + " block at 0x2000 (1 bytes) (expected each address once)",
        error("  ff\nend", "  ff\nend\nexpect data 0x2000\n  00\nend"));
    assertEquals("bad.golden: line 12: data 0x100f (1 bytes) overlaps the data block at 0x1000"
        + " (16 bytes) (expected each address once)",
        error("0f\nend", "0f\nend\ndata 0x100f\n  00\nend"));
    assertTrue(error("0x2000", "0xffffffffffffffff").contains("expect data 0xffffffffffffffff"
        + " (1 bytes) runs past the last address, 0xffffffffffffffff"));
  }
}
