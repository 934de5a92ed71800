package dev.systole.tests.rtl;

/**
 * How close a run on the RTL with the HBM memory model must come to the emulator's timing model,
 * which assumes a fixed memory latency. A long run is within 2%: its thousands of memory accesses
 * average out row hits (faster than the fixed latency) and row misses (slower). A short run meets
 * a few dozen accesses, and up to two of them may wait for a bank's refresh (tRFCsb, 48 cycles
 * at 300 MHz) and then open their row again (tRCD, 5 cycles), besides row conflicts (10 cycles):
 * events no static model can foresee, which move a 200-cycle program by 25% or more. So a short
 * run may be off by 2% plus {@link #NOISE_CYCLES}.
 */
final class HbmBound {
  static final double RELATIVE = 0.02;
  static final long NOISE_CYCLES = 128;
  static final long LONG_RUN = 10_000;

  private HbmBound() {}

  static boolean within(long model, long rtl) {
    long gap = Math.abs(rtl - model);
    double allowed = RELATIVE * model + (model >= LONG_RUN ? 0 : NOISE_CYCLES);
    return gap <= allowed;
  }

  static String describe() {
    return String.format("within %.0f%% for runs of %d cycles or more, %.0f%% + %d cycles below",
        100 * RELATIVE, LONG_RUN, 100 * RELATIVE, NOISE_CYCLES);
  }
}
