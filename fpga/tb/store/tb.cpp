// Testbench of systole_store: the unit against a fixed-latency AXI4 write slave (MICROARCH.md,
// "The fixed-latency memory model") over a byte array, and a model of the three buffers behind
// the read port (data the cycle after rd_en_o). Built for D = TB_ARRAY_DIM (../bench.h).
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
// STORE correct). The memory is the write slave of ../axi_slave.h, whose checker runs
// throughout: no burst crosses 4 KiB, len <= 15, size 5, INCR, awvalid and its payload held until
// awready, wlast exactly on each burst's last beat; and free_o only when no B response is owed.
// A phase with its random awready/wready/bvalid stalls checks the data path where the memory is
// not the fixed-latency one (cycles not compared). The build's parameters and field positions
// come from the contract (../bench.h, the generated header).
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
#include "Vsystole_store.h"

namespace {

namespace c = systole_contract;
constexpr int kD = tb::kArrayDim;
constexpr int kRows = tb::RowBuffers::kRows;          // AbufRows = WbufRows = AccRows
constexpr uint64_t kMemBytes = tb::kSlaveMemBytes;    // the memory behind the port
constexpr uint64_t kSeed = 0x5703'E5ED;               // of the memory's and buffers' contents
using Buffers = tb::RowBuffers;

struct Store {
  int buf = c::kBufAbuf;
  int src_row = 0;
  int elem = 1;
  uint64_t addr = 0;
  int xs = 1, ys = 1;
  uint64_t xst = 0, yst = 0;

  uint64_t end() const {  // one past the last byte touched
    return addr + uint64_t(ys - 1) * yst + uint64_t(xs - 1) * xst + elem;
  }
  tb::InstrWord encode() const {
    tb::InstrWord iw(c::kOpStore);
    iw.put(TB_FIELD(Store, Buf), buf);
    iw.put(TB_FIELD(Store, SrcRow), src_row);
    iw.put(TB_FIELD(Store, ElemBytes), elem);
    iw.put(TB_FIELD(Store, HbmAddr), addr);
    iw.put(TB_FIELD(Store, XSize), xs);
    iw.put(TB_FIELD(Store, YSize), ys);
    iw.put(TB_FIELD(Store, XStride), xst);
    iw.put(TB_FIELD(Store, YStride), yst);
    return iw;
  }
  void print(FILE* f) const {
    std::fprintf(f,
                 "STORE buf=%s src_row=%d elem_bytes=%d hbm_addr=0x%" PRIx64
                 " x_size=%d y_size=%d x_stride=%" PRIu64 " y_stride=%" PRIu64,
                 tb::buf_name(buf), src_row, elem, addr, xs, ys, xst, yst);
  }
};

// ---- reference: CONTRACT.md 6.2 ----------------------------------------------------------------
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
// The unit, its AXI write slave (axi_slave.h) over the memory, and the buffers behind its read
// port.
class Bench {
  // First: the slave binds to the top and the memory.
  std::unique_ptr<Vsystole_store> top_;
  std::vector<uint8_t> mem_;
  tb::PortChecks checks_;

 public:
  explicit Bench(VerilatedContext* ctx) : top_(new Vsystole_store{ctx}) {
    mem_.assign(kMemBytes, 0);
    std::mt19937_64 rng(kSeed ^ 0x99);
    tb::fill_random(mem_, rng);
    for (auto& r : bufs_.rows) tb::fill_random(r, rng);
    top_->clear_i = 0;
    top_->issue_i = 0;
    top_->m_awready_i = 1;
    top_->m_wready_i = 1;
    top_->m_bvalid_i = 0;
    tb::reset(*top_);
  }
  ~Bench() { top_->final(); }

  tb::AxiWriteSlave axi{tb::axi_write_port(*top_), mem_, checks_, 13};
  bool clear_now = false;
  // Between a clear and free_o, B responses are owed by design: the check that free_o waits for
  // them is off while this is set.
  bool clear_seen = false;

  std::vector<uint8_t>& mem() { return mem_; }
  Buffers& bufs() { return bufs_; }
  int64_t cycle() const { return cycle_; }
  bool free() const { return top_->free_o; }
  int errors() const { return checks_.errors; }
  int faults() const { return faults_; }

  void set_instr(const Store& s) { tb::drive_instr(*top_, s.encode().w); }

  void step(bool issue) {
    top_->issue_i = issue;
    top_->clear_i = clear_now;
    // Read port: data of the row read last cycle; the other ports carry noise.
    for (int k = 0; k < kD / 4; k++) {
      tb::set_word(top_->abuf_rdata_i, k, noise_());
      tb::set_word(top_->wbuf_rdata_i, k, noise_());
    }
    for (int k = 0; k < kD; k++) tb::set_word(top_->acc_rdata_i, k, noise_());
    if (rd_valid_) {
      const uint8_t* src = bufs_.row(rd_buf_, rd_row_);
      for (int k = 0; k < tb::row_bytes(rd_buf_) / 4; k++) {
        const uint32_t w = tb::pack_word(src + 4 * k);
        if (rd_buf_ == c::kBufAbuf) tb::set_word(top_->abuf_rdata_i, k, w);
        if (rd_buf_ == c::kBufWbuf) tb::set_word(top_->wbuf_rdata_i, k, w);
        if (rd_buf_ == c::kBufAcc) tb::set_word(top_->acc_rdata_i, k, w);
      }
    }
    axi.drive(cycle_);
    tb::clock_low(*top_);

    if (top_->rd_en_o) {
      if (top_->rd_buf_o > c::kBufAcc || top_->rd_row_o >= kRows) {
        checks_.fail("read outside the buffers", cycle_);
      }
      rd_valid_ = true;
      rd_buf_ = top_->rd_buf_o;
      rd_row_ = top_->rd_row_o;
    } else {
      rd_valid_ = false;
    }
    axi.sample(cycle_, clear_now);
    if (top_->fault_o) faults_++;
    tb::clock_high(*top_);
    cycle_++;
    if (top_->free_o && !clear_seen && !axi.idle()) {
      checks_.fail("free with B responses owed", cycle_);
    }
  }

  int64_t run(const Store& s, int64_t limit = 2000000) {
    set_instr(s);
    axi.reset_written();
    return tb::run_to_free(*this, limit);
  }

 private:
  Buffers bufs_;
  uint32_t noise_state_ = 0x9e3779b9;
  uint32_t noise_() {  // xorshift32: cheap noise for the unread ports
    noise_state_ ^= noise_state_ << 13;
    noise_state_ ^= noise_state_ >> 17;
    noise_state_ ^= noise_state_ << 5;
    return noise_state_;
  }
  int64_t cycle_ = 0;
  bool rd_valid_ = false;
  int rd_buf_ = 0, rd_row_ = 0;
  int faults_ = 0;
};

// One case of the trace: a STORE, the write latency it runs at and the cycles the model gives.
using Case = TransferCase<Store>;

std::vector<Case> read_cases(const char* path) {
  auto decode = [](const TraceRecord& r, Store& s) {
    s.buf = int(r.field("buf"));
    s.src_row = int(r.field("src_row"));
    s.elem = int(r.field("elem_bytes"));
    s.addr = uint64_t(r.field("hbm_addr"));
    s.xs = int(r.field("x_size"));
    s.ys = int(r.field("y_size"));
    s.xst = uint64_t(r.field("x_stride"));
    s.yst = uint64_t(r.field("y_stride"));
    r.check_used();
    if (s.buf > int(c::kBufAcc) || s.elem < 1 || s.elem > tb::row_bytes(s.buf) || s.xs < 1 ||
        s.ys < 1 || s.src_row + s.xs * s.ys > kRows || s.end() > kMemBytes) {
      r.die("a STORE outside this bench's buffers (" + std::to_string(kRows) + " rows) or memory (" +
            std::to_string(kMemBytes) + " bytes)");
    }
  };
  return read_transfer_cases<Store>(path, kD, "STORE", "WRITE_LATENCY", decode);
}

// Compares the memory over the block's span (plus a margin) and the strobed range, and (if timed)
// the unit's busy time with the trace's.
int check(Bench& bench, const Case& k, const std::vector<uint8_t>& want, int64_t c, bool timed) {
  const Store& s = k.instr;
  int bad = 0;
  auto about = [&]() {
    std::printf(" (trace line %d, Lw=%" PRId64 "); ", k.line, k.latency);
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
  if (bench.axi.hi_written && (bench.axi.lo_written < s.addr || bench.axi.hi_written > s.end())) {
    std::printf("MISMATCH %s: strobed bytes 0x%" PRIx64 "..0x%" PRIx64 " outside the block",
                k.phase.c_str(), bench.axi.lo_written, bench.axi.hi_written);
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
  auto phase = [&](const char* name) { return in_phase(cases, name); };
  std::printf("store tb: %zu STOREs from %s, D=%d\n", cases.size(), argv[1], kD);
  int failures = 0;
  int64_t checked = 0, rows_checked = 0;

  // 1. Random STOREs, each alone from an idle unit, one bench per run of cases at one latency.
  {
    std::unique_ptr<Bench> bench;
    std::vector<uint8_t> want;  // kept equal to the memory outside each check
    for (const Case* k : phase("random")) {
      if (failures >= 10) break;
      if (!bench || bench->axi.latency != k->latency) {
        if (bench) failures += bench->errors();
        bench.reset(new Bench(ctx.get()));
        bench->axi.latency = k->latency;
        want = bench->mem();
      }
      reference(k->instr, bench->bufs(), want);
      for (int i = 0; i < 5; i++) bench->step(false);  // idle gap
      int64_t c = bench->run(k->instr);
      if (c < 0) {
        std::printf("HANG (trace line %d): ", k->line);
        k->instr.print(stdout);
        std::printf("\n");
        return 1;
      }
      failures += check(*bench, *k, want, c, true);
      if (failures) bench->mem() = want;  // keep in step after a mismatch
      checked++;
      rows_checked += int64_t(k->instr.xs) * k->instr.ys;
    }
    if (bench) failures += bench->errors();
  }
  std::printf("random: %" PRId64 " STOREs, %" PRId64 " rows, memory and cycles checked\n", checked,
              rows_checked);

  // 1b. GEMM shapes, with their cycle counts.
  {
    std::vector<const Case*> shapes = phase("shape");
    Bench bench(ctx.get());
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : shapes) {
      bench.axi.latency = k->latency;
      reference(k->instr, bench.bufs(), want);
      int64_t c = bench.run(k->instr);
      failures += check(bench, *k, want, c, true);
      std::printf("  C=%-5" PRId64 " ", c);
      k->instr.print(stdout);
      std::printf("\n");
    }
    failures += bench.errors();
    std::printf("shapes: %zu GEMM STOREs checked\n", shapes.size());
  }

  // 2. Back to back: each STORE issued in the first cycle the unit is free.
  {
    std::vector<const Case*> b2b = phase("back-to-back");
    Bench bench(ctx.get());
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : b2b) {
      if (failures >= 10) break;
      bench.axi.latency = k->latency;
      reference(k->instr, bench.bufs(), want);
      int64_t c = bench.run(k->instr);
      if (c != k->cycles) {
        std::printf("TIMING back-to-back (trace line %d): C=%" PRId64 " want %" PRId64 "; ",
                    k->line, c, k->cycles);
        k->instr.print(stdout);
        std::printf("\n");
        failures++;
      }
    }
    if (bench.mem() != want) {
      std::printf("MISMATCH back-to-back: memory differs\n");
      failures++;
    }
    failures += bench.errors();
    std::printf("back-to-back: %zu STOREs, cycles and final memory checked\n", b2b.size());
  }

  // 2b. A memory that stalls: awready, wready and bvalid low at random. Data only.
  {
    std::vector<const Case*> stalls = phase("stall");
    Bench bench(ctx.get());
    bench.axi.stalls = true;
    std::vector<uint8_t> want = bench.mem();
    for (const Case* k : stalls) {
      if (failures >= 10) break;
      bench.axi.latency = k->latency;
      reference(k->instr, bench.bufs(), want);
      int64_t c = bench.run(k->instr);
      if (c < 0) {
        std::printf("HANG with stalls (trace line %d)\n", k->line);
        return 1;
      }
      failures += check(bench, *k, want, c, false);
      if (failures) bench.mem() = want;
    }
    failures += bench.errors();
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
      const Store& s = k->instr;
      bench.axi.latency = k->latency;
      // Bursts touching 5/8 of the block and beyond answer SLVERR.
      bench.axi.bad_from = i == 0 ? s.addr + uint64_t(s.ys * s.xs * 5 / 8) * s.elem : ~uint64_t(0);
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
    failures += bench.errors();
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
      bench.axi.stalls = at >= 200;  // the second half with a stalling memory
      bench.axi.latency = k->latency;
      bench.clear_seen = true;  // between the clear and free, responses are owed by design
      Store s;
      s.buf = c::kBufAbuf; s.elem = std::min(16, kD);  // at most an ABUF row
      s.xs = 150; s.ys = 2; s.xst = 16; s.yst = 4096 + 3;
      s.addr = 0x2000 + 5;
      bench.set_instr(s);
      bench.step(true);
      for (int j = 1; j < at; j++) bench.step(false);
      bench.clear_now = true;
      bench.axi.begin_clear_watch();
      bench.step(false);
      bench.clear_now = false;
      int64_t t0 = bench.cycle();
      while (!bench.free() && bench.cycle() - t0 < 10000) bench.step(false);
      if (!bench.free() || !bench.axi.idle() || bench.axi.strobes_after_clear != 0) {
        std::printf("FAIL clear at +%d: free=%d slave_idle=%d strobed bytes after clear=%" PRId64
                    "\n", at, bench.free(), bench.axi.idle(), bench.axi.strobes_after_clear);
        failures++;
        continue;
      }
      bench.clear_seen = false;
      std::vector<uint8_t> want = bench.mem();
      reference(k->instr, bench.bufs(), want);
      int64_t c = bench.run(k->instr);
      failures += check(bench, *k, want, c, !bench.axi.stalls);
      failures += bench.errors();
      cleared++;
    }
    std::printf("clear: %d clears with bursts in flight (half with a stalling memory) drained, "
                "then a STORE checked\n", cleared);
  }

  std::printf("store tb: %s (%d failures)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
