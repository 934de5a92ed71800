// The assertion bench: the RTL's assertions are compiled in (Verilator --assert, which
// scripts/rtl-tests passes to every bench) and a violated one fails the run. The top,
// assertion_tb.sv, holds a 4-entry systole_fifo, a 48-row systole_ram, systole_regs (AXI4-Lite
// slave), systole_fetch (AXI4 read master) and a 4 x 4 systole_array, each on its own ports.
//
// Usage: tb [MODE]
//   legal                (the default, what scripts/rtl-tests runs) every instance driven by its
//                        rules, stalls included; passes when no assertion fails and every result
//                        is right
//   fifo-push-full       a push into the full FIFO       systole_fifo: push into a full FIFO
//   fifo-pop-empty       a pop of the empty FIFO         systole_fifo: pop of an empty FIFO
//   ram-row-range        a write to row 50 of 48         systole_ram: write address 50 ...
//   axil-aw-changed      AWADDR changes while AW waits   systole_regs: AW: awaddr changed ...
//   fetch-r-unrequested  an R beat nobody asked for      systole_fetch: R: beat that no ...
//   array-tile-overlap   a tile 2 cycles after the last  systole_array: w_first_i 2 cycles ...
//   array-bank-hazard    rows of bank 0 while a tile     systole_array: a valid row reads
//                        is written into bank 0          weight bank 0 ...
// Exit status: 0 the legal mode passed; 1 the run failed (an assertion, whose message Verilator
// prints, or a wrong result); 2 a violation mode ended without any assertion failing (a build
// without --assert); 3 a bad argument.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "Vassertion_tb.h"
#include "verilated.h"

namespace {

constexpr uint32_t kScratch = 0x078;  // SCRATCH, a plain rw register
constexpr int kD = 4;                 // the array's size

const char* const kModes[] = {"legal",           "fifo-push-full",     "fifo-pop-empty",
                              "ram-row-range",   "axil-aw-changed",    "fetch-r-unrequested",
                              "array-tile-overlap", "array-bank-hazard"};

// A failed assertion ends the run: Verilator prints its message and "$stop", and with
// fatalOnError off it returns to the bench, which stops here.
struct AssertionFailed {};

class Bench {
 public:
  explicit Bench(int argc, char** argv) : ctx_(new VerilatedContext) {
    ctx_->commandArgs(argc, argv);
    ctx_->fatalOnError(false);
    top_.reset(new Vassertion_tb(ctx_.get()));
  }
  ~Bench() { top_->final(); }

  Vassertion_tb& top() { return *top_; }
  long cycle() const { return cycle_; }

  void reset() {
    top_->clk_i = 0;
    top_->rst_ni = 1;
    eval();
    top_->rst_ni = 0;
    eval();
    step();
    step();
    top_->rst_ni = 1;
    eval();
    step();  // the assertions check from the second edge after reset
  }

  // The rest of the cycle after the inputs are set: the clock's low half, then the rising edge.
  void step() {
    top_->clk_i = 0;
    eval();
    top_->clk_i = 1;
    eval();
    cycle_++;
    ctx_->time(cycle_);  // Verilator's messages show the cycle
  }

  // Settles the model with the inputs set so far (outputs of this cycle become visible).
  void eval() {
    top_->eval();
    if (ctx_->gotError()) throw AssertionFailed{};
  }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vassertion_tb> top_;
  long cycle_ = 0;
};

int g_errors = 0;

void expect(bool ok, const char* what, long cycle) {
  if (!ok) {
    if (g_errors < 10) std::printf("assertion tb: wrong result: %s (cycle %ld)\n", what, cycle);
    g_errors++;
  }
}

// --- systole_fifo -------------------------------------------------------------------------------
void fifo(Bench& b, const std::string& mode) {
  auto& t = b.top();
  auto cycle = [&](bool push, uint8_t data, bool pop) {
    t.fifo_push_i = push;
    t.fifo_wdata_i = data;
    t.fifo_pop_i = pop;
    b.step();
    t.fifo_push_i = t.fifo_pop_i = 0;
  };
  if (mode == "fifo-pop-empty") {
    cycle(false, 0, true);
    return;
  }
  for (int i = 1; i <= 4; i++) cycle(true, uint8_t(i), false);
  b.eval();
  expect(t.fifo_count_o == 4 && t.fifo_valid_o && t.fifo_rdata_o == 1, "FIFO full of 1..4",
         b.cycle());
  if (mode == "fifo-push-full") {
    cycle(true, 5, false);
    return;
  }
  cycle(true, 5, true);  // push and pop together when full: legal
  for (int i = 2; i <= 5; i++) {
    b.eval();
    expect(t.fifo_valid_o && t.fifo_rdata_o == i, "FIFO head in order", b.cycle());
    cycle(false, 0, true);
  }
  b.eval();
  expect(!t.fifo_valid_o && t.fifo_count_o == 0, "FIFO empty again", b.cycle());
}

// --- systole_ram --------------------------------------------------------------------------------
void ram(Bench& b, const std::string& mode) {
  auto& t = b.top();
  if (mode == "ram-row-range") {
    t.ram_we_i = 1;
    t.ram_waddr_i = 50;
    b.step();
    t.ram_we_i = 0;
    return;
  }
  for (int r = 0; r < 48; r++) {
    t.ram_we_i = 1;
    t.ram_waddr_i = r;
    t.ram_wdata_i = uint8_t(3 * r + 1);
    b.step();
  }
  t.ram_we_i = 0;
  for (int r = 0; r < 48; r++) {
    t.ram_re_i = 1;
    t.ram_raddr_i = r;
    b.step();
    t.ram_re_i = 0;
    b.eval();
    expect(t.ram_rdata_o == uint8_t(3 * r + 1), "RAM row read back", b.cycle());
  }
}

// --- systole_regs (AXI4-Lite) -------------------------------------------------------------------
void regs(Bench& b, const std::string& mode) {
  auto& t = b.top();
  // A write of SCRATCH whose B response the master holds off for 3 cycles; meanwhile a second
  // write's AW and W wait (AWREADY and WREADY are 0 while B is pending), AWADDR held steady, as
  // the rules ask (or changed, in mode axil-aw-changed).
  t.s_axil_awaddr_i = kScratch;
  t.s_axil_wdata_i = 0x11111111u;
  t.s_axil_wstrb_i = 0xF;
  t.s_axil_awvalid_i = t.s_axil_wvalid_i = 1;
  t.s_axil_bready_i = 0;
  b.eval();
  expect(t.s_axil_awready_o && t.s_axil_wready_o, "AW and W ready when idle", b.cycle());
  b.step();
  t.s_axil_awvalid_i = t.s_axil_wvalid_i = 0;
  b.step();
  // B pending: the second write waits.
  t.s_axil_awaddr_i = kScratch;
  t.s_axil_wdata_i = 0xC0FFEE42u;
  t.s_axil_awvalid_i = t.s_axil_wvalid_i = 1;
  for (int i = 0; i < 3; i++) {
    b.eval();
    expect(t.s_axil_bvalid_o && !t.s_axil_awready_o && !t.s_axil_wready_o,
           "AW and W stalled while B waits", b.cycle());
    b.step();
    if (mode == "axil-aw-changed") t.s_axil_awaddr_i = 0x070;  // AWVALID high, AWREADY low
  }
  t.s_axil_bready_i = 1;
  bool b1 = false, aw = false, w = false;
  for (int i = 0; i < 10 && !(b1 && aw && w); i++) {
    b.eval();
    if (t.s_axil_bvalid_o) b1 = true;
    if (t.s_axil_awvalid_i && t.s_axil_awready_o) aw = true;
    if (t.s_axil_wvalid_i && t.s_axil_wready_o) w = true;
    b.step();
    if (aw) t.s_axil_awvalid_i = 0;
    if (w) t.s_axil_wvalid_i = 0;
  }
  expect(b1 && aw && w, "second write accepted after the first B", b.cycle());
  for (int i = 0; i < 10; i++) {
    b.eval();
    if (t.s_axil_bvalid_o) break;
    b.step();
  }
  b.step();  // B of the second write
  t.s_axil_bready_i = 0;
  // Read it back, R held off for 2 cycles.
  t.s_axil_araddr_i = kScratch;
  t.s_axil_arvalid_i = 1;
  t.s_axil_rready_i = 0;
  b.eval();
  expect(t.s_axil_arready_o, "AR ready when idle", b.cycle());
  b.step();
  t.s_axil_arvalid_i = 0;
  b.step();
  b.step();
  t.s_axil_rready_i = 1;
  b.eval();
  expect(t.s_axil_rvalid_o && t.s_axil_rdata_o == 0xC0FFEE42u, "SCRATCH reads the second write",
         b.cycle());
  b.step();
  t.s_axil_rready_i = 0;
}

// --- systole_fetch (AXI4 read master) -----------------------------------------------------------
void fetch(Bench& b, const std::string& mode) {
  auto& t = b.top();
  if (mode == "fetch-r-unrequested") {
    t.fetch_rvalid_i = 1;
    t.fetch_rlast_i = 1;
    b.step();
    t.fetch_rvalid_i = 0;
    return;
  }
  // Ten instructions from 0xFA0: the first burst stops at the 4 KiB boundary at 0x1000. The memory
  // takes an AR in two cycles of three, answers 3 cycles after it, one beat a cycle; the issue
  // side pops in every other cycle.
  const uint64_t base = 0xFA0;
  const int count = 10;
  struct Burst {
    uint64_t addr;
    int beats, next;
    long due;
  };
  std::deque<Burst> bursts;
  int popped = 0;
  t.fetch_prog_addr_i = base;
  t.fetch_prog_len_i = count;
  t.fetch_start_i = 1;
  for (int c = 0; c < 200 && popped < count; c++) {
    t.fetch_arready_i = (c % 3) != 2;
    t.fetch_rvalid_i = 0;
    t.fetch_rlast_i = 0;
    if (!bursts.empty() && bursts.front().due <= b.cycle()) {
      const Burst& f = bursts.front();
      const uint64_t a = f.addr + 32u * uint64_t(f.next);
      for (int w = 0; w < 8; w++) t.fetch_rdata_i[w] = w == 0 ? uint32_t(a) : uint32_t(w);
      t.fetch_rvalid_i = 1;
      t.fetch_rlast_i = f.next == f.beats - 1;
    }
    t.fetch_instr_pop_i = 0;
    b.eval();
    if (t.fetch_instr_valid_o && (c % 2) == 0) {
      expect(t.fetch_instr_o[0] == uint32_t(base + 32u * uint64_t(popped)),
             "instructions in program order", b.cycle());
      t.fetch_instr_pop_i = 1;
      popped++;
    }
    if (t.fetch_arvalid_o && t.fetch_arready_i) {
      bursts.push_back(Burst{t.fetch_araddr_o, int(t.fetch_arlen_o) + 1, 0, b.cycle() + 3});
    }
    if (t.fetch_rvalid_i) {
      Burst& f = bursts.front();
      if (++f.next == f.beats) bursts.pop_front();
      else f.due = b.cycle() + 1;
    }
    b.step();
    t.fetch_start_i = 0;
  }
  t.fetch_instr_pop_i = 0;
  t.fetch_arready_i = 0;
  expect(popped == count, "all ten instructions fetched", b.cycle());
}

// --- systole_array ------------------------------------------------------------------------------
void array(Bench& b, const std::string& mode) {
  auto& t = b.top();
  int8_t w[2][kD][kD];
  for (int bank = 0; bank < 2; bank++) {
    for (int k = 0; k < kD; k++) {
      for (int n = 0; n < kD; n++) w[bank][k][n] = int8_t(17 * bank + 5 * k - 3 * n - 7);
    }
  }
  auto pack = [](const int8_t* v) {
    uint32_t x = 0;
    for (int i = 0; i < kD; i++) x |= uint32_t(uint8_t(v[i])) << (8 * i);
    return x;
  };
  // Relative to c0: tile 0 into bank 0 at 0, tile 1 into bank 1 at 4 (D cycles later); rows of
  // bank 0 from 5 (f + D + 1) to 10, of bank 1 from 11 to 14. Mode array-tile-overlap starts the
  // second tile at 2; mode array-bank-hazard sends bank-0 rows at 1 and 2, into tile 0's write.
  const bool overlap = mode == "array-tile-overlap", hazard = mode == "array-bank-hazard";
  const int tile1_at = overlap ? 2 : kD;
  struct Out {
    long cycle;
    int32_t v[kD];
  };
  std::deque<Out> outs;
  const long c0 = b.cycle();
  for (int c = 0; c < 40; c++) {
    t.arr_w_first_i = c == 0 || c == tile1_at;
    t.arr_w_bank_i = c >= tile1_at;
    t.arr_w_data_i = 0;
    if (c < kD) t.arr_w_data_i = pack(w[0][c]);
    if (c >= tile1_at && c < tile1_at + kD) t.arr_w_data_i = pack(w[1][c - tile1_at]);
    const bool row = hazard ? (c == 1 || c == 2) : (c >= 5 && c <= 14);
    t.arr_in_valid_i = row;
    t.arr_in_bank_i = hazard ? 0 : c >= 11;
    int8_t a[kD];
    for (int k = 0; k < kD; k++) a[k] = int8_t(c * 7 - 40 * k + 3);
    t.arr_in_data_i = row ? pack(a) : 0xA5A5A5A5u;
    if (row && !hazard) {
      Out o{c0 + c + 2 * kD - 1, {}};
      for (int n = 0; n < kD; n++) {
        int32_t s = 0;
        for (int k = 0; k < kD; k++) s += int32_t(a[k]) * w[t.arr_in_bank_i][k][n];
        o.v[n] = s;
      }
      outs.push_back(o);
    }
    b.eval();
    const bool want = !outs.empty() && outs.front().cycle == b.cycle();
    expect(t.arr_out_valid_o == want, "array row out at s + 2D - 1", b.cycle());
    if (want) {
      for (int n = 0; n < kD; n++) {
        expect(int32_t(t.arr_out_data_o[n]) == outs.front().v[n], "array product", b.cycle());
      }
      outs.pop_front();
    }
    b.step();
  }
  t.arr_in_valid_i = t.arr_w_first_i = 0;
  expect(outs.empty(), "every array row came out", b.cycle());
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "legal";
  if (argc > 1 && argv[1][0] != '+') mode = argv[1];
  bool known = false;
  for (const char* m : kModes) known |= mode == m;
  if (!known) {
    std::fprintf(stderr, "assertion tb: unknown mode '%s'; modes:", mode.c_str());
    for (const char* m : kModes) std::fprintf(stderr, " %s", m);
    std::fprintf(stderr, "\n");
    return 3;
  }
  std::printf("assertion tb: mode %s\n", mode.c_str());
  std::fflush(stdout);
  Bench b(argc, argv);
  try {
    b.reset();
    fifo(b, mode);
    ram(b, mode);
    regs(b, mode);
    fetch(b, mode);
    array(b, mode);
    for (int i = 0; i < 4; i++) b.step();
  } catch (const AssertionFailed&) {
    std::fflush(stdout);
    std::printf("assertion tb: mode %s: the run failed on an assertion at cycle %ld\n",
                mode.c_str(), b.cycle());
    return 1;
  }
  if (mode != "legal") {
    std::printf("assertion tb: mode %s: FAILED, the violation ran to the end without an assertion"
                " failing (was the bench built without --assert?)\n",
                mode.c_str());
    return 2;
  }
  if (g_errors) {
    std::printf("assertion tb: FAILED, %d wrong results\n", g_errors);
    return 1;
  }
  std::printf("assertion tb: legal mode: FIFO, RAM, AXI4-Lite with stalls, fetch across 4 KiB,"
              " array tiles and rows; no assertion failed: passed\n");
  return 0;
}
