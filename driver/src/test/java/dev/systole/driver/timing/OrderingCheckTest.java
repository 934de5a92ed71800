package dev.systole.driver.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Assembler;
import dev.systole.driver.contract.Buffer;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import dev.systole.driver.timing.OrderingCheck.Race;
import dev.systole.driver.timing.OrderingCheck.Report;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ordering rule (CONTRACT.md 5.2) on small programs: each kind of conflict once unordered and
 * once ordered, the windows of MATMUL's reads, the units of a build with and without the vector
 * unit, the rows each instruction touches; then random programs against a comparison of every
 * pair of instructions, and a long program for speed.
 */
class OrderingCheckTest {
  private static final DeviceParams P = DeviceParams.defaults();
  private static final DeviceParams NO_VECTOR = P.with("VECTOR_UNIT=0,LUT_ROWS=0");
  private static final int D = P.lanes();

  private static Report check(String program, DeviceParams p) {
    return OrderingCheck.check(Assembler.parseProgram(program), p);
  }

  /** The one race of {@code r}, after checking there is exactly one. */
  private static Race only(Report r) {
    assertEquals(1, r.total(), r::toString);
    assertEquals(1, r.races().size());
    return r.races().get(0);
  }

  private static void assertRace(Race race, int earlier, int later, Unit unit, String resource) {
    assertEquals(earlier, race.earlier(), race::message);
    assertEquals(later, race.later(), race::message);
    assertEquals(unit, race.unit(), race::message);
    assertEquals(resource, race.resource(), race::message);
    assertTrue(race.message().contains("wait=" + unit), race::message);
  }

  private static void assertOk(Report r) {
    assertTrue(r.ok(), r::toString);
    assertTrue(r.races().isEmpty());
  }

  /**
   * The one race of {@code program} (with a {@code %s} for the later instruction's wait) without
   * a wait, after checking that with {@code wait=fix} it is ordered.
   */
  private static Race racesUntilItWaits(String program, String fix, DeviceParams p) {
    assertOk(check(program.formatted(fix), p));
    return only(check(program.formatted("0"), p));
  }

  // Read after write, write after read and write after write, on buffer rows.

  private static final String LOAD_THEN_MATMUL = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
      MATMUL wait=%s w_load=1 rows=16
      HALT
      """;

  @Test
  void aMatmulOfRowsALoadIsWritingRacesUntilItWaitsForTheLoad() {
    String racy = LOAD_THEN_MATMUL.formatted("0");
    Race race = only(check(racy, P));
    assertRace(race, 0, 1, Unit.LOAD, "ABUF rows 0..15");
    List<Instruction> program = Assembler.parseProgram(racy);
    assertTrue(race.message().contains(program.get(0).toString()), race::message);
    assertTrue(race.message().contains(program.get(1).toString()), race::message);
    assertTrue(race.message().contains(" reads ABUF rows 0..15"), race::message);
    assertOk(check(LOAD_THEN_MATMUL.formatted("LOAD"), P));
  }

  private static final String STORE_THEN_LOAD = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
      STORE wait=LOAD buf=ABUF elem_bytes=16 hbm_addr=0x20000 x_size=16 y_size=1 x_stride=16
      LOAD wait=%s buf=ABUF dst_row=4 elem_bytes=16 hbm_addr=0x30000 x_size=4 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aLoadOverwritingRowsAStoreIsReadingRacesUntilItWaitsForTheStore() {
    Race race = racesUntilItWaits(STORE_THEN_LOAD, "STORE", P);
    assertRace(race, 1, 2, Unit.STORE, "ABUF rows 4..7");
    assertTrue(race.message().contains(" writes ABUF rows 4..7"), race::message);
    assertTrue(race.message().contains("on STORE reads them"), race::message);
  }

  private static final String VADD_THEN_LOAD = """
      VADD a_row=32 b_row=48 dst_row=0 rows=16
      LOAD wait=%s buf=ABUF dst_row=8 elem_bytes=16 hbm_addr=0x30000 x_size=4 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aLoadOverwritingRowsAVectorInstructionWritesRacesUntilItWaitsForVector() {
    Race race = racesUntilItWaits(VADD_THEN_LOAD, "VECTOR", P);
    assertRace(race, 0, 1, Unit.VECTOR, "ABUF rows 8..11");
    assertTrue(race.message().contains("on VECTOR writes them"), race::message);
  }

  @Test
  void aMatmulAccumulatingIntoRowsALoadWritesReadsAndWritesThem() {
    String racy = """
        LOAD buf=ACC dst_row=3 elem_bytes=64 hbm_addr=0x10000 x_size=1 y_size=1 x_stride=64
        MATMUL accumulate=1 w_load=1 rows=8
        HALT
        """;
    Race race = only(check(racy, P));
    assertRace(race, 0, 1, Unit.LOAD, "ACC row 3");
    assertTrue(race.message().contains(" reads and writes ACC row 3"), race::message);
    assertTrue(race.message().contains("on LOAD writes it until"), race::message);
  }

  @Test
  void oneRacePerPairOfInstructionsNamingEveryRowTheyShare() {
    String sources = """
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=32 y_size=1 x_stride=16
        VADD a_row=0 b_row=%d dst_row=100 rows=%d
        HALT
        """;
    assertRace(only(check(sources.formatted(16, 16), P)), 0, 1, Unit.LOAD, "ABUF rows 0..31");
    assertRace(only(check(sources.formatted(20, 4), P)), 0, 1, Unit.LOAD, "8 ABUF rows 0..23");
  }

  // HBM bytes.

  private static final String STORE_THEN_LOAD_HBM = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
      STORE wait=LOAD buf=ABUF elem_bytes=16 hbm_addr=0x20000 x_size=16 y_size=1 x_stride=16
      LOAD wait=%s buf=WBUF elem_bytes=16 hbm_addr=0x20040 x_size=4 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aLoadOfBytesAStoreIsWritingRacesUntilItWaitsForTheStore() {
    Race race = racesUntilItWaits(STORE_THEN_LOAD_HBM, "STORE", P);
    assertRace(race, 1, 2, Unit.STORE, "HBM bytes 0x20040..0x2007f");
    assertTrue(race.message().contains(" reads HBM bytes"), race::message);
  }

  private static final String LOAD_THEN_STORE_HBM = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=64 y_size=1 x_stride=16
      STORE wait=%s buf=WBUF elem_bytes=16 hbm_addr=0x10200 x_size=4 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aStoreOverwritingBytesALoadIsReadingRacesUntilItWaitsForTheLoad() {
    Race race = racesUntilItWaits(LOAD_THEN_STORE_HBM, "LOAD", P);
    assertRace(race, 0, 1, Unit.LOAD, "HBM bytes 0x10200..0x1023f");
    assertTrue(race.message().contains(" writes HBM bytes"), race::message);
    assertTrue(race.message().contains("on LOAD reads them"), race::message);
  }

  private static final String INTERLEAVED = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=32 y_size=4 x_stride=32 y_stride=0x1000
      STORE buf=WBUF %s
      HALT
      """;

  @Test
  void stridedBlocksConflictOnlyWhereTheirElementsShareBytes() {
    assertOk(check(INTERLEAVED.formatted(
        "elem_bytes=16 hbm_addr=0x10010 x_size=32 y_size=4 x_stride=32 y_stride=0x1000"), P));
    assertRace(only(check(INTERLEAVED.formatted(
        "elem_bytes=16 hbm_addr=0x1000f x_size=32 y_size=4 x_stride=32 y_stride=0x1000"), P)),
        0, 1, Unit.LOAD, "HBM byte 0x1000f");
    // Two bytes: one between the LOAD's rows, one on element 16 of its last row.
    assertRace(only(check(INTERLEAVED.formatted(
        "elem_bytes=1 hbm_addr=0x12ff0 x_size=2 y_size=1 x_stride=0x210"), P)),
        0, 1, Unit.LOAD, "HBM byte 0x13200");
  }

  @Test
  void repeatedElementsAndRowsAreTheBytesOfOne() {
    String repeated = """
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=64 y_size=64 x_stride=0 y_stride=0
        STORE buf=WBUF elem_bytes=16 hbm_addr=%s x_size=1 y_size=1 x_stride=16
        HALT
        """;
    assertOk(check(repeated.formatted("0x10010"), P));
    assertRace(only(check(repeated.formatted("0x10008"), P)), 0, 1, Unit.LOAD,
        "HBM bytes 0x10008..0x1000f");
  }

  // The units of a build.

  private static final String VADD_THEN_STORE = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=32 y_size=1 x_stride=16
      VADD wait=LOAD b_row=16 dst_row=32 rows=16
      STORE wait=%s buf=ABUF src_row=32 elem_bytes=16 hbm_addr=0x2000 x_size=16 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aStoreOfAVaddResultMustWaitForVectorNotExecOnABuildWithTheVectorUnit() {
    Race race = only(check(VADD_THEN_STORE.formatted("EXEC"), P));
    assertRace(race, 1, 2, Unit.VECTOR, "ABUF rows 32..47");
    assertOk(check(VADD_THEN_STORE.formatted("VECTOR"), P));
  }

  @Test
  void withoutTheVectorUnitVaddRunsOnExecAndWaitBit3NamesExec() {
    assertOk(check(VADD_THEN_STORE.formatted("EXEC"), NO_VECTOR));
    assertOk(check(VADD_THEN_STORE.formatted("VECTOR"), NO_VECTOR));
    assertRace(only(check(VADD_THEN_STORE.formatted("0"), NO_VECTOR)), 1, 2, Unit.EXEC,
        "ABUF rows 32..47");
  }

  private static final String MATMUL_THEN_REQUANT = """
      LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
      LOAD buf=ACC dst_row=100 elem_bytes=64 hbm_addr=0x20000 x_size=3 y_size=1 x_stride=64
      MATMUL wait=LOAD w_load=1 rows=16
      REQUANT wait=%s dst_row=200 rows=16 param_row=100
      HALT
      """;

  @Test
  void aRequantOfMatmulResultsWaitsForExecOnlyWhenTheyRunOnDifferentUnits() {
    assertRace(only(check(MATMUL_THEN_REQUANT.formatted("0"), P)), 2, 3, Unit.EXEC,
        "ACC rows 0..15");
    assertOk(check(MATMUL_THEN_REQUANT.formatted("EXEC"), P));
    assertOk(check(MATMUL_THEN_REQUANT.formatted("0"), NO_VECTOR));
  }

  @Test
  void instructionsOnOneUnitNeverNeedOrdering() {
    String sameUnits = """
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x20000 x_size=16 y_size=1 x_stride=16
        MATMUL wait=LOAD w_load=1 rows=16
        MATMUL accumulate=1 rows=16
        VADD b_row=200 dst_row=300 rows=16
        VLUT a_row=300 dst_row=300 rows=16 table=3
        VMAX a_row=300 b_row=300 dst_row=300 rows=16
        STORE wait=EXEC+VECTOR buf=ACC elem_bytes=64 hbm_addr=0x30000 x_size=16 y_size=1 x_stride=64
        STORE buf=ACC elem_bytes=64 hbm_addr=0x30000 x_size=16 y_size=1 x_stride=64
        HALT
        """;
    assertOk(check(sameUnits, P));
  }

  // How long MATMUL reads its operands.

  /** CONTRACT.md 5.3: the LOAD of block 2 overwrites rows the first MATMUL read, unordered. */
  private static final String DOUBLE_BUFFERING = """
      LOAD   buf=WBUF elem_bytes=16 hbm_addr=0x100000 x_size=16 y_size=1 x_stride=16
      LOAD   buf=ABUF dst_row=0 elem_bytes=16 hbm_addr=0x200000 x_size=512 y_size=1 x_stride=16
      MATMUL wait=LOAD w_load=1 a_row=0 acc_row=0 rows=512
      LOAD   buf=ABUF dst_row=512 elem_bytes=16 hbm_addr=0x202000 x_size=512 y_size=1 x_stride=16
      MATMUL wait=LOAD a_row=512 acc_row=512 rows=512
      LOAD   buf=ABUF dst_row=0 elem_bytes=16 hbm_addr=0x204000 x_size=512 y_size=1 x_stride=16
      MATMUL wait=LOAD a_row=0 acc_row=1024 rows=512
      STORE  wait=EXEC buf=ACC elem_bytes=64 hbm_addr=0x300000 x_size=1536 y_size=1 x_stride=64
      HALT
      """;

  @Test
  void aMatmulReadsItsAbufRowsOnlyUntilTheNextMatmulCanIssue() {
    List<Instruction> program = Assembler.parseProgram(DOUBLE_BUFFERING);
    assertOk(OrderingCheck.check(program, P));
    // The LOAD of block 2 needs no wait although the first MATMUL's results still drain.
    IssueClock clock = new IssueClock(P);
    long firstReadsEnd = 0;
    long firstCompletion = 0;
    long reload = 0;
    for (int pc = 0; pc <= 5; pc++) {
      long t = clock.issue(program.get(pc), clock.ready(pc));
      if (pc == 2) {
        firstReadsEnd = clock.readsEnd();
        firstCompletion = clock.completion();
      }
      reload = t;
    }
    assertTrue(firstReadsEnd <= reload && reload < firstCompletion,
        "the LOAD issues after the first MATMUL's reads and before its completion");
  }

  @Test
  void overwritingAMatmulsAbufRowsBeforeTheNextMatmulIssuesRaces() {
    List<String> lines = DOUBLE_BUFFERING.lines().toList();
    // Without block 1 (whose LOAD outlasts the first MATMUL's rows), nothing holds back block 2.
    String early = String.join("\n", lines.get(0), lines.get(1), lines.get(2), lines.get(5),
        lines.get(6), lines.get(7), lines.get(8));
    Race race = only(check(early, P));
    assertRace(race, 2, 3, Unit.EXEC, "ABUF rows 0..511");
    assertTrue(race.message().contains("on EXEC reads them"), race::message);
  }

  private static final String PRELOAD = """
      MATMUL w_load=1 w_preload=1 pre_row=16 rows=4
      %s
      LOAD buf=WBUF dst_row=16 elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
      HALT
      """;

  @Test
  void aMatmulReadsThePreloadedTileUntilTheNextMatmulCanIssue() {
    Race race = only(check(PRELOAD.formatted(""), P));
    assertRace(race, 0, 1, Unit.EXEC, "WBUF rows 16..31");
    assertOk(check(PRELOAD.formatted("MATMUL w_swap=1 acc_row=8 rows=4"), P));
  }

  // What each instruction touches (CONTRACT.md 6): a LOAD of one row just before it, unordered.

  @ParameterizedTest(name = "{0}: {1} row {2} yes, row {3} no")
  @CsvSource(delimiter = '|', value = {
      "MATMUL w_load=1 w_row=16 a_row=0 acc_row=100 rows=4 | WBUF | 31 | 32",
      "MATMUL w_load=1 w_row=16 a_row=0 acc_row=100 rows=4 | WBUF | 16 | 15",
      "MATMUL w_load=1 w_row=16 a_row=0 acc_row=100 rows=4 | ABUF | 3 | 4",
      "MATMUL w_load=1 w_row=16 a_row=0 acc_row=100 rows=4 | ACC | 103 | 104",
      "MATMUL w_load=1 w_preload=1 pre_row=48 rows=4 | WBUF | 63 | 64",
      "STORE buf=ACC src_row=7 elem_bytes=64 x_size=2 y_size=1 x_stride=64 | ACC | 8 | 9",
      "REQUANT acc_row=0 dst_row=100 rows=4 param_row=50 | ACC | 52 | 53",
      "REQUANT acc_row=0 dst_row=100 rows=4 param_row=50 | ACC | 3 | 4",
      "REQUANT acc_row=0 dst_row=100 rows=4 param_row=50 | ABUF | 103 | 104",
      "VMAX a_row=0 b_row=10 dst_row=100 rows=4 | ABUF | 13 | 14",
      "VLUT a_row=0 dst_row=100 rows=4 table=1 | LUT | 16 | 15",
      "VLUT a_row=0 dst_row=100 rows=4 table=1 | LUT | 31 | 32",
      "VLUT a_row=0 dst_row=100 rows=4 table=1 | ABUF | 103 | 104",
      "VSCALE a_row=0 dst_row=100 rows=4 param_row=8 | ACC | 11 | 12",
      "VMUL b_bcast=1 a_row=0 b_row=50 dst_row=100 rows=4 | ABUF | 50 | 51",
      "VMUL a_row=0 b_row=50 dst_row=100 rows=4 | ABUF | 53 | 54",
      "VREDUCE a_row=0 dst_row=5 rows=4 | ACC | 5 | 6",
      "VREDUCE accumulate=1 lanes=1 a_row=0 dst_row=5 rows=4 valid=3 | ACC | 8 | 9",
      "VREDUCE max=1 a_row=0 dst_row=100 rows=4 | ABUF | 100 | 101",
      "VREDUCE max=1 lanes=1 a_row=0 dst_row=100 rows=4 valid=3 | ABUF | 103 | 104",
      "VMAC a_row=0 acc_row=100 rows=4 w_row=9 | WBUF | 9 | 10",
      "VMAC a_row=0 acc_row=100 rows=4 w_row=9 | ACC | 103 | 104",
      "VSOFTMAX a_row=0 dst_row=100 groups=2 group_rows=3 valid=20 table=2 | ABUF | 5 | 6",
      "VSOFTMAX a_row=0 dst_row=100 groups=2 group_rows=3 valid=20 table=2 | LUT | 47 | 48",
      "VNORM a_row=0 dst_row=100 groups=2 group_rows=2 valid=20 param_row=10 | ACC | 15 | 16",
      "VNORM a_row=0 dst_row=100 groups=2 group_rows=2 valid=20 param_row=10 | ABUF | 103 | 104",
      "VTRANS buf=WBUF a_row=0 dst_row=32 blocks=1 | WBUF | 47 | 48",
      "VTRANS buf=ABUF a_row=0 dst_row=32 blocks=2 | ABUF | 31 | 64",
  })
  void eachInstructionTouchesTheRowsOfItsDefinition(String instruction, Buffer buffer,
      int touched, int untouched) {
    int bytes = P.rowBytes(buffer);
    String program = """
        LOAD buf=%s dst_row=%d elem_bytes=%d hbm_addr=0x800000 x_size=1 y_size=1 x_stride=%d
        %s
        HALT
        """;
    Race race = only(check(program.formatted(buffer, touched, bytes, bytes, instruction), P));
    assertRace(race, 0, 1, Unit.LOAD, buffer + " row " + touched);
    assertOk(check(program.formatted(buffer, untouched, bytes, bytes, instruction), P));
  }

  // Where the check stops, and how much it reports.

  @Test
  void theCheckStopsAtHaltAndAtTheFirstInstructionTheDeviceRefuses() {
    String racyPair = """
        LOAD buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=16 y_size=1 x_stride=16
        MATMUL w_load=1 rows=16
        """;
    assertEquals(1, check(racyPair, P).total());
    assertOk(check("HALT\n" + racyPair, P));
    assertOk(check("MATMUL w_load=1 rows=0\n" + racyPair, P));
    assertOk(check("VLUT rows=1\n" + racyPair, NO_VECTOR));
  }

  @Test
  void theReportListsTheFirstRacesAndCountsTheRest() {
    int pairs = OrderingCheck.MAX_REPORTED + 50;
    StringBuilder program = new StringBuilder();
    for (int i = 0; i < pairs; i++) {
      program.append("LOAD wait=VECTOR buf=ABUF elem_bytes=16 hbm_addr=0x10000 x_size=1"
              + " y_size=1\n")
          .append("VMAX dst_row=1 rows=1\n");
    }
    Report r = check(program.append("HALT\n").toString(), P);
    assertEquals(pairs, r.total(), r::toString);
    assertEquals(OrderingCheck.MAX_REPORTED, r.races().size());
    for (int i = 0; i < r.races().size(); i++) {
      assertRace(r.races().get(i), 2 * i, 2 * i + 1, Unit.LOAD, "ABUF row 0");
    }
    assertTrue(r.toString().endsWith("and " + (pairs - OrderingCheck.MAX_REPORTED)
        + " more races\n"), r::toString);
  }

  // Against the rule applied to every pair of instructions, on random programs.

  /** Buffer rows an instruction touches, for the pairwise check. */
  private record Rows(Buffer buffer, long first, long count, boolean write, boolean streamed) {}

  private static List<Rows> rowsOf(Instruction in) {
    return switch (in.opcode()) {
      case LOAD -> List.of(new Rows(Buffer.fromId(in.get(Isa.Load.BUF)),
          in.get(Isa.Load.DST_ROW), InstructionCheck.rowsTouched(in, true), true, false));
      case STORE -> List.of(new Rows(Buffer.fromId(in.get(Isa.Store.BUF)),
          in.get(Isa.Store.SRC_ROW), InstructionCheck.rowsTouched(in, false), false, false));
      case MATMUL -> List.of(
          new Rows(Buffer.ABUF, in.get(Isa.Matmul.A_ROW), in.get(Isa.Matmul.ROWS), false, true),
          new Rows(Buffer.WBUF, in.get(Isa.Matmul.W_ROW), D, false, true),
          new Rows(Buffer.WBUF, in.get(Isa.Matmul.PRE_ROW),
              in.flag(Isa.Matmul.W_PRELOAD) ? D : 0, false, true),
          new Rows(Buffer.ACC, in.get(Isa.Matmul.ACC_ROW), in.get(Isa.Matmul.ROWS), true, false));
      case REQUANT -> List.of(
          new Rows(Buffer.ACC, in.get(Isa.Requant.ACC_ROW), in.get(Isa.Requant.ROWS), false,
              false),
          new Rows(Buffer.ACC, in.get(Isa.Requant.PARAM_ROW), 3, false, false),
          new Rows(Buffer.ABUF, in.get(Isa.Requant.DST_ROW), in.get(Isa.Requant.ROWS), true,
              false));
      case VMAC -> List.of(
          new Rows(Buffer.ABUF, in.get(Isa.Vmac.A_ROW), in.get(Isa.Vmac.ROWS), false, false),
          new Rows(Buffer.WBUF, in.get(Isa.Vmac.W_ROW), 1, false, false),
          new Rows(Buffer.ACC, in.get(Isa.Vmac.ACC_ROW), in.get(Isa.Vmac.ROWS), true, false));
      case VLUT -> List.of(
          new Rows(Buffer.ABUF, in.get(Isa.Vlut.A_ROW), in.get(Isa.Vlut.ROWS), false, false),
          new Rows(Buffer.LUT, in.get(Isa.Vlut.TABLE) * P.tableRows(), P.tableRows(), false,
              false),
          new Rows(Buffer.ABUF, in.get(Isa.Vlut.DST_ROW), in.get(Isa.Vlut.ROWS), true, false));
      case VADD -> List.of(
          new Rows(Buffer.ABUF, in.get(Isa.Vadd.A_ROW), in.get(Isa.Vadd.ROWS), false, false),
          new Rows(Buffer.ABUF, in.get(Isa.Vadd.B_ROW), in.get(Isa.Vadd.ROWS), false, false),
          new Rows(Buffer.ABUF, in.get(Isa.Vadd.DST_ROW), in.get(Isa.Vadd.ROWS), true, false));
      default -> List.of();
    };
  }

  /** HBM bytes a LOAD or STORE touches, one by one. */
  private static Set<Long> bytesOf(Instruction in) {
    boolean load = in.opcode() == Opcode.LOAD;
    long addr = in.get(load ? Isa.Load.HBM_ADDR : Isa.Store.HBM_ADDR);
    long elem = in.get(load ? Isa.Load.ELEM_BYTES : Isa.Store.ELEM_BYTES);
    long xStride = in.get(load ? Isa.Load.X_STRIDE : Isa.Store.X_STRIDE);
    long yStride = in.get(load ? Isa.Load.Y_STRIDE : Isa.Store.Y_STRIDE);
    Set<Long> bytes = new HashSet<>();
    for (long y = 0; y < in.get(load ? Isa.Load.Y_SIZE : Isa.Store.Y_SIZE); y++) {
      for (long x = 0; x < in.get(load ? Isa.Load.X_SIZE : Isa.Store.X_SIZE); x++) {
        for (long b = 0; b < elem; b++) {
          bytes.add(addr + y * yStride + x * xStride + b);
        }
      }
    }
    return bytes;
  }

  /** A random instruction the device accepts, in small buffers and a little HBM, any wait. */
  private static Instruction randomInstruction(Random rnd, DeviceParams p) {
    while (true) {
      String text = switch (rnd.nextInt(8)) {
        case 0 -> String.format("LOAD buf=%d dst_row=%d elem_bytes=%d hbm_addr=%d x_size=%d"
            + " y_size=%d x_stride=%d y_stride=%d x_pad0=%d", rnd.nextInt(4), rnd.nextInt(64),
            4 + 4 * rnd.nextInt(4), rnd.nextInt(512), 1 + rnd.nextInt(6),
            1 + rnd.nextInt(3), rnd.nextInt(40), rnd.nextInt(200), rnd.nextInt(2));
        case 1 -> String.format("STORE buf=%d src_row=%d elem_bytes=%d hbm_addr=%d x_size=%d"
            + " y_size=%d x_stride=%d y_stride=%d", rnd.nextInt(4), rnd.nextInt(64),
            4 + 4 * rnd.nextInt(4), rnd.nextInt(512), 1 + rnd.nextInt(6),
            1 + rnd.nextInt(3), rnd.nextInt(40), rnd.nextInt(200));
        case 2 -> String.format("MATMUL w_load=1 w_preload=%d a_row=%d acc_row=%d rows=%d"
            + " w_row=%d pre_row=%d accumulate=%d", rnd.nextInt(2), rnd.nextInt(64),
            rnd.nextInt(64), 1 + rnd.nextInt(20), rnd.nextInt(49), rnd.nextInt(49),
            rnd.nextInt(2));
        case 3 -> String.format("REQUANT acc_row=%d dst_row=%d rows=%d param_row=%d",
            rnd.nextInt(64), rnd.nextInt(64), 1 + rnd.nextInt(10), rnd.nextInt(62));
        case 4 -> String.format("VMAC a_row=%d acc_row=%d rows=%d w_row=%d accumulate=%d",
            rnd.nextInt(64), rnd.nextInt(64), 1 + rnd.nextInt(8), rnd.nextInt(64),
            rnd.nextInt(2));
        case 5 -> String.format("VLUT a_row=%d dst_row=%d rows=%d table=%d", rnd.nextInt(64),
            rnd.nextInt(64), 1 + rnd.nextInt(8), rnd.nextInt(4));
        case 6 -> String.format("VADD a_row=%d b_row=%d dst_row=%d rows=%d", rnd.nextInt(64),
            rnd.nextInt(64), rnd.nextInt(64), 1 + rnd.nextInt(8));
        default -> "FENCE";
      };
      Instruction in = Assembler.parse(text).with(Isa.WAIT, rnd.nextInt(16));
      if (InstructionCheck.check(in, p) == null) {
        return in;
      }
    }
  }

  /**
   * Whether the contract guarantees that instruction {@code j} issues after instruction {@code i}
   * has finished its access (a MATMUL's reads of ABUF and WBUF if {@code streamed}), from the
   * instructions between them: a wait for i's unit, a FENCE or HALT, an instruction on i's unit
   * that issues only once the ones before it have completed, or, for a MATMUL's reads, a MATMUL.
   */
  private static boolean ordered(List<Instruction> program, int i, int j, boolean streamed,
      DeviceParams p) {
    Unit unit = p.unitOf(program.get(i).opcode());
    for (int k = i + 1; k <= j; k++) {
      Instruction in = program.get(k);
      Opcode op = in.opcode();
      for (Unit u : Unit.values()) {
        if ((in.waitMask() & u.waitMask()) != 0 && p.unit(u) == unit) {
          return true;
        }
      }
      if (op == Opcode.FENCE || op == Opcode.HALT || streamed && op == Opcode.MATMUL
          || p.unitOf(op) == unit && op != Opcode.MATMUL) {
        return true;
      }
    }
    return false;
  }

  /** The racing pairs {earlier, later} of {@code program}, by comparing every pair. */
  private static Set<List<Integer>> everyPair(List<Instruction> program, DeviceParams p) {
    int n = program.size();
    Set<List<Integer>> races = new HashSet<>();
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < j; i++) {
        Instruction a = program.get(i);
        Instruction b = program.get(j);
        if (p.unitOf(a.opcode()) == p.unitOf(b.opcode())) {
          continue;
        }
        boolean race = false;
        for (Rows x : rowsOf(a)) {
          for (Rows y : rowsOf(b)) {
            race |= x.buffer() == y.buffer() && (x.write() || y.write())
                && Math.max(x.first(), y.first())
                    < Math.min(x.first() + x.count(), y.first() + y.count())
                && !ordered(program, i, j, x.streamed(), p);
          }
        }
        Set<Opcode> transfers = EnumSet.of(Opcode.LOAD, Opcode.STORE);
        if (!race && transfers.contains(a.opcode()) && transfers.contains(b.opcode())
            && !ordered(program, i, j, false, p)) {
          Set<Long> shared = bytesOf(a);
          shared.retainAll(bytesOf(b));
          race = !shared.isEmpty();
        }
        if (race) {
          races.add(List.of(i, j));
        }
      }
    }
    return races;
  }

  @Test
  void randomProgramsRaceExactlyWhenSomePairOfInstructionsDoes() {
    DeviceParams small = P.with("ABUF_ROWS=64,WBUF_ROWS=64,ACC_ROWS=64,LUT_ROWS=64");
    for (int seed = 0; seed < 1000; seed++) {
      Random rnd = new Random(seed);
      DeviceParams p = seed % 3 == 0 ? small.with("VECTOR_UNIT=0,LUT_ROWS=0") : small;
      List<Instruction> program = new ArrayList<>();
      for (int n = 5 + rnd.nextInt(25); program.size() < n; ) {
        program.add(randomInstruction(rnd, p));
      }
      Set<List<Integer>> expected = everyPair(program, p);
      Report r = OrderingCheck.check(program, p);
      StringBuilder context = new StringBuilder("seed " + seed + ", racing pairs " + expected);
      for (int i = 0; i < program.size(); i++) {
        context.append("\n").append(i).append(": ").append(program.get(i));
      }
      context.append("\n").append(r);
      assertEquals(expected.isEmpty(), r.ok(), context::toString);
      for (Race race : r.races()) {
        assertTrue(expected.contains(List.of(race.earlier(), race.later())), context::toString);
      }
      // A pair left out has a later instruction of the same unit named instead.
      for (List<Integer> pair : expected) {
        Unit unit = p.unitOf(program.get(pair.get(0)).opcode());
        assertTrue(r.races().stream().anyMatch(race -> race.later() == pair.get(1)
            && race.earlier() >= pair.get(0) && race.unit() == unit),
            () -> pair + " in " + context);
      }
    }
  }

  /**
   * A long pipelined program in the shape of a compiled network: strided LOADs of thousands of
   * elements interleaved with the bytes of STOREs still in flight, so that transfers are
   * compared byte-exactly.
   */
  @Test
  void aLongProgramOfLargeStridedTransfersIsCheckedQuickly() {
    int steps = 5000;
    StringBuilder program = new StringBuilder();
    for (int i = 0; i < steps; i++) {
      // Each STORE writes the odd 16 bytes of 32 where the next LOAD reads the even ones.
      long base = 0x1000000L + (long) (i / 2 % 64) * 0x40000;
      int half = i % 2 * 2048;
      program.append(String.format("LOAD buf=ABUF dst_row=%d elem_bytes=16 hbm_addr=0x%x"
          + " x_size=64 y_size=32 x_stride=32 y_stride=0x1000\n", half, base));
      program.append(String.format("MATMUL wait=LOAD w_load=1 a_row=%d acc_row=%d rows=2048\n",
          half, half));
      program.append(String.format("STORE wait=EXEC buf=ACC src_row=%d elem_bytes=16"
          + " hbm_addr=0x%x x_size=64 y_size=32 x_stride=32 y_stride=0x1000\n", half,
          base + 16));
    }
    List<Instruction> instructions = Assembler.parseProgram(program.append("HALT\n").toString());
    Report r = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> OrderingCheck.check(instructions, P));
    assertOk(r);
  }
}
