// Reader of the timing traces the unit testbenches replay. dev.systole.driver.timing.TimingTraces
// (the timing model's own package) writes them and documents the format; fpga/tb/README.md
// summarises it. A record is one line of tokens separated by spaces: first the record's own
// tokens (a phase, a latency, cycles, ...), then, from the first token in capitals, an
// instruction in assembly syntax (MNEMONIC field=value ..., omitted fields zero, buffers by name,
// values decimal or 0x hex). Lines starting with # are comments.
//
// A testbench reads the fields it knows with field() and calls check_used(), so that a field it
// would ignore (the trace and the testbench out of step) stops the run instead. is_array_dim()
// handles the `array_dim D` record every trace starts with, and read_transfer_cases() reads the
// cases of a LOAD or STORE trace.
#ifndef SYSTOLE_TB_TIMING_TRACE_H
#define SYSTOLE_TB_TIMING_TRACE_H

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../spec/generated/systole_contract.h"

struct TraceRecord {
  std::string path;
  int line = 0;
  std::vector<std::string> head;  // the tokens before the instruction
  std::string op;                 // the instruction's mnemonic, empty if none
  std::map<std::string, std::string> fields;
  mutable std::set<std::string> used;

  [[noreturn]] void die(const std::string& what) const {
    std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), line, what.c_str());
    std::exit(2);
  }

  int64_t number(const std::string& text, const std::string& what) const {
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const char* s = text.c_str() + (hex ? 2 : 0);
    char* end = nullptr;
    errno = 0;
    int64_t v = hex ? int64_t(std::strtoull(s, &end, 16)) : int64_t(std::strtoll(s, &end, 10));
    if (text.empty() || *s == '\0' || *end != '\0' || errno != 0) {
      die(what + ": \"" + text + "\" is not a number");
    }
    return v;
  }

  // Token i of the record's own tokens, as a number.
  int64_t num(size_t i) const {
    if (i >= head.size()) die("record has " + std::to_string(head.size()) + " leading tokens");
    return number(head[i], "token " + std::to_string(i + 1));
  }

  // An instruction field: its value, 0 if omitted; buffers by name (ABUF, WBUF, ACC).
  int64_t field(const std::string& name) const {
    used.insert(name);
    auto it = fields.find(name);
    if (it == fields.end()) return 0;
    const std::string& v = it->second;
    if (v == "ABUF") return systole_contract::kBufAbuf;
    if (v == "WBUF") return systole_contract::kBufWbuf;
    if (v == "ACC") return systole_contract::kBufAcc;
    return number(v, op + " " + name);
  }

  // Stops the run if the instruction has a field the testbench did not read.
  void check_used() const {
    for (const auto& f : fields) {
      if (!used.count(f.first)) die(op + " field " + f.first + " is not one this testbench drives");
    }
  }
};

// Every record of the trace at path, in order; stops the run with a message if it cannot be read.
inline std::vector<TraceRecord> read_trace(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read the timing trace %s (scripts/rtl-tests writes it)\n", path);
    std::exit(2);
  }
  std::vector<TraceRecord> out;
  std::string text;
  for (int line = 1; std::getline(in, text); line++) {
    if (text.empty() || text[0] == '#') continue;
    TraceRecord r;
    r.path = path;
    r.line = line;
    std::istringstream tokens(text);
    std::string t;
    while (tokens >> t) {
      if (r.op.empty() && std::isupper(static_cast<unsigned char>(t[0]))) {
        r.op = t;
      } else if (r.op.empty()) {
        r.head.push_back(t);
      } else {
        size_t eq = t.find('=');
        if (eq == std::string::npos || eq == 0) r.die("\"" + t + "\" is not field=value");
        if (!r.fields.emplace(t.substr(0, eq), t.substr(eq + 1)).second) {
          r.die("field " + t.substr(0, eq) + " given twice");
        }
      }
    }
    out.push_back(r);
  }
  return out;
}

// Whether r is the `array_dim D` record a trace starts with; stops the run if D is not `dim`, the
// array size of the bench's build.
inline bool is_array_dim(const TraceRecord& r, int dim) {
  if (!r.op.empty() || r.head.size() != 2 || r.head[0] != "array_dim") return false;
  if (r.num(1) != dim) {
    r.die("array_dim " + r.head[1] + ", this bench is built for " + std::to_string(dim));
  }
  return true;
}

// One case of a LOAD or STORE trace (`PHASE LATENCY CYCLES INSTRUCTION`): the instruction, the
// phase that says how the bench drives it, the memory latency it runs at and the unit's busy time
// the model gives.
template <class Instr>
struct TransferCase {
  std::string phase;
  int64_t latency = 0;
  int64_t cycles = 0;
  Instr instr;
  int line = 0;
};

// The cases of a LOAD or STORE trace of `mnemonic` instructions for a bench of array size `dim`;
// decode(record, instr) reads the instruction's fields (and calls check_used()). Stops the run at
// a record of another form or an unknown phase.
template <class Instr, class Decode>
std::vector<TransferCase<Instr>> read_transfer_cases(const char* path, int dim,
                                                     const std::string& mnemonic,
                                                     const std::string& latency_name,
                                                     Decode decode) {
  static const char* const kPhases[] = {"random", "shape",  "back-to-back",
                                        "stall",  "fault", "clear"};
  std::vector<TransferCase<Instr>> out;
  for (const TraceRecord& r : read_trace(path)) {
    if (is_array_dim(r, dim)) continue;
    if (r.op != mnemonic || r.head.size() != 3) {
      r.die("expected PHASE " + latency_name + " CYCLES " + mnemonic + " ...");
    }
    TransferCase<Instr> c;
    c.phase = r.head[0];
    c.latency = r.num(1);
    c.cycles = r.num(2);
    c.line = r.line;
    decode(r, c.instr);
    bool known = false;
    for (const char* p : kPhases) known = known || c.phase == p;
    if (!known) r.die("unknown phase " + c.phase);
    out.push_back(c);
  }
  return out;
}

// The cases of one phase, in trace order.
template <class Case>
std::vector<const Case*> in_phase(const std::vector<Case>& cases, const std::string& phase) {
  std::vector<const Case*> out;
  for (const Case& c : cases) {
    if (c.phase == phase) out.push_back(&c);
  }
  return out;
}

#endif  // SYSTOLE_TB_TIMING_TRACE_H
