package dev.systole.driver.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InstructionTest {
  @Test
  void fieldsLandWhereTheSpecSays() {
    Instruction in = Instruction.of(Opcode.LOAD).with(Isa.Load.HBM_ADDR, 0x1234_5678_9ABCL)
        .with(Isa.Load.Y_PAD1, 0xAB).with(Isa.Load.BUF, Buffer.ACC.id()).waitFor(Unit.EXEC);
    assertEquals(0x01 | (2L << 8) | (2L << 12), in.word(0));
    assertEquals(0x1234_5678_9ABCL, in.word(1));
    assertEquals(0xABL << 56, in.word(3));
    byte[] bytes = new byte[32];
    in.write(bytes, 0);
    assertEquals(0x01, bytes[0]);
    assertEquals((byte) 0xAB, bytes[31]);
    assertEquals(in, Instruction.read(bytes, 0));
  }

  @Test
  void signedFieldsSignExtend() {
    Instruction in = Instruction.of(Opcode.VADD).with(Isa.Vadd.A_MULT, -5)
        .with(Isa.Vadd.A_ZERO, -128);
    assertEquals(-5, in.get(Isa.Vadd.A_MULT));
    assertEquals(-128, in.get(Isa.Vadd.A_ZERO));
    assertEquals(0, in.get(Isa.Vadd.B_MULT));
  }

  @Test
  void valuesThatDoNotFitAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Instruction.of(Opcode.MATMUL).with(Isa.Matmul.ROWS, 65536));
    assertTrue(e.getMessage().contains("MATMUL field rows: value 65536 does not fit 16 unsigned"
        + " bits (expected 0 to 65535)"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Instruction.of(Opcode.REQUANT).with(Isa.Requant.ZERO_POINT, 128));
  }

  @Test
  void reservedBitsAreFound() {
    Instruction ok = Instruction.of(Opcode.HALT);
    assertFalse(ok.hasReservedBits());
    Instruction bad = Instruction.ofWords(0x08 | (1L << 20), 0, 0, 0);
    assertTrue(bad.hasReservedBits());
    assertEquals(1L << 20, bad.reservedBitsSet(0));
    assertTrue(bad.toString().endsWith("; HALT with reserved bits 0x100000,0x0,0x0,0x0"),
        bad.toString());
    assertEquals(bad, Assembler.parse(bad.toString()));
    Instruction loadTop = Instruction.ofWords(0x01, 0, 0, 0).with(Isa.Load.Y_PAD1, 255);
    assertFalse(loadTop.hasReservedBits(), "y_pad1 fills the top byte of a LOAD");
  }

  @Test
  void disassemblyReassembles() {
    Random r = new Random(7);
    for (int i = 0; i < 2000; i++) {
      Opcode op = Opcode.values()[r.nextInt(Opcode.values().length)];
      Instruction in = Instruction.of(op);
      for (InstrField f : op.fields()) {
        if (f != Isa.OPCODE && r.nextBoolean()) {
          long span = f.encodingMax() - f.encodingMin();
          long v = f.encodingMin() + (span <= 0 ? 0 : Math.floorMod(r.nextLong(), span + 1));
          in = in.with(f, v);
        }
      }
      assertEquals(in, Assembler.parse(in.toString()), in.toString());
    }
  }

  @Test
  void rawWordsRoundTrip() {
    Instruction odd = Instruction.ofWords(0xFF, 1, 2, 3);
    assertNull(odd.opcode());
    assertEquals(".word 0x00000000000000ff 0x0000000000000001 0x0000000000000002"
        + " 0x0000000000000003", odd.toString());
    assertEquals(odd, Assembler.parse(odd.toString()));
  }

  @Test
  void assemblerErrorsNameTheProblem() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Assembler.parse("JUMP x=1"))
        .getMessage().contains("unknown instruction \"JUMP\""));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Assembler.parse("MATMUL colour=1")).getMessage().contains("has no field"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Assembler.parse("MATMUL rows=x")).getMessage().contains("is not a number"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Assembler.parseProgram("HALT\nMATMUL rows=1 rows=2")).getMessage()
        .startsWith("line 2:"));
  }

  @Test
  void byteBufRoundTrip() {
    Instruction in = Assembler.parse("STORE buf=ACC src_row=3 elem_bytes=64 hbm_addr=0x1000"
        + " x_size=2 y_size=1 x_stride=64 wait=EXEC+LOAD");
    ByteBuf buf = Unpooled.buffer(64);
    try {
      in.write(buf, 32);
      assertEquals(in, Instruction.read(buf, 32));
      assertEquals(0, buf.readerIndex());
    } finally {
      buf.release();
    }
  }

  @Test
  void checksFollowTheContractOrder() {
    DeviceParams p = DeviceParams.defaults();
    assertEquals(ErrorCode.BAD_OPCODE,
        InstructionCheck.check(Instruction.ofWords(0, 0, 0, 0), p).code());
    assertEquals(ErrorCode.RESERVED_BITS,
        InstructionCheck.check(Instruction.ofWords(0x07 | 1L << 63, 0, 0, 0), p).code());
    assertEquals(ErrorCode.BAD_FIELD, InstructionCheck.check(
        Assembler.parse("LOAD buf=ACC elem_bytes=3 x_size=0 y_size=0"), p).code());
    DeviceParams noVector = p.with("VECTOR_UNIT=0");
    assertEquals(ErrorCode.BAD_FIELD, InstructionCheck.check(
        Assembler.parse("LOAD buf=3 elem_bytes=0 x_size=0 y_size=0"), noVector).code());
    assertEquals(ErrorCode.BAD_OPCODE, InstructionCheck.check(
        Assembler.parse("VLUT rows=0"), noVector).code());
    assertEquals(ErrorCode.ZERO_LENGTH, InstructionCheck.check(
        Assembler.parse("VLUT rows=0"), p).code());
    assertEquals(ErrorCode.ZERO_LENGTH, InstructionCheck.check(
        Assembler.parse("LOAD buf=ABUF elem_bytes=16 x_size=0 y_size=1"), p).code());
    assertEquals(ErrorCode.OVERSIZED, InstructionCheck.check(
        Assembler.parse("LOAD buf=ABUF elem_bytes=17 x_size=1 y_size=1"), p).code());
    assertEquals(ErrorCode.BUF_RANGE, InstructionCheck.check(
        Assembler.parse("LOAD buf=ABUF dst_row=4095 elem_bytes=16 x_size=1 y_size=1 x_pad1=1"),
        p).code());
    InstructionCheck.Violation v = InstructionCheck.check(Assembler.parse(
        "LOAD buf=ABUF elem_bytes=16 x_size=2 y_size=1 x_stride=16"
            + " hbm_addr=0x3fffffff0"), p);
    assertEquals(ErrorCode.HBM_RANGE, v.code());
    assertTrue(v.reason().contains("expected below 0x400000000"), v.reason());
    assertNull(InstructionCheck.check(Assembler.parse(
        "LOAD buf=ABUF elem_bytes=16 x_size=1 y_size=1 hbm_addr=0x3fffffff0"), p));
    assertEquals(ErrorCode.BAD_FIELD, InstructionCheck.check(
        Assembler.parse("VMAX a_row=0 b_row=10 dst_row=1 rows=4"), p).code());
    assertNull(InstructionCheck.check(Assembler.parse("VMAX a_row=0 b_row=10 dst_row=0 rows=4"),
        p));
  }
}
