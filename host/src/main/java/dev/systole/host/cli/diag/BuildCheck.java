package dev.systole.host.cli.diag;

import dev.systole.driver.Device;
import dev.systole.driver.contract.Param;
import dev.systole.host.bitstream.Manifest;
import java.util.ArrayList;
import java.util.List;

/**
 * A device's parameter registers against the parameters its build's manifest records. Every
 * parameter the host's contract gives a register is compared, read raw from its register (not
 * through a typed view that would have to know each one), so a parameter added to the contract is
 * checked with no change here. A parameter the manifest does not have (a build from before it was
 * added) is a note, not a difference.
 */
public final class BuildCheck {
  private BuildCheck() {}

  /** What the comparison found: differences in words, and parameters it could not compare. */
  public record Comparison(List<String> differences, List<String> notes, int compared) {}

  public static Comparison compare(Device d, Manifest m) {
    List<String> differences = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    int compared = 0;
    for (Param p : Param.values()) {
      if (p.register() == null) {
        continue;
      }
      long device = d.readRegister(p.register().offset()) & 0xFFFFFFFFL;
      Long built = m.params().get(p.name());
      if (built == null) {
        notes.add(p.name() + " is not in the manifest (a build from before the contract had it);"
            + " the device says " + device);
        continue;
      }
      compared++;
      if (built != device) {
        differences.add(String.format("%s: the device's register says %d, the manifest %d", p,
            device, built));
      }
    }
    return new Comparison(differences, notes, compared);
  }
}
