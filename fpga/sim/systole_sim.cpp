// libsystole_sim: the C API of systole_sim.h over the Verilated systole_top and the memory
// models of mem.h.
#include "systole_sim.h"

#include "../spec/generated/systole_contract.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "Vsystole_top.h"
#include "mem.h"
#include "verilated.h"
#ifdef SYSTOLE_SIM_TRACE
#include "verilated_fst_c.h"
#endif

#define SYSTOLE_API extern "C" __attribute__((visibility("default")))

namespace {

constexpr unsigned kResetCycles = 4;
constexpr unsigned kBusTimeout = 1000;
using systole_contract::kMagic;
using systole_contract::kRegClockKhz;
using systole_contract::kRegHbmChannels;
using systole_contract::kRegHbmMb;
using systole_contract::kRegMagic;

}  // namespace

struct systole_sim {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vsystole_top> top;
  int fd = -1;
  std::unique_ptr<systole::CardMemory> mem;
  std::unique_ptr<systole::MemTiming> timing;
  bool was_busy = false;  // BUSY at the last rising edge
  std::unique_ptr<systole::ReadPort> fetch, load;
  std::unique_ptr<systole::WritePort> store;
  uint64_t cycle = 0;
  bool in_reset = true;
#ifdef SYSTOLE_SIM_TRACE
  std::unique_ptr<VerilatedFstC> fst;
#endif

  ~systole_sim() {
    if (ctx) use();
    if (top) top->final();
#ifdef SYSTOLE_SIM_TRACE
    if (fst) fst->close();
    fst.reset();
#endif
    top.reset();
    ctx.reset();
    // Nothing may go on pointing at the context just freed.
    Verilated::threadContextp(Verilated::defaultContextp());
    if (fd >= 0) ::close(fd);
  }

  // Verilator finds "the" context of the calling thread through a thread-local pointer (scope
  // destruction, for one, goes through it): with several instances, or calls from several
  // threads, it must be this instance's whenever this instance runs Verilated code.
  void use() { Verilated::threadContextp(ctx.get()); }

  // The first half of a cycle: the memory drives its outputs, the model settles with the clock
  // low. The caller then samples the model's outputs for this cycle.
  void low() {
    top->clk_i = 0;
    if (!in_reset) {
      fetch->drive(cycle);
      load->drive(cycle);
      store->drive(cycle);
    }
    top->eval();
#ifdef SYSTOLE_SIM_TRACE
    if (fst) fst->dump(2 * cycle);
#endif
  }

  // The second half: the memory takes this cycle's handshakes, then the rising edge.
  void high() {
    if (!in_reset) {
      fetch->sample(cycle);
      load->sample(cycle);
      store->sample(cycle);
    }
    top->clk_i = 1;
    top->eval();
#ifdef SYSTOLE_SIM_TRACE
    if (fst) fst->dump(2 * cycle + 1);
#endif
    cycle++;
    ctx->time(int64_t(2 * cycle));
    // A run starts when BUSY rises: the memory's timing starts again with it.
    bool busy = top->busy_o;
    if (busy && !was_busy && !in_reset) timing->restart(cycle);
    was_busy = busy;
  }

  void step() {
    low();
    high();
  }

  void reset() {
    in_reset = true;
    top->clk_i = 0;
    top->rst_ni = 1;
    top->s_axil_awvalid_i = top->s_axil_wvalid_i = top->s_axil_arvalid_i = 0;
    top->s_axil_bready_i = top->s_axil_rready_i = 0;
    top->m_fetch_arready_i = top->m_load_arready_i = 0;
    top->m_fetch_rvalid_i = top->m_load_rvalid_i = 0;
    top->m_store_awready_i = top->m_store_wready_i = top->m_store_bvalid_i = 0;
    top->eval();
    top->rst_ni = 0;
    top->eval();
    for (unsigned i = 0; i < kResetCycles; i++) step();
    top->rst_ni = 1;
    in_reset = false;
    fetch->reset();
    load->reset();
    store->reset();
  }

  int write(uint32_t offset, uint32_t value) {
    if (offset >= 4096 || (offset & 3)) return -1;
    bool aw_done = false, w_done = false;
    top->s_axil_awaddr_i = offset;
    top->s_axil_wdata_i = value;
    top->s_axil_wstrb_i = 0xF;
    top->s_axil_bready_i = 1;
    int result = -1;
    for (unsigned i = 0; i < kBusTimeout; i++) {
      top->s_axil_awvalid_i = !aw_done;
      top->s_axil_wvalid_i = !w_done;
      low();
      bool aw_hs = top->s_axil_awvalid_i && top->s_axil_awready_o;
      bool w_hs = top->s_axil_wvalid_i && top->s_axil_wready_o;
      bool b_hs = top->s_axil_bvalid_o && top->s_axil_bready_i;
      uint32_t resp = top->s_axil_bresp_o;
      high();
      aw_done |= aw_hs;
      w_done |= w_hs;
      if (b_hs) {
        result = resp == 0 ? 0 : -1;
        break;
      }
    }
    // After a timeout the request is withdrawn: the bus is not answering anyway.
    top->s_axil_awvalid_i = top->s_axil_wvalid_i = top->s_axil_bready_i = 0;
    return result;
  }

  int read(uint32_t offset, uint32_t *value) {
    *value = 0;
    if (offset >= 4096 || (offset & 3)) return -1;
    bool ar_done = false;
    top->s_axil_araddr_i = offset;
    top->s_axil_rready_i = 1;
    int result = -1;
    for (unsigned i = 0; i < kBusTimeout; i++) {
      top->s_axil_arvalid_i = !ar_done;
      low();
      bool ar_hs = top->s_axil_arvalid_i && top->s_axil_arready_o;
      bool r_hs = top->s_axil_rvalid_o && top->s_axil_rready_i;
      uint32_t resp = top->s_axil_rresp_o, data = top->s_axil_rdata_o;
      high();
      ar_done |= ar_hs;
      if (r_hs) {
        if (resp == 0) {
          *value = data;
          result = 0;
        }
        break;
      }
    }
    top->s_axil_arvalid_i = top->s_axil_rready_i = 0;
    return result;
  }
};

namespace {

void set_error(char *err, size_t err_len, const char *fmt, ...) {
  if (!err || err_len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

}  // namespace

SYSTOLE_API systole_sim *systole_sim_open(const char *hbm_path, uint64_t hbm_bytes,
                                          const char *mem_config, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!hbm_path || !mem_config) {
    set_error(err, err_len, "systole_sim_open: hbm_path and mem_config are required");
    return nullptr;
  }
  std::unique_ptr<systole_sim> s(new systole_sim);
  s->fd = ::open(hbm_path, O_RDWR | O_CLOEXEC);
  if (s->fd < 0) {
    set_error(err, err_len, "cannot open the card memory %s: %s", hbm_path, std::strerror(errno));
    return nullptr;
  }
  s->ctx.reset(new VerilatedContext);
  s->use();
  s->ctx->threads(1);  // the model is single-threaded: no idle worker thread per instance
  s->ctx->fatalOnError(true);
#ifdef SYSTOLE_SIM_TRACE
  s->ctx->traceEverOn(true);
#endif
  s->top.reset(new Vsystole_top(s->ctx.get(), "systole"));
  Vsystole_top *t = s->top.get();
  s->mem.reset(new systole::CardMemory(s->fd, hbm_bytes));

  // The geometry is read from the register window once reset is over; the ports are built on a
  // placeholder model until then (nothing reaches them during reset).
  systole::HbmGeometry geometry{hbm_bytes, 1, 300000};
  s->timing = systole::make_fixed_timing(32, 16);
  systole::ReadSignals fetch{&t->m_fetch_arvalid_o, &t->m_fetch_arready_i, &t->m_fetch_araddr_o,
                             &t->m_fetch_arlen_o,   &t->m_fetch_arsize_o,  &t->m_fetch_arburst_o,
                             &t->m_fetch_rvalid_i,  &t->m_fetch_rready_o,  t->m_fetch_rdata_i.data(),
                             &t->m_fetch_rresp_i,   &t->m_fetch_rlast_i};
  systole::ReadSignals load{&t->m_load_arvalid_o, &t->m_load_arready_i, &t->m_load_araddr_o,
                            &t->m_load_arlen_o,   &t->m_load_arsize_o,  &t->m_load_arburst_o,
                            &t->m_load_rvalid_i,  &t->m_load_rready_o,  t->m_load_rdata_i.data(),
                            &t->m_load_rresp_i,   &t->m_load_rlast_i};
  systole::WriteSignals store{
      &t->m_store_awvalid_o, &t->m_store_awready_i, &t->m_store_awaddr_o,
      &t->m_store_awlen_o,   &t->m_store_awsize_o,  &t->m_store_awburst_o,
      &t->m_store_wvalid_o,  &t->m_store_wready_i,  t->m_store_wdata_o.data(),
      &t->m_store_wstrb_o,   &t->m_store_wlast_o,   &t->m_store_bvalid_i,
      &t->m_store_bready_o,  &t->m_store_bresp_i};

  // Parse the configuration first so that a bad one fails before anything runs.
  std::string error;
  if (!systole::parse_mem_config(mem_config, geometry, error)) {
    set_error(err, err_len, "%s", error.c_str());
    return nullptr;
  }
  s->fetch.reset(new systole::ReadPort(systole::kFetch, fetch, *s->mem, *s->timing));
  s->load.reset(new systole::ReadPort(systole::kLoad, load, *s->mem, *s->timing));
  s->store.reset(new systole::WritePort(systole::kStore, store, *s->mem, *s->timing));
  s->reset();

  uint32_t magic = 0, hbm_mb = 0, channels = 0, clock_khz = 0;
  if (s->read(kRegMagic, &magic) != 0 || magic != kMagic || s->read(kRegHbmMb, &hbm_mb) != 0
      || s->read(kRegHbmChannels, &channels) != 0 || s->read(kRegClockKhz, &clock_khz) != 0) {
    set_error(err, err_len, "the simulated register window does not identify a Systole device "
              "(MAGIC reads 0x%08x)", magic);
    return nullptr;
  }
  geometry.hbm_bytes = uint64_t(hbm_mb) << 20;
  geometry.channels = channels ? channels : 1;
  geometry.clock_khz = clock_khz ? clock_khz : 300000;
  // The ports refer to the timing model: build them again around the real one.
  s->fetch.reset();
  s->load.reset();
  s->store.reset();
  s->timing = systole::parse_mem_config(mem_config, geometry, error);
  s->fetch.reset(new systole::ReadPort(systole::kFetch, fetch, *s->mem, *s->timing));
  s->load.reset(new systole::ReadPort(systole::kLoad, load, *s->mem, *s->timing));
  s->store.reset(new systole::WritePort(systole::kStore, store, *s->mem, *s->timing));
  return s.release();
}

SYSTOLE_API int systole_sim_read(systole_sim *s, uint32_t offset, uint32_t *value) {
  uint32_t dummy;
  s->use();
  return s->read(offset, value ? value : &dummy);
}

SYSTOLE_API int systole_sim_write(systole_sim *s, uint32_t offset, uint32_t value) {
  s->use();
  return s->write(offset, value);
}

SYSTOLE_API uint64_t systole_sim_run(systole_sim *s, uint64_t max_cycles) {
  uint64_t n = 0;
  s->use();
  bool irq = s->top->irq_o;
  while (n < max_cycles && s->top->busy_o) {
    s->step();
    n++;
    bool now = s->top->irq_o;
    if (now && !irq) break;
    irq = now;
  }
  return n;
}

SYSTOLE_API int systole_sim_busy(systole_sim *s) { return s->top->busy_o ? 1 : 0; }

SYSTOLE_API int systole_sim_irq(systole_sim *s) { return s->top->irq_o ? 1 : 0; }

SYSTOLE_API uint64_t systole_sim_cycles(systole_sim *s) { return s->cycle; }

SYSTOLE_API int systole_sim_set_trace(systole_sim *s, const char *fst_path) {
#ifdef SYSTOLE_SIM_TRACE
  s->use();
  if (s->fst) {
    s->fst->close();
    s->fst.reset();
  }
  if (!fst_path) return 0;
  std::unique_ptr<VerilatedFstC> fst(new VerilatedFstC);
  s->top->trace(fst.get(), 99);
  fst->open(fst_path);
  if (!fst->isOpen()) return -1;
  s->fst = std::move(fst);
  return 0;
#else
  (void)s;
  (void)fst_path;
  return -1;
#endif
}

SYSTOLE_API void systole_sim_close(systole_sim *s) { delete s; }

// An RTL assertion or $fatal ends the process, as a protocol violation does, with its message on
// stderr (the default would print it to stdout).
void vl_stop(const char *filename, int linenum, const char *hier) {
  std::fprintf(stderr, "systole_sim: RTL $stop at %s:%d (%s)\n", filename, linenum,
               hier ? hier : "");
  std::fflush(stderr);
  std::abort();
}

void vl_fatal(const char *filename, int linenum, const char *hier, const char *msg) {
  std::fprintf(stderr, "systole_sim: RTL error at %s:%d (%s): %s\n", filename, linenum,
               hier ? hier : "", msg);
  std::fflush(stderr);
  std::abort();
}
