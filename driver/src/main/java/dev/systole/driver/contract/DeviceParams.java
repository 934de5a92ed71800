package dev.systole.driver.contract;

import java.util.function.IntUnaryOperator;

/**
 * The build parameters of one device: what the host reads back at open time and what the emulator
 * is built with. Everything that sizes a program (tile shapes, buffer ranges, HBM placement) is
 * computed from these, never assumed, so a host runs unchanged on a board built with other sizes.
 */
public record DeviceParams(int arrayRows, int arrayCols, int abufRows, int wbufRows, int accRows,
    long hbmMb, int hbmChannels, int clockKhz, int vectorUnit, int lutRows) {

  public DeviceParams {
    check(Param.ARRAY_ROWS, arrayRows);
    check(Param.ARRAY_COLS, arrayCols);
    check(Param.ABUF_ROWS, abufRows);
    check(Param.WBUF_ROWS, wbufRows);
    check(Param.ACC_ROWS, accRows);
    check(Param.HBM_MB, hbmMb);
    check(Param.HBM_CHANNELS, hbmChannels);
    check(Param.CLOCK_KHZ, clockKhz);
    check(Param.VECTOR_UNIT, vectorUnit);
    check(Param.LUT_ROWS, lutRows);
    if (arrayRows != arrayCols) {
      throw new IllegalArgumentException(String.format(
          "array %dx%d is not square (expected ARRAY_ROWS == ARRAY_COLS in contract %d.x)",
          arrayRows, arrayCols, Contract.VERSION_MAJOR));
    }
    if (vectorUnit == 0 && lutRows != 0) {
      throw new IllegalArgumentException("LUT_ROWS: " + lutRows
          + " without a vector unit (expected 0 when VECTOR_UNIT is 0)");
    }
    if (vectorUnit == 1 && lutRows < tableRows(arrayCols)) {
      throw new IllegalArgumentException("LUT_ROWS: " + lutRows + " holds no table (expected at"
          + " least " + tableRows(arrayCols) + ", one 256-entry table, with a vector unit)");
    }
  }

  private static void check(Param p, long value) {
    if (value < p.min() || value > p.max()) {
      throw new IllegalArgumentException(String.format("%s: %d out of range (expected %d to %d)",
          p, value, p.min(), p.max()));
    }
  }

  /** The parameters of the default build. */
  public static DeviceParams defaults() {
    long[] v = new long[Param.values().length];
    for (Param p : Param.values()) {
      v[p.ordinal()] = p.defaultValue();
    }
    return of(v);
  }

  private static DeviceParams of(long[] v) {
    return new DeviceParams((int) v[Param.ARRAY_ROWS.ordinal()],
        (int) v[Param.ARRAY_COLS.ordinal()], (int) v[Param.ABUF_ROWS.ordinal()],
        (int) v[Param.WBUF_ROWS.ordinal()], (int) v[Param.ACC_ROWS.ordinal()],
        v[Param.HBM_MB.ordinal()], (int) v[Param.HBM_CHANNELS.ordinal()],
        (int) v[Param.CLOCK_KHZ.ordinal()], (int) v[Param.VECTOR_UNIT.ordinal()],
        (int) v[Param.LUT_ROWS.ordinal()]);
  }

  /**
   * Parameters read from a device's parameter registers.
   *
   * @param readRegister reads the register at a byte offset
   * @throws IllegalArgumentException naming the register if a value is outside its range
   */
  public static DeviceParams fromRegisters(IntUnaryOperator readRegister) {
    long[] v = new long[Param.values().length];
    for (Param p : Param.values()) {
      v[p.ordinal()] = readRegister.applyAsInt(p.register().offset()) & 0xFFFFFFFFL;
    }
    return of(v);
  }

  /** The value of parameter {@code p}, as its register reports it. */
  public long get(Param p) {
    return switch (p) {
      case ARRAY_ROWS -> arrayRows;
      case ARRAY_COLS -> arrayCols;
      case ABUF_ROWS -> abufRows;
      case WBUF_ROWS -> wbufRows;
      case ACC_ROWS -> accRows;
      case HBM_MB -> hbmMb;
      case HBM_CHANNELS -> hbmChannels;
      case CLOCK_KHZ -> clockKhz;
      case VECTOR_UNIT -> vectorUnit;
      case LUT_ROWS -> lutRows;
    };
  }

  /** A copy with the given parameters changed, checked once all are applied. */
  public DeviceParams with(java.util.Map<Param, Long> changes) {
    long[] v = new long[Param.values().length];
    for (Param q : Param.values()) {
      v[q.ordinal()] = changes.getOrDefault(q, get(q));
    }
    if (changes.containsKey(Param.VECTOR_UNIT) && !changes.containsKey(Param.LUT_ROWS)) {
      v[Param.LUT_ROWS.ordinal()] = v[Param.VECTOR_UNIT.ordinal()] == 0 ? 0
          : Param.LUT_ROWS.defaultValue();
    }
    return of(v);
  }

  /**
   * A copy with assignments {@code PARAM=VALUE,...} applied, for example {@code ARRAY=8,HBM_MB=256};
   * {@code ARRAY} sets both ARRAY_ROWS and ARRAY_COLS. An empty string changes nothing.
   *
   * @throws IllegalArgumentException naming the assignment that is not a parameter or a number,
   *     or the value out of range
   */
  public DeviceParams with(String assignments) {
    java.util.Map<Param, Long> changes = new java.util.EnumMap<>(Param.class);
    if (!assignments.isEmpty()) {
      for (String assignment : assignments.split(",")) {
        int eq = assignment.indexOf('=');
        if (eq < 0) {
          throw new IllegalArgumentException("parameter \"" + assignment
              + "\" (expected PARAM=VALUE, e.g. ARRAY=8)");
        }
        String key = assignment.substring(0, eq).strip().toUpperCase(java.util.Locale.ROOT);
        long value;
        try {
          value = Long.parseLong(assignment.substring(eq + 1).strip());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("parameter " + key + " = \""
              + assignment.substring(eq + 1) + "\" is not a number", e);
        }
        if (key.equals("ARRAY")) {
          changes.put(Param.ARRAY_ROWS, value);
          changes.put(Param.ARRAY_COLS, value);
          continue;
        }
        try {
          changes.put(Param.valueOf(key), value);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("parameter \"" + key
              + "\" is not a contract parameter (expected ARRAY or one of "
              + java.util.Arrays.toString(Param.values()) + ")", e);
        }
      }
    }
    return with(changes);
  }

  /** Lanes of a row in every buffer (the array is square). */
  public int lanes() {
    return arrayCols;
  }

  public long hbmBytes() {
    return hbmMb << 20;
  }

  public int rows(Buffer b) {
    return (int) get(b.rowsParam());
  }

  public int rowBytes(Buffer b) {
    return arrayCols * b.laneBytes();
  }

  /**
   * The unit that runs {@code unit}'s instructions on this build: itself, or, for a unit the build
   * lacks (VECTOR without the vector unit), the unit that takes its place.
   */
  public Unit unit(Unit unit) {
    return unit.on(unit.requires() == null || get(unit.requires()) == 1);
  }

  /** The unit {@code op} issues to on this build. */
  public Unit unitOf(Opcode op) {
    return unit(op.unit());
  }

  /**
   * Whether the device has the vector unit (VLUT to VTRANS, the LUT buffer, and a VECTOR unit
   * beside the array that runs them with REQUANT, VMAX and VADD).
   */
  public boolean hasVectorUnit() {
    return vectorUnit == 1;
  }

  /** LUT rows one 256-entry table takes on an array of {@code lanes} columns. */
  public static int tableRows(int lanes) {
    return (256 + lanes - 1) / lanes;
  }

  /** LUT rows one 256-entry table takes. */
  public int tableRows() {
    return tableRows(arrayCols);
  }

  /** Multiply-accumulates the array does per cycle when streaming. */
  public int macsPerCycle() {
    return arrayRows * arrayCols;
  }

  /** Seconds per cycle at the device clock. */
  public double secondsPerCycle() {
    return 1.0 / (clockKhz * 1000.0);
  }

  @Override
  public String toString() {
    return String.format("array %dx%d, ABUF %d rows, WBUF %d rows, ACC %d rows, HBM %d MiB in %d"
        + " channels, clock %d kHz, %s", arrayRows, arrayCols, abufRows, wbufRows, accRows, hbmMb,
        hbmChannels, clockKhz, vectorUnit == 1 ? "vector unit with " + lutRows + " LUT rows"
            : "no vector unit");
  }
}
