// The AXI4 slave models of the unit testbenches (fpga/tb/README.md): a read slave for a unit's
// read master and a write slave for its write master, over a byte array the bench owns. Both are
// the fixed-latency memory of MICROARCH.md ("The fixed-latency memory model"):
//   - read: beat j of a burst whose AR was accepted in cycle a is presented from cycle
//     max(a + latency + j, the cycle the previous beat was taken + 1);
//   - write: B of a burst is presented from max(w + latency, the previous B taken + 1), w the
//     later of its AW and its WLAST, W beats taken in order (a W beat may precede its AW);
// and on request they become a memory that is not the fixed-latency one: `stalls` drops
// ARREADY (one cycle in four), RVALID (one in three), AWREADY (one in four), WREADY and BVALID
// (one in three each) at random, from a generator of their own (cycles then not comparable), and
// `bad_from` answers SLVERR for beats at or above an address (read: the beat's address; write: a
// burst with a strobed byte or a beat at or above it).
//
// Both check, every cycle, what the master sends (AxiRequestCheck): AR/AW held with the same
// payload until ready, 32-byte beats (size 5), INCR, at most 16 beats, no burst across 4 KiB; and
// the write slave checks WLAST on exactly each burst's last beat and no strobe before the burst's
// address. A failed check goes to the bench's tb::PortChecks.
//
// A bench calls drive(now) once it has set the top's other inputs of cycle `now` (before the
// evaluation with the clock low) and sample(now) after it (before the rising edge).
// (fpga/sim/mem.h is the sim board's model of the same memory over the card file: it aborts on a
// protocol violation and has no stalls or injected SLVERR, which the unit benches need.)
#ifndef SYSTOLE_TB_AXI_SLAVE_H
#define SYSTOLE_TB_AXI_SLAVE_H

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench.h"

namespace tb {

constexpr unsigned kAxiSizeBeat = 5;    // AxSIZE of 32-byte beats
constexpr unsigned kAxiBurstIncr = 1;   // AxBURST INCR
constexpr int kAxiMaxBeats = 16;        // beats of a burst at most
constexpr uint32_t kAxiRespOkay = 0, kAxiRespSlverr = 2;
constexpr uint64_t kAxiPageBytes = 4096;  // no burst crosses a 4 KiB boundary
static_assert(kBeatBytes == 1 << kAxiSizeBeat, "the contract's beat is 32 bytes");

// Bytes of the memory behind a bench's port.
constexpr uint64_t kSlaveMemBytes = uint64_t(1) << 22;

// The signals of an AXI4 read master as a Verilated top holds them, bound by address
// (&top->m_arvalid_o, ..., top->m_rdata_i.data()).
struct AxiReadPort {
  uint8_t *arvalid, *arready;
  uint64_t* araddr;
  uint8_t *arlen, *arsize, *arburst;
  uint8_t *rvalid, *rready;
  uint32_t* rdata;  // kBeatWords words
  uint8_t *rresp, *rlast;
};

struct AxiWritePort {
  uint8_t *awvalid, *awready;
  uint64_t* awaddr;
  uint8_t *awlen, *awsize, *awburst;
  uint8_t *wvalid, *wready;
  uint32_t* wdata;  // kBeatWords words
  uint32_t* wstrb;
  uint8_t* wlast;
  uint8_t *bvalid, *bready, *bresp;
};

// The ports of a top whose read or write master has the usual names (m_ar*, m_r*; m_aw*, m_w*,
// m_b*).
template <class Top>
AxiReadPort axi_read_port(Top& t) {
  return AxiReadPort{&t.m_arvalid_o, &t.m_arready_i, &t.m_araddr_o, &t.m_arlen_o,
                     &t.m_arsize_o,  &t.m_arburst_o, &t.m_rvalid_i, &t.m_rready_o,
                     t.m_rdata_i.data(), &t.m_rresp_i, &t.m_rlast_i};
}
template <class Top>
AxiWritePort axi_write_port(Top& t) {
  return AxiWritePort{&t.m_awvalid_o, &t.m_awready_i, &t.m_awaddr_o, &t.m_awlen_o,
                      &t.m_awsize_o,  &t.m_awburst_o, &t.m_wvalid_o,  &t.m_wready_i,
                      t.m_wdata_o.data(), &t.m_wstrb_o, &t.m_wlast_o, &t.m_bvalid_i,
                      &t.m_bready_o, &t.m_bresp_i};
}

// The checks of one AR or AW channel; sample() returns whether a request was accepted.
class AxiRequestCheck {
 public:
  explicit AxiRequestCheck(const char* channel) : name_(channel) {
    for (char c : name_) lower_ += char(c - 'A' + 'a');
  }
  bool pending() const { return pending_; }

  bool sample(bool valid, bool ready, uint64_t addr, unsigned len_field, unsigned size,
              unsigned burst, int64_t now, PortChecks& checks) {
    if (pending_ && !valid) checks.fail(lower_ + "valid dropped before " + lower_ + "ready", now);
    if (!valid) return false;
    const int len = int(len_field) + 1;
    if (pending_ && (addr != addr_ || len != len_)) {
      checks.fail(name_ + " payload changed before " + lower_ + "ready", now);
    }
    if (size != kAxiSizeBeat || burst != kAxiBurstIncr) {
      checks.fail(name_ + " size/burst not 5/INCR", now);
    }
    if (len > kAxiMaxBeats) checks.fail(name_ + " longer than 16 beats", now);
    const uint64_t first = addr & ~uint64_t(kBeatBytes - 1);
    const uint64_t last = first + uint64_t(kBeatBytes) * uint64_t(len) - 1;
    if (addr / kAxiPageBytes != last / kAxiPageBytes) {
      checks.fail(name_ + " crosses a 4 KiB boundary", now);
    }
    if (ready) {
      pending_ = false;
      return true;
    }
    pending_ = true;
    addr_ = addr;
    len_ = len;
    return false;
  }

 private:
  std::string name_, lower_;
  bool pending_ = false;
  uint64_t addr_ = 0;
  int len_ = 0;
};

// The read slave over `mem`.
class AxiReadSlave {
 public:
  AxiReadSlave(const AxiReadPort& port, const std::vector<uint8_t>& mem, PortChecks& checks,
               uint32_t stall_seed)
      : port_(port), mem_(mem), checks_(checks), stall_rng_(stall_seed) {}

  int64_t latency = int64_t(contract::kTimingReadLatency);
  bool stalls = false;
  uint64_t bad_from = ~uint64_t(0);  // beats at or above this address answer SLVERR

  // Nothing owed: every AR accepted and answered in full, none waiting.
  bool idle() const { return bursts_.empty() && !ar_.pending(); }

  void drive(int64_t now) {
    *port_.arready = !stalls || stall_rng_() % 4 != 0;
    // R: the front burst's next beat, once its time has come.
    *port_.rvalid = 0;
    *port_.rlast = 0;
    *port_.rresp = kAxiRespOkay;
    if (bursts_.empty()) return;
    Burst& b = bursts_.front();
    const int64_t due = std::max(b.accept + latency + b.next, last_r_ + 1);
    if (due > now || (stalls && stall_rng_() % 3 == 0)) return;
    const uint64_t base = (b.addr & ~uint64_t(kBeatBytes - 1)) + uint64_t(kBeatBytes) * b.next;
    for (int k = 0; k < kBeatWords; k++) {
      uint8_t bytes[4];
      for (int j = 0; j < 4; j++) {
        const uint64_t a = base + 4 * k + j;
        bytes[j] = a < mem_.size() ? mem_[a] : 0xee;
      }
      port_.rdata[k] = pack_word(bytes);
    }
    const bool bad = base >= bad_from || base >= mem_.size();
    *port_.rvalid = 1;
    *port_.rresp = bad ? kAxiRespSlverr : kAxiRespOkay;
    *port_.rlast = b.next == b.len - 1;
  }

  void sample(int64_t now) {
    if (ar_.sample(*port_.arvalid, *port_.arready, *port_.araddr, *port_.arlen, *port_.arsize,
                   *port_.arburst, now, checks_)) {
      bursts_.push_back(Burst{*port_.araddr, *port_.arlen + 1, now});
    }
    if (*port_.rvalid && *port_.rready) {
      Burst& b = bursts_.front();
      last_r_ = now;
      if (++b.next == b.len) bursts_.pop_front();
    }
  }

 private:
  struct Burst {
    uint64_t addr;
    int len;         // beats
    int64_t accept;  // cycle its AR was accepted
    int next = 0;    // next beat to present
  };
  AxiReadPort port_;
  const std::vector<uint8_t>& mem_;
  PortChecks& checks_;
  AxiRequestCheck ar_{"AR"};
  std::deque<Burst> bursts_;
  int64_t last_r_ = -1000;
  std::mt19937 stall_rng_;
};

// The write slave over `mem`. It also records which bytes the master strobed (lo_written ..
// hi_written since reset_written()) and, after a clear the bench announces, how many bytes it
// strobed on beats sent after the clear (a beat already on W, waiting for WREADY, when the clear
// came was sent before it: AXI keeps it there until WREADY).
class AxiWriteSlave {
 public:
  AxiWriteSlave(const AxiWritePort& port, std::vector<uint8_t>& mem, PortChecks& checks,
                uint32_t stall_seed)
      : port_(port), mem_(mem), checks_(checks), stall_rng_(stall_seed) {}

  int64_t latency = int64_t(contract::kTimingWriteLatency);
  bool stalls = false;
  uint64_t bad_from = ~uint64_t(0);  // bursts touching addresses at or above this answer SLVERR
  uint64_t lo_written = ~uint64_t(0), hi_written = 0;  // strobed bytes
  int64_t strobes_after_clear = 0;

  void reset_written() {
    lo_written = ~uint64_t(0);
    hi_written = 0;
  }
  // From now on until the next clear, no beat counts as sent after a clear.
  void begin_clear_watch() { after_clear_ = false; }
  // Nothing owed: no AW, W beat or B response outstanding.
  bool idle() const { return aws_.empty() && bq_.empty() && wq_.empty() && !aw_.pending(); }

  void drive(int64_t now) {
    *port_.awready = !stalls || stall_rng_() % 4 != 0;
    *port_.wready = !stalls || stall_rng_() % 3 != 0;
    // B: the oldest complete burst's response once due.
    *port_.bvalid = 0;
    *port_.bresp = kAxiRespOkay;
    if (bq_.empty()) return;
    const int64_t due = std::max(bq_.front().first, last_b_ + 1);
    if (due <= now && (!stalls || stall_rng_() % 3 != 0)) {
      *port_.bvalid = 1;
      *port_.bresp = bq_.front().second ? kAxiRespSlverr : kAxiRespOkay;
    }
  }

  // `clear`: the unit's clear_i is 1 in this cycle.
  void sample(int64_t now, bool clear) {
    if (aw_.sample(*port_.awvalid, *port_.awready, *port_.awaddr, *port_.awlen, *port_.awsize,
                   *port_.awburst, now, checks_)) {
      aws_.push_back(Aw{*port_.awaddr, *port_.awlen + 1, now});
    }
    if (*port_.wvalid && *port_.wready) {
      WBeat w;
      for (int k = 0; k < kBeatWords; k++) w.data[k] = port_.wdata[k];
      w.strb = *port_.wstrb;
      w.last = *port_.wlast;
      w.cycle = now;
      w.after_clear = after_clear_ && !held_at_clear_;
      if (after_clear_) held_at_clear_ = false;
      wq_.push_back(w);
    }
    if (clear) held_at_clear_ = *port_.wvalid && !*port_.wready;
    // W beats go to the oldest AW whose beats are not all in.
    while (!wq_.empty()) {
      Aw* aw = nullptr;
      for (auto& x : aws_) {
        if (x.beats < x.len) {
          aw = &x;
          break;
        }
      }
      if (!aw) break;
      const WBeat& w = wq_.front();
      const uint64_t base =
          (aw->addr & ~uint64_t(kBeatBytes - 1)) + uint64_t(kBeatBytes) * uint64_t(aw->beats);
      bool bad = false;
      for (int j = 0; j < kBeatBytes; j++) {
        if (!((w.strb >> j) & 1)) continue;
        const uint64_t a = base + j;
        if (a < aw->addr) checks_.fail("strobe before the burst's address", now);
        if (w.after_clear) strobes_after_clear++;
        if (a >= bad_from || a >= mem_.size()) {
          bad = true;
          continue;
        }
        mem_[a] = uint8_t(w.data[j / 4] >> (8 * (j % 4)));
        lo_written = std::min(lo_written, a);
        hi_written = std::max(hi_written, a + 1);
      }
      if (base >= bad_from) bad = true;
      aw->bad = aw->bad || bad;
      aw->beats++;
      const bool last = aw->beats == aw->len;
      if (w.last != last) checks_.fail("wlast not on the burst's last beat", now);
      if (last) aw->wlast = std::max(w.cycle, aw->accept);
      wq_.pop_front();
    }
    // Bursts with AW and WLAST in: B due `latency` after the later of the two.
    while (!aws_.empty() && aws_.front().beats == aws_.front().len) {
      const Aw& f = aws_.front();
      bq_.push_back({std::max(f.accept, f.wlast) + latency, f.bad});
      aws_.pop_front();
    }
    if (*port_.bvalid && *port_.bready) {
      last_b_ = now;
      bq_.pop_front();
    }
    if (clear) after_clear_ = true;
  }

 private:
  struct Aw {
    uint64_t addr;
    int len;           // beats
    int64_t accept;    // cycle its AW was accepted
    int beats = 0;     // W beats received
    int64_t wlast = -1;
    bool bad = false;  // answered with SLVERR
  };
  struct WBeat {
    uint32_t data[kBeatWords];
    uint32_t strb;
    bool last;
    int64_t cycle;
    bool after_clear;
  };
  AxiWritePort port_;
  std::vector<uint8_t>& mem_;
  PortChecks& checks_;
  AxiRequestCheck aw_{"AW"};
  std::deque<Aw> aws_;
  std::deque<WBeat> wq_;
  std::deque<std::pair<int64_t, bool>> bq_;  // B responses: earliest cycle, SLVERR
  int64_t last_b_ = -1000;
  bool after_clear_ = false, held_at_clear_ = false;
  std::mt19937 stall_rng_;
};

}  // namespace tb

#endif  // SYSTOLE_TB_AXI_SLAVE_H
