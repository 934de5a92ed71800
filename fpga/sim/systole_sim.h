/*
 * libsystole_sim: the Verilated accelerator (systole_top) with a model of the card memory behind
 * its three AXI4 masters, driven through its AXI4-Lite register window. Built by
 * scripts/build-rtl-sim; see README.md in this directory.
 *
 * Time passes only inside these calls: a register access clocks the model for the few cycles the
 * AXI4-Lite transaction takes, systole_sim_run clocks it while a program runs. An instance is not
 * thread-safe: call it from one thread at a time. Instances are independent of each other.
 */
#ifndef SYSTOLE_SIM_H
#define SYSTOLE_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct systole_sim systole_sim;

/*
 * Opens a simulation: builds the model, applies reset for a few cycles, reads the build's
 * parameters from the register window and sets up the memory model.
 *
 * hbm_path    the card memory: a file of hbm_bytes bytes (sparse), opened read-write; the host
 *             writes and reads it with pwrite/pread while no program runs. A byte at card address
 *             A is byte A of the file. Bytes past hbm_bytes or past the file's end answer SLVERR.
 * mem_config  "fixed[,read=N][,write=N]" (default read=32, write=16): the fixed-latency model of
 *             fpga/rtl/MICROARCH.md, against which cycle counts are exact;
 *             "hbm[,seed=N]" (default seed=1): a model of HBM2 pseudo-channels.
 * err         on failure, receives a NUL-terminated message (may be NULL).
 *
 * Returns NULL on failure (the file cannot be opened, the configuration is not valid, the
 * register window does not identify a Systole device).
 */
systole_sim *systole_sim_open(const char *hbm_path, uint64_t hbm_bytes, const char *mem_config,
                              char *err, size_t err_len);

/*
 * One AXI4-Lite read of the 32-bit register at byte offset `offset` (a multiple of 4 below 4096).
 * Returns 0 on an OKAY response, -1 on another response, an offset outside the window or not
 * aligned, or a bus that does not answer within 1000 cycles (*value is then 0).
 */
int systole_sim_read(systole_sim *s, uint32_t offset, uint32_t *value);

/* One AXI4-Lite write (WSTRB 0xF, AW and W together); returns as systole_sim_read does. */
int systole_sim_write(systole_sim *s, uint32_t offset, uint32_t value);

/*
 * Clocks the model until busy_o is 0, irq_o rises (goes from 0 to 1), or max_cycles cycles have
 * passed, whichever comes first. Returns the number of cycles clocked (0 if busy_o is already 0).
 */
uint64_t systole_sim_run(systole_sim *s, uint64_t max_cycles);

/* The accelerator's busy_o (STATUS.BUSY) and irq_o outputs now: 0 or 1. */
int systole_sim_busy(systole_sim *s);
int systole_sim_irq(systole_sim *s);

/* Every cycle clocked since systole_sim_open, reset included. */
uint64_t systole_sim_cycles(systole_sim *s);

/*
 * Writes waveforms (FST) of every cycle from now on to fst_path; NULL closes the current trace.
 * Returns 0, or -1 if the library was built without --trace or the file cannot be opened.
 */
int systole_sim_set_trace(systole_sim *s, const char *fst_path);

/* Finishes the model and frees the instance (NULL is allowed). */
void systole_sim_close(systole_sim *s);

#ifdef __cplusplus
}
#endif

#endif
