package dev.systole.driver.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.systole.testing.ReaderContract;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The instruction decoder, the static checker and the assembler on any bytes. Every 32 bytes
 * decode to an instruction (any bit pattern is one); the checker judges it on builds of the
 * smallest, the default and the largest sizes, with and without the vector unit, and either
 * passes it or names a code other than NONE with a reason in words; its text assembles back to
 * the same bits. A tail shorter than an instruction is refused with a message. Assembly text is
 * read to instructions or refused with an IllegalArgumentException. The corpus holds programs
 * from the assembler, among them every opcode and the bundled golden programs' illegal words.
 */
class InstructionFuzzTest {
  private static final List<DeviceParams> BUILDS = List.of(
      DeviceParams.defaults(),
      DeviceParams.defaults().with("VECTOR_UNIT=0"),
      DeviceParams.defaults().with("ARRAY=4,ABUF_ROWS=64,WBUF_ROWS=64,ACC_ROWS=64,HBM_MB=1,"
          + "LUT_ROWS=64"),
      DeviceParams.defaults().with("ARRAY=64,ABUF_ROWS=65536,WBUF_ROWS=65536,ACC_ROWS=65536,"
          + "HBM_MB=1048576,LUT_ROWS=4096"));

  @FuzzTest(maxDuration = "5m")
  void decodeAndCheck(byte[] data) {
    int whole = data.length / Contract.INSTRUCTION_BYTES * Contract.INSTRUCTION_BYTES;
    for (int offset = 0; offset < whole; offset += Contract.INSTRUCTION_BYTES) {
      Instruction in = Instruction.read(data, offset);
      byte[] word = Arrays.copyOfRange(data, offset, offset + Contract.INSTRUCTION_BYTES);
      for (DeviceParams p : BUILDS) {
        InstructionCheck.Violation v = ReaderContract.check(null, word, List.of(),
            () -> InstructionCheck.check(in, p));
        if (v != null) {
          assertNotEquals(ErrorCode.NONE, v.code());
          assertFalse(v.reason().isBlank());
          ReaderContract.check(null, word, List.of(IllegalArgumentException.class), () -> {
            throw new IllegalArgumentException(v.reason());
          });
        }
      }
      assertEquals(in, Assembler.parse(in.toString()), in.toString());
    }
    if (whole < data.length) {
      int tail = whole;
      ReaderContract.check(null, data, List.of(IndexOutOfBoundsException.class),
          () -> Instruction.read(data, tail));
    }
  }

  @FuzzTest(maxDuration = "5m")
  void assemble(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8);
    List<Instruction> program = ReaderContract.check(null, data,
        List.of(IllegalArgumentException.class), () -> Assembler.parseProgram(text));
    if (program == null) {
      return;
    }
    StringBuilder back = new StringBuilder();
    for (Instruction in : program) {
      back.append(in).append('\n');
    }
    assertEquals(program, Assembler.parseProgram(back.toString()));
  }
}
