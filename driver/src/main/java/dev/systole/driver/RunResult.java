package dev.systole.driver;

import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Instruction;

/**
 * How a program ended: the error code (NONE when it halted cleanly), the index of the failing
 * instruction and the instruction itself as read back from card memory, the explanation of the
 * failure in words, and the cycles it ran for.
 */
public record RunResult(String device, long programAddress, int programLength, ErrorCode error,
    int errorCodeValue, long errorPc, Instruction instruction, String reason, long cycles) {

  public boolean ok() {
    return error == ErrorCode.NONE && errorCodeValue == 0;
  }

  /** This result, or a {@link DeviceProgramException} describing the failure. */
  public RunResult throwIfFailed() {
    if (!ok()) {
      throw new DeviceProgramException(this);
    }
    return this;
  }

  /** One sentence: what failed, where, which instruction and why. */
  public String describe() {
    if (ok()) {
      return String.format("%s: program at 0x%x (%d instructions) halted after %d cycles", device,
          programAddress, programLength, cycles);
    }
    String code = error != null ? error.name() : "unknown error code " + errorCodeValue;
    StringBuilder sb = new StringBuilder(String.format("%s: program at 0x%x (%d instructions)"
        + " failed with %s at instruction %d", device, programAddress, programLength, code,
        errorPc));
    if (instruction != null) {
      sb.append(" (").append(instruction).append(')');
    }
    if (reason != null && !reason.isEmpty()) {
      sb.append(": ").append(reason);
    } else if (error != null) {
      sb.append(": ").append(error.doc());
    }
    return sb.toString();
  }
}
