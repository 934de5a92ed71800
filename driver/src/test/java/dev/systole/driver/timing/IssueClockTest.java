package dev.systole.driver.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.contract.Contract.Timing;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.contract.Unit;
import org.junit.jupiter.api.Test;

/** The timing model's issue rule, by hand, on programs a few instructions long. */
class IssueClockTest {
  private static final DeviceParams P = DeviceParams.defaults();
  private static final int D = P.arrayRows();

  @Test
  void instructionsIssueInOrderOnceFetched() {
    IssueClock c = new IssueClock(P);
    Instruction fence = Instruction.of(Opcode.FENCE);
    assertEquals(Timing.FETCH_LATENCY, c.issue(fence, c.ready(0)));
    assertEquals(Timing.FETCH_LATENCY + 1, c.issue(fence, c.ready(1)));
    assertEquals(Timing.FETCH_LATENCY + 5, c.ready(5), "not before it is fetched");
  }

  @Test
  void withoutTheVectorUnitARequantWaitsForTheMatmulBeforeItAndAWaitForExecWaitsForBoth() {
    DeviceParams p = P.with("VECTOR_UNIT=0,LUT_ROWS=0");
    IssueClock c = new IssueClock(p);
    Instruction matmul = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 40)
        .with(Isa.Matmul.W_LOAD, 1);
    long t0 = c.issue(matmul, c.ready(0));
    assertEquals(Timing.FETCH_LATENCY, t0);
    long matmulDone = t0 + D + 40 + 2L * D + Timing.ARRAY_LATENCY;
    Instruction requant = Instruction.of(Opcode.REQUANT).with(Isa.Requant.ROWS, 40);
    long t1 = c.issue(requant, c.ready(1));
    assertEquals(matmulDone, t1, "a REQUANT issues when the EXEC unit is done");
    long requantDone = t1 + Timing.REQUANT_SETUP + 40 + Timing.REQUANT_LATENCY;
    Instruction next = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 8);
    assertEquals(requantDone, c.issue(next, c.ready(2)), "and holds EXEC until it is done");
    Instruction halt = Instruction.of(Opcode.HALT).waitFor(Unit.VECTOR);
    assertEquals(requantDone + 8 + 2L * D + Timing.ARRAY_LATENCY, c.issue(halt, c.ready(3)),
        "the VECTOR wait bit names EXEC");
    assertEquals(0, c.stallCycles(), "no memory unit held anything up");
  }

  @Test
  void withTheVectorUnitARequantRunsBesideTheArrayUnlessItWaitsForExec() {
    IssueClock c = new IssueClock(P);
    Instruction matmul = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 40)
        .with(Isa.Matmul.W_LOAD, 1);
    long t0 = c.issue(matmul, c.ready(0));
    long matmulDone = t0 + D + 40 + 2L * D + Timing.ARRAY_LATENCY;
    Instruction requant = Instruction.of(Opcode.REQUANT).with(Isa.Requant.ROWS, 40);
    long t1 = c.issue(requant.waitFor(Unit.EXEC), c.ready(1));
    assertEquals(matmulDone, t1, "wait=EXEC: once the array has drained");
    long requantDone = t1 + Timing.REQUANT_SETUP + 40 + Timing.REQUANT_LATENCY;
    assertEquals(requantDone, c.completion());
    Instruction next = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 8);
    long t2 = c.issue(next, c.ready(2));
    assertEquals(t1 + 1, t2, "the next MATMUL streams while the REQUANT runs");
    assertEquals(t2 + 8, c.readsEnd());
    Instruction another = Instruction.of(Opcode.REQUANT).with(Isa.Requant.ROWS, 8);
    assertEquals(requantDone, c.issue(another, c.ready(3)),
        "a VECTOR instruction waits for the one before it, not for EXEC");
    Instruction halt = Instruction.of(Opcode.HALT);
    assertEquals(Math.max(t2 + 8 + 2L * D + Timing.ARRAY_LATENCY,
        requantDone + Timing.REQUANT_SETUP + 8 + Timing.REQUANT_LATENCY),
        c.issue(halt, c.ready(4)), "HALT waits for every unit");
  }

  @Test
  void aMatmulStreamsBehindAnotherButALoadWaitsForItsUnit() {
    IssueClock c = new IssueClock(P);
    Instruction first = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 100);
    long t0 = c.issue(first, c.ready(0));
    Instruction second = Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 10);
    assertEquals(t0 + 100, c.issue(second, c.ready(1)), "the next MATMUL follows the rows");
    Instruction load = Instruction.of(Opcode.LOAD).with(Isa.Load.X_SIZE, 4)
        .with(Isa.Load.Y_SIZE, 1).with(Isa.Load.ELEM_BYTES, 16).with(Isa.Load.X_STRIDE, 16);
    long l0 = c.issue(load, c.ready(2));
    assertEquals(t0 + 101, l0, "a LOAD does not wait for EXEC");
    long busy = TransferTiming.loadCycles(0, 16, 4, 1, 16, 0, 0, 0, 0, 0, Timing.READ_LATENCY);
    long l1 = c.issue(load, c.ready(3));
    assertEquals(l0 + busy, l1, "the second LOAD waits for its unit");
    assertEquals(busy - 1, c.stallCycles());
    assertEquals(l1 + busy, c.drained(0), "the last unit to finish is the second LOAD");
  }
}
