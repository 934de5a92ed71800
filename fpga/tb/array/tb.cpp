// Unit test of systole_array (D = TB_ARRAY_DIM of ../bench.h) alone. The testbench plays the part
// of the EXEC unit: it sends random "instructions" (an optional tile load into the active bank, a
// run of rows, an optional preload of the other bank, an optional bank switch), each at the first
// cycle the EXEC rules allow or a few cycles later, with the weight and row timing of MICROARCH.md
// (tile row k of a load at T + 1 + k, rows from T + L0 + 2, a preload's rows at T + L0 + 1 + k).
// Every output row must leave at exactly s + 2D - 1 (pre_valid one cycle earlier) and equal the
// int32 product of its input row with the tile its instruction used; rows of consecutive
// instructions follow each other without a bubble while the next tile is preloaded into the other
// bank.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "../bench.h"
#include "Vsystole_array.h"
#include "verilated.h"

namespace {

constexpr int D = tb::kArrayDim;
using Tile = std::vector<int8_t>;  // [k * D + n]

struct RowIn {
  std::vector<int8_t> a;
  int bank;
  long id;
};

struct WIn {
  std::vector<int8_t> w;  // one tile row
  bool first;
  int bank;
};

struct Expect {
  long cycle;  // cycle in which out_valid must be 1
  long id;
  std::vector<int32_t> out;
  std::vector<int8_t> a;
  long instr;
};

Tile random_tile(std::mt19937& rng) {
  Tile t(D * D);
  for (auto& v : t) v = tb::pick8_extreme(rng);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t seed = 0xa77a;
  const int instrs = 10000;
  std::printf("array: seed 0x%x, D = %d, %d instructions\n", seed, D, instrs);
  std::mt19937 rng(seed);

  // Schedule everything first, as the EXEC unit would, against a model of the two banks.
  std::map<long, RowIn> rows_at;
  std::map<long, WIn> w_at;
  std::deque<Expect> expect;
  Tile bank[2] = {random_tile(rng), random_tile(rng)};
  int active = 0;
  long T = 5, row_id = 0, back_to_back = 0, preload_overlaps = 0;
  long prev_last_row = -100;
  // The first instruction loads the active bank and preloads the other.
  for (int i = 0; i < instrs; i++) {
    const bool first = i == 0;
    const bool swap = !first && rng() % 3 == 0;
    const bool load = first || (!swap && rng() % 5 == 0);
    const bool preload = first || rng() % 2 == 0;
    const int rows = (rng() % 4 == 0) ? 1 + static_cast<int>(rng() % 4)
                                      : 1 + static_cast<int>(rng() % 40);
    if (swap) active ^= 1;
    const long L0 = load ? D : 0;
    auto load_tile = [&](int b, long start) {
      Tile t = random_tile(rng);
      for (int k = 0; k < D; k++) {
        WIn w{std::vector<int8_t>(t.begin() + k * D, t.begin() + (k + 1) * D), k == 0, b};
        w_at[start + k] = w;
      }
      bank[b] = t;
    };
    if (load) load_tile(active, T + 1);
    for (int r = 0; r < rows; r++) {
      const long s = T + L0 + r + 2;
      RowIn in{std::vector<int8_t>(D), active, row_id};
      for (auto& v : in.a) v = tb::pick8_extreme(rng);
      Expect e{s + 2 * D - 1, row_id, std::vector<int32_t>(D), in.a, i};
      for (int n = 0; n < D; n++) {
        uint32_t acc = 0;
        for (int k = 0; k < D; k++) {
          acc += static_cast<uint32_t>(static_cast<int32_t>(in.a[k]) * bank[active][k * D + n]);
        }
        e.out[n] = static_cast<int32_t>(acc);
      }
      if (r == 0 && s == prev_last_row + 1) back_to_back++;
      if (r == rows - 1) prev_last_row = s;
      rows_at[s] = in;
      expect.push_back(e);
      row_id++;
    }
    if (preload) {
      load_tile(active ^ 1, T + L0 + 1);
      if (rows >= D) preload_overlaps++;
    }
    const long S = L0 + std::max<long>(rows, preload ? D : 0);
    T += S + ((rng() % 4 == 0) ? static_cast<long>(rng() % 3) : 0);
  }
  const long end = expect.back().cycle + 5;

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vsystole_array>(ctx.get());
  top->clear_i = 0;
  tb::reset(*top);

  int errors = 0;
  long checked = 0;
  std::deque<Expect> pending = expect;
  for (long c = 0; c <= end && errors < 10; c++) {
    // Inputs of cycle c (garbage where nothing is scheduled).
    auto ri = rows_at.find(c);
    top->in_valid_i = ri != rows_at.end();
    top->in_bank_i = ri != rows_at.end() ? ri->second.bank : (rng() & 1);
    top->in_tag_i = ri != rows_at.end() ? (ri->second.id & 1) : 0;
    for (int w = 0; w < D / 4; w++) {
      uint32_t word = rng();
      if (ri != rows_at.end()) word = tb::pack_word(&ri->second.a[4 * w]);
      tb::set_word(top->in_data_i, w, word);
    }
    auto wi = w_at.find(c);
    top->w_first_i = wi != w_at.end() && wi->second.first;
    top->w_bank_i = wi != w_at.end() ? wi->second.bank : (rng() & 1);
    for (int w = 0; w < D / 4; w++) {
      uint32_t word = rng();
      if (wi != w_at.end()) word = tb::pack_word(&wi->second.w[4 * w]);
      tb::set_word(top->w_data_i, w, word);
    }
    tb::clock_low(*top);
    // Outputs during cycle c.
    const bool want = !pending.empty() && pending.front().cycle == c;
    const bool want_pre = !pending.empty() &&
        (pending.front().cycle == c + 1 || (pending.size() > 1 && pending[1].cycle == c + 1));
    if (top->out_valid_o != want || top->pre_valid_o != want_pre) {
      std::printf("TIMING cycle %ld: out_valid=%d (expected %d) pre_valid=%d (expected %d)\n", c,
                  top->out_valid_o, want, top->pre_valid_o, want_pre);
      errors++;
    }
    if (want) {
      const Expect e = pending.front();
      pending.pop_front();
      checked++;
      bool bad = top->out_tag_o != static_cast<uint32_t>(e.id & 1);
      for (int n = 0; n < D; n++) bad |= static_cast<int32_t>(tb::get_word(top->out_data_o, n)) != e.out[n];
      if (bad) {
        std::printf("MISMATCH row %ld (instruction %ld) at cycle %ld, tag %u:\n  a =", e.id, e.instr,
                    c, top->out_tag_o);
        for (int k = 0; k < D; k++) std::printf(" %d", e.a[k]);
        std::printf("\n  got      ");
        for (int n = 0; n < D; n++) std::printf(" %d", static_cast<int32_t>(tb::get_word(top->out_data_o, n)));
        std::printf("\n  expected ");
        for (int n = 0; n < D; n++) std::printf(" %d", e.out[n]);
        std::printf("\n");
        errors++;
      }
    }
    tb::clock_edge(*top);
  }
  if (!pending.empty() && errors == 0) {
    std::printf("%zu rows never came out\n", pending.size());
    errors++;
  }
  top->final();
  std::printf("array: %ld rows checked against the int32 product, %ld instructions starting right"
              " after the previous one's last row, %ld preloads under >= D streaming rows: %s\n",
              checked, back_to_back, preload_overlaps, errors ? "FAILED" : "ok");
  return errors ? 1 : 0;
}
