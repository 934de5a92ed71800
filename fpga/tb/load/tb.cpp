// Testbench of systole_load: the unit against a fixed-latency AXI4 read slave (MICROARCH.md, "The
// fixed-latency memory model") over a byte array, and a model of the three buffers.
//
// Every random LOAD runs alone from an idle unit and is checked twice:
//   - the buffer rows against the contract's pseudo-code (CONTRACT.md 6.1), every row of the
//     W*H rows written exactly once and no other row touched;
//   - the measured busy time C (issue at T, free_o first 1 again at T + C) against
//     loadCycles() below, a copy of the same algorithm as
//     dev.systole.driver.timing.TransferTiming.loadCycles (keep the two in step).
// Then: back-to-back LOADs (issued in the first free cycle), an SLVERR in the middle of a
// transfer (fault_o once, the unit still completes on time), and clear_i with bursts in flight
// (no buffer write after it, every owed beat taken, free again, the next LOAD correct).
// An AXI checker runs throughout: no burst crosses 4 KiB, len <= 15, size 5, INCR, arvalid and
// its payload held until arready. A phase with random arready/rvalid stalls checks the data path
// where the memory is not the fixed-latency one (cycles not compared).
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
#include <vector>

#include "Vsystole_load.h"

namespace {

constexpr int kD = 16;                     // ArrayDim of the build under test
constexpr int kRowBytes = 4 * kD;          // bytes of the widest row (ACC)
constexpr int kRows = 4096;                // AbufRows = WbufRows = AccRows
constexpr uint64_t kMemBytes = 1u << 22;   // the memory behind the port
constexpr uint64_t kSeed = 0x5157'0A11;

// Field positions, from systole_pkg (generated from the contract).
constexpr int kBufLsb = 12, kDstRowLsb = 16, kElemLsb = 32, kPadLsb = 48, kHbmAddrLsb = 64,
              kXSizeLsb = 128, kYSizeLsb = 144, kXStrideLsb = 160, kYStrideLsb = 192,
              kXPad0Lsb = 224, kXPad1Lsb = 232, kYPad0Lsb = 240, kYPad1Lsb = 248;

struct Load {
  int buf = 0;  // 0 ABUF, 1 WBUF, 2 ACC
  int dst_row = 0;
  int elem = 1;
  int pad = 0;  // pad_value, as the 8-bit field
  uint64_t addr = 0;
  int xs = 1, ys = 1;
  uint64_t xst = 0, yst = 0;
  int xp0 = 0, xp1 = 0, yp0 = 0, yp1 = 0;

  int w() const { return xp0 + xs + xp1; }
  int h() const { return yp0 + ys + yp1; }
  uint64_t last_byte() const {  // one past the last byte touched
    return addr + uint64_t(ys - 1) * yst + uint64_t(xs - 1) * xst + elem;
  }
  void print(FILE* f) const {
    std::fprintf(f,
                 "LOAD buf=%s dst_row=%d elem_bytes=%d pad_value=%d hbm_addr=0x%" PRIx64
                 " x_size=%d y_size=%d x_stride=%" PRIu64 " y_stride=%" PRIu64
                 " x_pad0=%d x_pad1=%d y_pad0=%d y_pad1=%d",
                 buf == 0 ? "ABUF" : buf == 1 ? "WBUF" : "ACC", dst_row, elem, pad, addr, xs, ys,
                 xst, yst, xp0, xp1, yp0, yp1);
  }
};

// ---- the timing twin: the same algorithm as TransferTiming.loadCycles --------------------------
int64_t beats_of(uint64_t a, uint64_t n) { return int64_t(((a + n - 1) >> 5) - (a >> 5) + 1); }

int64_t load_cycles(const Load& l, int64_t read_latency) {
  const int64_t n = int64_t(l.xs) * l.ys;
  const int64_t rows = int64_t(l.w()) * l.h();
  int64_t m;  // beat index (from the first) whose arrival the last data row waits for, + rows after
  if (l.xst == uint64_t(l.elem)) {
    int64_t o = 0;
    int64_t best = INT64_MIN;
    for (int y = 0; y < l.ys; y++) {
      uint64_t r = l.addr + uint64_t(y) * l.yst;
      int64_t g0 = int64_t(((r & 31) + l.elem - 1) >> 5);
      best = std::max(best, o - int64_t(y) * l.xs + g0);
      o += beats_of(r, uint64_t(l.xs) * l.elem);
    }
    m = std::max(o - 1, n - 1 + best);
  } else {
    int64_t b = 0;
    for (int y = 0; y < l.ys; y++) {
      for (int x = 0; x < l.xs; x++) {
        b += beats_of(l.addr + uint64_t(y) * l.yst + uint64_t(x) * l.xst, l.elem);
      }
    }
    m = b - 1;
  }
  return std::max(rows + 2, read_latency + m + 7);
}

// ---- reference: CONTRACT.md 6.1 ----------------------------------------------------------------
struct Buffers {
  std::vector<uint8_t> rows[3];  // kRows rows of kRowBytes bytes (ABUF/WBUF use the first kD)
  Buffers() {
    for (auto& r : rows) r.assign(size_t(kRows) * kRowBytes, 0);
  }
  uint8_t* row(int buf, int r) { return &rows[buf][size_t(r) * kRowBytes]; }
};

void reference(const Load& l, const std::vector<uint8_t>& mem, Buffers& b) {
  int row = l.dst_row;
  const int lane_bytes = l.buf == 2 ? 4 : 1;
  for (int yy = 0; yy < l.h(); yy++) {
    int y = yy - l.yp0;
    for (int xx = 0; xx < l.w(); xx++, row++) {
      int x = xx - l.xp0;
      uint8_t* dst = b.row(l.buf, row);
      int filled = 0;
      if (y >= 0 && y < l.ys && x >= 0 && x < l.xs) {
        uint64_t a = l.addr + uint64_t(y) * l.yst + uint64_t(x) * l.xst;
        for (int k = 0; k < l.elem; k++) dst[k] = mem[a + k];
        filled = l.elem;
      }
      for (int lane = filled / lane_bytes; lane < kD; lane++) {
        for (int k = 0; k < lane_bytes; k++) {
          dst[lane * lane_bytes + k] = k == 0 ? uint8_t(l.pad) : (l.pad & 0x80 ? 0xff : 0x00);
        }
      }
    }
  }
}

// ---- the bench ---------------------------------------------------------------------------------
struct Burst {
  uint64_t addr;
  int len;         // beats
  int64_t accept;  // cycle its AR was accepted
  int next = 0;    // next beat to present
};

class Bench {
 public:
  explicit Bench(VerilatedContext* ctx) : top_(new Vsystole_load{ctx}) {
    mem_.resize(kMemBytes);
    std::mt19937_64 rng(kSeed ^ 0x77);
    for (auto& byte : mem_) byte = uint8_t(rng());
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->clear_i = 0;
    top_->issue_i = 0;
    top_->m_arready_i = 1;
    top_->m_rvalid_i = 0;
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

  int64_t read_latency = 32;
  bool stalls = false;  // arready and rvalid drop at random: data is checked, cycles are not
  uint64_t bad_from = ~uint64_t(0);  // beats of addresses at or above this answer SLVERR
  int errors = 0;
  bool clear_now = false;

  const std::vector<uint8_t>& mem() const { return mem_; }
  Buffers& bufs() { return bufs_; }
  int64_t cycle() const { return cycle_; }
  bool free() const { return top_->free_o; }
  bool slave_idle() const { return bursts_.empty() && !ar_pending_; }
  std::vector<int>& written() { return written_; }
  int faults() const { return faults_; }
  int64_t writes_after_clear = 0;

  void set_instr(const Load& l) {
    for (int i = 0; i < 8; i++) top_->instr_i[i] = 0;
    auto put = [&](int lsb, int width, uint64_t v) {
      for (int b = 0; b < width; b++) {
        if ((v >> b) & 1) top_->instr_i[(lsb + b) / 32] |= 1u << ((lsb + b) % 32);
      }
    };
    put(0, 8, 0x01);
    put(kBufLsb, 2, l.buf);
    put(kDstRowLsb, 16, l.dst_row);
    put(kElemLsb, 12, l.elem);
    put(kPadLsb, 8, l.pad);
    put(kHbmAddrLsb, 48, l.addr);
    put(kXSizeLsb, 16, l.xs);
    put(kYSizeLsb, 16, l.ys);
    put(kXStrideLsb, 32, l.xst);
    put(kYStrideLsb, 32, l.yst);
    put(kXPad0Lsb, 8, l.xp0);
    put(kXPad1Lsb, 8, l.xp1);
    put(kYPad0Lsb, 8, l.yp0);
    put(kYPad1Lsb, 8, l.yp1);
  }

  // One clock cycle: drive the inputs of this cycle, sample, then the rising edge.
  void step(bool issue) {
    top_->issue_i = issue;
    top_->clear_i = clear_now;
    top_->m_arready_i = !stalls || stall_rng_() % 4 != 0;
    // R channel: the front burst's next beat, once its time has come.
    top_->m_rvalid_i = 0;
    top_->m_rlast_i = 0;
    top_->m_rresp_i = 0;
    if (!bursts_.empty()) {
      Burst& b = bursts_.front();
      int64_t due = std::max(b.accept + read_latency + b.next, last_r_ + 1);
      if (due <= cycle_ && (!stalls || stall_rng_() % 3 != 0)) {
        uint64_t base = (b.addr & ~uint64_t(31)) + 32 * uint64_t(b.next);
        bool bad = false;
        for (int k = 0; k < 8; k++) {
          uint32_t w = 0;
          for (int j = 0; j < 4; j++) {
            uint64_t a = base + 4 * k + j;
            uint8_t v = a < mem_.size() ? mem_[a] : 0xee;
            w |= uint32_t(v) << (8 * j);
          }
          top_->m_rdata_i[k] = w;
        }
        bad = base >= bad_from || base >= mem_.size();
        top_->m_rvalid_i = 1;
        top_->m_rresp_i = bad ? 2 : 0;
        top_->m_rlast_i = b.next == b.len - 1;
      }
    }
    top_->clk_i = 0;
    top_->eval();

    // AR channel and its checker.
    if (ar_pending_ && !top_->m_arvalid_o) fail("arvalid dropped before arready");
    if (top_->m_arvalid_o) {
      uint64_t a = top_->m_araddr_o;
      int len = top_->m_arlen_o + 1;
      if (ar_pending_ && (a != ar_addr_ || len != ar_len_)) {
        fail("AR payload changed before arready");
      }
      if (top_->m_arsize_o != 5 || top_->m_arburst_o != 1) fail("AR size/burst not 5/INCR");
      if (len > 16) fail("AR longer than 16 beats");
      if ((a >> 12) != (((a & ~uint64_t(31)) + 32 * uint64_t(len) - 1) >> 12)) {
        fail("AR crosses a 4 KiB boundary");
      }
      if (top_->m_arready_i) {
        bursts_.push_back(Burst{a, len, cycle_});
        ar_pending_ = false;
      } else {
        ar_pending_ = true;
        ar_addr_ = a;
        ar_len_ = len;
      }
    }
    if (top_->m_rvalid_i && top_->m_rready_o) {
      Burst& b = bursts_.front();
      last_r_ = cycle_;
      if (++b.next == b.len) bursts_.pop_front();
    }
    if (top_->fault_o) faults_++;
    if (top_->wr_en_o) {
      int buf = top_->wr_buf_o;
      int row = top_->wr_row_o;
      if (buf > 2 || row >= kRows) {
        fail("write outside the buffers");
      } else {
        uint8_t* dst = bufs_.row(buf, row);
        int bytes = buf == 2 ? kRowBytes : kD;
        for (int k = 0; k < bytes; k++) dst[k] = uint8_t(top_->wr_data_o[k / 4] >> (8 * (k % 4)));
        written_.push_back(buf * kRows + row);
      }
      if (after_clear_) writes_after_clear++;
    }
    if (clear_now) after_clear_ = true;
    top_->clk_i = 1;
    top_->eval();
    cycle_++;
  }

  void begin_clear_watch() { after_clear_ = false; }

  void fail(const char* what) {
    if (errors < 10) std::printf("AXI/port check: %s at cycle %" PRId64 "\n", what, cycle_);
    errors++;
  }

  // Issues l in the current cycle (the unit must be free) and runs until free again; returns C.
  int64_t run(const Load& l, int64_t limit = 2000000) {
    set_instr(l);
    int64_t t = cycle_;
    step(true);
    while (!top_->free_o) {
      step(false);
      if (cycle_ - t > limit) return -1;
    }
    return cycle_ - t;
  }

 private:
  std::unique_ptr<Vsystole_load> top_;
  std::vector<uint8_t> mem_;
  Buffers bufs_;
  std::deque<Burst> bursts_;
  int64_t cycle_ = 0;
  int64_t last_r_ = -1000;
  bool ar_pending_ = false;
  uint64_t ar_addr_ = 0;
  int ar_len_ = 0;
  int faults_ = 0;
  bool after_clear_ = false;
  std::vector<int> written_;
  std::mt19937 stall_rng_{11};
};

Load random_load(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return int(lo + rng() % uint64_t(hi - lo + 1)); };
  Load l;
  l.buf = pick(0, 2);
  l.elem = l.buf == 2 ? 4 * pick(1, kD) : pick(1, kD);
  l.pad = pick(0, 255);
  // Sizes: mostly small blocks, sometimes a long row or many rows.
  int max_rows = 700;
  switch (pick(0, 6)) {
    case 0: l.xs = pick(1, 4); l.ys = pick(1, 4); break;
    case 1: l.xs = pick(1, 300); l.ys = 1; break;
    case 2: l.xs = 1; l.ys = pick(1, 300); break;
    case 3: l.xs = pick(20, 200); l.ys = pick(2, 40); max_rows = 2500; break;  // long dense rows
    default: l.xs = pick(1, 24); l.ys = pick(1, 16); break;
  }
  auto pad = [&]() { int r = pick(0, 9); return r < 5 ? 0 : r < 8 ? pick(1, 3) : pick(1, 12); };
  l.xp0 = pad(); l.xp1 = pad(); l.yp0 = pad(); l.yp1 = pad();
  while (int64_t(l.w()) * l.h() > max_rows) {
    if (l.ys > 1) l.ys = (l.ys + 1) / 2; else if (l.xs > 1) l.xs = (l.xs + 1) / 2;
    else { l.xp0 = l.xp1 = l.yp0 = l.yp1 = 0; }
  }
  auto stride = [&](bool y) -> uint64_t {
    switch (pick(0, 7)) {
      case 0: return 0;
      case 1: return uint64_t(pick(1, std::max(1, l.elem - 1)));            // overlapping
      case 2: return uint64_t(pick(1, 300));
      case 3: return uint64_t(pick(4000, 70000));                             // far apart
      case 4: return y ? uint64_t(l.xs) * l.elem : uint64_t(l.elem);          // dense
      default: return y ? uint64_t(l.xs) * l.elem + pick(0, 64) : uint64_t(l.elem);
    }
  };
  uint64_t span;
  do {
    l.xst = stride(false);
    l.yst = stride(true);
    span = uint64_t(l.ys - 1) * l.yst + uint64_t(l.xs - 1) * l.xst + l.elem;
  } while (span > kMemBytes / 2);
  // Start anywhere the block fits; near 4 KiB boundaries often.
  uint64_t room = kMemBytes - span;
  l.addr = rng() % room;
  if (pick(0, 3) == 0) l.addr = std::min(room - 1, (l.addr & ~uint64_t(4095)) + 4096 - pick(1, 64));
  l.dst_row = pick(0, kRows - l.w() * l.h());
  return l;
}

// Checks that exactly the rows of l were written, once each, and that they match the reference.
int check_rows(Bench& bench, const Load& l, Buffers& ref, int64_t c, int64_t want_c, int idx,
               int64_t lr) {
  int bad = 0;
  std::vector<int> expect;
  for (int r = 0; r < l.w() * l.h(); r++) expect.push_back(l.buf * kRows + l.dst_row + r);
  std::vector<int> got = bench.written();
  std::sort(got.begin(), got.end());
  if (got != expect) {
    std::printf("MISMATCH #%d (Lr=%" PRId64 "): %zu rows written, want %zu, or wrong rows; ", idx,
                lr, got.size(), expect.size());
    l.print(stdout);
    std::printf("\n");
    bad++;
  }
  int bytes = l.buf == 2 ? kRowBytes : kD;
  for (int r = 0; r < l.w() * l.h() && bad < 3; r++) {
    const uint8_t* g = bench.bufs().row(l.buf, l.dst_row + r);
    const uint8_t* e = ref.row(l.buf, l.dst_row + r);
    for (int k = 0; k < bytes; k++) {
      if (g[k] != e[k]) {
        std::printf("MISMATCH #%d (Lr=%" PRId64 "): row %d byte %d got 0x%02x want 0x%02x; ", idx,
                    lr, l.dst_row + r, k, g[k], e[k]);
        l.print(stdout);
        std::printf("\n");
        bad++;
        break;
      }
    }
  }
  if (c != want_c) {
    std::printf("TIMING #%d (Lr=%" PRId64 "): C=%" PRId64 " want %" PRId64 "; ", idx, lr, c,
                want_c);
    l.print(stdout);
    std::printf("\n");
    bad++;
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  std::printf("load tb: seed 0x%" PRIx64 ", D=%d\n", kSeed, kD);
  std::mt19937_64 rng(kSeed);
  int failures = 0;
  int64_t checked = 0, rows_checked = 0;

  // 1. Random LOADs, each alone from an idle unit, at several read latencies.
  // 256 is the largest latency the model is exact for (BeatFifoDepth = 512 beats in flight).
  const int64_t latencies[] = {32, 16, 3, 1, 100, 256};
  const int counts[] = {6000, 1500, 1500, 500, 300, 300};
  for (int li = 0; li < 6; li++) {
    Bench bench(ctx.get());
    bench.read_latency = latencies[li];
    for (int i = 0; i < counts[li] && failures < 10; i++) {
      Load l = random_load(rng);
      Buffers& ref = bench.bufs();  // start from what the unit left
      Buffers want = ref;
      reference(l, bench.mem(), want);
      for (int k = 0; k < 5; k++) bench.step(false);  // idle gap
      bench.written().clear();
      int64_t c = bench.run(l);
      int64_t wc = load_cycles(l, bench.read_latency);
      if (c < 0) {
        std::printf("HANG #%d: ", i);
        l.print(stdout);
        std::printf("\n");
        return 1;
      }
      failures += check_rows(bench, l, want, c, wc, i, bench.read_latency);
      bench.bufs() = want;  // keep in step even after a mismatch
      checked++;
      rows_checked += int64_t(l.w()) * l.h();
      if (!bench.slave_idle()) {
        std::printf("FAIL #%d: free with beats still owed\n", i);
        failures++;
      }
    }
    failures += bench.errors;
  }
  std::printf("random: %" PRId64 " LOADs, %" PRId64 " rows, data and cycles checked\n", checked,
              rows_checked);

  // 1b. GEMM and convolution shapes at the default latency, with their cycle counts.
  {
    Bench bench(ctx.get());
    bench.read_latency = 32;
    auto mk = [](int buf, int elem, uint64_t addr, int xs, int ys, uint64_t xst, uint64_t yst,
                 int pad) {
      Load l;
      l.buf = buf; l.elem = elem; l.addr = addr; l.xs = xs; l.ys = ys; l.xst = xst; l.yst = yst;
      l.xp0 = l.xp1 = l.yp0 = l.yp1 = pad;
      return l;
    };
    const Load shapes[] = {
        mk(0, 16, 0x100000, 4096, 1, 16, 0, 0),        // an A block of 4096 rows
        mk(0, 16, 0x100003, 4096, 1, 16, 0, 0),        // the same, unaligned
        mk(0, 5, 0x100000, 4096, 1, 5, 0, 0),          // a partial K chunk (5 lanes)
        mk(1, 16, 0x200000, 256, 1, 16, 0, 0),         // 16 weight tiles
        mk(2, 64, 0x300000, 3, 1, 64, 0, 0),           // requantization parameters
        mk(2, 64, 0x300000, 1024, 1, 64, 0, 0),        // 1024 ACC rows (beat-bound)
        mk(0, 16, 0x140000, 32, 32, 16, 16 * 34, 1),   // a padded 32x32 feature map
    };
    for (const Load& l : shapes) {
      Buffers want = bench.bufs();
      reference(l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(l);
      failures += check_rows(bench, l, want, c, load_cycles(l, 32), 0, 32);
      bench.bufs() = want;
      std::printf("  C=%-5" PRId64 " ", c);
      l.print(stdout);
      std::printf("\n");
    }
    failures += bench.errors;
    std::printf("shapes: %zu GEMM/convolution LOADs checked\n", std::size(shapes));
  }

  // 2. Back to back: each LOAD issued in the first cycle the unit is free.
  {
    Bench bench(ctx.get());
    bench.read_latency = 32;
    Buffers want = bench.bufs();
    int n = 300;
    for (int i = 0; i < n && failures < 10; i++) {
      Load l = random_load(rng);
      reference(l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(l);  // the loop exits at the first free cycle: the next issues there
      int64_t wc = load_cycles(l, bench.read_latency);
      if (c != wc) {
        std::printf("TIMING back-to-back #%d: C=%" PRId64 " want %" PRId64 "; ", i, c, wc);
        l.print(stdout);
        std::printf("\n");
        failures++;
      }
    }
    for (int b = 0; b < 3; b++) {
      if (bench.bufs().rows[b] != want.rows[b]) {
        std::printf("MISMATCH back-to-back: buffer %d differs\n", b);
        failures++;
      }
    }
    failures += bench.errors;
    std::printf("back-to-back: %d LOADs, cycles and final buffers checked\n", n);
  }

  // 2b. A memory that stalls: arready low and R beats late at random. Data only.
  {
    Bench bench(ctx.get());
    bench.read_latency = 20;
    bench.stalls = true;
    int n = 500;
    for (int i = 0; i < n && failures < 10; i++) {
      Load l = random_load(rng);
      Buffers want = bench.bufs();
      reference(l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(l);
      if (c < 0) {
        std::printf("HANG with stalls #%d\n", i);
        return 1;
      }
      failures += check_rows(bench, l, want, c, c, i, bench.read_latency);
      bench.bufs() = want;
    }
    failures += bench.errors;
    std::printf("stalls: %d LOADs under random arready/rvalid stalls, data checked\n", n);
  }

  // 3. An SLVERR in the middle of a transfer: fault_o once, the LOAD completes in its time.
  {
    Bench bench(ctx.get());
    bench.read_latency = 32;
    Load l;
    l.buf = 2; l.elem = 64; l.xs = 64; l.ys = 1; l.xst = 64; l.addr = 0x10000; l.yp1 = 2;
    bench.bad_from = 0x10000 + 40 * 64;
    int64_t c = bench.run(l);
    int64_t wc = load_cycles(l, 32);
    if (bench.faults() != 1 || c != wc) {
      std::printf("FAIL fault: %d fault pulses (want 1), C=%" PRId64 " want %" PRId64 "\n",
                  bench.faults(), c, wc);
      failures++;
    }
    bench.bad_from = ~uint64_t(0);
    Load ok = l;
    ok.dst_row = 1000;
    int64_t c2 = bench.run(ok);
    if (bench.faults() != 1 || c2 != wc) {
      std::printf("FAIL after fault: C=%" PRId64 " want %" PRId64 "\n", c2, wc);
      failures++;
    }
    failures += bench.errors;
    std::printf("fault: SLVERR mid-transfer gives one fault_o pulse, C=%" PRId64 " as modelled\n",
                c);
  }

  // 4. clear_i with bursts in flight, at many points of a transfer.
  {
    int cleared = 0;
    for (int at = 1; at < 400 && failures < 10; at += 7) {
      Bench bench(ctx.get());
      bench.stalls = at >= 200;  // the second half with a stalling memory
      bench.read_latency = 32;
      Load l;
      l.buf = 0; l.elem = 16; l.xs = 150; l.ys = 2; l.xst = 16; l.yst = 4096 + 3;
      l.addr = 0x2000 + 5; l.xp0 = 2; l.yp1 = 1;
      bench.set_instr(l);
      bench.step(true);
      for (int k = 1; k < at; k++) bench.step(false);
      bench.clear_now = true;
      bench.begin_clear_watch();
      bench.step(false);
      bench.clear_now = false;
      int64_t t0 = bench.cycle();
      while (!bench.free() && bench.cycle() - t0 < 10000) bench.step(false);
      if (!bench.free() || !bench.slave_idle() || bench.writes_after_clear != 0) {
        std::printf("FAIL clear at +%d: free=%d slave_idle=%d writes after clear=%" PRId64 "\n", at,
                    bench.free(), bench.slave_idle(), bench.writes_after_clear);
        failures++;
        continue;
      }
      // The unit works normally afterwards.
      Buffers want = bench.bufs();
      Load next = random_load(rng);
      reference(next, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(next);
      int64_t wc = bench.stalls ? c : load_cycles(next, 32);
      failures += check_rows(bench, next, want, c, wc, at, 32);
      failures += bench.errors;
      cleared++;
    }
    std::printf("clear: %d clears with bursts in flight (half with a stalling memory) drained, "
                "then a LOAD checked\n", cleared);
  }

  std::printf("load tb: %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
