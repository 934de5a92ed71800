package dev.systole.driver.rtl;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The C interface of the Verilated accelerator ({@code fpga/sim/systole_sim.h}), as JNA maps it.
 * Every call takes the handle {@code systole_sim_open} returned; none is thread safe, so
 * {@link RtlEngine} makes them under one lock.
 */
interface SimLibrary extends Library {
  Pointer systole_sim_open(String hbmPath, long hbmBytes, String memConfig, byte[] err,
      long errLen);

  int systole_sim_read(Pointer sim, int offset, IntByReference value);

  int systole_sim_write(Pointer sim, int offset, int value);

  long systole_sim_run(Pointer sim, long maxCycles);

  int systole_sim_busy(Pointer sim);

  int systole_sim_irq(Pointer sim);

  long systole_sim_cycles(Pointer sim);

  int systole_sim_set_trace(Pointer sim, String fstPath);

  void systole_sim_close(Pointer sim);
}
