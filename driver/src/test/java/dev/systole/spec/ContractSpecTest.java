package dev.systole.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.testing.Tools;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The committed contract reads cleanly; a malformed one fails naming file, line and field. */
class ContractSpecTest {
  private static String text;

  @BeforeAll
  static void read() throws Exception {
    text = Files.readString(Tools.root().resolve(JavaGenerator.SOURCE));
  }

  @Test
  void theContractLoads() {
    ContractSpec spec = ContractSpec.parse("contract.toml", text);
    assertEquals(1, spec.versionMajor());
    assertEquals(16, spec.param("ARRAY_ROWS").defaultValue());
    assertTrue(spec.instructions().size() >= 8);
  }

  private static SpecException broken(String from, String to) {
    assertTrue(text.contains(from), "test premise: the spec contains " + from);
    String bad = text.replaceFirst(java.util.regex.Pattern.quote(from),
        java.util.regex.Matcher.quoteReplacement(to));
    return assertThrows(SpecException.class, () -> ContractSpec.parse("contract.toml", bad));
  }

  private static int lineOf(String needle) {
    int at = text.indexOf(needle);
    return (int) text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
  }

  @Test
  void overlappingFieldsAreNamed() {
    SpecException e = broken("name = \"dst_row\"\nlsb = 16", "name = \"dst_row\"\nlsb = 13");
    assertEquals("contract.toml", e.file());
    assertEquals("instruction[LOAD].field[dst_row].lsb", e.field());
    assertEquals(lineOf("name = \"dst_row\"\nlsb = 16") + 1, e.line());
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());
  }

  @Test
  void aFieldCrossingAWordIsRefused() {
    SpecException e = broken("name = \"x_stride\"\nlsb = 160", "name = \"x_stride\"\nlsb = 170");
    assertTrue(e.getMessage().contains("cross a 64-bit word"), e.getMessage());
  }

  @Test
  void duplicateOpcodesAreRefused() {
    SpecException e = broken("opcode = 0x02", "opcode = 0x01");
    assertEquals("instruction[STORE].opcode", e.field());
    assertTrue(e.getMessage().contains("defined twice"), e.getMessage());
  }

  @Test
  void misalignedRegisterOffsetsAreRefused() {
    SpecException e = broken("offset = 0x078", "offset = 0x079");
    assertTrue(e.getMessage().contains("not 32-bit aligned"), e.getMessage());
  }

  @Test
  void sharedRegisterOffsetsAreRefused() {
    SpecException e = broken("offset = 0x078", "offset = 0x074");
    assertTrue(e.getMessage().contains("already used by INT_STATUS"), e.getMessage());
  }

  @Test
  void unknownKeysAreRefused() {
    SpecException e = broken("name = \"SCRATCH\"", "name = \"SCRATCH\"\nwidht = 3");
    assertTrue(e.getMessage().contains("unknown key"), e.getMessage());
    assertEquals("register[SCRATCH].widht", e.field());
  }

  @Test
  void badValuesAreRefused() {
    SpecException e = broken("version_major = 1", "version_major = one");
    assertEquals(lineOf("version_major = 1"), e.line());
    assertTrue(e.getMessage().contains("not a value: one"), e.getMessage());
  }

  @Test
  void defaultsOutsideTheirRangeAreRefused() {
    SpecException e = broken("default = 16\nmin = 4\nmax = 64", "default = 128\nmin = 4\nmax = 64");
    assertEquals("param[ARRAY_ROWS].default", e.field());
    assertTrue(e.getMessage().contains("out of range"), e.getMessage());
  }

  @Test
  void aNonSquareDefaultArrayIsRefused() {
    SpecException e = broken("name = \"ARRAY_COLS\"\ndefault = 16",
        "name = \"ARRAY_COLS\"\ndefault = 8");
    assertTrue(e.getMessage().contains("must equal ARRAY_ROWS"), e.getMessage());
  }

  @Test
  void aVersionRegisterThatDisagreesIsRefused() {
    SpecException e = broken("reset = 0x0001_0002", "reset = 0x0002_0002");
    assertTrue(e.getMessage().contains("differs from contract version"), e.getMessage());
  }

  @Test
  void aUnitABuildMayLackNamesTheUnitThatTakesItsPlace() {
    SpecException e = broken("requires = \"VECTOR_UNIT\"\notherwise = \"EXEC\"",
        "requires = \"VECTOR_UNIT\"");
    assertTrue(e.getMessage().contains("needs both requires and otherwise"), e.getMessage());
    e = broken("otherwise = \"EXEC\"", "otherwise = \"CONTROL\"");
    assertTrue(e.getMessage().contains("not a unit every build has, with a wait bit"),
        e.getMessage());
    e = broken("requires = \"VECTOR_UNIT\"\notherwise", "requires = \"ARRAY_ROWS\"\notherwise");
    assertTrue(e.getMessage().contains("not a parameter with range 0 to 1"), e.getMessage());
  }

  @Test
  void unterminatedStringsAreRefused() {
    SpecException e = broken("name = \"systole\"", "name = \"systole");
    assertTrue(e.getMessage().contains("unterminated string"), e.getMessage());
  }

  @Test
  void aMissingFileIsNamed() {
    SpecException e = assertThrows(SpecException.class,
        () -> ContractSpec.load(java.nio.file.Path.of("no/such/contract.toml")));
    assertTrue(e.getMessage().startsWith("no/such/contract.toml"), e.getMessage());
  }
}
