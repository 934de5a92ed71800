package dev.systole.driver.emulator;

import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Opcode;

/**
 * What one run adds to the performance counters (CONTRACT.md 10). Each executed instruction adds
 * its share through {@link #executed}, the one place that says what an instruction counts; the
 * run's end sets the cycles.
 */
final class RunCounts {
  long busyCycles;
  long arrayCycles;
  long vectorCycles;
  long stallCycles;
  long instret;
  long macs;
  long bytesRead;
  long bytesWritten;

  /**
   * Adds {@code in}, executed on a device of D = {@code lanes}, whose vector-lane work took
   * {@code vectorCycles} (0 for an instruction off the vector lanes).
   */
  void executed(Instruction in, int lanes, long vectorCycles) {
    instret++;
    this.vectorCycles += vectorCycles;
    Opcode op = in.opcode();
    if (op == Opcode.MATMUL) {
      long rows = in.get(Isa.Matmul.ROWS);
      arrayCycles += rows;
      macs += rows * lanes * lanes;
    } else if (op == Opcode.LOAD) {
      bytesRead += in.get(Isa.Load.X_SIZE) * in.get(Isa.Load.Y_SIZE)
          * in.get(Isa.Load.ELEM_BYTES);
    } else if (op == Opcode.STORE) {
      bytesWritten += in.get(Isa.Store.X_SIZE) * in.get(Isa.Store.Y_SIZE)
          * in.get(Isa.Store.ELEM_BYTES);
    }
  }

  void copyFrom(RunCounts o) {
    busyCycles = o.busyCycles;
    arrayCycles = o.arrayCycles;
    vectorCycles = o.vectorCycles;
    stallCycles = o.stallCycles;
    instret = o.instret;
    macs = o.macs;
    bytesRead = o.bytesRead;
    bytesWritten = o.bytesWritten;
  }
}
