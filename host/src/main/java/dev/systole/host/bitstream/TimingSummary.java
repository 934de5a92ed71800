package dev.systole.host.bitstream;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The worst slacks of a build, read from the "Design Timing Summary" table of Vivado's
 * {@code report_timing_summary}: WNS (setup), WHS (hold) and WPWS (pulse width), in ns. Timing is
 * met when none is negative; the report's closing sentence is not trusted over the numbers.
 */
public record TimingSummary(double wnsNs, double whsNs, double wpwsNs) {
  private static final Pattern HEADER = Pattern.compile("^\\s*WNS\\(ns\\)\\s+TNS\\(ns\\).*$",
      Pattern.MULTILINE);
  private static final String NUMBER = "(-?\\d+(?:\\.\\d+)?|inf|NA)";

  /** Whether every slack is zero or more. */
  public boolean met() {
    return wnsNs >= 0 && whsNs >= 0 && wpwsNs >= 0;
  }

  /**
   * The summary in {@code report}, or empty if it has no Design Timing Summary table whose row
   * holds twelve values after the header and its underline.
   */
  public static Optional<TimingSummary> parse(String report) {
    Matcher h = HEADER.matcher(report);
    if (!h.find()) {
      return Optional.empty();
    }
    String[] lines = report.substring(h.end()).split("\\R");
    for (String line : lines) {
      String t = line.strip();
      if (t.isEmpty() || t.matches("-+(\\s+-+)*")) {
        continue;
      }
      String[] v = t.split("\\s+");
      if (v.length < 12 || !v[0].matches(NUMBER)) {
        return Optional.empty();
      }
      return Optional.of(new TimingSummary(slack(v[0]), slack(v[4]), slack(v[8])));
    }
    return Optional.empty();
  }

  /** A slack; "inf" and "NA" (no path of that kind) cannot fail. */
  private static double slack(String v) {
    return v.equals("inf") || v.equals("NA") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
  }
}
