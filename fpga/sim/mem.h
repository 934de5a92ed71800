// The memory behind the accelerator's three AXI4 masters in simulation: the card memory file,
// the AXI4 slave ports (with the protocol checks the RTL relies on) and the timing models
// ("fixed" and "hbm"). See README.md in this directory.
#ifndef SYSTOLE_SIM_MEM_H
#define SYSTOLE_SIM_MEM_H

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace systole {

constexpr unsigned kBeatBytes = 32;
constexpr unsigned kMaxBurst = 16;

enum Port : unsigned { kFetch = 0, kLoad = 1, kStore = 2, kPorts = 3 };
const char *port_name(unsigned port);

// Prints a protocol violation of the RTL and aborts the process: a bug in the design must never
// turn into silently wrong data.
[[noreturn]] void protocol_violation(unsigned port, uint64_t cycle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// The card memory: a (sparse) file of `bytes` bytes, accessed with pread/pwrite per burst. Bytes
// at or past `bytes`, or past the file's current end (a fault injection may truncate it), answer
// with an error instead of data.
class CardMemory {
 public:
  CardMemory(int fd, uint64_t bytes) : fd_(fd), bytes_(bytes) {}
  // Reads `beats` beats from `addr` (a multiple of 32) into `data`; ok[j] is false for a beat that
  // could not be read whole (its data is then zero).
  void read(uint64_t addr, unsigned beats, uint8_t *data, bool *ok) const;
  // Writes the bytes whose strobe bit is set. Returns false, having written nothing, when any
  // byte of the burst lies past `bytes` or the end of the file, or a write fails.
  bool write(uint64_t addr, unsigned beats, const uint8_t *data, const uint32_t *strb) const;

 private:
  int fd_;
  uint64_t bytes_;
};

// When beats and responses may be presented: the part that differs between memory models.
class MemTiming {
 public:
  virtual ~MemTiming() = default;
  // Whether a port takes AR, AW or a W beat in cycle `now` (a function of the model's state).
  virtual bool ar_ready(unsigned port, uint64_t now) = 0;
  virtual bool aw_ready(unsigned port, uint64_t now) = 0;
  virtual bool w_ready(unsigned port, uint64_t now) = 0;
  // A read burst's AR was accepted in cycle `now`: sets the earliest cycle of each beat. The port
  // presents beat j at max(earliest[j], cycle the previous beat on the port was accepted + 1).
  virtual void read(unsigned port, uint64_t now, uint64_t addr, unsigned beats,
                    uint64_t *earliest) = 0;
  // The last beat of a read burst was accepted.
  virtual void read_retired(unsigned port) = 0;
  // A write burst is complete (AW and WLAST accepted, the later of the two in cycle `now`):
  // returns the earliest cycle of its B. The port presents B at max(that, previous B accepted + 1).
  virtual uint64_t write(unsigned port, uint64_t now, uint64_t addr, unsigned beats) = 0;
  // A B response was accepted.
  virtual void write_retired(unsigned port) = 0;
  // A program starts in cycle `now` with no transfer in flight: a model whose timing depends on
  // its past starts again from its initial state, as of `now`, so that a program's cycles depend
  // on the program alone and not on how long the host took between runs.
  virtual void restart(uint64_t now) { (void)now; }
  virtual std::string describe() const = 0;
};

// The fixed-latency model of MICROARCH.md: ready always, beat j of a burst accepted at a at
// a + read_latency + j, B at w + write_latency.
std::unique_ptr<MemTiming> make_fixed_timing(unsigned read_latency, unsigned write_latency);

// Geometry and clock of the build, for the HBM model.
struct HbmGeometry {
  uint64_t hbm_bytes;   // HBM_MB * 2^20
  unsigned channels;    // HBM_CHANNELS
  unsigned clock_khz;   // CLOCK_KHZ
};
// The realistic model: HBM2 pseudo-channels with banks, rows, refresh, shared bandwidth, jitter.
std::unique_ptr<MemTiming> make_hbm_timing(const HbmGeometry &geometry, uint64_t seed);

// Parses a mem_config string ("fixed,read=32,write=16", "hbm,seed=7"). Returns nullptr and sets
// `error` if it is not one.
std::unique_ptr<MemTiming> parse_mem_config(const char *config, const HbmGeometry &geometry,
                                            std::string &error);

// The signals of a read master, as the Verilated model holds them.
struct ReadSignals {
  uint8_t *arvalid, *arready;
  uint64_t *araddr;
  uint8_t *arlen, *arsize, *arburst;
  uint8_t *rvalid, *rready;
  uint32_t *rdata;  // 8 words
  uint8_t *rresp, *rlast;
};

struct WriteSignals {
  uint8_t *awvalid, *awready;
  uint64_t *awaddr;
  uint8_t *awlen, *awsize, *awburst;
  uint8_t *wvalid, *wready;
  uint32_t *wdata;  // 8 words
  uint32_t *wstrb;
  uint8_t *wlast;
  uint8_t *bvalid, *bready, *bresp;
};

// Checks an AR or AW against what the design may issue: INCR, 32-byte beats, at most 16 beats,
// no 4 KiB crossing.
void check_request(unsigned port, uint64_t cycle, const char *channel, uint64_t addr,
                   unsigned len, unsigned size, unsigned burst);

// An AXI4 read slave port. Each cycle: drive() before the model's evaluation with the clock low,
// then sample() once its outputs have settled (before the rising edge).
class ReadPort {
 public:
  ReadPort(unsigned port, const ReadSignals &sig, const CardMemory &mem, MemTiming &timing)
      : port_(port), sig_(sig), mem_(mem), timing_(timing) {}
  void drive(uint64_t now);
  void sample(uint64_t now);
  // Nothing owed: every accepted AR answered in full.
  bool idle() const { return bursts_.empty(); }
  void reset();

 private:
  struct Burst {
    unsigned beats = 0, next = 0;
    std::vector<uint8_t> data;
    std::vector<uint8_t> ok;
    std::vector<uint64_t> earliest;
  };
  unsigned port_;
  ReadSignals sig_;
  const CardMemory &mem_;
  MemTiming &timing_;
  std::deque<Burst> bursts_;
  bool accepted_any_ = false;
  uint64_t last_accept_ = 0;
  // AR presented and not taken in the previous cycle: it must be presented again, unchanged.
  bool ar_held_ = false;
  uint64_t held_addr_ = 0;
  unsigned held_len_ = 0, held_size_ = 0, held_burst_ = 0;
};

class WritePort {
 public:
  WritePort(unsigned port, const WriteSignals &sig, const CardMemory &mem, MemTiming &timing)
      : port_(port), sig_(sig), mem_(mem), timing_(timing) {}
  void drive(uint64_t now);
  void sample(uint64_t now);
  bool idle() const { return aws_.empty() && ws_.empty() && bs_.empty(); }
  void reset();

 private:
  struct Aw {
    uint64_t accept, addr;
    unsigned beats;
  };
  struct W {
    uint64_t accept;
    uint8_t data[kBeatBytes];
    uint32_t strb;
    bool last;
  };
  struct B {
    uint64_t earliest;
    bool ok;
  };
  void complete(uint64_t now);

  unsigned port_;
  WriteSignals sig_;
  const CardMemory &mem_;
  MemTiming &timing_;
  std::deque<Aw> aws_;  // accepted, waiting for their data
  std::deque<W> ws_;    // accepted beats not yet matched to a complete burst
  std::deque<B> bs_;
  bool accepted_any_ = false;
  uint64_t last_accept_ = 0;
  bool aw_held_ = false, w_held_ = false;
  uint64_t held_addr_ = 0;
  unsigned held_len_ = 0, held_size_ = 0, held_burst_ = 0;
  uint32_t held_data_[8] = {}, held_strb_ = 0;
  bool held_last_ = false;
};

}  // namespace systole

#endif
