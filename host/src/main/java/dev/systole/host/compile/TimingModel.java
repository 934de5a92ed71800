package dev.systole.host.compile;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.timing.IssueClock;
import java.util.List;

/**
 * The contract's timing model (CONTRACT.md 9) over a program that is not run: the issue cycle of
 * every instruction from its fields alone, through the same {@link IssueClock} the emulator runs
 * programs with. It is what the emulator and the RTL with fixed-latency memory report, so a
 * compiler can say what a layer will cost before anything runs; on real HBM it is an estimate.
 */
final class TimingModel {
  private TimingModel() {}

  /** The issue cycle of each instruction of a program that runs without an error. */
  static long[] issueTimes(List<Instruction> program, DeviceParams p) {
    IssueClock clock = new IssueClock(p);
    long[] issue = new long[program.size()];
    for (int i = 0; i < program.size(); i++) {
      issue[i] = clock.issue(program.get(i), clock.ready(i));
    }
    return issue;
  }
}
