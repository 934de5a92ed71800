package dev.systole.host.cli.diag;

import java.io.PrintWriter;

/**
 * Card memory as {@code hexdump -C} prints a file: 16 bytes a line, each line headed by its card
 * address, the bytes in hex in two groups of eight, then as ASCII; a run of lines identical to
 * the one before is printed once as {@code *}, so that 1 MiB of zeros is three lines.
 */
public final class Hexdump {
  private final PrintWriter out;
  private final byte[] previous = new byte[16];
  private boolean havePrevious;
  private boolean starred;

  public Hexdump(PrintWriter out) {
    this.out = out;
  }

  /** Prints {@code length} bytes (at most 16) of {@code line}, which start at {@code address}. */
  public void line(long address, byte[] line, int length) {
    if (length == 16 && havePrevious && java.util.Arrays.equals(line, 0, 16, previous, 0, 16)) {
      if (!starred) {
        out.println("*");
        starred = true;
      }
      return;
    }
    starred = false;
    System.arraycopy(line, 0, previous, 0, length);
    havePrevious = length == 16;
    StringBuilder sb = new StringBuilder(String.format("%012x  ", address));
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      if (i < length) {
        sb.append(String.format("%02x ", line[i] & 0xFF));
        char c = (char) (line[i] & 0xFF);
        text.append(c >= 0x20 && c < 0x7f ? c : '.');
      } else {
        sb.append("   ");
      }
      if (i == 7) {
        sb.append(' ');
      }
    }
    out.println(sb.append(" |").append(text).append('|'));
  }

  /** Ends the dump with the address after its last byte, as hexdump does. */
  public void end(long address) {
    out.println(String.format("%012x", address));
  }
}
