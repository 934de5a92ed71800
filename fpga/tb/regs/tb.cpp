// Testbench of systole_regs: the register window of CONTRACT.md section 3 behind AXI4-Lite, the
// counters of 9.5 and the interrupt line.
//
// Two layers of checks:
//  - a cycle-level reference model runs in lockstep with the RTL and every output is compared in
//    every cycle (AXI ready/valid/data, start_o, soft_reset_o, prog_addr_o, prog_len_o, busy_o,
//    irq_o);
//  - directed tests state the contract's rules at the level of register accesses (reset values,
//    access types, START/SOFT_RESET/CLEAR_COUNTERS, CYCLES = E + 1, the end of a run in its start
//    cycle, counter carries, the interrupt line, AW/W orders and backpressure);
// then a randomised phase (fixed seed, printed) mixes overlapping reads and writes in every AW/W
// order with random backpressure, random CTRL commands and a fake core that ends runs after random
// cycle counts (0 included) and drives random counter events.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../bench.h"
#include "Vsystole_regs.h"
#include "verilated.h"

namespace {

namespace c = systole_contract;

// Parameters of the build under test: the defaults of systole_regs, the contract's (with
// ArrayDim = TB_ARRAY_DIM, ../bench.h), BuildId 0 and no vector unit (VECTOR_UNIT and LUT_ROWS
// read 0, and VECTOR_CYCLES, whose events the bench never drives, stays 0: the bench counts the
// three among the offsets that read 0).
constexpr uint32_t kArrayDim = tb::kArrayDim, kAbufRows = tb::kAbufRows, kWbufRows = tb::kWbufRows,
                   kAccRows = tb::kAccRows;
constexpr uint32_t kHbmMb = c::kHbmMbDefault, kHbmChannels = c::kHbmChannelsDefault,
                   kClockKhz = c::kClockKhzDefault, kBuildId = 0;

// Register offsets (tables.md).
enum : uint32_t {
  MAGIC = c::kRegMagic, VERSION = c::kRegVersion, BUILD_ID = c::kRegBuildId,
  ARRAY_ROWS = c::kRegArrayRows, ARRAY_COLS = c::kRegArrayCols, ABUF_ROWS = c::kRegAbufRows,
  WBUF_ROWS = c::kRegWbufRows, ACC_ROWS = c::kRegAccRows, HBM_MB = c::kRegHbmMb,
  HBM_CHANNELS = c::kRegHbmChannels, CLOCK_KHZ = c::kRegClockKhz, CTRL = c::kRegCtrl,
  STATUS = c::kRegStatus, ERROR_CODE = c::kRegErrorCode, ERROR_PC = c::kRegErrorPc, PC = c::kRegPc,
  PROG_ADDR_LO = c::kRegProgAddrLo, PROG_ADDR_HI = c::kRegProgAddrHi, PROG_LEN = c::kRegProgLen,
  INT_ENABLE = c::kRegIntEnable, INT_STATUS = c::kRegIntStatus, SCRATCH = c::kRegScratch,
  CYCLES = c::kRegCycles, BUSY_CYCLES = c::kRegBusyCycles, ARRAY_CYCLES = c::kRegArrayCycles,
  STALL_CYCLES = c::kRegStallCycles, INSTRET = c::kRegInstret, MACS = c::kRegMacs,
  BYTES_READ = c::kRegBytesRead, BYTES_WRITTEN = c::kRegBytesWritten,
  TOTAL_CYCLES = c::kRegTotalCycles,
};
// Fields of CTRL, STATUS and INT_ENABLE/INT_STATUS.
constexpr uint32_t kStart = 1u << c::kRegCtrlStartLsb, kSoftReset = 1u << c::kRegCtrlSoftResetLsb,
                   kClearCounters = 1u << c::kRegCtrlClearCountersLsb;
constexpr uint32_t kBusy = 1u << c::kRegStatusBusyLsb, kDone = 1u << c::kRegStatusDoneLsb,
                   kError = 1u << c::kRegStatusErrorLsb;
constexpr uint32_t kIntDone = 1u << c::kRegIntStatusDoneLsb,
                   kIntError = 1u << c::kRegIntStatusErrorLsb, kIntBoth = kIntDone | kIntError;
static_assert(kIntDone == 1u << c::kRegIntEnableDoneLsb &&
              kIntError == 1u << c::kRegIntEnableErrorLsb, "INT_ENABLE and INT_STATUS bits agree");
// The register (4-byte) and counter (8-byte) an offset of the window falls in.
constexpr uint32_t kRegMask = (c::kRegisterWindowBytes - 1) & ~3u;
constexpr uint32_t kCounterMask = (c::kRegisterWindowBytes - 1) & ~7u;
const uint32_t kCounters[] = {CYCLES, BUSY_CYCLES, ARRAY_CYCLES, STALL_CYCLES, INSTRET,
                              MACS, BYTES_READ, BYTES_WRITTEN, TOTAL_CYCLES};

uint64_t g_cycle = 0;
std::string where() { return "at cycle " + std::to_string(g_cycle); }
constexpr int kShown = 20;                // mismatches printed
tb::Tally g_tally(kShown, where);  // mismatches, and the directed tests' checks

// Inputs of one cycle.
struct In {
  bool awvalid = false, wvalid = false, bready = false, arvalid = false, rready = false;
  uint32_t awaddr = 0, wdata = 0, wstrb = 0, araddr = 0;
  bool run_end = false;
  uint32_t run_error = 0, run_error_pc = 0, pc = 0;
  bool instret = false, stall = false;
  uint32_t array_rows = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
};

// Outputs of one cycle: functions of the registers only.
struct Out {
  bool awready, wready, bvalid, arready, rvalid, start, soft_reset, busy, irq;
  uint32_t bresp, rresp, rdata, prog_len;
  uint64_t prog_addr;
};

// The reference: what the register block does, cycle by cycle.
struct Model {
  bool aw_full = false, w_full = false, b_valid = false, r_valid = false;
  uint32_t aw_addr = 0, w_data = 0, w_strb = 0, r_data = 0;
  bool busy = false, done = false, error = false, start = false, soft_reset = false;
  uint32_t error_code = 0, error_pc = 0, pc = 0;
  uint32_t prog_addr_lo = 0, prog_addr_hi = 0, prog_len = 0, run_len = 0;
  uint64_t run_addr = 0;
  uint32_t int_enable = 0, int_status = 0, scratch = 0;
  uint64_t cycles = 0, busy_cycles = 0, array_cycles = 0, stall_cycles = 0, instret = 0, macs = 0,
           bytes_read = 0, bytes_written = 0, total_cycles = 0;

  Out out() const {
    Out o;
    o.awready = !aw_full && !b_valid;
    o.wready = !w_full && !b_valid;
    o.bvalid = b_valid;
    o.bresp = 0;
    o.arready = !r_valid;
    o.rvalid = r_valid;
    o.rresp = 0;
    o.rdata = r_data;
    o.start = start;
    o.soft_reset = soft_reset;
    o.busy = busy;
    o.irq = (int_status & int_enable) != 0;
    o.prog_addr = run_addr;
    o.prog_len = run_len;
    return o;
  }

  uint32_t value(uint32_t addr) const {
    switch (addr & kRegMask) {
      case MAGIC: return c::kMagic;
      case VERSION: return c::kVersion;
      case BUILD_ID: return kBuildId;
      case ARRAY_ROWS: case ARRAY_COLS: return kArrayDim;
      case ABUF_ROWS: return kAbufRows;
      case WBUF_ROWS: return kWbufRows;
      case ACC_ROWS: return kAccRows;
      case HBM_MB: return kHbmMb;
      case HBM_CHANNELS: return kHbmChannels;
      case CLOCK_KHZ: return kClockKhz;
      case STATUS: return (busy ? kBusy : 0) | (done ? kDone : 0) | (error ? kError : 0);
      case ERROR_CODE: return error_code;
      case ERROR_PC: return error_pc;
      case PC: return pc;
      case PROG_ADDR_LO: return prog_addr_lo;
      case PROG_ADDR_HI: return prog_addr_hi;
      case PROG_LEN: return prog_len;
      case INT_ENABLE: return int_enable;
      case INT_STATUS: return int_status;
      case SCRATCH: return scratch;
      default: break;
    }
    const uint64_t *c = nullptr;
    switch (addr & kCounterMask) {
      case CYCLES: c = &cycles; break;
      case BUSY_CYCLES: c = &busy_cycles; break;
      case ARRAY_CYCLES: c = &array_cycles; break;
      case STALL_CYCLES: c = &stall_cycles; break;
      case INSTRET: c = &instret; break;
      case MACS: c = &macs; break;
      case BYTES_READ: c = &bytes_read; break;
      case BYTES_WRITTEN: c = &bytes_written; break;
      case TOTAL_CYCLES: c = &total_cycles; break;
      default: return 0;
    }
    return (addr & 4) ? uint32_t(*c >> 32) : uint32_t(*c);
  }

  void step(const In &in) {
    Model n = *this;
    Out o = out();
    bool aw_hs = in.awvalid && o.awready, w_hs = in.wvalid && o.wready;
    bool fire = (aw_full || aw_hs) && (w_full || w_hs);
    uint32_t waddr = aw_full ? aw_addr : in.awaddr;
    uint32_t wdata = w_full ? w_data : in.wdata;
    uint32_t wstrb = w_full ? w_strb : in.wstrb;
    uint32_t mask = 0;
    for (int b = 0; b < 4; b++) {
      if (wstrb >> b & 1) mask |= 0xFFu << (8 * b);
    }
    uint32_t bits = wdata & mask;
    if (fire) {
      n.aw_full = n.w_full = false;
      n.b_valid = true;
    } else {
      if (aw_hs) { n.aw_full = true; n.aw_addr = in.awaddr; }
      if (w_hs) { n.w_full = true; n.w_data = in.wdata; n.w_strb = in.wstrb; }
    }
    if (b_valid && in.bready) n.b_valid = false;

    uint32_t word = fire ? (waddr & kRegMask) : 0xFFFFFFFF;
    bool soft = word == CTRL && (bits & kSoftReset);
    bool clear = word == CTRL && !soft && (bits & kClearCounters);
    bool go = word == CTRL && !soft && (bits & kStart) && !busy;
    n.start = go;
    n.soft_reset = soft;
    n.total_cycles = total_cycles + 1;
    if (word == PROG_ADDR_LO) n.prog_addr_lo = (prog_addr_lo & ~mask) | bits;
    if (word == PROG_ADDR_HI) n.prog_addr_hi = (prog_addr_hi & ~mask) | bits;
    if (word == PROG_LEN) n.prog_len = (prog_len & ~mask) | bits;
    if (word == SCRATCH) n.scratch = (scratch & ~mask) | bits;
    if (word == INT_ENABLE) n.int_enable = ((int_enable & ~mask) | bits) & kIntBoth;
    if (word == INT_STATUS) n.int_status = int_status & ~bits & kIntBoth;
    if (busy) {
      n.cycles = cycles + 1;
      if (!start) n.pc = in.pc;
      n.instret += in.instret;
      n.stall_cycles += in.stall;
      n.array_cycles += in.array_rows;
      n.macs += uint64_t(in.array_rows) * kArrayDim * kArrayDim;
      n.bytes_read += in.bytes_read;
      n.bytes_written += in.bytes_written;
    }
    if (in.run_end && busy) {
      bool failed = in.run_error != 0;
      n.busy = false;
      n.done = true;
      n.error = failed;
      n.error_code = in.run_error;
      n.error_pc = failed ? in.run_error_pc : 0;
      n.busy_cycles = busy_cycles + cycles + 1;
      n.int_status |= failed ? kIntBoth : kIntDone;
    }
    if (clear) {
      n.cycles = n.busy_cycles = n.array_cycles = n.stall_cycles = n.instret = n.macs = 0;
      n.bytes_read = n.bytes_written = n.total_cycles = 0;
    }
    if (go) {
      n.busy = true;
      n.done = n.error = false;
      n.error_code = n.error_pc = n.pc = 0;
      n.cycles = 0;
      n.run_addr = uint64_t(prog_addr_hi) << 32 | prog_addr_lo;
      n.run_len = prog_len;
    }
    if (soft) {
      n.busy = n.done = n.error = false;
      n.error_code = n.error_pc = n.pc = 0;
      n.prog_addr_lo = n.prog_addr_hi = n.prog_len = n.run_len = 0;
      n.run_addr = 0;
      n.int_enable = n.int_status = n.scratch = 0;
      n.cycles = n.busy_cycles = n.array_cycles = n.stall_cycles = n.instret = n.macs = 0;
      n.bytes_read = n.bytes_written = n.total_cycles = 0;
    }
    bool ar_hs = in.arvalid && o.arready;
    if (ar_hs) {
      n.r_valid = true;
      n.r_data = value(in.araddr);
    } else if (r_valid && in.rready) {
      n.r_valid = false;
    }
    // The model's copies of the AXI registers that were not touched above.
    *this = n;
  }
};

struct Bench {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vsystole_regs> dut;
  Model model;
  In in;
  std::mt19937_64 rng;

  // The fake core.
  bool core_running = false;
  uint64_t core_end_at = 0;           // cycle of run_end_i
  uint32_t core_error = 0, core_error_pc = 0;
  bool random_events = false;
  bool auto_end = true;               // end runs by itself after a random length
  int fixed_length = -1;              // E for the next run (-1: random)
  int next_error = -1;                // error code of the next run (-1: random)
  uint64_t last_start = 0;
  uint64_t starts_seen = 0, ends_driven = 0, ends_in_start_cycle = 0;

  explicit Bench(uint64_t seed) : ctx(new VerilatedContext), rng(seed) {
    dut.reset(new Vsystole_regs(ctx.get()));
    tb::reset(*dut, 3);
  }

  Out dut_out() const {
    Out o;
    o.awready = dut->s_axil_awready_o;
    o.wready = dut->s_axil_wready_o;
    o.bvalid = dut->s_axil_bvalid_o;
    o.bresp = dut->s_axil_bresp_o;
    o.arready = dut->s_axil_arready_o;
    o.rvalid = dut->s_axil_rvalid_o;
    o.rresp = dut->s_axil_rresp_o;
    o.rdata = dut->s_axil_rdata_o;
    o.start = dut->start_o;
    o.soft_reset = dut->soft_reset_o;
    o.busy = dut->busy_o;
    o.irq = dut->irq_o;
    o.prog_addr = dut->prog_addr_o;
    o.prog_len = dut->prog_len_o;
    return o;
  }

  void compare() {
    Out d = dut_out(), m = model.out();
    int before = g_tally.failures;
#define CMP(f)                                                                        \
  if (d.f != m.f)                                                                     \
  g_tally.fail(#f " is 0x%" PRIx64 ", expected 0x%" PRIx64, uint64_t(d.f), uint64_t(m.f))
    CMP(awready); CMP(wready); CMP(bvalid); CMP(bresp); CMP(arready); CMP(rvalid);
    CMP(rresp); CMP(start); CMP(soft_reset); CMP(busy); CMP(irq); CMP(prog_addr);
    CMP(prog_len);
    if (m.rvalid) CMP(rdata);
#undef CMP
    if (g_tally.failures != before && g_tally.failures <= kShown) {
      std::fprintf(stderr,
                   "  inputs: aw %d/0x%03x w %d/0x%08x/%x b %d ar %d/0x%03x r %d run_end %d "
                   "error %u/%u pc %u events %d/%u/%d/%" PRIu64 "/%" PRIu64 "\n",
                   in.awvalid, in.awaddr, in.wvalid, in.wdata, in.wstrb, in.bready, in.arvalid,
                   in.araddr, in.rready, in.run_end, in.run_error, in.run_error_pc, in.pc,
                   in.instret, in.array_rows, in.stall, in.bytes_read, in.bytes_written);
    }
  }

  // The fake core's inputs for this cycle (start_o is a register: known before the edge).
  void drive_core() {
    in.run_end = false;
    in.run_error = in.run_error_pc = 0;
    if (dut->soft_reset_o) {
      // Sometimes the aborted run's end arrives in the cycle of the clear: it must be ignored.
      if (core_running && (rng() & 3) == 0) {
        in.run_end = true;
        in.run_error = 3;
        in.run_error_pc = 7;
      }
      core_running = false;
    }
    if (dut->start_o) {
      starts_seen++;
      last_start = g_cycle;
      core_running = true;
      uint64_t len = fixed_length >= 0 ? uint64_t(fixed_length)
                                       : ((rng() % 4) == 0 ? 0 : rng() % 40);
      fixed_length = -1;
      core_end_at = g_cycle + len;
      uint32_t r = rng() % 3;
      core_error = r == 0 ? 0 : uint32_t(1 + rng() % c::kErrMemFault);  // any code
      if (next_error >= 0) core_error = uint32_t(next_error);
      next_error = -1;
      core_error_pc = uint32_t(rng());
    }
    if (core_running && auto_end && g_cycle == core_end_at) {
      in.run_end = true;
      in.run_error = core_error;
      in.run_error_pc = core_error_pc;
      core_running = false;
      ends_driven++;
      if (dut->start_o) ends_in_start_cycle++;
    }
    if (random_events) {
      in.pc = uint32_t(rng());
      in.instret = rng() & 1;
      in.stall = rng() & 1;
      in.array_rows = (rng() & 3) ? 0 : uint32_t(rng() % 0x20000);
      in.bytes_read = (rng() & 1) ? 0 : (rng() & 0xFFFFFFFFFFFFull);
      in.bytes_written = (rng() & 1) ? 0 : (rng() & 0xFFFFull);
    }
  }

  // One clock cycle: inputs, compare, edge.
  void tick() {
    drive_core();
    dut->s_axil_awvalid_i = in.awvalid;
    dut->s_axil_awaddr_i = in.awaddr;
    dut->s_axil_wvalid_i = in.wvalid;
    dut->s_axil_wdata_i = in.wdata;
    dut->s_axil_wstrb_i = in.wstrb;
    dut->s_axil_bready_i = in.bready;
    dut->s_axil_arvalid_i = in.arvalid;
    dut->s_axil_araddr_i = in.araddr;
    dut->s_axil_rready_i = in.rready;
    dut->run_end_i = in.run_end;
    dut->run_error_i = in.run_error;
    dut->run_error_pc_i = in.run_error_pc;
    dut->pc_i = in.pc;
    dut->instret_i = in.instret;
    dut->array_rows_i = in.array_rows;
    dut->stall_i = in.stall;
    dut->bytes_read_i = in.bytes_read;
    dut->bytes_written_i = in.bytes_written;
    tb::clock_low(*dut);
    compare();
    model.step(in);
    tb::clock_high(*dut);
    g_cycle++;
  }

  void idle(int n) {
    for (int i = 0; i < n; i++) tick();
  }

  // A blocking write: AW `aw_delay` cycles after W when negative, W `-w_delay`... see below.
  // aw_lag > 0: AW comes aw_lag cycles after W; aw_lag < 0: W comes -aw_lag cycles after AW.
  void write(uint32_t addr, uint32_t data, uint32_t strb = 0xF, int aw_lag = 0,
             int b_delay = 0) {
    int aw_wait = aw_lag > 0 ? aw_lag : 0, w_wait = aw_lag < 0 ? -aw_lag : 0;
    bool aw_done = false, w_done = false;
    for (int guard = 0; guard < 1000; guard++) {
      in.awvalid = !aw_done && aw_wait == 0;
      in.awaddr = addr;
      in.wvalid = !w_done && w_wait == 0;
      in.wdata = data;
      in.wstrb = strb;
      in.bready = aw_done && w_done && b_delay == 0;
      bool awr = dut->s_axil_awready_o, wr = dut->s_axil_wready_o;
      bool bv = dut->s_axil_bvalid_o;
      bool b_hs = in.bready && bv;
      if (aw_done && w_done && bv && b_delay > 0) b_delay--;
      bool aw_hs = in.awvalid && awr, w_hs = in.wvalid && wr;
      tick();
      if (aw_wait > 0) aw_wait--;
      if (w_wait > 0) w_wait--;
      aw_done |= aw_hs;
      w_done |= w_hs;
      if (b_hs) {
        in.awvalid = in.wvalid = in.bready = false;
        return;
      }
    }
    g_tally.fail("write of 0x%x to 0x%03x never completed", data, addr);
  }

  uint32_t read(uint32_t addr, int r_delay = 0) {
    bool ar_done = false;
    for (int guard = 0; guard < 1000; guard++) {
      in.arvalid = !ar_done;
      in.araddr = addr;
      in.rready = ar_done && r_delay == 0;
      bool arr = dut->s_axil_arready_o, rv = dut->s_axil_rvalid_o;
      uint32_t data = dut->s_axil_rdata_o;
      if (ar_done && rv && r_delay > 0) r_delay--;
      bool ar_hs = in.arvalid && arr, r_hs = in.rready && rv;
      tick();
      ar_done |= ar_hs;
      if (r_hs) {
        in.arvalid = in.rready = false;
        return data;
      }
    }
    g_tally.fail("read of 0x%03x never completed", addr);
    return 0;
  }

  uint64_t read64(uint32_t lo) {
    for (;;) {
      uint32_t hi = read(lo + 4), l = read(lo), hi2 = read(lo + 4);
      if (hi == hi2) return uint64_t(hi) << 32 | l;
    }
  }

  void expect(uint32_t addr, uint32_t want, const char *what) {
    g_tally.checks++;
    uint32_t got = read(addr);
    if (got != want) {
      g_tally.fail("%s: register 0x%03x reads 0x%08x, expected 0x%08x", what, addr, got, want);
    }
  }
  void expect64(uint32_t lo, uint64_t want, const char *what) {
    g_tally.checks++;
    uint64_t got = read64(lo);
    if (got != want) {
      g_tally.fail("%s: counter 0x%03x reads %" PRIu64 ", expected %" PRIu64, what, lo, got, want);
    }
  }

  // Waits for the fake core's run to end (busy_o low).
  void wait_idle() {
    for (int i = 0; i < 10000 && dut->busy_o; i++) tick();
    if (dut->busy_o) g_tally.fail("run never ended");
  }
};

#define CHECK(cond, ...) TB_CHECK(g_tally, cond, __VA_ARGS__)

bool named(uint32_t off) {
  static const uint32_t regs[] = {
      MAGIC, VERSION, BUILD_ID, ARRAY_ROWS, ARRAY_COLS, ABUF_ROWS, WBUF_ROWS, ACC_ROWS, HBM_MB,
      HBM_CHANNELS, CLOCK_KHZ, CTRL, STATUS, ERROR_CODE, ERROR_PC, PC, PROG_ADDR_LO,
      PROG_ADDR_HI, PROG_LEN, INT_ENABLE, INT_STATUS, SCRATCH};
  for (uint32_t r : regs) if (r == off) return true;
  return off >= CYCLES && off <= TOTAL_CYCLES + 4;
}

void directed(Bench &b) {
  // Reset values and the identification registers.
  b.expect(MAGIC, c::kMagic, "MAGIC");
  b.expect(VERSION, c::kVersion, "VERSION");
  b.expect(BUILD_ID, kBuildId, "BUILD_ID");
  b.expect(ARRAY_ROWS, kArrayDim, "ARRAY_ROWS");
  b.expect(ARRAY_COLS, kArrayDim, "ARRAY_COLS");
  b.expect(ABUF_ROWS, kAbufRows, "ABUF_ROWS");
  b.expect(WBUF_ROWS, kWbufRows, "WBUF_ROWS");
  b.expect(ACC_ROWS, kAccRows, "ACC_ROWS");
  b.expect(HBM_MB, kHbmMb, "HBM_MB");
  b.expect(HBM_CHANNELS, kHbmChannels, "HBM_CHANNELS");
  b.expect(CLOCK_KHZ, kClockKhz, "CLOCK_KHZ");
  for (uint32_t r : {CTRL, STATUS, ERROR_CODE, ERROR_PC, PC, PROG_ADDR_LO, PROG_ADDR_HI, PROG_LEN,
                     INT_ENABLE, INT_STATUS, SCRATCH}) {
    b.expect(r, 0, "reset value");
  }
  for (uint32_t c : kCounters) {
    if (c != TOTAL_CYCLES) b.expect64(c, 0, "counter after reset");
  }

  // Offsets that name no register read 0, and every write to them (and to ro registers) is
  // ignored.
  for (uint32_t off = 0; off < c::kRegisterWindowBytes; off += 4) {
    if (!named(off)) {
      b.write(off, 0xFFFFFFFF);
      b.expect(off, 0, "unnamed offset");
    }
  }
  for (uint32_t r : std::initializer_list<uint32_t>{MAGIC, VERSION, BUILD_ID, ARRAY_ROWS, HBM_MB, STATUS, ERROR_CODE, ERROR_PC,
                     PC, CYCLES, BUSY_CYCLES + 4u, INSTRET}) {
    b.write(r, 0xA5A5A5A5);
  }
  b.expect(MAGIC, c::kMagic, "MAGIC after writes");
  b.expect(STATUS, 0, "STATUS after writes");
  b.expect(PC, 0, "PC after writes");
  b.expect64(CYCLES, 0, "CYCLES after writes");
  b.expect64(INSTRET, 0, "INSTRET after writes");

  // rw registers keep 32 bits, INT_ENABLE bits 1:0; CTRL reads 0; WSTRB selects bytes.
  b.write(PROG_ADDR_LO, 0xDEADBEE0);
  b.write(PROG_ADDR_HI, 0x89ABCDEF);
  b.write(PROG_LEN, 0xFFFFFFFF);
  b.write(SCRATCH, 0x12345678);
  b.write(INT_ENABLE, 0xFFFFFFFF);
  b.expect(PROG_ADDR_LO, 0xDEADBEE0, "PROG_ADDR_LO");
  b.expect(PROG_ADDR_HI, 0x89ABCDEF, "PROG_ADDR_HI");
  b.expect(PROG_LEN, 0xFFFFFFFF, "PROG_LEN");
  b.expect(SCRATCH, 0x12345678, "SCRATCH");
  b.expect(INT_ENABLE, kIntBoth, "INT_ENABLE keeps bits 1:0");
  b.write(SCRATCH, 0xAABBCCDD, 0x2);
  b.expect(SCRATCH, 0x1234CC78, "SCRATCH after a write of byte 1 only");
  b.write(INT_ENABLE, 0);
  b.write(CTRL, 0);
  b.expect(CTRL, 0, "CTRL");

  // AW/W orders and backpressure: W first, AW first, long B and R stalls.
  b.write(SCRATCH, 0x11111111, 0xF, 5, 0);
  b.expect(SCRATCH, 0x11111111, "W five cycles before AW");
  b.write(SCRATCH, 0x22222222, 0xF, -5, 0);
  b.expect(SCRATCH, 0x22222222, "AW five cycles before W");
  b.write(SCRATCH, 0x33333333, 0xF, 0, 12);
  CHECK(b.read(SCRATCH, 9) == 0x33333333, "SCRATCH read with RREADY held low");

  // A run: START latches PROG_ADDR/PROG_LEN and clears the run's registers; CYCLES = E + 1.
  b.write(PROG_ADDR_LO, 0x1000);
  b.write(PROG_ADDR_HI, 0x2);
  b.write(PROG_LEN, 77);
  b.fixed_length = 25;
  b.write(CTRL, kStart);
  uint64_t start_cycle = b.last_start;
  CHECK(b.starts_seen == 1, "one start_o pulse after START (saw %" PRIu64 ")", b.starts_seen);
  CHECK(b.dut->prog_addr_o == 0x200001000ull, "prog_addr_o latched at START");
  CHECK(b.dut->prog_len_o == 77, "prog_len_o latched at START");
  b.expect(STATUS, kBusy, "STATUS while running");
  b.write(PROG_ADDR_LO, 0x5000);
  b.write(PROG_LEN, 3);
  CHECK(b.dut->prog_addr_o == 0x200001000ull && b.dut->prog_len_o == 77,
        "prog_addr_o/prog_len_o stable while the run lasts");
  b.write(CTRL, kStart);  // ignored while BUSY
  CHECK(b.starts_seen == 1, "START while BUSY is ignored");
  b.wait_idle();
  b.expect(STATUS, b.core_error ? (kDone | kError) : kDone, "STATUS after the run");
  b.expect64(CYCLES, 26, "CYCLES of a run that ends in cycle 25");
  b.expect64(BUSY_CYCLES, 26, "BUSY_CYCLES after one run");
  b.expect(ERROR_CODE, b.core_error, "ERROR_CODE");
  b.expect(ERROR_PC, b.core_error ? b.core_error_pc : 0, "ERROR_PC");
  b.expect(INT_STATUS, b.core_error ? kIntBoth : kIntDone, "INT_STATUS after the run");
  CHECK(b.ends_driven == 1 && b.last_start == start_cycle, "the run ended once");

  // PROG_RANGE: the run ends in its start cycle; CYCLES = 1, PC = 0.
  b.write(INT_STATUS, kIntBoth);
  b.write(PROG_LEN, 0);
  b.fixed_length = 0;
  b.in.pc = 1234;
  b.write(CTRL, kStart);
  b.wait_idle();
  CHECK(b.ends_in_start_cycle == 1, "the run ended in its start cycle");
  b.expect64(CYCLES, 1, "CYCLES of a run that ends in cycle 0");
  b.expect64(BUSY_CYCLES, 27, "BUSY_CYCLES after two runs");
  b.expect(PC, 0, "PC after a run that ended in cycle 0");
  b.expect(STATUS, b.core_error ? (kDone | kError) : kDone, "STATUS after a cycle-0 end");

  // PC follows pc_i during a run and holds its last value.
  b.fixed_length = 10;
  b.write(CTRL, kStart);
  b.in.pc = 42;
  b.wait_idle();
  b.in.pc = 99;
  b.idle(3);
  b.expect(PC, 42, "PC after the run");

  // Counter events count during runs only; carry into HI.
  b.auto_end = false;
  b.write(CTRL, kClearCounters | kStart);
  b.in.bytes_read = 0xFFFFFFFFFFFFull;
  b.in.bytes_written = 0x80000000ull;
  b.in.array_rows = 0x1FFFF;
  b.in.instret = true;
  b.in.stall = true;
  b.idle(300);
  b.in = In();
  b.auto_end = true;
  b.core_end_at = g_cycle + 2;
  b.core_error = 0;
  b.wait_idle();
  {
    // Events were driven in the cycles from the start_o cycle up to the one before the end.
    uint64_t n = b.model.instret;
    CHECK(n >= 300, "events counted (%" PRIu64 ")", n);
    b.expect64(INSTRET, n, "INSTRET");
    b.expect64(STALL_CYCLES, n, "STALL_CYCLES");
    b.expect64(BYTES_READ, n * 0xFFFFFFFFFFFFull, "BYTES_READ carries into HI");
    b.expect64(BYTES_WRITTEN, n * 0x80000000ull, "BYTES_WRITTEN carries into HI");
    b.expect64(ARRAY_CYCLES, n * 0x1FFFF, "ARRAY_CYCLES");
    b.expect64(MACS, n * 0x1FFFFull * kArrayDim * kArrayDim, "MACS carries into HI");
    CHECK(b.read(MACS + 4) != 0 && b.read(BYTES_READ + 4) != 0, "HI halves are non-zero");
  }
  // Nothing counts between runs.
  {
    uint64_t instret = b.read64(INSTRET), bytes = b.read64(BYTES_READ);
    b.in.instret = true;
    b.in.bytes_read = 5;
    b.in.array_rows = 3;
    b.idle(20);
    b.in = In();
    b.expect64(INSTRET, instret, "INSTRET between runs");
    b.expect64(BYTES_READ, bytes, "BYTES_READ between runs");
  }
  uint64_t t0 = b.read64(TOTAL_CYCLES);
  b.idle(100);
  uint64_t t1 = b.read64(TOTAL_CYCLES);
  CHECK(t1 - t0 >= 100 && t1 - t0 < 120, "TOTAL_CYCLES counts every cycle (%" PRIu64 ")",
        t1 - t0);

  // CLEAR_COUNTERS | START: cleared first, then started.
  b.fixed_length = 5;
  b.write(CTRL, kClearCounters | kStart);
  b.wait_idle();
  b.expect64(BUSY_CYCLES, 6, "BUSY_CYCLES after CLEAR_COUNTERS | START");
  b.expect64(CYCLES, 6, "CYCLES after CLEAR_COUNTERS | START");
  CHECK(b.read64(TOTAL_CYCLES) < 60, "TOTAL_CYCLES cleared");

  // Interrupts: the line follows INT_STATUS & INT_ENABLE; enabling a pending bit raises it.
  b.write(INT_ENABLE, 0);
  CHECK(!b.dut->irq_o, "irq low with INT_ENABLE = 0");
  b.write(INT_ENABLE, kIntDone);
  CHECK(b.dut->irq_o, "irq high once enabled with DONE pending");
  b.write(INT_STATUS, kIntDone);
  CHECK(!b.dut->irq_o, "irq low after the acknowledgement");
  b.write(INT_STATUS, kIntBoth);
  b.expect(INT_STATUS, 0, "INT_STATUS after the acknowledgement");
  b.write(INT_ENABLE, kIntError);
  b.fixed_length = 3;
  b.next_error = 0;
  b.write(CTRL, kStart);
  b.wait_idle();
  CHECK(!b.dut->irq_o, "a clean run with only ERROR enabled: no irq");
  b.expect(INT_STATUS, kIntDone, "INT_STATUS after a clean run");
  b.fixed_length = 3;
  b.next_error = 6;
  b.write(CTRL, kStart);
  b.wait_idle();
  CHECK(b.dut->irq_o, "a failed run with ERROR enabled: irq");
  b.expect(INT_STATUS, kIntBoth, "INT_STATUS after a failed run");
  b.expect(STATUS, kDone | kError, "STATUS after a failed run");
  b.expect(ERROR_CODE, 6, "ERROR_CODE after a failed run");
  b.write(INT_STATUS, kIntError);
  CHECK(!b.dut->irq_o, "irq low after acknowledging ERROR");
  b.expect(INT_STATUS, kIntDone, "INT_STATUS keeps DONE when ERROR is acknowledged");

  // SOFT_RESET takes precedence over the other bits and resets everything, even mid-run.
  b.write(SCRATCH, 5);
  b.write(PROG_LEN, 9);
  b.write(INT_ENABLE, kIntBoth);
  b.auto_end = false;
  b.write(CTRL, kStart);
  b.idle(5);
  uint64_t starts = b.starts_seen;
  b.write(CTRL, kSoftReset | kStart | kClearCounters);
  b.auto_end = true;
  CHECK(b.read64(TOTAL_CYCLES) < 20, "TOTAL_CYCLES restarts at SOFT_RESET");
  CHECK(b.starts_seen == starts, "SOFT_RESET | START does not start");
  for (uint32_t r : {STATUS, ERROR_CODE, ERROR_PC, PC, PROG_ADDR_LO, PROG_ADDR_HI, PROG_LEN,
                     INT_ENABLE, INT_STATUS, SCRATCH}) {
    b.expect(r, 0, "after SOFT_RESET");
  }
  for (uint32_t c : kCounters) {
    if (c != TOTAL_CYCLES) b.expect64(c, 0, "counter after SOFT_RESET");
  }
  CHECK(!b.dut->busy_o && b.dut->prog_len_o == 0 && b.dut->prog_addr_o == 0,
        "busy_o, prog_addr_o, prog_len_o after SOFT_RESET");
  // SOFT_RESET while idle, with START: still no start.
  b.write(CTRL, kSoftReset | kStart);
  CHECK(b.starts_seen == starts, "SOFT_RESET | START while idle does not start");
}

// Random traffic: overlapping reads and writes, random orders and stalls, random commands.
void randomised(Bench &b, uint64_t cycles) {
  // The last four name no register of this build, or one that stays 0 (VECTOR_CYCLES).
  static const uint32_t targets[] = {
      CTRL, CTRL, CTRL, CTRL, STATUS, PROG_ADDR_LO, PROG_ADDR_HI, PROG_LEN, INT_ENABLE,
      INT_STATUS, INT_STATUS, SCRATCH, CYCLES, CYCLES + 4, BUSY_CYCLES, TOTAL_CYCLES, MAGIC, PC,
      ERROR_CODE, ERROR_PC, 0x0C, 0x7C, c::kRegVectorCycles, c::kRegisterWindowBytes - 4};
  std::mt19937_64 &rng = b.rng;
  b.random_events = true;
  // Write state.
  bool w_active = false, aw_done = false, w_done = false;
  int aw_wait = 0, w_wait = 0;
  // Read state.
  bool r_active = false, ar_done = false;
  uint64_t writes = 0, reads = 0, soft_resets = 0;
  uint64_t end = g_cycle + cycles;
  while (g_cycle < end) {
    if (!w_active && (rng() % 3) == 0) {
      w_active = true;
      aw_done = w_done = false;
      int order = rng() % 3;
      aw_wait = order == 1 ? int(rng() % 4) : 0;
      w_wait = order == 2 ? int(rng() % 4) : 0;
      uint32_t addr = targets[rng() % (sizeof targets / sizeof targets[0])] | uint32_t(rng() & 3);
      uint32_t data = uint32_t(rng());
      if ((addr & 0xFFC) == CTRL) {
        // START mostly; CLEAR_COUNTERS sometimes; SOFT_RESET rarely.
        data = kStart | ((rng() % 8) == 0 ? kClearCounters : 0)
               | ((rng() % 40) == 0 ? kSoftReset : 0) | (uint32_t(rng()) & 0xFFFFFFF8u);
        if ((rng() % 6) == 0) data &= ~kStart;
        if (data & kSoftReset) soft_resets++;
      }
      b.in.awaddr = addr;
      b.in.wdata = data;
      b.in.wstrb = (rng() % 5) == 0 ? uint32_t(rng() & 0xF) : 0xF;
      writes++;
    }
    if (!r_active && (rng() % 3) == 0) {
      r_active = true;
      ar_done = false;
      b.in.araddr = targets[rng() % (sizeof targets / sizeof targets[0])] | uint32_t(rng() & 3);
      reads++;
    }
    b.in.awvalid = w_active && !aw_done && aw_wait == 0;
    b.in.wvalid = w_active && !w_done && w_wait == 0;
    b.in.bready = (rng() % 3) != 0;
    b.in.arvalid = r_active && !ar_done;
    b.in.rready = (rng() % 3) != 0;
    bool aw_hs = b.in.awvalid && b.dut->s_axil_awready_o;
    bool w_hs = b.in.wvalid && b.dut->s_axil_wready_o;
    bool b_hs = b.in.bready && b.dut->s_axil_bvalid_o;
    bool ar_hs = b.in.arvalid && b.dut->s_axil_arready_o;
    bool r_hs = b.in.rready && b.dut->s_axil_rvalid_o;
    b.tick();
    if (aw_wait > 0) aw_wait--;
    if (w_wait > 0) w_wait--;
    aw_done |= aw_hs;
    w_done |= w_hs;
    if (b_hs) w_active = false;
    ar_done |= ar_hs;
    if (r_hs) r_active = false;
  }
  b.random_events = false;
  b.in = In();
  b.idle(50);
  std::printf("  random: %" PRIu64 " writes, %" PRIu64 " reads, %" PRIu64 " soft resets, %" PRIu64
              " runs started, %" PRIu64 " ended by the core (%" PRIu64 " in their start cycle)\n",
              writes, reads, soft_resets, b.starts_seen, b.ends_driven, b.ends_in_start_cycle);
}

}  // namespace

int main(int argc, char **argv) {
  uint64_t seed = 0x5157535245475321ull;
  if (argc > 1) seed = std::strtoull(argv[1], nullptr, 0);
  std::printf("regs: seed 0x%" PRIx64 "\n", seed);
  Bench b(seed);
  directed(b);
  std::printf("  directed: %d checks of access types, reset values, START, SOFT_RESET, "
              "CLEAR_COUNTERS, CYCLES, counters, irq, AW/W orders\n", g_tally.checks);
  randomised(b, 400000);
  std::printf("  lockstep with the reference model for %" PRIu64 " cycles\n", g_cycle);
  if (g_tally.failures) {
    std::printf("regs: FAILED, %d mismatches\n", g_tally.failures);
    return 1;
  }
  std::printf("regs: passed\n");
  return 0;
}
