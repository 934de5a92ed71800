// Unit test of the REQUANT lane (systole_requant) and the VMAX/VADD lane (systole_vec_lane)
// against the C++ reference of ../reference.h (the pseudo-code of contract 7.2 to 7.4): every
// worked example of 7.10, then random cases weighted towards the extremes (MIN/MAX accumulators,
// biases and multipliers, every shift 0..63 and shifts above 63 that REQUANT masks to their low
// 6 bits).
// Both lanes take one case per cycle and answer Latency cycles later.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>

#include "../bench.h"
#include "../reference.h"
#include "Vrequant_tb.h"
#include "verilated.h"

namespace {

constexpr int kLatency = 5;  // of both lanes (their Latency)
constexpr int32_t kMin = INT32_MIN;
constexpr int32_t kMax = INT32_MAX;

// The contract's arithmetic (7.2 to 7.4): ../reference.h.
using tb::requantize;
using tb::vadd;

struct RqCase {
  int32_t acc, bias, mult;
  uint32_t shift;
  int8_t zp;
  bool relu;
  int expect;  // -1000: compute from the model
};

struct VecCase {
  bool max;
  int8_t a, b, az, bz, oz;
  int32_t am, bm;
  int shift;
  bool relu;
  int expect;
};

struct Pending {
  int expect;
  bool is_rq;
  RqCase rq;
  VecCase vec;
};

int32_t pick32(std::mt19937& rng) {
  switch (rng() % 10) {
    case 0: return kMin;
    case 1: return kMax;
    case 2: return 0;
    case 3: return static_cast<int32_t>(rng() % 7) - 3;
    case 4: return static_cast<int32_t>(rng() % 2001) - 1000;
    case 5: return kMin + static_cast<int32_t>(rng() % 1000);
    case 6: return kMax - static_cast<int32_t>(rng() % 1000);
    case 7: return static_cast<int32_t>(rng()) >> (rng() % 31);
    default: return static_cast<int32_t>(rng());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t seed = 0x7e9a;
  const long randoms = 2000000;
  std::printf("requant: seed 0x%x, %ld random cases per lane\n", seed, randoms);
  std::mt19937 rng(seed);

  const int32_t p30 = 1 << 30, p14 = 1 << 14, m3p29 = 1610612736;
  const std::vector<RqCase> rq_examples = {
      {1000, 0, m3p29, 31, 0, false, 127},
      {200, 56, p30, 33, 5, false, 37},
      {100, 0, p30, 31, 0, false, 50},
      {-100, 0, p30, 31, 0, false, -50},
      {5, 0, p30, 31, 0, false, 2},
      {7, 0, p30, 31, 0, false, 4},
      {-5, 0, p30, 31, 0, false, -2},
      {-100, 0, p30, 31, -10, true, -10},
      {-100000, 0, p30, 31, 0, false, -128},
      {kMax, 1000, 1, 24, 0, false, 127},
      {9, 0, 1, 65, 0, false, 4},
      {kMin, kMin, kMin, 62, 0, false, 1},
      {kMax, 0, kMin, 62, 0, false, -1},
      // rshift rows reachable as acc * 1 (and 2^62 = MIN * MIN)
      {5, 0, 1, 1, 0, false, 2},
      {7, 0, 1, 1, 0, false, 4},
      {-5, 0, 1, 1, 0, false, -2},
      {-7, 0, 1, 1, 0, false, -4},
      {11, 0, 1, 2, 0, false, 3},
      {-11, 0, 1, 2, 0, false, -3},
      {5, 0, 1, 2, 0, false, 1},
      {123, 0, 1, 0, 0, false, 123},
      {kMin, 0, kMin, 63, 0, false, 0},
  };
  const std::vector<VecCase> vec_examples = {
      {false, 10, 20, 2, 4, 1, p14, p14, 15, false, 13},
      {false, 3, 0, 0, 0, 0, p14, p14, 15, false, 2},
      {false, 127, 127, 0, 0, 0, 1, 1, 0, false, 127},
      {false, -128, -128, 0, 0, 0, 1, 1, 0, false, -128},
      {false, -50, 0, 0, 0, 3, 1, 1, 0, true, 3},
      {true, -50, 3, 0, 0, 0, 0, 0, 0, false, 3},
      {true, -128, 127, 9, 9, 9, 5, 5, 7, true, 127},
  };

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vrequant_tb>(ctx.get());

  std::deque<Pending> rq_q, vec_q;
  int errors = 0;
  long rq_checked = 0, vec_checked = 0, rq_ex = 0, vec_ex = 0, masked = 0, sat = 0;
  const long total = randoms + static_cast<long>(rq_examples.size());

  tb::clock_low(*top);
  for (long c = 0; c < total + kLatency && errors < 10; c++) {
    // Next cases.
    RqCase r{};
    VecCase v{};
    bool r_valid = c < total, v_valid = c < total;
    if (c < static_cast<long>(rq_examples.size())) {
      r = rq_examples[c];
    } else {
      r = {pick32(rng), pick32(rng), pick32(rng), 0, tb::pick8_edge(rng), (rng() & 1) != 0,
           -1000};
      r.shift = (rng() % 8 == 0) ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % 64);
      if (r.shift > 63) masked++;
    }
    if (c < static_cast<long>(vec_examples.size())) {
      v = vec_examples[c];
    } else {
      v = {rng() % 8 == 0,      tb::pick8_edge(rng), tb::pick8_edge(rng),
           tb::pick8_edge(rng), tb::pick8_edge(rng), tb::pick8_edge(rng),
           pick32(rng),         pick32(rng),         static_cast<int>(rng() % 64),
           (rng() & 1) != 0,    -1000};
    }
    if (r_valid) {
      const int model = requantize(r.acc, r.bias, r.mult, r.shift, r.zp, r.relu);
      if (r.expect != -1000 && r.expect != model) {
        std::printf("MODEL disagrees with the contract example %ld: %d != %d\n", c, model, r.expect);
        errors++;
      }
      if (r.expect != -1000) rq_ex++;
      if (model == 127 || model == -128) sat++;
      rq_q.push_back({model, true, r, v});
    }
    if (v_valid) {
      const int model = v.max ? (v.a > v.b ? v.a : v.b)
                              : vadd(v.a, v.b, v.az, v.bz, v.oz, v.am, v.bm, v.shift, v.relu);
      if (v.expect != -1000 && v.expect != model) {
        std::printf("MODEL disagrees with the vadd example %ld: %d != %d\n", c, model, v.expect);
        errors++;
      }
      if (v.expect != -1000) vec_ex++;
      vec_q.push_back({model, false, r, v});
    }
    top->acc_i = static_cast<uint32_t>(r.acc);
    top->bias_i = static_cast<uint32_t>(r.bias);
    top->mult_i = static_cast<uint32_t>(r.mult);
    top->shift_i = r.shift & 63;
    top->zp_i = static_cast<uint8_t>(r.zp);
    top->relu_i = r.relu;
    top->max_i = v.max;
    top->a_i = static_cast<uint8_t>(v.a);
    top->b_i = static_cast<uint8_t>(v.b);
    top->a_zero_i = static_cast<uint8_t>(v.az);
    top->b_zero_i = static_cast<uint8_t>(v.bz);
    top->out_zero_i = static_cast<uint8_t>(v.oz);
    top->a_mult_i = static_cast<uint32_t>(v.am);
    top->b_mult_i = static_cast<uint32_t>(v.bm);
    top->vshift_i = v.shift;
    top->vrelu_i = v.relu;
    tb::clock_low(*top);
    tb::clock_high(*top);
    // After the edge ending cycle c, the outputs hold the results of the inputs of c - Latency + 1.
    if (c >= kLatency - 1) {
      const long idx = c - (kLatency - 1);
      if (idx < total) {
        Pending p = rq_q.front();
        rq_q.pop_front();
        const int got = static_cast<int8_t>(top->rq_o);
        rq_checked++;
        if (got != p.expect) {
          std::printf("REQUANT MISMATCH case %ld: acc=%d bias=%d mult=%d shift=%u zp=%d relu=%d"
                      " -> %d, expected %d\n",
                      idx, p.rq.acc, p.rq.bias, p.rq.mult, p.rq.shift, p.rq.zp, p.rq.relu, got,
                      p.expect);
          errors++;
        }
        Pending q = vec_q.front();
        vec_q.pop_front();
        const int vgot = static_cast<int8_t>(top->vec_o);
        vec_checked++;
        if (vgot != q.expect) {
          std::printf("%s MISMATCH case %ld: a=%d b=%d a_zero=%d b_zero=%d out_zero=%d a_mult=%d"
                      " b_mult=%d shift=%d relu=%d -> %d, expected %d\n",
                      q.vec.max ? "VMAX" : "VADD", idx, q.vec.a, q.vec.b, q.vec.az, q.vec.bz,
                      q.vec.oz, q.vec.am, q.vec.bm, q.vec.shift, q.vec.relu, vgot, q.expect);
          errors++;
        }
      }
    }
  }
  top->final();
  std::printf("requant: %ld REQUANT cases (%ld contract examples, %ld shifts above 63, %ld saturated)"
              ", %ld VADD/VMAX cases (%ld examples): %s\n",
              rq_checked, rq_ex, masked, sat, vec_checked, vec_ex, errors ? "FAILED" : "ok");
  return errors ? 1 : 0;
}
