package dev.systole.host.golden;

import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Param;
import java.util.List;
import java.util.Map;

/**
 * A program with its inputs and the results any correct implementation of the contract gives:
 * the status it ends with, bytes in card memory and counter values. The same file is replayed on
 * the emulator, on the RTL through a sim board and on a board, and must hold on all three.
 *
 * @param requires parameters the program was written for; a device with other values is skipped
 * @param inputs card memory written before the run
 * @param expectedData card memory that must hold these bytes after the run; it is filled with a
 *     poison pattern before the inputs are written, so a device that writes nothing fails
 * @param expectedCounters counter values after the run (counters are cleared before it)
 */
public record GoldenProgram(String name, String description, Map<Param, Long> requires,
    long programAddress, List<Instruction> program, List<Region> inputs, ErrorCode expectedError,
    long expectedErrorPc, List<Region> expectedData, Map<Counter, Long> expectedCounters) {

  /** Bytes at a card address. */
  public record Region(long address, byte[] bytes) {}
}
