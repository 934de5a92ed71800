// Unit test of systole_exec (D = TB_ARRAY_DIM of ../bench.h, the contract's default buffer rows)
// with C++ models of ABUF, WBUF and ACC (one-cycle read latency) and a functional model that runs
// each instruction completely, in program order, when it issues (as the emulator does); REQUANT
// and VADD results from the contract's arithmetic (../reference.h).
//
// The program comes from a timing trace (the only argument; scripts/rtl-tests writes it with
// dev.systole.driver.timing.TimingTraces, format in fpga/tb/README.md): random instruction
// sequences, MATMUL in the pipelined tile pattern (w_load + w_preload, then w_swap + w_preload,
// ..., then w_swap), back-to-back MATMULs accumulating into the same ACC rows, single MATMULs with
// random flags, REQUANT (parameter rows holding usable and extreme values, shifts above 63), VMAX
// and VADD (in place, dst == a_row or b_row, or disjoint). Each issues in the cycle the trace
// gives: the first cycle IssueClock allows (MATMUL when free_o, the others when done_o), sometimes
// a few cycles later; now and then clear_i cuts into work in flight. The trace also gives, from
// the same model, the cycles from which free_o and done_o are 1 after each instruction: the
// timing model exists only in IssueClock, and this bench replays what it says.
//
// Checked: free_o and done_o are 1 exactly from the trace's cycles; every buffer access happens
// in exactly the cycle and at the address the EXEC pipeline of MICROARCH.md gives (the rows'
// schedule within an instruction, finer than the model), and no other access happens; the
// buffers equal the functional model whenever the unit is idle and at the end. After a clear_i,
// the unit is free and done in the next cycle and writes nothing more.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../bench.h"
#include "../reference.h"
#include "../timing_trace.h"
#include "Vsystole_exec.h"
#include "verilated.h"

namespace {

// The array size of the build under test (TB_ARRAY_DIM, ../bench.h: the contract's default;
// another one is tested by building with -GArrayDim=N and -CFLAGS -DTB_ARRAY_DIM=N).
constexpr int D = tb::kArrayDim;
constexpr long kArrayLatency = systole_contract::kTimingArrayLatency;
constexpr long kRequantSetup = systole_contract::kTimingRequantSetup;
constexpr long kRequantLatency = systole_contract::kTimingRequantLatency;
constexpr long kVectorLatency = systole_contract::kTimingVectorLatency;
constexpr int kAbufRows = tb::kAbufRows, kWbufRows = tb::kWbufRows, kAccRows = tb::kAccRows;
constexpr int kOpMatmul = systole_contract::kOpMatmul, kOpRequant = systole_contract::kOpRequant,
              kOpVmax = systole_contract::kOpVmax, kOpVadd = systole_contract::kOpVadd;

struct Bufs {
  std::vector<int8_t> abuf = std::vector<int8_t>(kAbufRows * D);
  std::vector<int8_t> wbuf = std::vector<int8_t>(kWbufRows * D);
  std::vector<int32_t> acc = std::vector<int32_t>(kAccRows * D);
};

struct Instr {
  int op = 0;
  // MATMUL
  bool accumulate = false, w_load = false, w_swap = false, w_preload = false;
  int a_row = 0, acc_row = 0, rows = 1, w_row = 0, pre_row = 0;
  // REQUANT (acc_row, rows shared), VMAX/VADD (a_row, rows shared)
  bool relu = false;
  int dst_row = 0, param_row = 0, b_row = 0;
  int zero_point = 0, a_zero = 0, b_zero = 0, out_zero = 0, shift = 0;
  int32_t a_mult = 0, b_mult = 0;

  tb::InstrWord encode() const {
    tb::InstrWord w(static_cast<uint8_t>(op));
    if (op == kOpMatmul) {
      w.put(TB_FIELD(Matmul, Accumulate), accumulate);
      w.put(TB_FIELD(Matmul, WLoad), w_load);
      w.put(TB_FIELD(Matmul, WSwap), w_swap);
      w.put(TB_FIELD(Matmul, WPreload), w_preload);
      w.put(TB_FIELD(Matmul, ARow), a_row);
      w.put(TB_FIELD(Matmul, AccRow), acc_row);
      w.put(TB_FIELD(Matmul, Rows), rows);
      if (w_load) w.put(TB_FIELD(Matmul, WRow), w_row);
      if (w_preload) w.put(TB_FIELD(Matmul, PreRow), pre_row);
    } else if (op == kOpRequant) {
      w.put(TB_FIELD(Requant, Relu), relu);
      w.put(TB_FIELD(Requant, AccRow), acc_row);
      w.put(TB_FIELD(Requant, DstRow), dst_row);
      w.put(TB_FIELD(Requant, Rows), rows);
      w.put(TB_FIELD(Requant, ParamRow), param_row);
      w.put(TB_FIELD(Requant, ZeroPoint), static_cast<uint8_t>(zero_point));
    } else if (op == kOpVmax) {
      w.put(TB_FIELD(Vmax, ARow), a_row);
      w.put(TB_FIELD(Vmax, BRow), b_row);
      w.put(TB_FIELD(Vmax, DstRow), dst_row);
      w.put(TB_FIELD(Vmax, Rows), rows);
    } else {
      w.put(TB_FIELD(Vadd, Relu), relu);
      w.put(TB_FIELD(Vadd, ARow), a_row);
      w.put(TB_FIELD(Vadd, BRow), b_row);
      w.put(TB_FIELD(Vadd, DstRow), dst_row);
      w.put(TB_FIELD(Vadd, Rows), rows);
      w.put(TB_FIELD(Vadd, AZero), static_cast<uint8_t>(a_zero));
      w.put(TB_FIELD(Vadd, BZero), static_cast<uint8_t>(b_zero));
      w.put(TB_FIELD(Vadd, OutZero), static_cast<uint8_t>(out_zero));
      w.put(TB_FIELD(Vadd, Shift), shift);
      w.put(TB_FIELD(Vadd, AMult), static_cast<uint32_t>(a_mult));
      w.put(TB_FIELD(Vadd, BMult), static_cast<uint32_t>(b_mult));
    }
    return w;
  }
  std::string text() const {
    char b[256];
    if (op == kOpMatmul) {
      std::snprintf(b, sizeof b,
                    "MATMUL accumulate=%d w_load=%d w_swap=%d w_preload=%d a_row=%d acc_row=%d"
                    " rows=%d w_row=%d pre_row=%d",
                    accumulate, w_load, w_swap, w_preload, a_row, acc_row, rows, w_row, pre_row);
    } else if (op == kOpRequant) {
      std::snprintf(b, sizeof b,
                    "REQUANT relu=%d acc_row=%d dst_row=%d rows=%d param_row=%d zero_point=%d",
                    relu, acc_row, dst_row, rows, param_row, zero_point);
    } else if (op == kOpVmax) {
      std::snprintf(b, sizeof b, "VMAX a_row=%d b_row=%d dst_row=%d rows=%d", a_row, b_row,
                    dst_row, rows);
    } else {
      std::snprintf(b, sizeof b,
                    "VADD relu=%d a_row=%d b_row=%d dst_row=%d rows=%d a_zero=%d b_zero=%d"
                    " out_zero=%d shift=%d a_mult=%d b_mult=%d",
                    relu, a_row, b_row, dst_row, rows, a_zero, b_zero, out_zero, shift, a_mult,
                    b_mult);
    }
    return b;
  }
};

// One record of the trace: an instruction issued in cycle `cycle`, after which free_o and done_o
// are 1 from `free` and `done`; or clear_i high in cycle `cycle`.
struct Event {
  long cycle = 0, free = 0, done = 0;
  bool clear = false;
  Instr in;
  int line = 0;
};

struct Trace {
  int param_base = 0, param_span = 0;  // ACC rows holding REQUANT parameters
  std::vector<Event> events;
};

Trace read_events(const char* path) {
  Trace t;
  for (const TraceRecord& r : read_trace(path)) {
    if (is_array_dim(r, D)) continue;
    if (r.op.empty() && r.head.size() == 3 && r.head[0] == "param_rows") {
      t.param_base = static_cast<int>(r.num(1));
      t.param_span = static_cast<int>(r.num(2));
      continue;
    }
    Event e;
    e.line = r.line;
    if (r.op.empty() && r.head.size() == 2 && r.head[1] == "clear") {
      e.cycle = r.num(0);
      e.clear = true;
    } else if (!r.op.empty() && r.head.size() == 3) {
      e.cycle = r.num(0);
      e.free = r.num(1);
      e.done = r.num(2);
      Instr& in = e.in;
      auto f = [&](const char* name) { return static_cast<int>(r.field(name)); };
      if (r.op == "MATMUL") {
        in.op = kOpMatmul;
        in.accumulate = f("accumulate");
        in.w_load = f("w_load");
        in.w_swap = f("w_swap");
        in.w_preload = f("w_preload");
        in.a_row = f("a_row");
        in.acc_row = f("acc_row");
        in.rows = f("rows");
        in.w_row = f("w_row");
        in.pre_row = f("pre_row");
      } else if (r.op == "REQUANT") {
        in.op = kOpRequant;
        in.relu = f("relu");
        in.acc_row = f("acc_row");
        in.dst_row = f("dst_row");
        in.rows = f("rows");
        in.param_row = f("param_row");
        in.zero_point = f("zero_point");
      } else if (r.op == "VMAX" || r.op == "VADD") {
        in.op = r.op == "VMAX" ? kOpVmax : kOpVadd;
        in.a_row = f("a_row");
        in.b_row = f("b_row");
        in.dst_row = f("dst_row");
        in.rows = f("rows");
        if (in.op == kOpVadd) {
          in.relu = f("relu");
          in.a_zero = f("a_zero");
          in.b_zero = f("b_zero");
          in.out_zero = f("out_zero");
          in.shift = f("shift");
          in.a_mult = static_cast<int32_t>(r.field("a_mult"));
          in.b_mult = static_cast<int32_t>(r.field("b_mult"));
        }
      } else {
        r.die(r.op + " is not an EXEC instruction");
      }
      r.check_used();
      const int last_a = std::max({in.a_row, in.b_row, in.dst_row}) + in.rows;
      if (in.rows < 1 || last_a > kAbufRows || in.acc_row + in.rows > kAccRows ||
          in.param_row + 3 > kAccRows || std::max(in.w_row, in.pre_row) + D > kWbufRows) {
        r.die("an instruction outside this bench's buffers");
      }
    } else {
      r.die("expected CYCLE FREE DONE INSTRUCTION or CYCLE clear");
    }
    if (!t.events.empty() && e.cycle <= t.events.back().cycle) r.die("cycles out of order");
    t.events.push_back(e);
  }
  return t;
}

// Contract 7.3 and 7.4 (../reference.h).
int8_t requantize(int32_t acc, int32_t bias, int32_t mult, int32_t shift, int zp, bool relu) {
  return static_cast<int8_t>(
      tb::requantize(acc, bias, mult, static_cast<uint32_t>(shift), zp, relu));
}
int8_t vadd(int a, int b, const Instr& in) {
  return static_cast<int8_t>(tb::vadd(a, b, in.a_zero, in.b_zero, in.out_zero, in.a_mult, in.b_mult,
                                      in.shift, in.relu));
}

// The functional model: the emulator's order of effects.
struct Model {
  Bufs m;
  std::vector<int8_t> active = std::vector<int8_t>(D * D), shadow = std::vector<int8_t>(D * D);
  bool active_valid = false, shadow_valid = false;
  std::vector<long> abuf_writer = std::vector<long>(kAbufRows, -1);
  std::vector<long> acc_writer = std::vector<long>(kAccRows, -1);
  long rq_inside = 0, vadd_inside = 0;  // results strictly inside (-128, 127): not saturated

  void tile(std::vector<int8_t>& t, int row) {
    for (int i = 0; i < D * D; i++) t[i] = m.wbuf[row * D + i];
  }
  void run(const Instr& in, long idx) {
    if (in.op == kOpMatmul) {
      if (in.w_swap) {
        active = shadow;
        shadow_valid = false;
      }
      if (in.w_load) {
        tile(active, in.w_row);
        shadow_valid = false;
      }
      active_valid = true;
      for (int i = 0; i < in.rows; i++) {
        for (int n = 0; n < D; n++) {
          uint32_t s = in.accumulate ? static_cast<uint32_t>(m.acc[(in.acc_row + i) * D + n]) : 0;
          for (int k = 0; k < D; k++) {
            s += static_cast<uint32_t>(m.abuf[(in.a_row + i) * D + k] * active[k * D + n]);
          }
          m.acc[(in.acc_row + i) * D + n] = static_cast<int32_t>(s);
        }
        acc_writer[in.acc_row + i] = idx;
      }
      if (in.w_preload) {
        tile(shadow, in.pre_row);
        shadow_valid = true;
      }
    } else if (in.op == kOpRequant) {
      const int32_t* p = &m.acc[in.param_row * D];
      std::vector<int32_t> bias(p, p + D), mult(p + D, p + 2 * D), shift(p + 2 * D, p + 3 * D);
      for (int i = 0; i < in.rows; i++) {
        for (int j = 0; j < D; j++) {
          const int8_t q = requantize(m.acc[(in.acc_row + i) * D + j], bias[j], mult[j], shift[j],
                                      in.zero_point, in.relu);
          rq_inside += q != -128 && q != 127;
          m.abuf[(in.dst_row + i) * D + j] = q;
        }
        abuf_writer[in.dst_row + i] = idx;
      }
    } else {
      std::vector<int8_t> out(in.rows * D);
      for (int i = 0; i < in.rows * D; i++) {
        const int a = m.abuf[in.a_row * D + i], b = m.abuf[in.b_row * D + i];
        out[i] = in.op == kOpVmax ? static_cast<int8_t>(std::max(a, b)) : vadd(a, b, in);
        if (in.op == kOpVadd) vadd_inside += out[i] != -128 && out[i] != 127;
      }
      std::copy(out.begin(), out.end(), m.abuf.begin() + in.dst_row * D);
      for (int i = 0; i < in.rows; i++) abuf_writer[in.dst_row + i] = idx;
    }
  }
};

// The accesses expected in one cycle: an address per port, or -1.
struct Access {
  int abuf_a = -1, abuf_b = -1, wbuf = -1, acc_r = -1, abuf_w = -1, acc_w = -1;
  long who = -1;
};

using tb::get_word;
using tb::set_word;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s TRACE (an EXEC timing trace; scripts/rtl-tests exec)\n", argv[0]);
    return 2;
  }
  const Trace trace = read_events(argv[1]);
  const std::vector<Event>& events = trace.events;
  long instrs = 0;
  for (const Event& e : events) instrs += !e.clear;
  const uint32_t seed = 0xe8ec;  // of the buffers' initial contents
  std::printf("exec: %ld instructions from %s, D = %d\n", instrs, argv[1], D);
  std::mt19937 rng(seed);

  // Initial contents, the same on both sides.
  Model model;
  Bufs& mm = model.m;
  for (auto& v : mm.abuf) v = tb::pick8_extreme(rng);
  for (auto& v : mm.wbuf) v = tb::pick8_extreme(rng);
  for (auto& v : mm.acc) v = static_cast<int32_t>(rng()) >> (rng() % 16);
  // REQUANT parameter rows: bias, mult, shift triples that give results inside int8 mostly,
  // with extremes and shifts above 63 (masked to their low 6 bits) here and there.
  for (int r = trace.param_base; r < trace.param_base + trace.param_span; r++) {
    for (int j = 0; j < D; j++) {
      int32_t& v = mm.acc[r * D + j];
      switch ((r - trace.param_base) % 3) {
        case 0: v = rng() % 10 == 0 ? INT32_MIN : static_cast<int32_t>(rng() % 20001) - 10000; break;
        case 1: v = rng() % 10 == 0 ? INT32_MAX : static_cast<int32_t>(rng() % (1u << 26)) - (1 << 24); break;
        default: v = rng() % 8 == 0 ? static_cast<int32_t>(rng()) : static_cast<int32_t>(28 + rng() % 12); break;
      }
    }
  }
  Bufs rtl = mm;

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vsystole_exec>(ctx.get());

  std::vector<Instr> log;
  std::map<long, Access> sched;
  int errors = 0;
  auto fail = [&](const char* what, long c, long who) {
    errors++;
    if (errors > 10) return;
    std::printf("%s at cycle %ld", what, c);
    if (who >= 0) std::printf(" (instruction %ld: %s)", who, log[who].text().c_str());
    std::printf("\n");
  };
  auto put = [&](long cycle, int Access::*port, int addr, long who) {
    Access& a = sched[cycle];
    if (a.*port != -1) fail("TESTBENCH: two accesses scheduled on one port", cycle, who);
    a.*port = addr;
    a.who = who;
  };

  auto weights_ok = [&](const Instr& in) {
    if (in.op != kOpMatmul) return true;
    if (in.w_swap) return model.shadow_valid;
    return in.w_load || model.active_valid;
  };

  auto compare = [&](long c) {
    for (int r = 0; r < kAbufRows && errors <= 10; r++) {
      for (int j = 0; j < D; j++) {
        if (rtl.abuf[r * D + j] != mm.abuf[r * D + j]) {
          char b[160];
          std::snprintf(b, sizeof b, "ABUF row %d lane %d is %d, expected %d", r, j,
                        rtl.abuf[r * D + j], mm.abuf[r * D + j]);
          fail(b, c, model.abuf_writer[r]);
          break;
        }
      }
    }
    for (int r = 0; r < kAccRows && errors <= 10; r++) {
      for (int j = 0; j < D; j++) {
        if (rtl.acc[r * D + j] != mm.acc[r * D + j]) {
          char b[160];
          std::snprintf(b, sizeof b, "ACC row %d lane %d is %d, expected %d", r, j,
                        rtl.acc[r * D + j], mm.acc[r * D + j]);
          fail(b, c, model.acc_writer[r]);
          break;
        }
      }
    }
  };

  top->clear_i = 0;
  top->issue_i = 0;
  tb::reset(*top);

  long free_t = 0, done_t = 0;
  long issued = 0, clears = 0, clears_busy = 0, compares = 0;
  size_t next = 0;  // the next event of the trace
  long n_mm = 0, n_rq = 0, n_vmax = 0, n_vadd = 0, n_inplace = 0, n_swap = 0, n_pre_under = 0;
  long n_first_cycle = 0, n_acc_close = 0;
  std::vector<long> last_acc_write(kAccRows, -100);
  uint32_t rd_a[D / 4] = {}, rd_b[D / 4] = {}, rd_w[D / 4] = {}, rd_acc[D] = {};
  long c = 0;
  long last_compare_issue = 0;
  for (; errors <= 10; c++) {
    // free_o and done_o during cycle c.
    if (top->free_o != (c >= free_t)) fail(top->free_o ? "free_o early" : "free_o late", c, issued - 1);
    if (top->done_o != (c >= done_t)) fail(top->done_o ? "done_o early" : "done_o late", c, issued - 1);
    if (next == events.size() && c >= done_t + 3) break;

    // Idle: compare the buffers now and then.
    if (c >= done_t && issued - last_compare_issue >= 40 && sched.lower_bound(c) == sched.end()) {
      compare(c);
      compares++;
      last_compare_issue = issued;
    }

    // The trace's clear or instruction of this cycle, if any.
    const Event* ev = next < events.size() && events[next].cycle == c ? &events[next] : nullptr;
    if (ev) next++;
    const bool clear = ev && ev->clear;
    top->clear_i = clear;
    top->issue_i = 0;
    if (ev && !ev->clear) {
      const Instr& in = ev->in;
      if (!weights_ok(in) || c < (in.op == kOpMatmul ? free_t : done_t)) {
        std::fprintf(stderr, "%s:%d: a MATMUL without the weights it uses, or an instruction before"
                     " the cycle the trace made the unit free or done\n", argv[1], ev->line);
        return 2;
      }
      const bool first_cycle = in.op == kOpMatmul ? c == free_t : c == done_t;
      n_first_cycle += first_cycle;
      tb::drive_instr(*top, in.encode().w);
      top->issue_i = 1;
      const long T = c, idx = static_cast<long>(log.size());
      log.push_back(in);
      model.run(in, idx);
      if (in.op == kOpMatmul) {
        n_mm++;
        n_swap += in.w_swap;
        const long L0 = in.w_load ? D : 0;
        if (in.w_preload && in.rows >= D) n_pre_under++;
        if (in.w_load) for (int k = 0; k < D; k++) put(T + k, &Access::wbuf, in.w_row + k, idx);
        if (in.w_preload) for (int k = 0; k < D; k++) put(T + L0 + k, &Access::wbuf, in.pre_row + k, idx);
        for (int i = 0; i < in.rows; i++) {
          put(T + L0 + i, &Access::abuf_a, in.a_row + i, idx);
          const long wc = T + L0 + i + 2 * D + kArrayLatency - 1;
          put(wc, &Access::acc_w, in.acc_row + i, idx);
          if (in.accumulate) put(wc - 2, &Access::acc_r, in.acc_row + i, idx);
          if (in.accumulate && wc - last_acc_write[in.acc_row + i] <= 2) n_acc_close++;
          last_acc_write[in.acc_row + i] = wc;
        }
      } else if (in.op == kOpRequant) {
        n_rq++;
        for (int j = 0; j < 3; j++) put(T + j, &Access::acc_r, in.param_row + j, idx);
        for (int i = 0; i < in.rows; i++) {
          put(T + kRequantSetup + i, &Access::acc_r, in.acc_row + i, idx);
          put(T + kRequantSetup + i + kRequantLatency - 1, &Access::abuf_w, in.dst_row + i, idx);
        }
      } else {
        (in.op == kOpVmax ? n_vmax : n_vadd)++;
        n_inplace += in.dst_row == in.a_row || in.dst_row == in.b_row;
        for (int i = 0; i < in.rows; i++) {
          put(T + i, &Access::abuf_a, in.a_row + i, idx);
          put(T + i, &Access::abuf_b, in.b_row + i, idx);
          put(T + i + kVectorLatency - 1, &Access::abuf_w, in.dst_row + i, idx);
        }
      }
      free_t = ev->free;
      done_t = ev->done;
      issued++;
    }

    // Read data of the reads of cycle c - 1.
    for (int i = 0; i < D / 4; i++) {
      set_word(top->abuf_a_rdata_i, i, rd_a[i]);
      set_word(top->abuf_b_rdata_i, i, rd_b[i]);
      set_word(top->wbuf_rdata_i, i, rd_w[i]);
    }
    for (int i = 0; i < D; i++) set_word(top->acc_rdata_i, i, rd_acc[i]);
    tb::clock_low(*top);

    // The accesses of cycle c against the schedule.
    Access want;
    auto it = sched.find(c);
    if (it != sched.end()) want = it->second;
    auto check = [&](const char* port, bool en, uint32_t addr, int exp) {
      if (en != (exp >= 0) || (en && static_cast<int>(addr) != exp)) {
        char b[160];
        std::snprintf(b, sizeof b, "%s: %s %u, expected %s %d", port, en ? "access at" : "no access",
                      en ? addr : 0u, exp >= 0 ? "access at" : "none", exp);
        fail(b, c, want.who);
      }
    };
    check("ABUF read a", top->abuf_a_re_o, top->abuf_a_addr_o, want.abuf_a);
    check("ABUF read b", top->abuf_b_re_o, top->abuf_b_addr_o, want.abuf_b);
    check("WBUF read", top->wbuf_re_o, top->wbuf_addr_o, want.wbuf);
    check("ACC read", top->acc_re_o, top->acc_raddr_o, want.acc_r);
    check("ABUF write", top->abuf_we_o, top->abuf_waddr_o, want.abuf_w);
    check("ACC write", top->acc_we_o, top->acc_waddr_o, want.acc_w);

    // The buffers: reads see the contents before this cycle's writes.
    auto pack8 = [&](const std::vector<int8_t>& mem, uint32_t row, uint32_t* out) {
      for (int i = 0; i < D / 4; i++) out[i] = tb::pack_word(&mem[row * D + 4 * i]);
    };
    if (top->abuf_a_re_o) pack8(rtl.abuf, top->abuf_a_addr_o, rd_a);
    if (top->abuf_b_re_o) pack8(rtl.abuf, top->abuf_b_addr_o, rd_b);
    if (top->wbuf_re_o) pack8(rtl.wbuf, top->wbuf_addr_o, rd_w);
    if (top->acc_re_o) {
      for (int i = 0; i < D; i++) rd_acc[i] = static_cast<uint32_t>(rtl.acc[top->acc_raddr_o * D + i]);
    }
    if (top->abuf_we_o) {
      for (int i = 0; i < D; i++) {
        rtl.abuf[top->abuf_waddr_o * D + i] = static_cast<int8_t>(tb::get_byte(top->abuf_wdata_o, i));
      }
    }
    if (top->acc_we_o) {
      for (int i = 0; i < D; i++) rtl.acc[top->acc_waddr_o * D + i] = static_cast<int32_t>(get_word(top->acc_wdata_o, i));
    }
    if (it != sched.end()) sched.erase(it);

    tb::clock_edge(*top);

    if (clear) {
      // Nothing may happen after the clear; what was in flight is lost, so the model takes the
      // buffers as they are and forgets the tiles.
      clears++;
      clears_busy += c + 1 < done_t;
      sched.erase(sched.upper_bound(c), sched.end());
      mm = rtl;
      model.active_valid = model.shadow_valid = false;
      free_t = done_t = c + 1;
    }
  }
  compare(c);
  top->final();
  std::printf("exec: %ld instructions in %ld cycles: %ld MATMUL (%ld w_swap, %ld preloads under >= D"
              " rows, %ld accumulations within 2 cycles of the previous write of the row), %ld"
              " REQUANT (%ld lanes not saturated), %ld VMAX, %ld VADD (%ld in place, %ld lanes not"
              " saturated); %ld issued at the first allowed cycle;"
              " %ld clears (%ld with work in flight); buffers compared %ld times: %s\n",
              issued, c, n_mm, n_swap, n_pre_under, n_acc_close, n_rq, model.rq_inside, n_vmax,
              n_vadd, n_inplace, model.vadd_inside,
              n_first_cycle, clears, clears_busy, compares + 1, errors ? "FAILED" : "ok");
  return errors ? 1 : 0;
}
