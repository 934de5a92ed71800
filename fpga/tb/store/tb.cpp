// Testbench of systole_store: the unit against a fixed-latency AXI4 write slave (MICROARCH.md,
// "The fixed-latency memory model") over a byte array, and a model of the three buffers behind
// the read port (data the cycle after rd_en_o).
//
// The STOREs and their cycle counts come from a timing trace (the only argument;
// scripts/rtl-tests writes it with dev.systole.driver.timing.TimingTraces, format in
// fpga/tb/README.md): the timing model exists only in TransferTiming.storeCycles, and this bench
// replays what it says. Every STORE of the trace's random and shape phases runs alone from an
// idle unit and is checked twice:
//   - the memory against the contract's pseudo-code (CONTRACT.md 6.2): every byte of the region
//     the block spans, and no strobed byte outside the block's bytes;
//   - the measured busy time C (issue at T, free_o first 1 again at T + C) against the trace's.
// Then: back-to-back STOREs (issued in the first free cycle), an SLVERR in the middle of a
// transfer (fault_o once, the unit still completes on time), and clear_i with bursts in flight
// (no strobed byte after it, every W beat and B response owed exchanged, free again, the next
// STORE correct). An AXI checker runs throughout: no burst crosses 4 KiB, len <= 15, size 5,
// INCR, awvalid and its payload held until awready, wlast exactly on each burst's last beat,
// free_o only when no B response is owed. A phase with random awready/wready/bvalid stalls
// checks the data path where the memory is not the fixed-latency one (cycles not compared).
#include <verilated.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../timing_trace.h"
#include "Vsystole_store.h"

namespace {

constexpr int kD = 16;                     // ArrayDim of the build under test
constexpr int kRowBytes = 4 * kD;          // bytes of the widest row (ACC)
constexpr int kRows = 4096;                // AbufRows = WbufRows = AccRows
constexpr uint64_t kMemBytes = 1u << 22;   // the memory behind the port
constexpr uint64_t kSeed = 0x5703'E5ED;    // of the memory's and buffers' contents

// Field positions, from systole_pkg (generated from the contract).
constexpr int kBufLsb = 12, kSrcRowLsb = 16, kElemLsb = 32, kHbmAddrLsb = 64, kXSizeLsb = 128,
              kYSizeLsb = 144, kXStrideLsb = 160, kYStrideLsb = 192;

struct Store {
  int buf = 0;  // 0 ABUF, 1 WBUF, 2 ACC
  int src_row = 0;
  int elem = 1;
  uint64_t addr = 0;
  int xs = 1, ys = 1;
  uint64_t xst = 0, yst = 0;

  uint64_t end() const {  // one past the last byte touched
    return addr + uint64_t(ys - 1) * yst + uint64_t(xs - 1) * xst + elem;
  }
  void print(FILE* f) const {
    std::fprintf(f,
                 "STORE buf=%s src_row=%d elem_bytes=%d hbm_addr=0x%" PRIx64
                 " x_size=%d y_size=%d x_stride=%" PRIu64 " y_stride=%" PRIu64,
                 buf == 0 ? "ABUF" : buf == 1 ? "WBUF" : "ACC", src_row, elem, addr, xs, ys, xst,
                 yst);
  }
};

// ---- reference: CONTRACT.md 6.2 ----------------------------------------------------------------
struct Buffers {
  std::vector<uint8_t> rows[3];  // kRows rows of kRowBytes bytes (ABUF/WBUF use the first kD)
  uint8_t* row(int buf, int r) { return &rows[buf][size_t(r) * kRowBytes]; }
};

void reference(const Store& s, Buffers& b, std::vector<uint8_t>& mem) {
  int row = s.src_row;
  for (int y = 0; y < s.ys; y++) {
    for (int x = 0; x < s.xs; x++, row++) {
      uint64_t a = s.addr + uint64_t(y) * s.yst + uint64_t(x) * s.xst;
      const uint8_t* src = b.row(s.buf, row);
      for (int k = 0; k < s.elem; k++) mem[a + k] = src[k];
    }
  }
}

// ---- the bench ---------------------------------------------------------------------------------
struct Aw {
  uint64_t addr;
  int len;          // beats
  int64_t accept;   // cycle its AW was accepted
  int beats = 0;    // W beats received
  int64_t wlast = -1;
  bool bad = false;  // answered with SLVERR
};

class Bench {
 public:
  explicit Bench(VerilatedContext* ctx) : top_(new Vsystole_store{ctx}) {
    mem_.assign(kMemBytes, 0);
    std::mt19937_64 rng(kSeed ^ 0x99);
    for (auto& byte : mem_) byte = uint8_t(rng());
    for (auto& r : bufs_.rows) {
      r.resize(size_t(kRows) * kRowBytes);
      for (auto& byte : r) byte = uint8_t(rng());
    }
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->clear_i = 0;
    top_->issue_i = 0;
    top_->m_awready_i = 1;
    top_->m_wready_i = 1;
    top_->m_bvalid_i = 0;
    top_->eval();
    top_->rst_ni = 0;  // an edge of the asynchronous reset
    top_->eval();
    for (int i = 0; i < 2; i++) {
      top_->clk_i = 1;
      top_->eval();
      top_->clk_i = 0;
      top_->eval();
    }
    top_->rst_ni = 1;
    top_->eval();
  }
  ~Bench() { top_->final(); }

  int64_t write_latency = 16;
  bool stalls = false;  // awready, wready and bvalid drop at random: data is checked, not cycles
  uint64_t bad_from = ~uint64_t(0);  // bursts touching addresses at or above this answer SLVERR
  int errors = 0;
  bool clear_now = false;
  uint64_t lo_written = ~uint64_t(0), hi_written = 0;  // strobed bytes of this instruction
  int64_t strobes_after_clear = 0;

  std::vector<uint8_t>& mem() { return mem_; }
  Buffers& bufs() { return bufs_; }
  int64_t cycle() const { return cycle_; }
  bool free() const { return top_->free_o; }
  bool slave_idle() const {
    return aws_.empty() && bq_.empty() && wq_.empty() && !aw_pending_;
  }
  int faults() const { return faults_; }
  void begin_clear_watch() { after_clear_ = false; }

  void set_instr(const Store& s) {
    for (int i = 0; i < 8; i++) top_->instr_i[i] = 0;
    auto put = [&](int lsb, int width, uint64_t v) {
      for (int b = 0; b < width; b++) {
        if ((v >> b) & 1) top_->instr_i[(lsb + b) / 32] |= 1u << ((lsb + b) % 32);
      }
    };
    put(0, 8, 0x02);
    put(kBufLsb, 2, s.buf);
    put(kSrcRowLsb, 16, s.src_row);
    put(kElemLsb, 12, s.elem);
    put(kHbmAddrLsb, 48, s.addr);
    put(kXSizeLsb, 16, s.xs);
    put(kYSizeLsb, 16, s.ys);
    put(kXStrideLsb, 32, s.xst);
    put(kYStrideLsb, 32, s.yst);
  }

  void step(bool issue) {
    top_->issue_i = issue;
    top_->clear_i = clear_now;
    // Read port: data of the row read last cycle; the other ports carry noise.
    for (int k = 0; k < kD / 4; k++) {
      top_->abuf_rdata_i[k] = noise_();
      top_->wbuf_rdata_i[k] = noise_();
    }
    for (int k = 0; k < kD; k++) top_->acc_rdata_i[k] = noise_();
    if (rd_valid_) {
      const uint8_t* src = bufs_.row(rd_buf_, rd_row_);
      int bytes = rd_buf_ == 2 ? kRowBytes : kD;
      for (int k = 0; k < bytes / 4; k++) {
        uint32_t w = 0;
        for (int j = 0; j < 4; j++) w |= uint32_t(src[4 * k + j]) << (8 * j);
        if (rd_buf_ == 0) top_->abuf_rdata_i[k] = w;
        if (rd_buf_ == 1) top_->wbuf_rdata_i[k] = w;
        if (rd_buf_ == 2) top_->acc_rdata_i[k] = w;
      }
    }
    top_->m_awready_i = !stalls || stall_rng_() % 4 != 0;
    top_->m_wready_i = !stalls || stall_rng_() % 3 != 0;
    // B channel: the oldest complete burst's response once due.
    top_->m_bvalid_i = 0;
    top_->m_bresp_i = 0;
    if (!bq_.empty()) {
      int64_t due = std::max(bq_.front().first, last_b_ + 1);
      if (due <= cycle_ && (!stalls || stall_rng_() % 3 != 0)) {
        top_->m_bvalid_i = 1;
        top_->m_bresp_i = bq_.front().second ? 2 : 0;
      }
    }
    top_->clk_i = 0;
    top_->eval();

    if (top_->rd_en_o) {
      if (top_->rd_buf_o > 2 || top_->rd_row_o >= kRows) fail("read outside the buffers");
      rd_valid_ = true;
      rd_buf_ = top_->rd_buf_o;
      rd_row_ = top_->rd_row_o;
    } else {
      rd_valid_ = false;
    }
    if (aw_pending_ && !top_->m_awvalid_o) fail("awvalid dropped before awready");
    if (top_->m_awvalid_o) {
      uint64_t a = top_->m_awaddr_o;
      int len = top_->m_awlen_o + 1;
      if (aw_pending_ && (a != aw_addr_ || len != aw_len_)) {
        fail("AW payload changed before awready");
      }
      if (top_->m_awsize_o != 5 || top_->m_awburst_o != 1) fail("AW size/burst not 5/INCR");
      if ((a >> 12) != (((a & ~uint64_t(31)) + 32 * uint64_t(len) - 1) >> 12)) {
        fail("AW crosses a 4 KiB boundary");
      }
      if (top_->m_awready_i) {
        aws_.push_back(Aw{a, len, cycle_});
        aw_pending_ = false;
      } else {
        aw_pending_ = true;
        aw_addr_ = a;
        aw_len_ = len;
      }
    }
    if (top_->m_wvalid_o && top_->m_wready_i) {
      WBeat w;
      for (int k = 0; k < 8; k++) w.data[k] = top_->m_wdata_o[k];
      w.strb = top_->m_wstrb_o;
      w.last = top_->m_wlast_o;
      w.cycle = cycle_;
      // A beat already on W when clear_i came must stay there until wready (AXI); it was sent
      // before the clear. Any other strobed beat after the clear is a failure.
      w.after_clear = after_clear_ && !held_at_clear_;
      if (after_clear_) held_at_clear_ = false;
      wq_.push_back(w);
    }
    if (clear_now) held_at_clear_ = top_->m_wvalid_o && !top_->m_wready_i;
    // W beats go to the oldest AW whose beats are not all in (a W beat may precede its AW).
    while (!wq_.empty()) {
      Aw* aw = nullptr;
      for (auto& x : aws_) {
        if (x.beats < x.len) { aw = &x; break; }
      }
      if (!aw) break;
      const WBeat& w = wq_.front();
      uint64_t base = (aw->addr & ~uint64_t(31)) + 32 * uint64_t(aw->beats);
      bool bad = false;
      for (int j = 0; j < 32; j++) {
        if (!((w.strb >> j) & 1)) continue;
        uint64_t a = base + j;
        if (a < aw->addr) fail("strobe before the burst's address");
        if (w.after_clear) strobes_after_clear++;
        if (a >= bad_from || a >= mem_.size()) { bad = true; continue; }
        mem_[a] = uint8_t(w.data[j / 4] >> (8 * (j % 4)));
        lo_written = std::min(lo_written, a);
        hi_written = std::max(hi_written, a + 1);
      }
      if (base >= bad_from) bad = true;
      aw->bad = aw->bad || bad;
      aw->beats++;
      bool last = aw->beats == aw->len;
      if (w.last != last) fail("wlast not on the burst's last beat");
      if (last) aw->wlast = std::max(w.cycle, aw->accept);
      wq_.pop_front();
    }
    // Bursts with AW and wlast in: B due Lw after the later of the two.
    while (!aws_.empty() && aws_.front().beats == aws_.front().len) {
      Aw& f = aws_.front();
      bq_.push_back({std::max(f.accept, f.wlast) + write_latency, f.bad});
      aws_.pop_front();
    }
    if (top_->m_bvalid_i && top_->m_bready_o) {
      last_b_ = cycle_;
      bq_.pop_front();
    }
    if (top_->fault_o) faults_++;
    if (clear_now) after_clear_ = true;
    top_->clk_i = 1;
    top_->eval();
    cycle_++;
    if (top_->free_o && !clear_seen_ && !slave_idle()) fail("free with B responses owed");
  }

  void fail(const char* what) {
    if (errors < 10) std::printf("AXI/port check: %s at cycle %" PRId64 "\n", what, cycle_);
    errors++;
  }

  int64_t run(const Store& s, int64_t limit = 2000000) {
    set_instr(s);
    lo_written = ~uint64_t(0);
    hi_written = 0;
    int64_t t = cycle_;
    step(true);
    while (!top_->free_o) {
      step(false);
      if (cycle_ - t > limit) return -1;
    }
    return cycle_ - t;
  }

  bool clear_seen_ = false;

 private:
  std::unique_ptr<Vsystole_store> top_;
  std::vector<uint8_t> mem_;
  Buffers bufs_;
  struct WBeat {
    uint32_t data[8];
    uint32_t strb;
    bool last;
    int64_t cycle;
    bool after_clear;
  };
  std::deque<Aw> aws_;
  std::deque<WBeat> wq_;
  bool held_at_clear_ = false;
  std::mt19937 stall_rng_{13};
  std::deque<std::pair<int64_t, bool>> bq_;
  uint32_t noise_state_ = 0x9e3779b9;
  uint32_t noise_() {  // xorshift32: cheap noise for the unread ports
    noise_state_ ^= noise_state_ << 13;
    noise_state_ ^= noise_state_ >> 17;
    noise_state_ ^= noise_state_ << 5;
    return noise_state_;
  }
  int64_t cycle_ = 0;
  int64_t last_b_ = -1000;
  bool aw_pending_ = false;
  uint64_t aw_addr_ = 0;
  int aw_len_ = 0;
  bool rd_valid_ = false;
  int rd_buf_ = 0, rd_row_ = 0;
  int faults_ = 0;
  bool after_clear_ = false;
};

// One case of the trace: a STORE, the write latency it runs at and the cycles the model gives.
struct Case {
  std::string phase;
  int64_t write_latency = 0;
  int64_t cycles = 0;
  Store s;
  int line = 0;
};

std::vector<Case> read_cases(const char* path) {
  std::vector<Case> out;
  for (const TraceRecord& r : read_trace(path)) {
    if (r.op.empty() && r.head.size() == 2 && r.head[0] == "array_dim") {
      if (r.num(1) != kD) r.die("array_dim " + r.head[1] + ", this bench is built for " + std::to_string(kD));
      continue;
    }
    if (r.op != "STORE" || r.head.size() != 3) r.die("expected PHASE WRITE_LATENCY CYCLES STORE ...");
    Case c;
    c.phase = r.head[0];
    c.write_latency = r.num(1);
    c.cycles = r.num(2);
    c.line = r.line;
    Store& s = c.s;
    s.buf = int(r.field("buf"));
    s.src_row = int(r.field("src_row"));
    s.elem = int(r.field("elem_bytes"));
    s.addr = uint64_t(r.field("hbm_addr"));
    s.xs = int(r.field("x_size"));
    s.ys = int(r.field("y_size"));
    s.xst = uint64_t(r.field("x_stride"));
    s.yst = uint64_t(r.field("y_stride"));
    r.check_used();
    if (s.buf > 2 || s.elem < 1 || s.elem > (s.buf == 2 ? kRowBytes : kD) || s.xs < 1 ||
        s.ys < 1 || s.src_row + s.xs * s.ys > kRows || s.end() > kMemBytes) {
      r.die("a STORE outside this bench's buffers (" + std::to_string(kRows) + " rows) or memory (" +
            std::to_string(kMemBytes) + " bytes)");
    }
    out.push_back(c);
  }
  return out;
}

// Compares the memory over the block's span (plus a margin) and the strobed range, and (if timed)
// the unit's busy time with the trace's.
int check(Bench& bench, const Case& k, const std::vector<uint8_t>& want, int64_t c, bool timed) {
  const Store& s = k.s;
  int bad = 0;
  auto about = [&]() {
    std::printf(" (trace line %d, Lw=%" PRId64 "); ", k.line, k.write_latency);
    s.print(stdout);
    std::printf("\n");
    bad++;
  };
  uint64_t lo = s.addr >= 64 ? s.addr - 64 : 0;
  uint64_t hi = std::min<uint64_t>(kMemBytes, s.end() + 64);
  for (uint64_t a = lo; a < hi; a++) {
    if (bench.mem()[a] != want[a]) {
      std::printf("MISMATCH %s: byte 0x%" PRIx64 " got 0x%02x want 0x%02x", k.phase.c_str(), a,
                  bench.mem()[a], want[a]);
      about();
      break;
    }
  }
  if (bench.hi_written && (bench.lo_written < s.addr || bench.hi_written > s.end())) {
    std::printf("MISMATCH %s: strobed bytes 0x%" PRIx64 "..0x%" PRIx64 " outside the block",
                k.phase.c_str(), bench.lo_written, bench.hi_written);
    about();
  }
  if (timed && c != k.cycles) {
    std::printf("TIMING %s: C=%" PRId64 " want %" PRId64, k.phase.c_str(), c, k.cycles);
    about();
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s TRACE (a STORE timing trace; scripts/rtl-tests store)\n",
                 argv[0]);
    return 2;
  }
  const std::vector<Case> cases = read_cases(argv[1]);
  auto phase = [&](const char* name) {
    std::vector<const Case*> out;
    for (const Case& k : cases) {
      if (k.phase == name) out.push_back(&k);
    }
    return out;
  };
  for (const Case& k : cases) {
    static const std::string known[] = {"random", "shape", "back-to-back", "stall", "fault", "clear"};
    if (std::find(std::begin(known), std::end(known), k.phase) == std::end(known)) {
      std::fprintf(stderr, "%s:%d: unknown phase %s\n", argv[1], k.line, k.phase.c_str());
      return 2;
    }
  }
  std::printf("store tb: %zu STOREs from %s, D=%d\n", cases.size(), argv[1], kD);
  int failures = 0;
  int64_t checked = 0, rows_checked = 0;

  // 1. Random STOREs, each alone from an idle unit, one bench per run of cases at one latency.
  {
    std::unique_ptr<Bench> bench;
    std::vector<uint8_t> want;  // kept equal to the memory outside each check
    for (const Case* k : phase("random")) {
      if (failures >= 10) break;
      if (!bench || bench->write_latency != k->write_latency) {
        if (bench) failures += bench->errors;
        bench.reset(new Bench(ctx.get()));
        bench->write_latency = k->write_latency;
        want = bench->mem();
      }
      reference(k->s, bench->bufs(), want);
      for (int i = 0; i < 5; i++) bench->step(false);  // idle gap
      int64_t c = bench->run(k->s);
      if (c < 0) {
        std::printf("HANG (trace line %d): ", k->line);
        k->s.print(stdout);
        std::printf("\n");
        return 1;
      }
      failures += check(*bench, *k, want, c, true);
      if (failures) bench->mem() = want;  // keep in step after a mismatch
      checked++;
      rows_checked += int64_t(k->s.xs) * k->s.ys;
    }
    if (bench) failures += bench->errors;
  }
  std::printf("random: %" PRId64 " STOREs, %" PRId64 " rows, memory and cycles checked\n", checked,
              rows_checked);

  // 1b. GEMM shapes, with their cycle counts.
  {
    std::vector<const Case*> shapes = phase("shape");
    Bench bench(ctx.get());
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : shapes) {
      bench.write_latency = k->write_latency;
      reference(k->s, bench.bufs(), want);
      int64_t c = bench.run(k->s);
      failures += check(bench, *k, want, c, true);
      std::printf("  C=%-5" PRId64 " ", c);
      k->s.print(stdout);
      std::printf("\n");
    }
    failures += bench.errors;
    std::printf("shapes: %zu GEMM STOREs checked\n", shapes.size());
  }

  // 2. Back to back: each STORE issued in the first cycle the unit is free.
  {
    std::vector<const Case*> b2b = phase("back-to-back");
    Bench bench(ctx.get());
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : b2b) {
      if (failures >= 10) break;
      bench.write_latency = k->write_latency;
      reference(k->s, bench.bufs(), want);
      int64_t c = bench.run(k->s);
      if (c != k->cycles) {
        std::printf("TIMING back-to-back (trace line %d): C=%" PRId64 " want %" PRId64 "; ",
                    k->line, c, k->cycles);
        k->s.print(stdout);
        std::printf("\n");
        failures++;
      }
    }
    if (bench.mem() != want) {
      std::printf("MISMATCH back-to-back: memory differs\n");
      failures++;
    }
    failures += bench.errors;
    std::printf("back-to-back: %zu STOREs, cycles and final memory checked\n", b2b.size());
  }

  // 2b. A memory that stalls: awready, wready and bvalid low at random. Data only.
  {
    std::vector<const Case*> stalls = phase("stall");
    Bench bench(ctx.get());
    bench.stalls = true;
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : stalls) {
      if (failures >= 10) break;
      bench.write_latency = k->write_latency;
      reference(k->s, bench.bufs(), want);
      int64_t c = bench.run(k->s);
      if (c < 0) {
        std::printf("HANG with stalls (trace line %d)\n", k->line);
        return 1;
      }
      failures += check(bench, *k, want, c, false);
      if (failures) bench.mem() = want;
    }
    failures += bench.errors;
    std::printf("stalls: %zu STOREs under random awready/wready/bvalid stalls, data checked\n",
                stalls.size());
  }

  // 3. An SLVERR in the middle of the first transfer: fault_o once, the STORE (and the ones after
  // it) complete in their time.
  {
    std::vector<const Case*> faults = phase("fault");
    Bench bench(ctx.get());
    for (size_t i = 0; i < faults.size(); i++) {
      const Case* k = faults[i];
      const Store& s = k->s;
      bench.write_latency = k->write_latency;
      // Bursts touching 5/8 of the block and beyond answer SLVERR.
      bench.bad_from = i == 0 ? s.addr + uint64_t(s.ys * s.xs * 5 / 8) * s.elem : ~uint64_t(0);
      int64_t c = bench.run(s);
      if (c != k->cycles) {
        std::printf("FAIL fault (trace line %d): C=%" PRId64 " want %" PRId64 "\n", k->line, c,
                    k->cycles);
        failures++;
      }
      if (i == 0) std::printf("fault: SLVERR mid-transfer, C=%" PRId64 " as modelled\n", c);
    }
    if (faults.empty() || bench.faults() != 1) {
      std::printf("FAIL fault: %d fault pulses over %zu STOREs (want 1)\n", bench.faults(),
                  faults.size());
      failures++;
    }
    failures += bench.errors;
  }

  // 4. clear_i with bursts in flight, at many points of a transfer; each followed by a STORE of
  // the trace.
  {
    std::vector<const Case*> after = phase("clear");
    int cleared = 0;
    for (size_t i = 0; i < after.size() && failures < 10; i++) {
      const int at = 1 + 7 * int(i);
      const Case* k = after[i];
      Bench bench(ctx.get());
      bench.stalls = at >= 200;  // the second half with a stalling memory
      bench.write_latency = k->write_latency;
      bench.clear_seen_ = true;  // between the clear and free, responses are owed by design
      Store s;
      s.buf = 0; s.elem = 16; s.xs = 150; s.ys = 2; s.xst = 16; s.yst = 4096 + 3;
      s.addr = 0x2000 + 5;
      bench.set_instr(s);
      bench.step(true);
      for (int j = 1; j < at; j++) bench.step(false);
      bench.clear_now = true;
      bench.begin_clear_watch();
      bench.step(false);
      bench.clear_now = false;
      int64_t t0 = bench.cycle();
      while (!bench.free() && bench.cycle() - t0 < 10000) bench.step(false);
      if (!bench.free() || !bench.slave_idle() || bench.strobes_after_clear != 0) {
        std::printf("FAIL clear at +%d: free=%d slave_idle=%d strobed bytes after clear=%" PRId64
                    "\n", at, bench.free(), bench.slave_idle(), bench.strobes_after_clear);
        failures++;
        continue;
      }
      bench.clear_seen_ = false;
      std::vector<uint8_t> want = bench.mem();
      reference(k->s, bench.bufs(), want);
      int64_t c = bench.run(k->s);
      failures += check(bench, *k, want, c, !bench.stalls);
      failures += bench.errors;
      cleared++;
    }
    std::printf("clear: %d clears with bursts in flight (half with a stalling memory) drained, "
                "then a STORE checked\n", cleared);
  }

  std::printf("store tb: %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
