package dev.systole.driver.simboard;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A fault a sim board injects so that a host's handling of a failing board can be tested without
 * one. Each is named in {@code simboard.json} and on the command line by its {@link #label()}.
 */
public enum Fault {
  /** A started program never finishes: STATUS stays BUSY until a SOFT_RESET. */
  HANG,
  /** Every register reads 0xFFFFFFFF, host writes are ignored, and no interrupt is delivered. */
  LINK_DOWN,
  /** The events FIFO receives a word every {@link SimBoard#SPURIOUS_IRQ_PERIOD_MILLIS} ms. */
  SPURIOUS_IRQ,
  /** {@code h2c} writes fail with ENOSPC and {@code c2h} reads with EISDIR. */
  DMA_FAIL,
  /** The card memory file ends at {@link SimBoard#DMA_SHORT_CUT}: reads past it come back short. */
  DMA_SHORT,
  /**
   * {@code h2c} writes succeed but their data never reaches card memory (the node is /dev/null),
   * so what is read back is not what was written: silent DMA corruption.
   */
  DMA_CORRUPT,
  /**
   * Bit {@link SimBoard#STUCK_BIT} of the byte at {@link SimBoard#stuckBitAddress} reads 0 and
   * stays 0 for the accelerator's memory ports (emulator engine only).
   */
  HBM_STUCK_BIT,
  /** Programs end and INT_STATUS is set, but no interrupt ever reaches the events FIFO. */
  NO_IRQ,
  /** The link state in {@code pci/} shows a x16 link trained at x8: everything works, slower. */
  LINK_DEGRADED;

  /** The name used in {@code simboard.json} and by {@code --fault}: {@code link-down}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The fault labelled {@code label} ({@code link-down}; {@code LINK_DOWN} is accepted too).
   *
   * @throws IllegalArgumentException naming the faults there are
   */
  public static Fault fromLabel(String label) {
    for (Fault f : values()) {
      if (f.label().equalsIgnoreCase(label) || f.name().equalsIgnoreCase(label)) {
        return f;
      }
    }
    throw new IllegalArgumentException("no fault \"" + label + "\" (expected one of "
        + Arrays.stream(values()).map(Fault::label).collect(Collectors.joining(", ")) + ")");
  }
}
