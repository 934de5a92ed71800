// The harness the unit testbenches share (fpga/tb/README.md): the array size and buffer rows of
// the build under test, taken from the generated contract header; reset and clock of a Verilated
// top; the 256-bit instruction word; the 32-bit words of Verilated ports of any width; random
// values weighted towards the extremes; the count of port-check failures that a bench and its
// AXI slave models (axi_slave.h) share; and the tally of checks stated one by one.
#ifndef SYSTOLE_TB_BENCH_H
#define SYSTOLE_TB_BENCH_H

#include <verilated.h>

#include <cinttypes>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../spec/generated/systole_contract.h"

// The array size of the build under test: the contract's default. A bench for another size is
// built with -GArrayDim=N and -CFLAGS -DTB_ARRAY_DIM=N (and replays a trace written for N).
#ifndef TB_ARRAY_DIM
#define TB_ARRAY_DIM systole_contract::kArrayRowsDefault
#endif

namespace tb {

namespace contract = systole_contract;

// ---- parameters of the build under test --------------------------------------------------------
constexpr int kArrayDim = static_cast<int>(TB_ARRAY_DIM);
constexpr int kAbufRows = static_cast<int>(contract::kAbufRowsDefault);
constexpr int kWbufRows = static_cast<int>(contract::kWbufRowsDefault);
constexpr int kAccRows = static_cast<int>(contract::kAccRowsDefault);
static_assert(kArrayDim >= 4 && kArrayDim % 4 == 0, "lanes are packed four bytes to a word");

constexpr int kInstrWords = static_cast<int>(contract::kInstructionBytes / 4);
constexpr int kBeatBytes = static_cast<int>(contract::kMemBeatBytes);
constexpr int kBeatWords = kBeatBytes / 4;

// Bytes of one lane of a buffer (CONTRACT.md: ABUF and WBUF int8, ACC int32, LUT int16).
constexpr int lane_bytes(int buf) {
  return buf == int(contract::kBufAcc) ? 4 : buf == int(contract::kBufLut) ? 2 : 1;
}
// Bytes of one row of a buffer.
constexpr int row_bytes(int buf) { return lane_bytes(buf) * kArrayDim; }
// A buffer's name in the assembly syntax.
inline const char* buf_name(int buf) {
  switch (buf) {
    case int(contract::kBufAbuf): return "ABUF";
    case int(contract::kBufWbuf): return "WBUF";
    case int(contract::kBufAcc): return "ACC";
    case int(contract::kBufLut): return "LUT";
    default: return "?";
  }
}

// ABUF, WBUF and ACC as bytes, each row as wide as an ACC row (ABUF and WBUF use the first D
// bytes); zero at first. The LOAD and STORE benches keep the buffers the units write or read so.
struct RowBuffers {
  static constexpr int kRows = kAbufRows;  // rows of each buffer
  static constexpr int kRowBytes = row_bytes(contract::kBufAcc);
  static_assert(kAbufRows == kWbufRows && kWbufRows == kAccRows,
                "RowBuffers gives the three buffers one row count");
  std::vector<uint8_t> rows[3];
  RowBuffers() {
    for (auto& r : rows) r.assign(size_t(kRows) * kRowBytes, 0);
  }
  uint8_t* row(int buf, int r) { return &rows[buf][size_t(r) * kRowBytes]; }
  const uint8_t* row(int buf, int r) const { return &rows[buf][size_t(r) * kRowBytes]; }
};

// ---- instruction words -------------------------------------------------------------------------
// Sets the field of `width` bits at bit `lsb` of an instruction word (kInstrWords 32-bit words,
// bit 0 first) to the low bits of v; the field's bits must be zero before.
inline void put_field(uint32_t* w, unsigned lsb, unsigned width, uint64_t v) {
  for (unsigned b = 0; b < width; b++) {
    if ((v >> b) & 1) w[(lsb + b) / 32] |= 1u << ((lsb + b) % 32);
  }
}

// An instruction word under construction: the opcode at its place, the fields put by name from
// the contract's k<Op><Field>Lsb and k<Op><Field>Width constants.
struct InstrWord {
  uint32_t w[kInstrWords] = {};
  explicit InstrWord(uint8_t opcode) { put(contract::kOpcodeLsb, contract::kOpcodeWidth, opcode); }
  void put(unsigned lsb, unsigned width, uint64_t v) { put_field(w, lsb, width, v); }
};
#define TB_FIELD(op, field) \
  systole_contract::k##op##field##Lsb, systole_contract::k##op##field##Width

// Drives instr_i of a top with an instruction word.
template <class Top>
void drive_instr(Top& top, const uint32_t* w) {
  for (int i = 0; i < kInstrWords; i++) top.instr_i[i] = w[i];
}

// ---- words of Verilated ports ------------------------------------------------------------------
// Word i (32 bits, word 0 the lowest) of a port, whatever type Verilator gives it: IData up to 32
// bits, QData up to 64, VlWide beyond (so a bench compiles for every array size).
inline void set_word(uint32_t& s, int, uint32_t v) { s = v; }
inline void set_word(uint64_t& s, int i, uint32_t v) {
  s = (s & ~(0xffffffffull << (32 * i))) | (static_cast<uint64_t>(v) << (32 * i));
}
template <std::size_t N>
void set_word(VlWide<N>& s, int i, uint32_t v) { s[i] = v; }
inline uint32_t get_word(uint32_t s, int) { return s; }
inline uint32_t get_word(uint64_t s, int i) { return static_cast<uint32_t>(s >> (32 * i)); }
template <std::size_t N>
uint32_t get_word(const VlWide<N>& s, int i) { return s[i]; }

// Byte k of a port.
template <class Port>
uint8_t get_byte(const Port& p, int k) {
  return static_cast<uint8_t>(get_word(p, k / 4) >> (8 * (k % 4)));
}
// Four bytes as a little-endian word (byte 0 in bits 7:0).
inline uint32_t pack_word(const uint8_t* bytes) {
  uint32_t w = 0;
  for (int j = 0; j < 4; j++) w |= uint32_t(bytes[j]) << (8 * j);
  return w;
}
inline uint32_t pack_word(const int8_t* lanes) {
  return pack_word(reinterpret_cast<const uint8_t*>(lanes));
}

// ---- clock and reset ---------------------------------------------------------------------------
// A cycle of a bench: the inputs of the cycle set, clock_low() settles the outputs (the bench
// samples them), clock_high() is the rising edge that ends the cycle.
template <class Top>
void clock_low(Top& top) {
  top.clk_i = 0;
  top.eval();
}
template <class Top>
void clock_high(Top& top) {
  top.clk_i = 1;
  top.eval();
}
// The rising edge, then the clock low again with the same inputs.
template <class Top>
void clock_edge(Top& top) {
  clock_high(top);
  clock_low(top);
}

// Reset: with the clock low, a falling edge of the asynchronous rst_ni, `edges` rising clock
// edges under it, then release. The bench sets the top's other inputs before.
template <class Top>
void reset(Top& top, int edges = 2) {
  top.clk_i = 0;
  top.rst_ni = 1;
  top.eval();
  top.rst_ni = 0;
  top.eval();
  for (int i = 0; i < edges; i++) clock_edge(top);
  top.rst_ni = 1;
  top.eval();
}

// Issues the instruction already on instr_i in the bench's current cycle (the unit must be free)
// and steps until free_o is 1 again: returns the unit's busy time C (issue in T, free_o first 1
// again in T + C), or -1 after `limit` cycles. A Bench has step(bool issue), cycle() and free().
template <class Bench>
int64_t run_to_free(Bench& bench, int64_t limit = 2000000) {
  const int64_t t = bench.cycle();
  bench.step(true);
  while (!bench.free()) {
    bench.step(false);
    if (bench.cycle() - t > limit) return -1;
  }
  return bench.cycle() - t;
}

// ---- random values -----------------------------------------------------------------------------
// An int8: -128 or 127 one time in eight each, else any value.
template <class Rng>
int8_t pick8_extreme(Rng& rng) {
  const uint32_t r = rng() % 8;
  return r == 0 ? -128 : r == 1 ? 127 : static_cast<int8_t>(rng());
}
// An int8: -128, 127 or 0 one time in six each, else any value.
template <class Rng>
int8_t pick8_edge(Rng& rng) {
  switch (rng() % 6) {
    case 0: return -128;
    case 1: return 127;
    case 2: return 0;
    default: return static_cast<int8_t>(rng());
  }
}
// Bytes of any value.
template <class Rng>
void fill_random(std::vector<uint8_t>& bytes, Rng& rng) {
  for (auto& b : bytes) b = uint8_t(rng());
}

// ---- port checks -------------------------------------------------------------------------------
// Failures of the checks a bench runs on a unit's ports every cycle (its AXI slaves' among them):
// the first ten are printed, all are counted.
struct PortChecks {
  int errors = 0;
  void fail(const char* what, int64_t cycle) {
    if (errors < 10) std::printf("AXI/port check: %s at cycle %" PRId64 "\n", what, cycle);
    errors++;
  }
  void fail(const std::string& what, int64_t cycle) { fail(what.c_str(), cycle); }
};

// ---- checks stated one by one -------------------------------------------------------------------
// The failures and checks of a bench that states its rules one at a time (regs, harness): a
// failure prints "MISMATCH <where>: <message>" to stderr, where() saying where the bench is (a
// cycle, a test), for the first `limit` failures; all are counted. TB_CHECK counts a check.
class Tally {
 public:
  Tally(int limit, std::string (*where)()) : limit_(limit), where_(where) {}
  int failures = 0, checks = 0;

  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (++failures > limit_) return;
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "MISMATCH %s: ", where_().c_str());
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
  }

 private:
  int limit_;
  std::string (*where_)();
};
#define TB_CHECK(tally, cond, ...)          \
  do {                                      \
    (tally).checks++;                       \
    if (!(cond)) (tally).fail(__VA_ARGS__); \
  } while (0)

}  // namespace tb

#endif  // SYSTOLE_TB_BENCH_H
