package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Isa;
import dev.systole.driver.contract.Unit;
import java.util.ArrayList;
import java.util.List;

/** What a device says about itself when opened: identification and build parameters. */
public record DeviceInfo(String name, String backend, int versionMajor, int versionMinor,
    int buildId, DeviceParams params) {

  /** The first minor version whose wait field has the VECTOR bit (bit 11 of an instruction). */
  static final int VECTOR_WAIT_MINOR = 2;

  /**
   * The bytes of {@code program} as this device reads them. A device of contract 1.0 or 1.1 has
   * no VECTOR unit and a wait field of three bits, so bit 11 is reserved there; the VECTOR wait
   * bit, which names EXEC on such a build, is written as EXEC's.
   */
  public byte[] encode(List<Instruction> program) {
    if (versionMinor >= VECTOR_WAIT_MINOR) {
      return Instruction.encode(program);
    }
    List<Instruction> folded = new ArrayList<>(program.size());
    for (Instruction in : program) {
      int wait = in.waitMask();
      folded.add((wait & Unit.VECTOR.waitMask()) == 0 ? in : in.with(Isa.WAIT,
          (wait & ~Unit.VECTOR.waitMask()) | Unit.EXEC.waitMask()));
    }
    return Instruction.encode(folded);
  }

  @Override
  public String toString() {
    return String.format("%s (%s): contract %d.%d, build 0x%08x, %s", name, backend,
        versionMajor, versionMinor, buildId, params);
  }
}
