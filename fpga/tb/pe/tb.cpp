// Unit test of systole_pe against a C++ model: random activations, partial sums, banks and
// weight writes, with the extremes (-128 * -128, psum wrapping past 2^31) forced often.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>

#include "../bench.h"
#include "Vsystole_pe.h"
#include "verilated.h"

namespace {

int32_t pick32(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0: return INT32_MAX - static_cast<int32_t>(rng() % 20000);
    case 1: return INT32_MIN + static_cast<int32_t>(rng() % 20000);
    case 2: return 0;
    default: return static_cast<int32_t>(rng());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t seed = 0x5e11;
  const int cycles = 200000;
  std::printf("pe: seed 0x%x, %d cycles\n", seed, cycles);
  std::mt19937 rng(seed);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vsystole_pe>(ctx.get());

  // Model state. The weight registers start unknown: write both before checking products.
  int8_t w[2] = {0, 0};
  bool known[2] = {false, false};
  int errors = 0;
  long checked = 0, extremes = 0, wraps = 0;

  tb::clock_low(*top);
  for (int c = 0; c < cycles && errors < 10; c++) {
    const int8_t a = tb::pick8_edge(rng);
    const int bank = rng() & 1;
    const int32_t psum = pick32(rng);
    const int we = (rng() % 4) == 0 || !known[0] || !known[1];
    const int wbank = (!known[0]) ? 0 : (!known[1]) ? 1 : static_cast<int>(rng() & 1);
    const int8_t wdata = tb::pick8_edge(rng);

    top->a_i = static_cast<uint8_t>(a);
    top->bank_i = bank;
    top->psum_i = static_cast<uint32_t>(psum);
    top->w_we_i = we;
    top->w_bank_i = wbank;
    top->w_data_i = static_cast<uint8_t>(wdata);
    tb::clock_low(*top);
    tb::clock_high(*top);

    if (known[bank]) {
      const int32_t prod = static_cast<int32_t>(a) * w[bank];
      const int32_t expect =
          static_cast<int32_t>(static_cast<uint32_t>(psum) + static_cast<uint32_t>(prod));
      const int64_t exact = static_cast<int64_t>(psum) + prod;
      if (exact != expect) wraps++;
      if (a == -128 && w[bank] == -128) extremes++;
      const int8_t a_o = static_cast<int8_t>(top->a_o);
      const int32_t p_o = static_cast<int32_t>(top->psum_o);
      checked++;
      if (p_o != expect || a_o != a || top->bank_o != bank) {
        std::printf("MISMATCH cycle %d: a=%d bank=%d w0=%d w1=%d psum=%d -> psum_o=%d (expected %d)"
                    " a_o=%d bank_o=%d\n",
                    c, a, bank, w[0], w[1], psum, p_o, expect, a_o, top->bank_o);
        errors++;
      }
    }
    if (we) {
      w[wbank] = wdata;
      known[wbank] = true;
    }
  }
  top->final();
  std::printf("pe: %ld products checked (%ld of -128 * -128, %ld wrapping past int32): %s\n",
              checked, extremes, wraps, errors ? "FAILED" : "ok");
  return errors ? 1 : 0;
}
