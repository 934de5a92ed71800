// C++ models of the contract's arithmetic (CONTRACT.md 7.2 to 7.4), written from its pseudo-code,
// for the testbenches that check REQUANT and VADD results (requant, exec). In 128 bits, so that
// nothing overflows whatever the inputs.
#ifndef SYSTOLE_TB_REFERENCE_H
#define SYSTOLE_TB_REFERENCE_H

#include <cstdint>

namespace tb {

// 7.2: p / 2^s rounded to the nearest integer, ties to even.
inline __int128 rshift(__int128 p, int s) {
  if (s == 0) return p;
  __int128 floor = p >> s;
  __int128 rem = p - (floor * (static_cast<__int128>(1) << s));
  __int128 half = static_cast<__int128>(1) << (s - 1);
  if (rem > half || (rem == half && (floor & 1) != 0)) return floor + 1;
  return floor;
}

// min(max(q, lo), 127), lo <= 127.
inline int clamp8(__int128 q, __int128 lo) {
  if (q < lo) q = lo;
  if (q > 127) q = 127;
  return static_cast<int>(q);
}

// 7.3; shift is the whole 32-bit parameter (REQUANT uses its low 6 bits).
inline int requantize(int32_t acc, int32_t bias, int32_t mult, uint32_t shift, int zp, bool relu) {
  __int128 v = static_cast<__int128>(acc) + bias;
  if (v > INT32_MAX) v = INT32_MAX;
  if (v < INT32_MIN) v = INT32_MIN;
  return clamp8(rshift(v * mult, static_cast<int>(shift & 63)) + zp, relu ? zp : -128);
}

// 7.4.
inline int vadd(int a, int b, int a_zero, int b_zero, int out_zero, int32_t a_mult, int32_t b_mult,
                int shift, bool relu) {
  __int128 sum = static_cast<__int128>(a - a_zero) * a_mult +
                 static_cast<__int128>(b - b_zero) * b_mult;
  return clamp8(rshift(sum, shift) + out_zero, relu ? out_zero : -128);
}

}  // namespace tb

#endif  // SYSTOLE_TB_REFERENCE_H
