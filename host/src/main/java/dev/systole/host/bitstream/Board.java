package dev.systole.host.bitstream;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A card the bitstream flow builds for: its FPGA part, the Vivado versions its flow was written
 * for, the card memory it has, and its configuration flash. The flow itself (block design,
 * constraints, build and programming scripts) is in {@code bitstreams/NAME/}.
 *
 * @param name the folder under {@code bitstreams/} and the name a manifest records
 * @param title what a person calls the card
 * @param part the FPGA part
 * @param vivadoVersions the Vivado versions the flow was written for, {@code 2023.2}
 * @param hbmMb the card's HBM, which a build's HBM_MB must equal
 * @param hbmChannels the card's HBM pseudo-channels, which a build's HBM_CHANNELS must equal, so
 *     that the contract's channel i is the card's pseudo-channel i
 * @param flashPart the configuration flash, as Vivado's hardware manager names it
 * @param flashMb the flash size in MiB
 * @param flashOffset where the user image starts in the flash (the golden image is below it)
 */
public record Board(String name, String title, String part, List<String> vivadoVersions,
    long hbmMb, int hbmChannels, String flashPart, int flashMb, long flashOffset) {

  /**
   * The AMD Alveo U55C: a Virtex UltraScale+ with two 8 GiB HBM2 stacks (32 pseudo-channels of
   * 512 MiB), PCIe Gen3 x16 (or Gen4 x8), and a 1 Gbit quad-SPI flash whose factory golden image
   * sits below the user image.
   */
  public static final Board U55C = new Board("u55c", "AMD Alveo U55C", "xcu55c-fsvh2892-2L-e",
      List.of("2023.2"), 16384, 32, "mt25qu01g-spi-x1_x2_x4", 128, 0x01002000L);

  private static final Map<String, Board> BOARDS = Map.of(U55C.name(), U55C);

  /**
   * The board called {@code name}.
   *
   * @throws IllegalArgumentException naming the boards there are
   */
  public static Board named(String name) {
    Board b = BOARDS.get(name);
    if (b == null) {
      throw new IllegalArgumentException("no bitstream flow for board \"" + name
          + "\" (expected " + BOARDS.keySet().stream().sorted().collect(Collectors.joining(", "))
          + ")");
    }
    return b;
  }

  /** The board's flow: {@code bitstreams/NAME} under the repository root. */
  public Path flow(Path root) {
    return root.resolve("bitstreams").resolve(name);
  }

  /** The bitstream a build of this board writes. */
  public String bitFile() {
    return "systole_" + name + ".bit";
  }

  /** The flash image a build of this board writes. */
  public String mcsFile() {
    return "systole_" + name + ".mcs";
  }

  /**
   * Checks that a build's parameters fit the card.
   *
   * @throws IllegalArgumentException naming the parameter, its value and what the card needs
   */
  public void check(Map<String, Long> params) {
    Long mb = params.get("HBM_MB");
    Long channels = params.get("HBM_CHANNELS");
    if (mb == null || mb != hbmMb || channels == null || channels != hbmChannels) {
      throw new IllegalArgumentException(String.format("HBM_MB=%s, HBM_CHANNELS=%s: the %s has"
          + " %d MiB of HBM in %d pseudo-channels, and a build for it must say HBM_MB=%d and"
          + " HBM_CHANNELS=%d, so that the contract's channel i is the card's pseudo-channel i",
          mb, channels, title, hbmMb, hbmChannels, hbmMb, hbmChannels));
    }
  }
}
