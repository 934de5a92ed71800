// Testbench of the Verilator harness (libsystole_sim, fpga/sim) built around the stub core of
// this directory (systole_core.sv): it builds the library with scripts/build-rtl-sim, loads it
// with dlopen and drives it through its C API only, as the Java engine does:
//  - the register window through the library (identification, parameters passed with --param,
//    bad offsets);
//  - runs end to end: a HALT program written with pwrite, started through the registers, run,
//    checked through STATUS, CYCLES, the counters and the log the stub writes to HBM;
//  - the fixed-latency memory model, exactly: beat j of a burst accepted at a is presented at
//    max(a + Lr + j, p + 1), B at max(w + Lw, q + 1), with RREADY backpressure, several bursts
//    in flight, W before AW, two sets of latencies;
//  - errors instead of crashes: reads past the end of the file (truncated as the sim board's
//    fault injection does) or past hbm_bytes answer SLVERR and the run ends with MEM_FAULT;
//  - SOFT_RESET with reads in flight, then a new run;
//  - the HBM model: mean streaming latency near 32 cycles, throughput, determinism per seed;
//  - the AXI checks: a child process driving a misbehaving store is aborted with a message;
//  - waveforms from a --trace build.
// (This binary is built by scripts/rtl-tests around the same stub, which it does not use: the
// model under test is the one inside the library.)
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../sim/systole_sim.h"
#include "../bench.h"

namespace {

std::string g_context;
std::string where() { return "[" + g_context + "]"; }
tb::Tally g_tally(30, where);
#define CHECK(cond, ...) TB_CHECK(g_tally, cond, __VA_ARGS__)

// The library's API, looked up with dlsym.
struct Api {
  void *handle = nullptr;
  decltype(&systole_sim_open) open;
  decltype(&systole_sim_read) read;
  decltype(&systole_sim_write) write;
  decltype(&systole_sim_run) run;
  decltype(&systole_sim_busy) busy;
  decltype(&systole_sim_irq) irq;
  decltype(&systole_sim_cycles) cycles;
  decltype(&systole_sim_set_trace) set_trace;
  decltype(&systole_sim_close) close;

  bool load(const std::string &path) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      std::fprintf(stderr, "dlopen %s: %s\n", path.c_str(), dlerror());
      return false;
    }
#define SYM(f)                                                                         \
  f = reinterpret_cast<decltype(f)>(dlsym(handle, "systole_sim_" #f));                \
  if (!f) {                                                                            \
    std::fprintf(stderr, "%s: no symbol systole_sim_%s\n", path.c_str(), #f);          \
    return false;                                                                      \
  }
    SYM(open) SYM(read) SYM(write) SYM(run) SYM(busy) SYM(irq) SYM(cycles) SYM(set_trace)
    SYM(close)
#undef SYM
    return true;
  }
};

// Register offsets and bits, from the contract (fpga/spec/generated/systole_contract.h).
namespace c = systole_contract;
enum : uint32_t {
  MAGIC = c::kRegMagic, VERSION = c::kRegVersion, ARRAY_ROWS = c::kRegArrayRows,
  HBM_MB = c::kRegHbmMb, HBM_CHANNELS = c::kRegHbmChannels, CTRL = c::kRegCtrl,
  STATUS = c::kRegStatus, ERROR_CODE = c::kRegErrorCode, ERROR_PC = c::kRegErrorPc,
  PC = c::kRegPc, PROG_ADDR_LO = c::kRegProgAddrLo, PROG_ADDR_HI = c::kRegProgAddrHi,
  PROG_LEN = c::kRegProgLen, INT_ENABLE = c::kRegIntEnable, INT_STATUS = c::kRegIntStatus,
  SCRATCH = c::kRegScratch, CYCLES = c::kRegCycles, BUSY_CYCLES = c::kRegBusyCycles,
  ARRAY_CYCLES = c::kRegArrayCycles, STALL_CYCLES = c::kRegStallCycles,
  INSTRET = c::kRegInstret, MACS = c::kRegMacs, BYTES_READ = c::kRegBytesRead,
  BYTES_WRITTEN = c::kRegBytesWritten, TOTAL_CYCLES = c::kRegTotalCycles,
};
constexpr uint32_t kStart = 1u << c::kRegCtrlStartLsb;
constexpr uint32_t kSoftReset = 1u << c::kRegCtrlSoftResetLsb;
constexpr uint32_t kClearCounters = 1u << c::kRegCtrlClearCountersLsb;
constexpr uint32_t kDone = 1u << c::kRegStatusDoneLsb, kError = 1u << c::kRegStatusErrorLsb;
constexpr uint32_t kIntDone = 1u << c::kRegIntStatusDoneLsb,
                   kIntError = 1u << c::kRegIntStatusErrorLsb;
constexpr uint32_t kHbmMb = 64;  // --param HbmMb; the other parameters are the contract's defaults
constexpr uint64_t kHbmBytes = uint64_t(kHbmMb) << 20;
constexpr uint32_t kDim = c::kArrayRowsDefault;

std::string g_root;
Api api;

std::string run_command(const std::string &cmd, int &status) {
  std::string out;
  FILE *p = popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string build(const std::string &extra) {
  std::string cmd = "'" + g_root + "/scripts/build-rtl-sim' --sources '" + g_root
                    + "/fpga/tb/harness/sources' --param HbmMb=" + std::to_string(kHbmMb) + extra;
  int status = 0;
  std::string out = run_command(cmd, status);
  if (status != 0 || out.empty() || out.find('\n') != std::string::npos || out[0] != '/') {
    std::fprintf(stderr, "harness: `%s` failed (status %d), stdout:\n%s\n", cmd.c_str(), status,
                 out.c_str());
    return "";
  }
  return out;
}

// The card memory file.
struct Card {
  std::string path;
  int fd = -1;
  Card() {
    const char *tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/systole-harness-XXXXXX";
    std::vector<char> p(path.begin(), path.end());
    p.push_back(0);
    fd = mkstemp(p.data());
    path = p.data();
    if (fd < 0 || ftruncate(fd, off_t(kHbmBytes)) != 0) {
      std::perror("harness: card memory file");
      std::exit(2);
    }
  }
  ~Card() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  void put(uint64_t addr, const void *data, size_t n) {
    if (pwrite(fd, data, n, off_t(addr)) != ssize_t(n)) g_tally.fail("pwrite at 0x%" PRIx64, addr);
  }
  void get(uint64_t addr, void *data, size_t n) {
    if (pread(fd, data, n, off_t(addr)) != ssize_t(n)) g_tally.fail("pread at 0x%" PRIx64, addr);
  }
};

// What beat 0 of a stub program asks for (systole_core.sv of this directory).
struct Prog {
  uint64_t addr = 0x100;
  uint32_t len = 1;
  uint8_t op = c::kOpHalt;  // HALT: ends with NONE, else PROG_END
  uint8_t pattern = 0;   // RREADY pattern after beat 0
  uint8_t max_out = 0;   // bursts in flight after beat 0 (0: 4)
  uint8_t wlead = 0;     // W leads AW by this many cycles
  uint8_t viol = 0;      // protocol violation on the store
  uint64_t log = 0x10000;
};

void write_program(Card &card, const Prog &p, bool clear_log = true) {
  std::vector<uint8_t> bytes(size_t(p.len) * c::kInstructionBytes);
  for (size_t i = 0; i < bytes.size(); i++) bytes[i] = uint8_t(i * 7 + 3);
  if (p.len > 0) {
    std::memset(bytes.data(), 0, c::kInstructionBytes);
    bytes[0] = p.op;
    bytes[1] = p.pattern;
    bytes[2] = p.max_out;
    bytes[3] = p.wlead;
    bytes[4] = p.viol;
    std::memcpy(&bytes[8], &p.log, 8);
  }
  if (!bytes.empty()) card.put(p.addr, bytes.data(), bytes.size());
  // A stale log from an earlier run must not pass for this one's.
  std::vector<uint8_t> zero(192, 0);
  if (clear_log) card.put(p.log, zero.data(), zero.size());
}

// The stub's log (48 words).
struct Log {
  uint32_t w[48];
  uint32_t present(unsigned k) const { return w[k] & 0xFFFF; }
  uint32_t accept(unsigned k) const { return w[k] >> 16; }
  uint32_t ar(unsigned b) const { return w[32 + b]; }
  uint32_t magic() const { return w[40]; }
  uint32_t bursts() const { return w[41]; }
  uint32_t beats() const { return w[42]; }
  uint32_t aw() const { return w[43]; }
  uint32_t lat_sum() const { return w[44]; }
  uint32_t lat_min() const { return w[45]; }
  uint32_t lat_max() const { return w[46]; }
  uint32_t last_r() const { return w[47]; }
};

struct Sim {
  systole_sim *s = nullptr;
  Sim(Card &card, const char *config, uint64_t hbm_bytes = kHbmBytes) {
    char err[512];
    s = api.open(card.path.c_str(), hbm_bytes, config, err, sizeof err);
    if (!s) {
      std::fprintf(stderr, "harness: systole_sim_open(%s): %s\n", config, err);
      std::exit(2);
    }
  }
  ~Sim() { api.close(s); }
  uint32_t rd(uint32_t off) {
    uint32_t v = 0;
    if (api.read(s, off, &v) != 0) g_tally.fail("read of 0x%03x failed", off);
    return v;
  }
  void wr(uint32_t off, uint32_t v) {
    if (api.write(s, off, v) != 0) g_tally.fail("write of 0x%08x to 0x%03x failed", v, off);
  }
  uint64_t rd64(uint32_t lo) {
    for (;;) {
      uint32_t hi = rd(lo + 4), l = rd(lo), hi2 = rd(lo + 4);
      if (hi == hi2) return uint64_t(hi) << 32 | l;
    }
  }
  void start(const Prog &p, uint32_t ctrl = kStart) {
    wr(INT_STATUS, kIntDone | kIntError);
    wr(PROG_ADDR_LO, uint32_t(p.addr));
    wr(PROG_ADDR_HI, uint32_t(p.addr >> 32));
    wr(PROG_LEN, p.len);
    wr(CTRL, ctrl);
  }
  // Runs to the end; returns the cycles clocked by systole_sim_run.
  uint64_t finish(uint64_t limit = 2000000) {
    uint64_t n = 0;
    while (api.busy(s) && n < limit) n += api.run(s, limit - n);
    if (api.busy(s)) g_tally.fail("the run did not end within %" PRIu64 " cycles", limit);
    return n;
  }
};

// The bursts the stub issues for a program: at most 16 beats, never across 4 KiB.
std::vector<unsigned> bursts_of(uint64_t addr, uint32_t len) {
  std::vector<unsigned> out;
  while (len > 0) {
    unsigned to4k = unsigned(128 - ((addr >> 5) & 127));
    unsigned n = std::min<unsigned>({16u, len, to4k});
    out.push_back(n);
    addr += uint64_t(n) * 32;
    len -= n;
  }
  return out;
}

// Checks a completed stub run against the fixed-latency model with latencies lr, lw.
void check_fixed_run(Sim &sim, Card &card, const Prog &p, unsigned lr, unsigned lw) {
  Log log;
  card.get(p.log, log.w, sizeof log.w);
  std::vector<unsigned> bursts = bursts_of(p.addr, p.len);
  CHECK(log.magic() == 0x42555453, "log magic 0x%08x", log.magic());
  CHECK(log.bursts() == bursts.size(), "bursts %u, expected %zu", log.bursts(), bursts.size());
  CHECK(log.beats() == p.len, "beats %u, expected %u", log.beats(), p.len);
  CHECK(log.ar(0) == 2, "first AR accepted in cycle %u, expected 2", log.ar(0));

  // R: beat j of burst b at max(a_b + lr + j, previous accept + 1), accepted at the first cycle
  // from then with RREADY (the stub's pattern applies from beat 1).
  unsigned k = 0;
  uint64_t stall = 0;
  for (size_t b = 0; b < bursts.size() && b < 8 && k < 32; b++) {
    for (unsigned j = 0; j < bursts[b] && k < 32; j++, k++) {
      uint32_t want = log.ar(unsigned(b)) + lr + j;
      if (k > 0) want = std::max(want, log.accept(k - 1) + 1);
      CHECK(log.present(k) == want, "beat %u (burst %zu beat %u, AR at %u): RVALID in cycle %u, "
            "expected %u (Lr %u)", k, b, j, log.ar(unsigned(b)), log.present(k), want, lr);
      uint32_t acc = log.present(k);
      if (k > 0 && p.pattern != 0) {
        while (!(p.pattern >> (acc % 8) & 1)) acc++;
      }
      CHECK(log.accept(k) == acc, "beat %u accepted in cycle %u, expected %u (pattern 0x%02x)",
            k, log.accept(k), acc, p.pattern);
      stall += log.accept(k) - log.present(k);
    }
  }
  if (p.max_out == 1 && p.pattern == 0) {
    CHECK(log.lat_min() == lr && log.lat_max() == lr && log.lat_sum() == lr * log.bursts(),
          "first-beat latency min %u max %u sum %u, expected all %u", log.lat_min(),
          log.lat_max(), log.lat_sum(), lr);
  }

  // W and B: the store starts at s = last beat + 2 with W beat 0; AW at s + wlead; the last beat
  // at max(s + 5, AW + 1); B (and the run's end) at wlast + lw.
  uint64_t s = uint64_t(log.last_r()) + 2;
  CHECK(log.aw() == s + p.wlead, "AW accepted in cycle %u, expected %" PRIu64, log.aw(),
        s + p.wlead);
  uint64_t wlast = std::max<uint64_t>(s + 5, uint64_t(log.aw()) + 1);
  uint64_t b_cycle = std::max<uint64_t>(wlast, log.aw()) + lw;
  uint64_t cycles = sim.rd64(CYCLES);
  CHECK(cycles == b_cycle + 1, "CYCLES %" PRIu64 ", expected %" PRIu64 " (B in cycle %" PRIu64
        ": WLAST %" PRIu64 " + Lw %u)", cycles, b_cycle + 1, b_cycle, wlast, lw);

  bool halt = p.op == c::kOpHalt;
  CHECK(sim.rd(STATUS) == (halt ? kDone : kDone | kError), "STATUS 0x%x", sim.rd(STATUS));
  CHECK(sim.rd(ERROR_CODE) == (halt ? c::kErrNone : c::kErrProgEnd), "ERROR_CODE %u",
        sim.rd(ERROR_CODE));
  CHECK(sim.rd(ERROR_PC) == (halt ? 0u : p.len), "ERROR_PC %u", sim.rd(ERROR_PC));
  CHECK(sim.rd(PC) == p.len, "PC %u, expected %u", sim.rd(PC), p.len);
  if (p.len <= 32) {
    CHECK(sim.rd64(STALL_CYCLES) == stall, "STALL_CYCLES %" PRIu64 ", expected %" PRIu64,
          sim.rd64(STALL_CYCLES), stall);
  }
}

// Counters after one run from cleared counters.
void check_counters(Sim &sim, const Prog &p) {
  uint64_t n = p.len;
  CHECK(sim.rd64(INSTRET) == n, "INSTRET %" PRIu64 ", expected %" PRIu64, sim.rd64(INSTRET), n);
  CHECK(sim.rd64(ARRAY_CYCLES) == n, "ARRAY_CYCLES %" PRIu64, sim.rd64(ARRAY_CYCLES));
  CHECK(sim.rd64(MACS) == n * kDim * kDim, "MACS %" PRIu64, sim.rd64(MACS));
  CHECK(sim.rd64(BYTES_READ) == c::kMemBeatBytes * n, "BYTES_READ %" PRIu64,
        sim.rd64(BYTES_READ));
  CHECK(sim.rd64(BYTES_WRITTEN) == 192, "BYTES_WRITTEN %" PRIu64, sim.rd64(BYTES_WRITTEN));
  CHECK(sim.rd64(BUSY_CYCLES) == sim.rd64(CYCLES), "BUSY_CYCLES %" PRIu64 " != CYCLES %" PRIu64,
        sim.rd64(BUSY_CYCLES), sim.rd64(CYCLES));
}

void test_registers(Card &card) {
  g_context = "registers";
  Sim sim(card, "fixed,read=32,write=16");
  CHECK(sim.rd(MAGIC) == c::kMagic, "MAGIC 0x%08x", sim.rd(MAGIC));
  CHECK(sim.rd(VERSION) == c::kVersion, "VERSION 0x%08x", sim.rd(VERSION));
  CHECK(sim.rd(HBM_MB) == kHbmMb, "HBM_MB %u (--param HbmMb=%u)", sim.rd(HBM_MB), kHbmMb);
  CHECK(sim.rd(HBM_CHANNELS) == c::kHbmChannelsDefault, "HBM_CHANNELS %u", sim.rd(HBM_CHANNELS));
  CHECK(sim.rd(ARRAY_ROWS) == kDim, "ARRAY_ROWS %u", sim.rd(ARRAY_ROWS));
  sim.wr(SCRATCH, 0xCAFEF00D);
  CHECK(sim.rd(SCRATCH) == 0xCAFEF00D, "SCRATCH");
  uint32_t v = 1;
  CHECK(api.read(sim.s, 0x1000, &v) == -1 && v == 0, "read outside the window");
  CHECK(api.read(sim.s, 0x062, &v) == -1, "unaligned read");
  CHECK(api.write(sim.s, 0x2000, 1) == -1, "write outside the window");
  uint64_t c0 = api.cycles(sim.s);
  sim.rd(MAGIC);
  uint64_t per_read = api.cycles(sim.s) - c0;
  CHECK(per_read >= 2 && per_read <= 4, "an AXI4-Lite read clocks %" PRIu64 " cycles", per_read);
  uint64_t total = sim.rd64(TOTAL_CYCLES), clocked = api.cycles(sim.s);
  CHECK(total <= clocked && total + 16 >= clocked, "TOTAL_CYCLES %" PRIu64 " vs %" PRIu64
        " cycles clocked", total, clocked);
  CHECK(api.run(sim.s, 100) == 0, "run while idle clocks nothing");
  CHECK(api.set_trace(sim.s, "/dev/null") == -1, "set_trace without --trace");
  std::printf("  registers: identification, --param, bad offsets, %" PRIu64
              " cycles per read, TOTAL_CYCLES\n", per_read);
}

void test_fixed(Card &card, unsigned lr, unsigned lw) {
  std::string config = "fixed,read=" + std::to_string(lr) + ",write=" + std::to_string(lw);
  Sim sim(card, config.c_str());
  struct Case {
    const char *name;
    Prog p;
  };
  std::vector<Case> cases;
  {
    Case c{"HALT, one beat", Prog()};
    cases.push_back(c);
  }
  {
    Case c{"40 beats across 4 KiB, one burst in flight, W 3 cycles before AW", Prog()};
    c.p.addr = 0xFC0;
    c.p.len = 40;
    c.p.op = c::kOpFence;
    c.p.max_out = 1;
    c.p.wlead = 3;
    c.p.log = 0x20000;
    cases.push_back(c);
  }
  {
    Case c{"40 beats, 4 bursts in flight, RREADY pattern 0xA5, W 7 cycles before AW", Prog()};
    c.p.addr = 0x3FE0;
    c.p.len = 40;
    c.p.max_out = 4;
    c.p.pattern = 0xA5;
    c.p.wlead = 7;
    c.p.log = 0x20100;
    cases.push_back(c);
  }
  {
    Case c{"30 beats, 3 in flight, RREADY pattern 0x11", Prog()};
    c.p.addr = 0x8000;
    c.p.len = 30;
    c.p.max_out = 3;
    c.p.pattern = 0x11;
    c.p.log = 0x20200;
    cases.push_back(c);
  }
  for (const Case &c : cases) {
    g_context = config + ": " + c.name;
    write_program(card, c.p);
    sim.wr(CTRL, kClearCounters);
    sim.wr(INT_ENABLE, kIntDone);
    sim.start(c.p);
    CHECK(api.busy(sim.s) == 1, "busy after START");
    uint64_t n = sim.finish();
    CHECK(api.irq(sim.s) == 1, "irq after the run (DONE enabled)");
    check_fixed_run(sim, card, c.p, lr, lw);
    check_counters(sim, c.p);
    sim.wr(INT_STATUS, kIntDone);
    CHECK(api.irq(sim.s) == 0, "irq low after the acknowledgement");
    std::printf("  %s: %s: CYCLES %" PRIu64 " (run clocked %" PRIu64 ")\n", config.c_str(),
                c.name, sim.rd64(CYCLES), n);
  }

  // PROG_RANGE ends in the start cycle: CYCLES = 1, BUSY_CYCLES + 1.
  g_context = config + ": PROG_RANGE";
  sim.wr(CTRL, kClearCounters);
  Prog bad[3];
  bad[0].len = 0;                                    // no instructions
  bad[1].addr = 0x110;                               // not a multiple of 32
  bad[2].addr = kHbmBytes - 64, bad[2].len = 3;      // past the end of HBM
  for (const Prog &p : bad) {
    sim.start(p);
    CHECK(api.busy(sim.s) == 0, "a PROG_RANGE run is over when the START write returns");
    CHECK(sim.rd(STATUS) == (kDone | kError), "STATUS 0x%x", sim.rd(STATUS));
    CHECK(sim.rd(ERROR_CODE) == c::kErrProgRange, "ERROR_CODE %u", sim.rd(ERROR_CODE));
    CHECK(sim.rd(ERROR_PC) == 0 && sim.rd(PC) == 0, "ERROR_PC/PC");
    CHECK(sim.rd64(CYCLES) == 1, "CYCLES %" PRIu64, sim.rd64(CYCLES));
  }
  CHECK(sim.rd64(BUSY_CYCLES) == 3, "BUSY_CYCLES %" PRIu64, sim.rd64(BUSY_CYCLES));

  // systole_sim_run stops at max_cycles.
  g_context = config + ": run(max_cycles)";
  Prog p;
  p.len = 200;
  p.addr = 0x40000;
  p.log = 0x20300;
  write_program(card, p);
  sim.start(p);
  CHECK(api.run(sim.s, 10) == 10 && api.busy(sim.s) == 1, "run(10) clocks 10 cycles");
  sim.finish();
  CHECK(sim.rd(STATUS) == kDone, "STATUS after 200 beats 0x%x", sim.rd(STATUS));
}

void test_faults(Card &card) {
  g_context = "faults: truncated file";
  Sim sim(card, "fixed");
  // The sim board's dma-short truncates the card memory file.
  CHECK(ftruncate(card.fd, 1 << 20) == 0, "truncate");
  Prog p;
  p.addr = 2 << 20;
  p.len = 4;
  sim.start(p);
  sim.finish();
  CHECK(sim.rd(STATUS) == (kDone | kError) && sim.rd(ERROR_CODE) == c::kErrMemFault,
        "a fetch past the end of the file: STATUS 0x%x ERROR_CODE %u", sim.rd(STATUS),
        sim.rd(ERROR_CODE));
  struct stat st;
  CHECK(fstat(card.fd, &st) == 0 && st.st_size == (1 << 20), "the file is not extended");
  p = Prog();
  p.log = 3 << 20;
  write_program(card, p, false);
  sim.start(p);
  sim.finish();
  CHECK(sim.rd(STATUS) == (kDone | kError) && sim.rd(ERROR_CODE) == c::kErrMemFault,
        "a store past the end of the file: STATUS 0x%x ERROR_CODE %u", sim.rd(STATUS),
        sim.rd(ERROR_CODE));
  CHECK(fstat(card.fd, &st) == 0 && st.st_size == (1 << 20), "the store did not extend the file");
  CHECK(ftruncate(card.fd, off_t(kHbmBytes)) == 0, "restore");
  p = Prog();
  write_program(card, p);
  sim.start(p);
  sim.finish();
  CHECK(sim.rd(STATUS) == kDone, "a run after the file is whole again: STATUS 0x%x",
        sim.rd(STATUS));

  g_context = "faults: past hbm_bytes";
  {
    Sim small(card, "fixed", 1 << 20);
    Prog q;
    q.addr = (1 << 20) - 64;  // beats 2 and 3 lie past hbm_bytes
    q.len = 4;
    write_program(card, q);
    small.start(q);
    small.finish();
    CHECK(small.rd(STATUS) == (kDone | kError) && small.rd(ERROR_CODE) == c::kErrMemFault,
          "a fetch past hbm_bytes: STATUS 0x%x ERROR_CODE %u", small.rd(STATUS),
          small.rd(ERROR_CODE));
    CHECK(small.rd(INSTRET) == 4, "the stub took all 4 beats (INSTRET %u)", small.rd(INSTRET));
  }
  std::printf("  faults: fetch and store past the end of a truncated file, fetch past hbm_bytes: "
              "MEM_FAULT, no crash, file not extended\n");
}

void test_soft_reset(Card &card, const char *config) {
  g_context = std::string(config) + ": SOFT_RESET";
  Sim sim(card, config);
  Prog p;
  p.addr = 0x80000;
  p.len = 300;
  p.max_out = 4;
  p.log = 0x21000;
  write_program(card, p);
  sim.wr(INT_ENABLE, kIntDone | kIntError);
  sim.wr(SCRATCH, 9);
  sim.start(p);
  api.run(sim.s, 60);  // the first bursts are in flight
  CHECK(api.busy(sim.s) == 1, "still running");
  sim.wr(CTRL, kSoftReset | kStart);
  CHECK(api.busy(sim.s) == 0, "not busy after SOFT_RESET");
  for (uint32_t r : {STATUS, ERROR_CODE, PC, PROG_LEN, INT_ENABLE, INT_STATUS, SCRATCH}) {
    CHECK(sim.rd(r) == 0, "register 0x%03x reads 0x%x after SOFT_RESET", r, sim.rd(r));
  }
  for (uint32_t c : {CYCLES, BUSY_CYCLES, INSTRET, BYTES_READ}) {
    CHECK(sim.rd64(c) == 0, "counter 0x%03x after SOFT_RESET", c);
  }
  // A new run at once: the stub begins it when the aborted reads have drained.
  Prog q;
  q.log = 0x22000;
  write_program(card, q);
  sim.start(q);
  sim.finish();
  CHECK(sim.rd(STATUS) == kDone, "STATUS after the run that follows 0x%x", sim.rd(STATUS));
  CHECK(sim.rd64(INSTRET) == 1, "INSTRET %" PRIu64 " after the run that follows",
        sim.rd64(INSTRET));
  Log log;
  card.get(q.log, log.w, sizeof log.w);
  CHECK(log.magic() == 0x42555453 && log.beats() == 1, "the log of the run that follows");
  std::printf("  %s: SOFT_RESET with bursts in flight, then a new run: ok\n", config);
}

struct HbmStats {
  uint64_t cycles;
  double mean_latency;
  uint32_t min_latency, max_latency;
  double beats_per_cycle;
};

HbmStats hbm_run(Card &card, const char *config, uint8_t max_out, uint32_t len, uint64_t addr) {
  Sim sim(card, config);
  Prog p;
  p.addr = addr;
  p.len = len;
  p.max_out = max_out;
  p.log = 0x30000;
  write_program(card, p);
  sim.start(p);
  sim.finish(20000000);
  Log log;
  card.get(p.log, log.w, sizeof log.w);
  CHECK(sim.rd(STATUS) == kDone, "STATUS 0x%x", sim.rd(STATUS));
  CHECK(log.magic() == 0x42555453 && log.beats() == len, "log: %u beats", log.beats());
  HbmStats s;
  s.cycles = sim.rd64(CYCLES);
  s.mean_latency = double(log.lat_sum()) / log.bursts();
  s.min_latency = log.lat_min();
  s.max_latency = log.lat_max();
  s.beats_per_cycle = double(len) / double(log.last_r() - log.ar(0));
  return s;
}

void test_hbm(Card &card) {
  g_context = "hbm";
  // Streaming one burst at a time over 4096 beats (128 KiB): the unloaded latency.
  HbmStats a = hbm_run(card, "hbm,seed=1", 1, 4096, 0x100000);
  CHECK(a.mean_latency >= 30.0 && a.mean_latency <= 34.0,
        "mean first-beat latency %.2f cycles, expected 32 +- 2", a.mean_latency);
  std::printf("  hbm,seed=1: streaming 4096 beats one burst at a time: first-beat latency mean "
              "%.2f, min %u, max %u cycles\n", a.mean_latency, a.min_latency, a.max_latency);
  // Four bursts in flight: the port delivers close to a beat per cycle.
  HbmStats b = hbm_run(card, "hbm,seed=1", 4, 4096, 0x100000);
  CHECK(b.beats_per_cycle >= 0.85, "throughput %.3f beats/cycle with 4 bursts in flight",
        b.beats_per_cycle);
  HbmStats f = hbm_run(card, "fixed", 4, 4096, 0x100000);
  std::printf("  hbm,seed=1: 4 bursts in flight: %.3f beats/cycle, CYCLES %" PRIu64
              " (fixed: %.3f, CYCLES %" PRIu64 ", %+.2f%%)\n", b.beats_per_cycle, b.cycles,
              f.beats_per_cycle, f.cycles, 100.0 * (double(b.cycles) / double(f.cycles) - 1));
  // The same seed gives the same cycles; another seed other jitter.
  HbmStats c = hbm_run(card, "hbm,seed=1", 1, 1024, 0x200000);
  HbmStats d = hbm_run(card, "hbm,seed=1", 1, 1024, 0x200000);
  HbmStats e = hbm_run(card, "hbm,seed=2", 1, 1024, 0x200000);
  CHECK(c.cycles == d.cycles, "seed 1 twice: CYCLES %" PRIu64 " and %" PRIu64, c.cycles,
        d.cycles);
  CHECK(c.cycles != e.cycles, "seeds 1 and 2 both give CYCLES %" PRIu64, c.cycles);
  std::printf("  hbm: seed 1 twice: CYCLES %" PRIu64 " and %" PRIu64 "; seed 2: %" PRIu64 "\n",
              c.cycles, d.cycles, e.cycles);
  g_context = "hbm: SOFT_RESET";
  test_soft_reset(card, "hbm,seed=3");
}

// A child process runs a store that breaks the protocol; the library must abort it with a clear
// message on stderr.
void test_violations(Card &card) {
  struct Case {
    const char *name;
    uint8_t viol;
    uint64_t log;
    const char *message;
  };
  const Case cases[] = {
      {"AWLEN = 16", 1, 0x10000, "len = 16"},
      {"AWSIZE = 4", 3, 0x10000, "size = 4"},
      {"WLAST on the first beat", 4, 0x10000, "WLAST is 1 on beat 0"},
      {"no WLAST", 5, 0x10000, "WLAST is 0 on beat 5"},
      {"a burst across 4 KiB", 0, 0x10FA0, "crosses a 4 KiB boundary"},
  };
  for (const Case &c : cases) {
    g_context = std::string("violation: ") + c.name;
    int pipefd[2];
    if (pipe(pipefd) != 0) {
      g_tally.fail("pipe");
      return;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(pipefd[1], 2);
      ::close(pipefd[0]);
      Sim sim(card, "fixed");
      Prog p;
      p.viol = c.viol;
      p.log = c.log;
      write_program(card, p);
      sim.start(p);
      sim.finish(100000);
      _exit(0);  // not reached if the library does its job
    }
    ::close(pipefd[1]);
    std::string err;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) err.append(buf, size_t(n));
    ::close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
          "the child was not aborted (status 0x%x)", status);
    CHECK(err.find("AXI protocol violation") != std::string::npos
              && err.find(c.message) != std::string::npos,
          "stderr does not say \"%s\": %s", c.message, err.c_str());
    if (!err.empty() && err.back() == '\n') err.pop_back();
    std::printf("  violation %s: aborted: %s\n", c.name, err.c_str());
  }
}

void test_bad_open(Card &card) {
  g_context = "open";
  char err[256];
  struct {
    const char *path, *config, *message;
  } cases[] = {
      {"/nonexistent/systole-hbm", "fixed", "cannot open"},
      {nullptr, "fixed,read=0", "out-of-range"},
      {nullptr, "fixed,latency=3", "unknown"},
      {nullptr, "dram", "unknown model"},
      {nullptr, "hbm,seed", "key=value"},
  };
  for (auto &c : cases) {
    err[0] = 0;
    systole_sim *s = api.open(c.path ? c.path : card.path.c_str(), kHbmBytes, c.config, err,
                              sizeof err);
    CHECK(!s && std::strstr(err, c.message), "open(%s, %s) gave %p, \"%s\"",
          c.path ? c.path : "card", c.config, static_cast<void *>(s), err);
    if (s) api.close(s);
  }
  api.close(nullptr);
  std::printf("  open: a missing file and bad configurations give NULL and a message\n");
}

void test_trace(Card &card) {
  g_context = "trace";
  std::string lib = build(" --trace");
  if (lib.empty()) {
    g_tally.fail("the --trace build failed");
    return;
  }
  Api traced;
  if (!traced.load(lib)) {
    g_tally.fail("cannot load %s", lib.c_str());
    return;
  }
  char err[256];
  systole_sim *s = traced.open(card.path.c_str(), kHbmBytes, "fixed", err, sizeof err);
  if (!s) {
    g_tally.fail("open: %s", err);
    return;
  }
  std::string fst = card.path + ".fst";
  CHECK(traced.set_trace(s, fst.c_str()) == 0, "set_trace");
  Prog p;
  write_program(card, p);
  uint32_t v;
  traced.write(s, PROG_ADDR_LO, uint32_t(p.addr));
  traced.write(s, PROG_LEN, p.len);
  traced.write(s, CTRL, kStart);
  while (traced.busy(s)) traced.run(s, 100000);
  traced.read(s, STATUS, &v);
  CHECK(v == kDone, "STATUS 0x%x", v);
  CHECK(traced.set_trace(s, nullptr) == 0, "closing the trace");
  traced.close(s);
  struct stat st;
  CHECK(stat(fst.c_str(), &st) == 0 && st.st_size > 1000, "the FST file %s", fst.c_str());
  std::printf("  trace: --trace build writes %lld bytes of FST for a HALT run\n",
              static_cast<long long>(st.st_size));
  ::unlink(fst.c_str());
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string file = __FILE__;  // <root>/fpga/tb/harness/tb.cpp
  for (int i = 0; i < 4; i++) file = file.substr(0, file.find_last_of('/'));
  g_root = file;
  std::printf("harness: deterministic (the hbm model's seeds are given below)\n");
  std::string lib = build("");
  if (lib.empty() || !api.load(lib)) return 2;
  std::printf("  library: %s\n", lib.c_str());
  Card card;
  test_registers(card);
  test_bad_open(card);
  test_fixed(card, 32, 16);
  test_fixed(card, 5, 3);
  test_faults(card);
  test_soft_reset(card, "fixed");
  test_hbm(card);
  test_violations(card);
  test_trace(card);
  if (g_tally.failures) {
    std::printf("harness: FAILED, %d of %d checks\n", g_tally.failures, g_tally.checks);
    return 1;
  }
  std::printf("harness: passed, %d checks\n", g_tally.checks);
  return 0;
}
