// Testbench of systole_load: the unit against a fixed-latency AXI4 read slave (MICROARCH.md, "The
// fixed-latency memory model") over a byte array, and a model of the three buffers. Built for
// D = TB_ARRAY_DIM (../bench.h).
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
// The memory is the read slave of ../axi_slave.h, whose checker runs throughout: no burst
// crosses 4 KiB, len <= 15, size 5, INCR, arvalid and its payload held until arready. A phase with
// its random arready/rvalid stalls checks the data path where the memory is not the fixed-latency
// one (cycles not compared). The build's parameters and field positions come from the contract
// (../bench.h, the generated header).
#include <verilated.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../axi_slave.h"
#include "../bench.h"
#include "../timing_trace.h"
#include "Vsystole_load.h"

namespace {

namespace c = systole_contract;
constexpr int kD = tb::kArrayDim;
constexpr int kRowBytes = tb::RowBuffers::kRowBytes;  // bytes of the widest row (ACC)
constexpr int kRows = tb::RowBuffers::kRows;          // AbufRows = WbufRows = AccRows
constexpr uint64_t kMemBytes = tb::kSlaveMemBytes;    // the memory behind the port
constexpr uint64_t kSeed = 0x5157'0A11;               // of the memory's contents
using Buffers = tb::RowBuffers;

struct Load {
  int buf = c::kBufAbuf;
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
  tb::InstrWord encode() const {
    tb::InstrWord iw(c::kOpLoad);
    iw.put(TB_FIELD(Load, Buf), buf);
    iw.put(TB_FIELD(Load, DstRow), dst_row);
    iw.put(TB_FIELD(Load, ElemBytes), elem);
    iw.put(TB_FIELD(Load, PadValue), pad);
    iw.put(TB_FIELD(Load, HbmAddr), addr);
    iw.put(TB_FIELD(Load, XSize), xs);
    iw.put(TB_FIELD(Load, YSize), ys);
    iw.put(TB_FIELD(Load, XStride), xst);
    iw.put(TB_FIELD(Load, YStride), yst);
    iw.put(TB_FIELD(Load, XPad0), xp0);
    iw.put(TB_FIELD(Load, XPad1), xp1);
    iw.put(TB_FIELD(Load, YPad0), yp0);
    iw.put(TB_FIELD(Load, YPad1), yp1);
    return iw;
  }
  void print(FILE* f) const {
    std::fprintf(f,
                 "LOAD buf=%s dst_row=%d elem_bytes=%d pad_value=%d hbm_addr=0x%" PRIx64
                 " x_size=%d y_size=%d x_stride=%" PRIu64 " y_stride=%" PRIu64
                 " x_pad0=%d x_pad1=%d y_pad0=%d y_pad1=%d",
                 tb::buf_name(buf), dst_row, elem, pad, addr, xs, ys, xst, yst, xp0, xp1, yp0, yp1);
  }
};

// ---- reference: CONTRACT.md 6.1 ----------------------------------------------------------------
void reference(const Load& l, const std::vector<uint8_t>& mem, Buffers& b) {
  int row = l.dst_row;
  const int lane_bytes = tb::lane_bytes(l.buf);
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
// The unit, its AXI read slave (axi_slave.h) over the memory, and its buffer write port.
class Bench {
  // First: the slave binds to the top and the memory.
  std::unique_ptr<Vsystole_load> top_;
  std::vector<uint8_t> mem_;
  tb::PortChecks checks_;

 public:
  explicit Bench(VerilatedContext* ctx) : top_(new Vsystole_load{ctx}) {
    mem_.resize(kMemBytes);
    std::mt19937_64 rng(kSeed ^ 0x77);
    tb::fill_random(mem_, rng);
    top_->clear_i = 0;
    top_->issue_i = 0;
    top_->m_arready_i = 1;
    top_->m_rvalid_i = 0;
    tb::reset(*top_);
  }
  ~Bench() { top_->final(); }

  tb::AxiReadSlave axi{tb::axi_read_port(*top_), mem_, checks_, 11};
  bool clear_now = false;
  int64_t writes_after_clear = 0;

  const std::vector<uint8_t>& mem() const { return mem_; }
  Buffers& bufs() { return bufs_; }
  int64_t cycle() const { return cycle_; }
  bool free() const { return top_->free_o; }
  int errors() const { return checks_.errors; }
  std::vector<int>& written() { return written_; }
  int faults() const { return faults_; }

  void set_instr(const Load& l) { tb::drive_instr(*top_, l.encode().w); }

  // One clock cycle: drive the inputs of this cycle, sample, then the rising edge.
  void step(bool issue) {
    top_->issue_i = issue;
    top_->clear_i = clear_now;
    axi.drive(cycle_);
    tb::clock_low(*top_);
    axi.sample(cycle_);
    if (top_->fault_o) faults_++;
    if (top_->wr_en_o) {
      int buf = top_->wr_buf_o;
      int row = top_->wr_row_o;
      if (buf > c::kBufAcc || row >= kRows) {
        checks_.fail("write outside the buffers", cycle_);
      } else {
        uint8_t* dst = bufs_.row(buf, row);
        for (int k = 0; k < tb::row_bytes(buf); k++) dst[k] = tb::get_byte(top_->wr_data_o, k);
        written_.push_back(buf * kRows + row);
      }
      if (after_clear_) writes_after_clear++;
    }
    if (clear_now) after_clear_ = true;
    tb::clock_high(*top_);
    cycle_++;
  }

  void begin_clear_watch() { after_clear_ = false; }

  // Issues l in the current cycle (the unit must be free) and runs until free again; returns C.
  int64_t run(const Load& l, int64_t limit = 2000000) {
    set_instr(l);
    return tb::run_to_free(*this, limit);
  }

 private:
  Buffers bufs_;
  int64_t cycle_ = 0;
  int faults_ = 0;
  bool after_clear_ = false;
  std::vector<int> written_;
};

// One case of the trace: a LOAD, the read latency it runs at and the cycles the model gives.
using Case = TransferCase<Load>;

std::vector<Case> read_cases(const char* path) {
  auto decode = [](const TraceRecord& r, Load& l) {
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
    if (l.buf > int(c::kBufAcc) || l.elem < 1 || l.elem > tb::row_bytes(l.buf) || l.xs < 1 ||
        l.ys < 1 || l.dst_row + l.w() * l.h() > kRows || l.last_byte() > kMemBytes) {
      r.die("a LOAD outside this bench's buffers (" + std::to_string(kRows) + " rows) or memory (" +
            std::to_string(kMemBytes) + " bytes)");
    }
  };
  return read_transfer_cases<Load>(path, kD, "LOAD", "READ_LATENCY", decode);
}

// Checks that exactly the rows of the case's LOAD were written, once each, that they match the
// reference, and (if timed) that the unit was busy for the trace's cycles.
int check_rows(Bench& bench, const Case& k, Buffers& ref, int64_t c, bool timed) {
  const Load& l = k.instr;
  int bad = 0;
  auto about = [&]() {
    std::printf(" (trace line %d, Lr=%" PRId64 "); ", k.line, k.latency);
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
  int bytes = tb::row_bytes(l.buf);
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
  auto phase = [&](const char* name) { return in_phase(cases, name); };
  std::printf("load tb: %zu LOADs from %s, D=%d\n", cases.size(), argv[1], kD);
  int failures = 0;
  int64_t checked = 0, rows_checked = 0;

  // 1. Random LOADs, each alone from an idle unit, one bench per run of cases at one latency.
  {
    std::vector<const Case*> random = phase("random");
    std::unique_ptr<Bench> bench;
    for (const Case* k : random) {
      if (failures >= 10) break;
      if (!bench || bench->axi.latency != k->latency) {
        if (bench) failures += bench->errors();
        bench.reset(new Bench(ctx.get()));
        bench->axi.latency = k->latency;
      }
      const Load& l = k->instr;
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
      if (!bench->axi.idle()) {
        std::printf("FAIL (trace line %d): free with beats still owed\n", k->line);
        failures++;
      }
    }
    if (bench) failures += bench->errors();
  }
  std::printf("random: %" PRId64 " LOADs, %" PRId64 " rows, data and cycles checked\n", checked,
              rows_checked);

  // 1b. GEMM and convolution shapes, with their cycle counts.
  {
    std::vector<const Case*> shapes = phase("shape");
    Bench bench(ctx.get());
    for (const Case* k : shapes) {
      bench.axi.latency = k->latency;
      Buffers want = bench.bufs();
      reference(k->instr, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->instr);
      failures += check_rows(bench, *k, want, c, true);
      bench.bufs() = want;
      std::printf("  C=%-5" PRId64 " ", c);
      k->instr.print(stdout);
      std::printf("\n");
    }
    failures += bench.errors();
    std::printf("shapes: %zu GEMM/convolution LOADs checked\n", shapes.size());
  }

  // 2. Back to back: each LOAD issued in the first cycle the unit is free.
  {
    std::vector<const Case*> b2b = phase("back-to-back");
    Bench bench(ctx.get());
    Buffers want = bench.bufs();
    for (const Case* k : b2b) {
      if (failures >= 10) break;
      bench.axi.latency = k->latency;
      reference(k->instr, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->instr);  // the loop exits at the first free cycle: the next issues there
      if (c != k->cycles) {
        std::printf("TIMING back-to-back (trace line %d): C=%" PRId64 " want %" PRId64 "; ",
                    k->line, c, k->cycles);
        k->instr.print(stdout);
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
    failures += bench.errors();
    std::printf("back-to-back: %zu LOADs, cycles and final buffers checked\n", b2b.size());
  }

  // 2b. A memory that stalls: arready low and R beats late at random. Data only.
  {
    std::vector<const Case*> stalls = phase("stall");
    Bench bench(ctx.get());
    bench.axi.stalls = true;
    for (const Case* k : stalls) {
      if (failures >= 10) break;
      bench.axi.latency = k->latency;
      Buffers want = bench.bufs();
      reference(k->instr, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->instr);
      if (c < 0) {
        std::printf("HANG with stalls (trace line %d)\n", k->line);
        return 1;
      }
      failures += check_rows(bench, *k, want, c, false);
      bench.bufs() = want;
    }
    failures += bench.errors();
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
      const Load& l = k->instr;
      bench.axi.latency = k->latency;
      // Beats from 5/8 of the block on answer SLVERR.
      bench.axi.bad_from = i == 0 ? l.addr + uint64_t(l.ys * l.xs * 5 / 8) * l.elem : ~uint64_t(0);
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
    failures += bench.errors();
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
      bench.axi.stalls = at >= 200;  // the second half with a stalling memory
      bench.axi.latency = k->latency;
      Load l;
      l.buf = c::kBufAbuf; l.elem = std::min(16, kD);  // at most an ABUF row
      l.xs = 150; l.ys = 2; l.xst = 16; l.yst = 4096 + 3;
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
      if (!bench.free() || !bench.axi.idle() || bench.writes_after_clear != 0) {
        std::printf("FAIL clear at +%d: free=%d slave_idle=%d writes after clear=%" PRId64 "\n", at,
                    bench.free(), bench.axi.idle(), bench.writes_after_clear);
        failures++;
        continue;
      }
      // The unit works normally afterwards.
      Buffers want = bench.bufs();
      reference(k->instr, bench.mem(), want);
      bench.written().clear();
      int64_t c = bench.run(k->instr);
      failures += check_rows(bench, *k, want, c, !bench.axi.stalls);
      failures += bench.errors();
      cleared++;
    }
    std::printf("clear: %d clears with bursts in flight (half with a stalling memory) drained, "
                "then a LOAD checked\n", cleared);
  }

  std::printf("load tb: %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
