package dev.systole.driver.contract;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * One 256-bit instruction word, immutable. Fields are read and written through the generated
 * {@link Isa} constants, so no code outside the generator knows a bit position. The word is kept as
 * four longs (bits 0-63 in word 0) and stored little-endian in HBM, 32 bytes per instruction.
 *
 * <p>An instruction can hold any bit pattern, including an unknown opcode or reserved bits set:
 * the device, not this class, decides what is legal, which is what lets a test program carry a
 * deliberate error.
 */
public final class Instruction {
  public static final int WORDS = Contract.INSTRUCTION_BYTES / 8;

  private final long[] words;

  private Instruction(long[] words) {
    this.words = words;
  }

  /** An instruction with the given opcode and every other bit zero. */
  public static Instruction of(Opcode op) {
    long[] w = new long[WORDS];
    w[0] = op.value();
    return new Instruction(w);
  }

  /** An instruction from its raw 64-bit words, word 0 holding bits 63:0. */
  public static Instruction ofWords(long... words) {
    if (words.length != WORDS) {
      throw new IllegalArgumentException(
          "instruction words: " + words.length + " (expected " + WORDS + ")");
    }
    return new Instruction(words.clone());
  }

  /** Reads 32 bytes at absolute index {@code index} of {@code buf}, indices unchanged. */
  public static Instruction read(ByteBuf buf, int index) {
    long[] w = new long[WORDS];
    for (int i = 0; i < WORDS; i++) {
      w[i] = buf.getLongLE(index + 8 * i);
    }
    return new Instruction(w);
  }

  /** Reads 32 bytes at {@code offset} of {@code bytes}. */
  public static Instruction read(byte[] bytes, int offset) {
    if (offset < 0 || offset > bytes.length - Contract.INSTRUCTION_BYTES) {
      throw new IndexOutOfBoundsException(String.format(
          "instruction at offset %d of %d bytes (expected 0 <= offset <= %d)",
          offset, bytes.length, bytes.length - Contract.INSTRUCTION_BYTES));
    }
    long[] w = new long[WORDS];
    for (int i = 0; i < WORDS; i++) {
      long v = 0;
      for (int b = 7; b >= 0; b--) {
        v = (v << 8) | (bytes[offset + 8 * i + b] & 0xFF);
      }
      w[i] = v;
    }
    return new Instruction(w);
  }

  /** A program as the bytes it occupies in card memory, 32 per instruction. */
  public static byte[] encode(java.util.List<Instruction> program) {
    byte[] out = new byte[program.size() * Contract.INSTRUCTION_BYTES];
    for (int i = 0; i < program.size(); i++) {
      program.get(i).write(out, i * Contract.INSTRUCTION_BYTES);
    }
    return out;
  }

  /** Writes the 32 bytes at absolute index {@code index} of {@code buf}, indices unchanged. */
  public void write(ByteBuf buf, int index) {
    for (int i = 0; i < WORDS; i++) {
      buf.setLongLE(index + 8 * i, words[i]);
    }
  }

  /** Writes the 32 bytes at {@code offset} of {@code bytes}. */
  public void write(byte[] bytes, int offset) {
    for (int i = 0; i < WORDS; i++) {
      long v = words[i];
      for (int b = 0; b < 8; b++) {
        bytes[offset + 8 * i + b] = (byte) (v >>> (8 * b));
      }
    }
  }

  public long word(int i) {
    return words[i];
  }

  /** The opcode field's value. */
  public int opcodeValue() {
    return (int) (words[0] & 0xFF);
  }

  /** The instruction named by the opcode, or null for an unknown opcode. */
  public Opcode opcode() {
    return Opcode.fromValue(opcodeValue());
  }

  /** The wait field: units (as {@link Unit#waitMask()} bits) to be idle before issue. */
  public int waitMask() {
    return (int) get(Isa.WAIT);
  }

  /** The value of {@code f}, sign-extended for signed fields. */
  public long get(InstrField f) {
    long raw = (words[f.word()] >>> f.shift()) & f.mask();
    if (f.signed() && f.width() < 64 && (raw & (1L << (f.width() - 1))) != 0) {
      raw |= ~f.mask();
    }
    return raw;
  }

  public boolean flag(InstrField f) {
    return get(f) != 0;
  }

  /**
   * A copy with {@code f} set to {@code value}.
   *
   * @throws IllegalArgumentException if {@code value} does not fit the field's bits
   */
  public Instruction with(InstrField f, long value) {
    if (value < f.encodingMin() || value > f.encodingMax()) {
      throw new IllegalArgumentException(String.format(
          "%s field %s: value %d does not fit %d %s bits (expected %d to %d)",
          opcode() == null ? "instruction" : opcode().name(), f.name(), value, f.width(),
          f.signed() ? "signed" : "unsigned", f.encodingMin(), f.encodingMax()));
    }
    long[] w = words.clone();
    w[f.word()] = (w[f.word()] & ~(f.mask() << f.shift())) | ((value & f.mask()) << f.shift());
    return new Instruction(w);
  }

  public Instruction with(InstrField f, boolean value) {
    return with(f, value ? 1 : 0);
  }

  /** A copy with the wait field naming {@code units}. */
  public Instruction waitFor(Unit... units) {
    int mask = 0;
    for (Unit u : units) {
      mask |= u.waitMask();
    }
    return with(Isa.WAIT, mask);
  }

  /** The reserved bits that are set, per word; all zero for a well-formed known instruction. */
  public long reservedBitsSet(int word) {
    Opcode op = opcode();
    return op == null ? 0 : words[word] & op.reservedMask(word);
  }

  /** Whether any reserved bit of a known instruction is set. */
  public boolean hasReservedBits() {
    for (int i = 0; i < WORDS; i++) {
      if (reservedBitsSet(i) != 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * The instruction in assembly syntax, {@code MNEMONIC field=value ...}, listing fields that are
   * not zero, and buffers always. An unknown opcode, or a known one with reserved bits set, prints
   * as {@code .word} with the raw words (and the decoded fields in a comment), so the text always
   * assembles back to the same bits.
   */
  @Override
  public String toString() {
    Opcode op = opcode();
    if (op == null || hasReservedBits()) {
      StringJoiner j = new StringJoiner(" ", ".word ", "");
      for (long w : words) {
        j.add(String.format("0x%016x", w));
      }
      if (op == null) {
        return j.toString();
      }
      StringJoiner r = new StringJoiner(",", " ; " + fields(op) + " with reserved bits ", "");
      for (int i = 0; i < WORDS; i++) {
        r.add(String.format("0x%x", reservedBitsSet(i)));
      }
      return j + r.toString();
    }
    return fields(op);
  }

  private String fields(Opcode op) {
    StringJoiner j = new StringJoiner(" ");
    j.add(op.name());
    for (InstrField f : op.fields()) {
      if (f == Isa.OPCODE) {
        continue;
      }
      long v = get(f);
      if (v != 0 || f.kind() == InstrField.Kind.BUFFER) {
        j.add(f.name() + "=" + formatValue(f, v));
      }
    }
    return j.toString();
  }

  /** A field value as the assembler reads it back: names for buffers and units, hex if marked. */
  public static String formatValue(InstrField f, long v) {
    switch (f.kind()) {
      case BUFFER -> {
        Buffer b = Buffer.fromId(v);
        return b == null ? Long.toString(v) : b.name();
      }
      case WAIT -> {
        StringJoiner j = new StringJoiner("+");
        long rest = v;
        for (Unit u : Unit.values()) {
          if (u.waitBit() >= 0 && (v & u.waitMask()) != 0) {
            j.add(u.name());
            rest &= ~u.waitMask();
          }
        }
        if (rest != 0) {
          j.add(Long.toString(rest));
        }
        return j.toString();
      }
      default -> {
        return f.hex() ? "0x" + Long.toHexString(v) : Long.toString(v);
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Instruction other && Arrays.equals(words, other.words);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(words);
  }
}
