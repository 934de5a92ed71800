// The memory behind the AXI4 masters: card memory file, slave ports, timing models.
#include "mem.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace systole {

const char *port_name(unsigned port) {
  switch (port) {
    case kFetch: return "m_fetch";
    case kLoad: return "m_load";
    case kStore: return "m_store";
    default: return "m_?";
  }
}

void protocol_violation(unsigned port, uint64_t cycle, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "systole_sim: AXI protocol violation by the RTL on %s at cycle %" PRIu64
               ": %s\n", port_name(port), cycle, msg);
  std::fflush(stderr);
  std::abort();
}

// ------------------------------------------------------------------------------------------------
// Card memory

namespace {

// Whether [addr, addr + n) lies inside [0, limit).
bool inside(uint64_t addr, uint64_t n, uint64_t limit) {
  return addr <= limit && n <= limit - addr;
}

}  // namespace

void CardMemory::read(uint64_t addr, unsigned beats, uint8_t *data, bool *ok) const {
  size_t n = size_t(beats) * kBeatBytes;
  std::memset(data, 0, n);
  for (unsigned j = 0; j < beats; j++) ok[j] = false;
  // Only the beats inside HBM are read at all.
  unsigned in_hbm = 0;
  while (in_hbm < beats && inside(addr, uint64_t(in_hbm + 1) * kBeatBytes, bytes_)) in_hbm++;
  size_t want = size_t(in_hbm) * kBeatBytes, got = 0;
  while (got < want) {
    ssize_t r = ::pread(fd_, data + got, want - got, off_t(addr + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // an error, or the end of the file
    got += size_t(r);
  }
  for (unsigned j = 0; j < beats; j++) {
    ok[j] = size_t(j + 1) * kBeatBytes <= got;
    if (!ok[j]) std::memset(data + size_t(j) * kBeatBytes, 0, kBeatBytes);
  }
}

bool CardMemory::write(uint64_t addr, unsigned beats, const uint8_t *data,
                       const uint32_t *strb) const {
  uint64_t n = uint64_t(beats) * kBeatBytes;
  if (!inside(addr, n, bytes_)) return false;
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !inside(addr, n, uint64_t(st.st_size))) return false;
  // One pwrite per run of strobed bytes: a whole burst with every strobe set is one call.
  uint64_t i = 0;
  while (i < n) {
    if (!(strb[i / kBeatBytes] >> (i % kBeatBytes) & 1)) {
      i++;
      continue;
    }
    uint64_t j = i;
    while (j < n && (strb[j / kBeatBytes] >> (j % kBeatBytes) & 1)) j++;
    uint64_t done = 0;
    while (done < j - i) {
      ssize_t w = ::pwrite(fd_, data + i + done, size_t(j - i - done), off_t(addr + i + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      done += uint64_t(w);
    }
    i = j;
  }
  return true;
}

// ------------------------------------------------------------------------------------------------
// Protocol checks

void check_request(unsigned port, uint64_t cycle, const char *channel, uint64_t addr,
                   unsigned len, unsigned size, unsigned burst) {
  if (len > kMaxBurst - 1) {
    protocol_violation(port, cycle, "%s len = %u (a burst of %u beats; at most 16 allowed), "
                       "addr 0x%" PRIx64, channel, len, len + 1, addr);
  }
  if (size != 5) {
    protocol_violation(port, cycle, "%s size = %u (beats of %u bytes; must be 5: 32 bytes), "
                       "addr 0x%" PRIx64, channel, size, 1u << size, addr);
  }
  if (burst != 1) {
    protocol_violation(port, cycle, "%s burst = %u (must be 1: INCR), addr 0x%" PRIx64,
                       channel, burst, addr);
  }
  uint64_t first = addr & ~uint64_t(kBeatBytes - 1);
  uint64_t last = first + uint64_t(len + 1) * kBeatBytes - 1;
  if (last < first || (first >> 12) != (last >> 12)) {
    protocol_violation(port, cycle, "%s of %u beats at 0x%" PRIx64 " crosses a 4 KiB boundary "
                       "(last byte 0x%" PRIx64 ")", channel, len + 1, addr, last);
  }
}

// ------------------------------------------------------------------------------------------------
// Read port

void ReadPort::reset() {
  bursts_.clear();
  accepted_any_ = false;
  last_accept_ = 0;
  ar_held_ = false;
}

void ReadPort::drive(uint64_t now) {
  *sig_.arready = timing_.ar_ready(port_, now);
  bool valid = false;
  if (!bursts_.empty()) {
    const Burst &b = bursts_.front();
    uint64_t t = b.earliest[b.next];
    if (accepted_any_) t = std::max(t, last_accept_ + 1);
    valid = now >= t;
    if (valid) {
      std::memcpy(sig_.rdata, b.data.data() + size_t(b.next) * kBeatBytes, kBeatBytes);
      *sig_.rresp = b.ok[b.next] ? 0 : 2;  // OKAY or SLVERR
      *sig_.rlast = b.next + 1 == b.beats;
    }
  }
  if (!valid) {
    std::memset(sig_.rdata, 0, kBeatBytes);
    *sig_.rresp = 0;
    *sig_.rlast = 0;
  }
  *sig_.rvalid = valid;
}

void ReadPort::sample(uint64_t now) {
  bool arvalid = *sig_.arvalid;
  uint64_t addr = *sig_.araddr;
  unsigned len = *sig_.arlen, size = *sig_.arsize & 7, burst = *sig_.arburst & 3;
  if (ar_held_) {
    if (!arvalid) {
      protocol_violation(port_, now, "ARVALID dropped before ARREADY (AR of addr 0x%" PRIx64
                         ", len %u, presented in an earlier cycle)", held_addr_, held_len_);
    }
    if (addr != held_addr_ || len != held_len_ || size != held_size_ || burst != held_burst_) {
      protocol_violation(port_, now, "AR changed while waiting for ARREADY: addr 0x%" PRIx64
                         " len %u became addr 0x%" PRIx64 " len %u", held_addr_, held_len_,
                         addr, len);
    }
  }
  bool ar_hs = arvalid && *sig_.arready;
  ar_held_ = arvalid && !ar_hs;
  held_addr_ = addr;
  held_len_ = len;
  held_size_ = size;
  held_burst_ = burst;

  if (*sig_.rvalid && *sig_.rready) {
    Burst &b = bursts_.front();
    accepted_any_ = true;
    last_accept_ = now;
    if (++b.next == b.beats) {
      bursts_.pop_front();
      timing_.read_retired(port_);
    }
  }
  if (ar_hs) {
    check_request(port_, now, "AR", addr, len, size, burst);
    Burst b;
    b.beats = len + 1;
    b.data.resize(size_t(b.beats) * kBeatBytes);
    b.ok.resize(b.beats);
    b.earliest.resize(b.beats);
    uint64_t first = addr & ~uint64_t(kBeatBytes - 1);
    bool ok[kMaxBurst];
    mem_.read(first, b.beats, b.data.data(), ok);
    for (unsigned j = 0; j < b.beats; j++) b.ok[j] = ok[j];
    timing_.read(port_, now, first, b.beats, b.earliest.data());
    bursts_.push_back(std::move(b));
  }
}

// ------------------------------------------------------------------------------------------------
// Write port

void WritePort::reset() {
  aws_.clear();
  ws_.clear();
  bs_.clear();
  accepted_any_ = false;
  last_accept_ = 0;
  aw_held_ = w_held_ = false;
}

void WritePort::drive(uint64_t now) {
  *sig_.awready = timing_.aw_ready(port_, now);
  *sig_.wready = timing_.w_ready(port_, now);
  bool valid = false;
  if (!bs_.empty()) {
    uint64_t t = bs_.front().earliest;
    if (accepted_any_) t = std::max(t, last_accept_ + 1);
    valid = now >= t;
  }
  *sig_.bvalid = valid;
  *sig_.bresp = valid && !bs_.front().ok ? 2 : 0;
}

void WritePort::sample(uint64_t now) {
  bool awvalid = *sig_.awvalid;
  uint64_t addr = *sig_.awaddr;
  unsigned len = *sig_.awlen, size = *sig_.awsize & 7, burst = *sig_.awburst & 3;
  if (aw_held_) {
    if (!awvalid) {
      protocol_violation(port_, now, "AWVALID dropped before AWREADY (AW of addr 0x%" PRIx64
                         ", len %u)", held_addr_, held_len_);
    }
    if (addr != held_addr_ || len != held_len_ || size != held_size_ || burst != held_burst_) {
      protocol_violation(port_, now, "AW changed while waiting for AWREADY: addr 0x%" PRIx64
                         " len %u became addr 0x%" PRIx64 " len %u", held_addr_, held_len_,
                         addr, len);
    }
  }
  bool aw_hs = awvalid && *sig_.awready;
  aw_held_ = awvalid && !aw_hs;
  held_addr_ = addr;
  held_len_ = len;
  held_size_ = size;
  held_burst_ = burst;

  bool wvalid = *sig_.wvalid;
  bool last = *sig_.wlast;
  uint32_t strb = *sig_.wstrb;
  if (w_held_) {
    if (!wvalid) protocol_violation(port_, now, "WVALID dropped before WREADY");
    if (std::memcmp(held_data_, sig_.wdata, kBeatBytes) != 0 || strb != held_strb_
        || last != held_last_) {
      protocol_violation(port_, now, "W beat changed while waiting for WREADY");
    }
  }
  bool w_hs = wvalid && *sig_.wready;
  w_held_ = wvalid && !w_hs;
  std::memcpy(held_data_, sig_.wdata, kBeatBytes);
  held_strb_ = strb;
  held_last_ = last;

  if (*sig_.bvalid && *sig_.bready) {
    bs_.pop_front();
    accepted_any_ = true;
    last_accept_ = now;
    timing_.write_retired(port_);
  }
  if (aw_hs) {
    check_request(port_, now, "AW", addr, len, size, burst);
    aws_.push_back(Aw{now, addr & ~uint64_t(kBeatBytes - 1), len + 1});
  }
  if (w_hs) {
    W w;
    w.accept = now;
    std::memcpy(w.data, sig_.wdata, kBeatBytes);
    w.strb = strb;
    w.last = last;
    ws_.push_back(w);
  }
  if (aw_hs || w_hs) complete(now);
}

// Matches W beats to the AWs in order, checks WLAST, and writes every burst that is complete.
void WritePort::complete(uint64_t now) {
  while (!aws_.empty()) {
    const Aw &aw = aws_.front();
    size_t have = std::min<size_t>(ws_.size(), aw.beats);
    for (size_t k = 0; k < have; k++) {
      bool want_last = k + 1 == aw.beats;
      if (ws_[k].last != want_last) {
        protocol_violation(port_, now, "WLAST is %d on beat %zu of the burst of %u beats at 0x%"
                           PRIx64 " (AW accepted in cycle %" PRIu64 ")", ws_[k].last ? 1 : 0, k,
                           aw.beats, aw.addr, aw.accept);
      }
    }
    if (have < aw.beats) return;
    uint8_t data[kMaxBurst * kBeatBytes];
    uint32_t strb[kMaxBurst];
    for (unsigned k = 0; k < aw.beats; k++) {
      std::memcpy(data + k * kBeatBytes, ws_[k].data, kBeatBytes);
      strb[k] = ws_[k].strb;
    }
    uint64_t done = std::max(aw.accept, ws_[aw.beats - 1].accept);
    bool ok = mem_.write(aw.addr, aw.beats, data, strb);
    uint64_t earliest = timing_.write(port_, done, aw.addr, aw.beats);
    bs_.push_back(B{earliest, ok});
    ws_.erase(ws_.begin(), ws_.begin() + aw.beats);
    aws_.pop_front();
  }
}

// ------------------------------------------------------------------------------------------------
// The fixed-latency model

namespace {

class FixedTiming final : public MemTiming {
 public:
  FixedTiming(unsigned read_latency, unsigned write_latency)
      : lr_(read_latency), lw_(write_latency) {}
  bool ar_ready(unsigned, uint64_t) override { return true; }
  bool aw_ready(unsigned, uint64_t) override { return true; }
  bool w_ready(unsigned, uint64_t) override { return true; }
  void read(unsigned, uint64_t now, uint64_t, unsigned beats, uint64_t *earliest) override {
    for (unsigned j = 0; j < beats; j++) earliest[j] = now + lr_ + j;
  }
  void read_retired(unsigned) override {}
  uint64_t write(unsigned, uint64_t now, uint64_t, unsigned) override { return now + lw_; }
  void write_retired(unsigned) override {}
  std::string describe() const override {
    return "fixed,read=" + std::to_string(lr_) + ",write=" + std::to_string(lw_);
  }

 private:
  unsigned lr_, lw_;
};

// ------------------------------------------------------------------------------------------------
// The HBM model (numbers and reasons in README.md)

class HbmTiming final : public MemTiming {
 public:
  // Per pseudo-channel
  static constexpr unsigned kBanks = 16;
  static constexpr unsigned kRowBytesLog2 = 10;        // 1 KiB page
  static constexpr double kChannelBytesPerSec = 14.4e9;  // 64 bits at 1.8 Gb/s
  static constexpr double kTrcdNs = 14, kTrpNs = 14;
  static constexpr double kTrefiNs = 3900, kTrfcSbNs = 160;
  // Pipeline (controller, PHY, AXI switch) in kernel cycles, CAS latency included
  static constexpr unsigned kReadIn = 11, kReadOut = 16;
  static constexpr unsigned kWriteIn = 5, kWriteOut = 5;
  static constexpr unsigned kJitter = 2;               // uniform 0 .. kJitter cycles
  static constexpr unsigned kMaxOutstanding = 64;      // bursts per port and direction
  static constexpr uint64_t kSub = 256;                // sub-cycle ticks for the data bus

  HbmTiming(const HbmGeometry &g, uint64_t seed) : g_(g), seed_(seed), rng_(seed) {
    double cyc_ns = 1e6 / double(g.clock_khz);
    trcd_ = cycles(kTrcdNs, cyc_ns);
    trp_ = cycles(kTrpNs, cyc_ns);
    trfc_ = cycles(kTrfcSbNs, cyc_ns);
    trefi_ = std::max<uint64_t>(uint64_t(kTrefiNs / cyc_ns), kBanks * (trfc_ + 1));
    beat_sub_ = std::max<uint64_t>(
        1, uint64_t(double(kSub) * kBeatBytes / kChannelBytesPerSec * g.clock_khz * 1e3 + 0.5));
    uint64_t channels = std::max(1u, g.channels);
    slice_ = std::max<uint64_t>(1, g.hbm_bytes / channels);
    channels_.resize(channels);
    restart(0);
  }

  // Every bank precharged, the buses free, the jitter and the refresh phases drawn from the seed
  // again, from cycle `now` on.
  void restart(uint64_t now) override {
    rng_ = seed_;
    for (Channel &c : channels_) {
      c = Channel();
      c.refresh_phase = now + next() % trefi_;
      for (Bank &b : c.banks) b = Bank();
    }
  }

  bool ar_ready(unsigned port, uint64_t) override { return reads_[port] < kMaxOutstanding; }
  bool aw_ready(unsigned port, uint64_t) override { return writes_[port] < kMaxOutstanding; }
  bool w_ready(unsigned, uint64_t) override { return true; }

  void read(unsigned port, uint64_t now, uint64_t addr, unsigned beats,
            uint64_t *earliest) override {
    reads_[port]++;
    uint64_t start = access(now + kReadIn, addr, beats);
    uint64_t jitter = next() % (kJitter + 1);
    for (unsigned j = 0; j < beats; j++) {
      earliest[j] = ceil_sub(start + j * beat_sub_) + kReadOut + jitter;
    }
  }
  void read_retired(unsigned port) override { reads_[port]--; }

  uint64_t write(unsigned port, uint64_t now, uint64_t addr, unsigned beats) override {
    writes_[port]++;
    uint64_t start = access(now + kWriteIn, addr, beats);
    return ceil_sub(start) + kWriteOut + next() % (kJitter + 1);
  }
  void write_retired(unsigned port) override { writes_[port]--; }

  std::string describe() const override {
    char s[256];
    std::snprintf(s, sizeof s, "hbm: %zu channels of %" PRIu64 " bytes, tRCD=tRP=%" PRIu64
                  ", tRFCsb=%" PRIu64 ", tREFI=%" PRIu64 " cycles, %.3f beats/cycle/channel",
                  channels_.size(), slice_, trcd_, trfc_, trefi_, double(kSub) / beat_sub_);
    return s;
  }

 private:
  struct Bank {
    int64_t row = -1;         // open row, -1 when precharged
    uint64_t busy_until = 0;  // cycle its last transfer ends
    uint64_t last_use = 0;    // cycle of its last access
  };
  struct Channel {
    Bank banks[kBanks];
    uint64_t bus_free = 0;  // in sub-cycle ticks
    uint64_t refresh_phase = 0;
  };

  static uint64_t cycles(double ns, double cyc_ns) { return uint64_t(ns / cyc_ns + 0.999); }
  uint64_t ceil_sub(uint64_t sub) const { return (sub + kSub - 1) / kSub; }

  uint64_t next() {  // splitmix64
    uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // A burst reaching its channel's controller at cycle t: returns the sub-cycle tick at which its
  // data moves on the channel, and books the bank and the data bus.
  uint64_t access(uint64_t t, uint64_t addr, unsigned beats) {
    uint64_t ch = std::min<uint64_t>(addr / slice_, channels_.size() - 1);
    uint64_t off = addr - ch * slice_;
    Channel &c = channels_[ch];
    unsigned bank = unsigned(off >> kRowBytesLog2) % kBanks;
    int64_t row = int64_t(off >> (kRowBytesLog2 + 4));
    Bank &b = c.banks[bank];

    // Single-bank refresh: bank k of the channel is refreshed for tRFCsb once every tREFI, the
    // banks staggered by tREFI / 16. An access waits for its bank's refresh to end, and a
    // refresh since the bank's last access has closed its row.
    uint64_t phase = c.refresh_phase + bank * (trefi_ / kBanks);
    if (t >= phase) {
      uint64_t k = (t - phase) / trefi_;
      uint64_t window = phase + k * trefi_;
      if (t < window + trfc_) t = window + trfc_;
      if (b.last_use < window) b.row = -1;
    }

    uint64_t cmd;
    if (b.row == row) {
      cmd = t;                                      // row hit
    } else if (b.row < 0) {
      cmd = std::max(t, b.busy_until) + trcd_;       // activate
    } else {
      cmd = std::max(t, b.busy_until) + trp_ + trcd_;  // precharge, activate
    }
    uint64_t start = std::max(cmd * kSub, c.bus_free);
    c.bus_free = start + beats * beat_sub_;
    b.row = row;
    b.busy_until = ceil_sub(c.bus_free);
    b.last_use = std::max(t, b.busy_until);
    return start;
  }

  HbmGeometry g_;
  uint64_t seed_;
  uint64_t rng_;
  uint64_t trcd_ = 0, trp_ = 0, trfc_ = 0, trefi_ = 0, beat_sub_ = 0, slice_ = 0;
  std::vector<Channel> channels_;
  unsigned reads_[kPorts] = {}, writes_[kPorts] = {};
};

bool parse_uint(const std::string &s, uint64_t &v) {
  if (s.empty()) return false;
  char *end = nullptr;
  errno = 0;
  v = std::strtoull(s.c_str(), &end, 0);
  return errno == 0 && end && *end == 0 && s[0] != '-';
}

}  // namespace

std::unique_ptr<MemTiming> make_fixed_timing(unsigned read_latency, unsigned write_latency) {
  return std::unique_ptr<MemTiming>(new FixedTiming(read_latency, write_latency));
}

std::unique_ptr<MemTiming> make_hbm_timing(const HbmGeometry &geometry, uint64_t seed) {
  return std::unique_ptr<MemTiming>(new HbmTiming(geometry, seed));
}

std::unique_ptr<MemTiming> parse_mem_config(const char *config, const HbmGeometry &geometry,
                                            std::string &error) {
  std::string s = config ? config : "";
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    size_t comma = s.find(',', pos);
    parts.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::string &model = parts[0];
  uint64_t read = 32, write = 16, seed = 1;
  for (size_t i = 1; i < parts.size(); i++) {
    size_t eq = parts[i].find('=');
    std::string key = parts[i].substr(0, eq);
    uint64_t v = 0;
    if (eq == std::string::npos || !parse_uint(parts[i].substr(eq + 1), v)) {
      error = "mem_config \"" + s + "\": expected key=value, got \"" + parts[i] + "\"";
      return nullptr;
    }
    if (model == "fixed" && key == "read" && v >= 1 && v <= 100000) {
      read = v;
    } else if (model == "fixed" && key == "write" && v >= 1 && v <= 100000) {
      write = v;
    } else if (model == "hbm" && key == "seed") {
      seed = v;
    } else {
      error = "mem_config \"" + s + "\": unknown or out-of-range setting \"" + parts[i]
              + "\" (fixed takes read=1..100000 and write=1..100000; hbm takes seed=N)";
      return nullptr;
    }
  }
  if (model == "fixed") return make_fixed_timing(unsigned(read), unsigned(write));
  if (model == "hbm") return make_hbm_timing(geometry, seed);
  error = "mem_config \"" + s + "\": unknown model \"" + model
          + "\" (expected \"fixed[,read=N][,write=N]\" or \"hbm[,seed=N]\")";
  return nullptr;
}

}  // namespace systole
