// Testbench of systole_load: the unit against a fixed-latency AXI4 read slave (MICROARCH.md, "The
// fixed-latency memory model") over a byte array, and a model of the three buffers.
//
// The LOADs and their cycle counts come from a timing trace (the only argument; scripts/rtl-tests
// writes it with dev.systole.driver.timing.TimingTraces, format in fpga/tb/README.md): the timing
// model exists only in TransferTiming.loadCycles, and this bench replays what it says.
// Every LOAD of the trace's random and shape phases runs alone from an idle unit and is checked
// twice:
//   - the buffer rows against the contract's pseudo-code (CONTRACT.md 6.1), every row of the
//     W*H rows written exactly once and no other row touched;
//   - the measured busy time C (issue at T, free_o first 1 again at T + C) against the trace's.
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
#include <string>
#include <vector>

#include "../timing_trace.h"
#include "Vsystole_load.h"

namespace {

constexpr int kD = 16;                     // ArrayDim of the build under test
constexpr int kRowBytes = 4 * kD;          // bytes of the widest row (ACC)
constexpr int kRows = 4096;                // AbufRows = WbufRows = AccRows
constexpr uint64_t kMemBytes = 1u << 22;   // the memory behind the port
constexpr uint64_t kSeed = 0x5157'0A11;    // of the memory's contents

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

// One case of the trace: a LOAD, the read latency it runs at and the cycles the model gives.
struct Case {
  std::string phase;
  int64_t read_latency = 0;
  int64_t cycles = 0;
  Load l;
  int line = 0;
};

std::vector<Case> read_cases(const char* path) {
  std::vector<Case> out;
  for (const TraceRecord& r : read_trace(path)) {
    if (r.op.empty() && r.head.size() == 2 && r.head[0] == "array_dim") {
      if (r.num(1) != kD) r.die("array_dim " + r.head[1] + ", this bench is built for " + std::to_string(kD));
      continue;
    }
    if (r.op != "LOAD" || r.head.size() != 3) r.die("expected PHASE READ_LATENCY CYCLES LOAD ...");
    Case c;
    c.phase = r.head[0];
    c.read_latency = r.num(1);
    c.cycles = r.num(2);
    c.line = r.line;
    Load& l = c.l;
    l.buf = int(r.field("buf"));
    l.dst_row = int(r.field("dst_row"));
    l.elem = int(r.field("elem_bytes"));
    l.pad = int(r.field("pad_value") & 0xff);
    l.addr = uint64_t(r.field("hbm_addr"));
    l.xs = int(r.field("x_size"));
    l.ys = int(r.field("y_size"));
    l.xst = uint64_t(r.field("x_stride"));
    l.yst = uint64_t(r.field("y_stride"));
    l.xp0 = int(r.field("x_pad0"));
    l.xp1 = int(r.field("x_pad1"));
    l.yp0 = int(r.field("y_pad0"));
    l.yp1 = int(r.field("y_pad1"));
    r.check_used();
    if (l.buf > 2 || l.elem < 1 || l.elem > (l.buf == 2 ? kRowBytes : kD) || l.xs < 1 ||
        l.ys < 1 || l.dst_row + l.w() * l.h() > kRows || l.last_byte() > kMemBytes) {
      r.die("a LOAD outside this bench's buffers (" + std::to_string(kRows) + " rows) or memory (" +
            std::to_string(kMemBytes) + " bytes)");
    }
    out.push_back(c);
  }
  return out;
}

// Checks that exactly the rows of the case's LOAD were written, once each, that they match the
// reference, and (if timed) that the unit was busy for the trace's cycles.
int check_rows(Bench& bench, const Case& k, Buffers& ref, int64_t c, bool timed) {
  const Load& l = k.l;
  int bad = 0;
  auto about = [&]() {
    std::printf(" (trace line %d, Lr=%" PRId64 "); ", k.line, k.read_latency);
    l.print(stdout);
    std::printf("\n");
    bad++;
  };
  std::vector<int> expect;
  for (int r = 0; r < l.w() * l.h(); r++) expect.push_back(l.buf * kRows + l.dst_row + r);
  std::vector<int> got = bench.written();
  std::sort(got.begin(), got.end());
  if (got != expect) {
    std::printf("MISMATCH %s: %zu rows written, want %zu, or wrong rows", k.phase.c_str(),
                got.size(), expect.size());
    about();
  }
  int bytes = l.buf == 2 ? kRowBytes : kD;
  for (int r = 0; r < l.w() * l.h() && bad < 3; r++) {
    const uint8_t* g = bench.bufs().row(l.buf, l.dst_row + r);
    const uint8_t* e = ref.row(l.buf, l.dst_row + r);
    for (int b = 0; b < bytes; b++) {
      if (g[b] != e[b]) {
        std::printf("MISMATCH %s: row %d byte %d got 0x%02x want 0x%02x", k.phase.c_str(),
                    l.dst_row + r, b, g[b], e[b]);
        about();
        break;
      }
    }
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
    std::fprintf(stderr, "usage: %s TRACE (a LOAD timing trace; scripts/rtl-tests load)\n", argv[0]);
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
  std::printf("load tb: %zu LOADs from %s, D=%d\n", cases.size(), argv[1], kD);
  int failures = 0;
  int64_t checked = 0, rows_checked = 0;

  // 1. Random LOADs, each alone from an idle unit, one bench per run of cases at one latency.
  {
    std::vector<const Case*> random = phase("random");
    std::unique_ptr<Bench> bench;
    for (const Case* k : random) {
      if (failures >= 10) break;
      if (!bench || bench->read_latency != k->read_latency) {
        if (bench) failures += bench->errors;
        bench.reset(new Bench(ctx.get()));
        bench->read_latency = k->read_latency;
      }
      const Load& l = k->l;
      Buffers& ref = bench->bufs();  // start from what the unit left
      Buffers want = ref;
      reference(l, bench->mem(), want);
      for (int i = 0; i < 5; i++) bench->step(false);  // idle gap
      bench->written().clear();
      int64_t c = bench->run(l);
      if (c < 0) {
        std::printf("HANG (trace line %d): ", k->line);
        l.print(stdout);
        std::printf("\n");
        return 1;
      }
      failures += check_rows(*bench, *k, want, c, true);
      bench->bufs() = want;  // keep in step even after a mismatch
      checked++;
      rows_checked += int64_t(l.w()) * l.h();
      if (!bench->slave_idle()) {
        std::printf("FAIL (trace line %d): free with beats still owed\n", k->line);
        failures++;
      }
    }
    if (bench) failures += bench->errors;
  }
  std::printf("random: %" PRId64 " LOADs, %" PRId64 " rows, data and cycles checked\n", checked,
              rows_checked);

  // 1b. GEMM and convolution shapes, with their cycle counts.
  {
    std::vector<const Case*> shapes = phase("shape");
    Bench bench(ctx.get());
    for (const Case* k : shapes) {
      bench.read_latency = k->read_latency;
      Buffers want = bench.bufs();
      reference(k->l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->l);
      failures += check_rows(bench, *k, want, c, true);
      bench.bufs() = want;
      std::printf("  C=%-5" PRId64 " ", c);
      k->l.print(stdout);
      std::printf("\n");
    }
    failures += bench.errors;
    std::printf("shapes: %zu GEMM/convolution LOADs checked\n", shapes.size());
  }

  // 2. Back to back: each LOAD issued in the first cycle the unit is free.
  {
    std::vector<const Case*> b2b = phase("back-to-back");
    Bench bench(ctx.get());
    Buffers want = bench.bufs();
    for (const Case* k : b2b) {
      if (failures >= 10) break;
      bench.read_latency = k->read_latency;
      reference(k->l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->l);  // the loop exits at the first free cycle: the next issues there
      if (c != k->cycles) {
        std::printf("TIMING back-to-back (trace line %d): C=%" PRId64 " want %" PRId64 "; ",
                    k->line, c, k->cycles);
        k->l.print(stdout);
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
    std::printf("back-to-back: %zu LOADs, cycles and final buffers checked\n", b2b.size());
  }

  // 2b. A memory that stalls: arready low and R beats late at random. Data only.
  {
    std::vector<const Case*> stalls = phase("stall");
    Bench bench(ctx.get());
    bench.stalls = true;
    for (const Case* k : stalls) {
      if (failures >= 10) break;
      bench.read_latency = k->read_latency;
      Buffers want = bench.bufs();
      reference(k->l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->l);
      if (c < 0) {
        std::printf("HANG with stalls (trace line %d)\n", k->line);
        return 1;
      }
      failures += check_rows(bench, *k, want, c, false);
      bench.bufs() = want;
    }
    failures += bench.errors;
    std::printf("stalls: %zu LOADs under random arready/rvalid stalls, data checked\n",
                stalls.size());
  }

  // 3. An SLVERR in the middle of the first transfer: fault_o once, the LOAD (and the ones after
  // it) complete in their time.
  {
    std::vector<const Case*> faults = phase("fault");
    Bench bench(ctx.get());
    for (size_t i = 0; i < faults.size(); i++) {
      const Case* k = faults[i];
      const Load& l = k->l;
      bench.read_latency = k->read_latency;
      // Beats from 5/8 of the block on answer SLVERR.
      bench.bad_from = i == 0 ? l.addr + uint64_t(l.ys * l.xs * 5 / 8) * l.elem : ~uint64_t(0);
      int64_t c = bench.run(l);
      if (c != k->cycles) {
        std::printf("FAIL fault (trace line %d): C=%" PRId64 " want %" PRId64 "\n", k->line, c,
                    k->cycles);
        failures++;
      }
      if (i == 0) std::printf("fault: SLVERR mid-transfer, C=%" PRId64 " as modelled\n", c);
    }
    if (faults.empty() || bench.faults() != 1) {
      std::printf("FAIL fault: %d fault pulses over %zu LOADs (want 1)\n", bench.faults(),
                  faults.size());
      failures++;
    }
    failures += bench.errors;
  }

  // 4. clear_i with bursts in flight, at many points of a transfer; each followed by a LOAD of
  // the trace.
  {
    std::vector<const Case*> after = phase("clear");
    int cleared = 0;
    for (size_t i = 0; i < after.size() && failures < 10; i++) {
      const int at = 1 + 7 * int(i);
      const Case* k = after[i];
      Bench bench(ctx.get());
      bench.stalls = at >= 200;  // the second half with a stalling memory
      bench.read_latency = k->read_latency;
      Load l;
      l.buf = 0; l.elem = 16; l.xs = 150; l.ys = 2; l.xst = 16; l.yst = 4096 + 3;
      l.addr = 0x2000 + 5; l.xp0 = 2; l.yp1 = 1;
      bench.set_instr(l);
      bench.step(true);
      for (int s = 1; s < at; s++) bench.step(false);
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
      reference(k->l, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->l);
      failures += check_rows(bench, *k, want, c, !bench.stalls);
      failures += bench.errors;
      cleared++;
    }
    std::printf("clear: %d clears with bursts in flight (half with a stalling memory) drained, "
                "then a LOAD checked\n", cleared);
  }

  std::printf("load tb: %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
