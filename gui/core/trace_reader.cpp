#include "core/trace_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <unordered_map>

#include "io/input_error.hpp"

namespace strata::gui {
namespace {

constexpr double kUsPerS = 1e6;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A read-only view of a whole file (mmap; empty files are refused by the callers).
class MappedFile {
public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw InputError(path, "", std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw InputError(path, "", "not a regular file");
    }
    size_ = std::size_t(st.st_size);
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) {
      ::close(fd_);
      throw InputError(path, "", std::string("cannot map: ") + std::strerror(errno));
    }
    data_ = static_cast<const char*>(p);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view text() const { return {data_ ? data_ : "", size_}; }

private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// A minimal pull parser over JSON text; every complaint names the line and column.
class Scanner {
public:
  Scanner(std::string_view text, const std::string& file) : b_(text.data()), p_(b_), e_(b_ + text.size()), file_(file) {}

  std::string where;  // JSON path for messages, e.g. "traceEvents[12]"

  [[noreturn]] void fail(const std::string& what) const {
    long line = 1;
    const char* ls = b_;
    for (const char* q = b_; q < p_ && q < e_; ++q)
      if (*q == '\n') ++line, ls = q + 1;
    throw InputError(file_, where, what + " (line " + std::to_string(line) + ", column " + std::to_string(p_ - ls + 1) + ")");
  }

  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  char next() {  // the next significant character, 0 at the end
    ws();
    return p_ < e_ ? *p_ : '\0';
  }
  void expect(char c) {
    if (next() != c) {
      if (p_ >= e_) fail(std::string("unexpected end of file, expected '") + c + "'");
      fail(std::string("expected '") + c + "'");
    }
    ++p_;
  }
  bool eat(char c) {
    if (next() != c) return false;
    ++p_;
    return true;
  }
  std::uint64_t offset() const { return std::uint64_t(p_ - b_); }
  bool at_end() {
    ws();
    return p_ >= e_;
  }

  // A string; the view points into the text, or into `scratch` when it had escapes.
  std::string_view string(std::string& scratch) {
    if (next() != '"') fail(p_ >= e_ ? "unexpected end of file, expected a string" : "expected a string");
    const char* s = ++p_;
    while (p_ < e_ && *p_ != '"' && *p_ != '\\') {
      if (static_cast<unsigned char>(*p_) < 0x20) fail("control character inside a string");
      ++p_;
    }
    if (p_ >= e_) fail("unterminated string");
    if (*p_ == '"') return {s, std::size_t(p_++ - s)};
    scratch.assign(s, p_);
    for (;;) {
      if (p_ >= e_) fail("unterminated string");
      char c = *p_++;
      if (c == '"') return scratch;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        scratch += c;
        continue;
      }
      if (p_ >= e_) fail("unterminated string");
      char x = *p_++;
      switch (x) {
        case '"': scratch += '"'; break;
        case '\\': scratch += '\\'; break;
        case '/': scratch += '/'; break;
        case 'b': scratch += '\b'; break;
        case 'f': scratch += '\f'; break;
        case 'n': scratch += '\n'; break;
        case 'r': scratch += '\r'; break;
        case 't': scratch += '\t'; break;
        case 'u': append_utf8(scratch, unicode_escape()); break;
        default: fail(std::string("invalid escape '\\") + x + "' in a string");
      }
    }
  }

  double number() {
    char c = next();
    if (!(c == '-' || (c >= '0' && c <= '9'))) fail(p_ >= e_ ? "unexpected end of file, expected a number" : "expected a number");
    if (double v; fast_number(v)) return v;
    double v = 0;
    auto r = std::from_chars(p_, e_, v);
    if (r.ec == std::errc::result_out_of_range) fail("number out of range");
    if (r.ec != std::errc()) fail("malformed number");
    p_ = r.ptr;
    return v;
  }

  bool boolean() {
    if (literal("true")) return true;
    if (literal("false")) return false;
    fail("expected true or false");
  }

  void skip(int depth = 0) {
    if (depth > 256) fail("nesting too deep");
    char c = next();
    if (c == '"') {
      skip_string();
    } else if (c == '{') {
      ++p_;
      if (eat('}')) return;
      for (;;) {
        if (next() != '"') fail("expected a member name");
        skip_string();
        expect(':');
        skip(depth + 1);
        if (eat(',')) continue;
        if (eat('}')) return;
        fail("expected ',' or '}'");
      }
    } else if (c == '[') {
      ++p_;
      if (eat(']')) return;
      for (;;) {
        skip(depth + 1);
        if (eat(',')) continue;
        if (eat(']')) return;
        fail("expected ',' or ']'");
      }
    } else if (c == 't' || c == 'f' || c == 'n') {
      if (!literal("true") && !literal("false") && !literal("null")) fail("invalid literal");
    } else if (c == '\0' && p_ >= e_) {
      fail("unexpected end of file");
    } else {
      number();
    }
  }

private:
  // Clinger's fast path: up to 15 significant digits and a power of ten within 10^22 are exact
  // in a double, so one multiplication or division rounds correctly. Timestamps ("1234.567"),
  // ids and counts all take it; anything else goes to from_chars.
  bool fast_number(double& out) {
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* q = p_;
    bool neg = q < e_ && *q == '-';
    if (neg) ++q;
    std::uint64_t m = 0;
    int digits = 0, frac = 0;
    const char* start = q;
    while (q < e_ && *q >= '0' && *q <= '9') m = m * 10 + std::uint64_t(*q++ - '0'), ++digits;
    if (q == start || (digits > 1 && *start == '0')) return false;
    if (q < e_ && *q == '.') {
      const char* f = ++q;
      while (q < e_ && *q >= '0' && *q <= '9') m = m * 10 + std::uint64_t(*q++ - '0'), ++digits;
      frac = int(q - f);
      if (frac == 0) return false;
    }
    int exp = 0;
    if (q < e_ && (*q == 'e' || *q == 'E')) {
      ++q;
      bool eneg = q < e_ && *q == '-';
      if (q < e_ && (*q == '-' || *q == '+')) ++q;
      const char* es = q;
      while (q < e_ && *q >= '0' && *q <= '9' && q - es < 4) exp = exp * 10 + (*q++ - '0');
      if (q == es || (q < e_ && *q >= '0' && *q <= '9')) return false;
      if (eneg) exp = -exp;
    }
    if (digits > 15) return false;
    int p10 = exp - frac;
    double v = double(m);
    if (p10 < 0) {
      if (p10 < -22) return false;
      v /= kPow10[-p10];
    } else if (p10 > 0) {
      if (p10 > 22) return false;
      v *= kPow10[p10];
    }
    out = neg ? -v : v;
    p_ = q;
    return true;
  }

  bool literal(const char* word) {
    std::size_t n = std::strlen(word);
    ws();
    if (std::size_t(e_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  void skip_string() {
    ++p_;  // opening quote
    while (p_ < e_) {
      char c = *p_++;
      if (c == '"') return;
      if (c == '\\') {
        if (p_ >= e_) break;
        ++p_;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        --p_;
        fail("control character inside a string");
      }
    }
    fail("unterminated string");
  }
  unsigned hex4() {
    if (e_ - p_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return v;
  }
  unsigned unicode_escape() {
    unsigned cp = hex4();
    if (cp >= 0xD800 && cp < 0xDC00 && e_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
      p_ += 2;
      unsigned lo = hex4();
      if (lo >= 0xDC00 && lo < 0xE000) return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      return 0xFFFD;
    }
    return (cp >= 0xD800 && cp < 0xE000) ? 0xFFFD : cp;
  }
  static void append_utf8(std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s += char(cp);
    } else if (cp < 0x800) {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += char(0xE0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    } else {
      s += char(0xF0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3F));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    }
  }

  const char* b_;
  const char* p_;
  const char* e_;
  const std::string& file_;
};

// One trace event as read, before ranks and streams are resolved.
struct RawEvent {
  char ph = 0;
  std::string_view name, cat;
  std::int64_t pid = 0, tid = 0;
  double ts = kNaN, dur = kNaN;
  bool bad_ts = false, bad_dur = false;
  TextSpan args;
  double task = -1, microbatch = -1, layer = -1, flops = 0, bytes = kNaN, stage = kNaN, value = kNaN;
  bool measured = true, exposed = false;
  std::string_view arg_name, labels;
  std::int64_t bind_id = -1;
  bool flow_out = false, flow_in = false;
};

Category category_from(std::string_view cat) {
  // "cat" may be a comma-separated list; the first known name wins.
  std::size_t pos = 0;
  while (pos <= cat.size()) {
    std::size_t comma = cat.find(',', pos);
    std::string_view tok = cat.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    for (int i = 0; i < int(Category::count); ++i)
      if (tok == category_name(Category(i))) return Category(i);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return Category::compute;
}

Stream stream_for(Category c) {
  switch (c) {
    case Category::tp: return Stream::tp;
    case Category::cp: return Stream::cp;
    case Category::ep: return Stream::ep;
    case Category::dp: return Stream::dp;
    case Category::pp: return Stream::pp_send;
    default: return Stream::compute;
  }
}

int to_int(double v) {
  return (std::isfinite(v) && v >= -2147483648.0 && v <= 2147483647.0) ? int(v) : -1;
}

std::int64_t parse_id(std::string_view s) {
  std::int64_t v = -1;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    auto r = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0) return v;
  } else {
    auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0) return v;
  }
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a of an opaque id
  for (char c : s) h = (h ^ std::uint8_t(c)) * 1099511628211ull;
  return std::int64_t(h >> 2);
}

class TraceParser {
public:
  TraceParser(std::string_view text, const std::string& file) : text_(text), sc_(text, file), file_(file) {}

  LoadedTrace run() {
    out_.timeline.events.reserve(text_.size() / 220 + 16);
    out_.args.reserve(text_.size() / 220 + 16);
    char c = sc_.next();
    if (c == '[') {
      events_array();
    } else if (c == '{') {
      top_object();
    } else if (c == '\0') {
      sc_.fail("the file is empty");
    } else {
      sc_.fail("not a JSON object or array: expected a Chrome trace ({\"traceEvents\": [...]})");
    }
    if (!sc_.at_end()) sc_.fail("unexpected text after the JSON value");
    finish();
    return std::move(out_);
  }

private:
  void top_object() {
    sc_.expect('{');
    bool have_events = false;
    if (!sc_.eat('}')) {
      for (;;) {
        std::string_view key = sc_.string(key_buf_);
        sc_.expect(':');
        if (key == "traceEvents") {
          if (sc_.next() != '[') {
            sc_.where = "traceEvents";
            sc_.fail("expected an array of trace events");
          }
          events_array();
          have_events = true;
        } else if (key == "strata") {
          std::uint64_t b = (sc_.ws(), sc_.offset());
          sc_.where = "strata";
          sc_.skip();
          strata_block_ = text_.substr(b, sc_.offset() - b);
          sc_.where.clear();
        } else {
          sc_.skip();
        }
        if (sc_.eat(',')) continue;
        if (sc_.eat('}')) break;
        sc_.fail("expected ',' or '}' in the top-level object");
      }
    }
    if (!have_events)
      throw InputError(file_, "traceEvents", "missing: this is not a Chrome trace / Strata timeline (no \"traceEvents\" array)");
  }

  void events_array() {
    sc_.expect('[');
    if (sc_.eat(']')) return;
    for (std::size_t i = 0;; ++i) {
      index_ = i;
      if (sc_.next() != '{') {
        sc_.where = "traceEvents[" + std::to_string(i) + "]";
        sc_.fail("expected a trace event object");
      }
      event();
      if (sc_.eat(',')) continue;
      if (sc_.eat(']')) return;
      sc_.where = "traceEvents";
      sc_.fail("expected ',' or ']' after an event");
    }
  }

  // Reads an integer-or-string id (pid, tid): strings get stable synthetic ids.
  std::int64_t id_value(std::unordered_map<std::string, std::int64_t>& names) {
    char c = sc_.next();
    if (c == '"') {
      std::string_view s = sc_.string(str_buf_);
      auto it = names.find(std::string(s));
      if (it != names.end()) return it->second;
      std::int64_t id = (std::int64_t(1) << 40) + std::int64_t(names.size());
      names.emplace(std::string(s), id);
      return id;
    }
    double v = sc_.number();
    if (!std::isfinite(v) || std::abs(v) > 9e15) fail_field("id out of range");
    return std::int64_t(v);
  }

  double optional_number(bool& bad) {
    char c = sc_.next();
    if (c == '-' || (c >= '0' && c <= '9')) return sc_.number();
    sc_.skip();
    bad = true;
    return kNaN;
  }

  void event() {
    RawEvent ev;
    sc_.expect('{');
    if (!sc_.eat('}')) {
      for (;;) {
        std::string_view key = sc_.string(key_buf_);
        field_ = key;
        sc_.expect(':');
        bool ignored = false;
        if (key == "ph") {
          std::string_view ph = sc_.string(str_buf_);
          ev.ph = ph.size() == 1 ? ph[0] : '?';
        } else if (key == "name") {
          if (sc_.next() == '"') ev.name = stable(sc_.string(name_buf_));
          else sc_.skip();
        } else if (key == "cat") {
          if (sc_.next() == '"') ev.cat = sc_.string(cat_buf_);
          else sc_.skip();
        } else if (key == "pid") {
          ev.pid = id_value(pid_names_);
        } else if (key == "tid") {
          ev.tid = id_value(tid_names_);
        } else if (key == "ts") {
          ev.ts = optional_number(ev.bad_ts);
        } else if (key == "dur") {
          ev.dur = optional_number(ev.bad_dur);
        } else if (key == "args") {
          args(ev);
        } else if (key == "bind_id") {
          if (sc_.next() == '"') {
            ev.bind_id = parse_id(sc_.string(str_buf_));
          } else {
            double v = optional_number(ignored);
            ev.bind_id = (std::isfinite(v) && v >= 0 && v < 9e18) ? std::int64_t(v) : -1;
          }
        } else if (key == "flow_out") {
          ev.flow_out = sc_.next() == 't' || sc_.next() == 'f' ? sc_.boolean() : (sc_.skip(), false);
        } else if (key == "flow_in") {
          ev.flow_in = sc_.next() == 't' || sc_.next() == 'f' ? sc_.boolean() : (sc_.skip(), false);
        } else {
          sc_.skip();
        }
        if (sc_.eat(',')) continue;
        if (sc_.eat('}')) break;
        fail_field("expected ',' or '}' in a trace event");
      }
    }
    field_ = {};
    dispatch(ev);
  }

  void args(RawEvent& ev) {
    if (sc_.next() != '{') {
      sc_.skip();
      return;
    }
    sc_.ws();
    std::uint64_t begin = sc_.offset();
    sc_.expect('{');
    if (!sc_.eat('}')) {
      for (;;) {
        std::string_view key = sc_.string(key_buf_);
        sc_.expect(':');
        char c = sc_.next();
        bool num = c == '-' || (c >= '0' && c <= '9');
        bool boolean = c == 't' || c == 'f';
        if (num) {
          double v = sc_.number();
          if (key == "task") ev.task = v;
          else if (key == "microbatch") ev.microbatch = v;
          else if (key == "layer") ev.layer = v;
          else if (key == "flops") ev.flops = v;
          else if (key == "bytes") ev.bytes = v;
          else if (key == "stage") ev.stage = v;
          else if (std::isnan(ev.value)) ev.value = v;
        } else if (boolean && (key == "measured" || key == "exposed")) {
          bool b = sc_.boolean();
          (key == "measured" ? ev.measured : ev.exposed) = b;
        } else if (c == '"' && key == "name") {
          ev.arg_name = stable(sc_.string(str_buf_));
        } else if (c == '"' && key == "labels") {
          ev.labels = stable(sc_.string(str_buf_));
        } else {
          sc_.skip(1);
        }
        if (sc_.eat(',')) continue;
        if (sc_.eat('}')) break;
        fail_field("expected ',' or '}' in args");
      }
    }
    std::uint64_t end = sc_.offset();
    ev.args = {begin, std::uint32_t(std::min<std::uint64_t>(end - begin, 0xffffffffu))};
  }

  // Escaped strings live in scratch buffers; keep a stable copy of them.
  std::string_view stable(std::string_view s) {
    if (s.data() >= text_.data() && s.data() < text_.data() + text_.size()) return s;
    pool_.emplace_back(s);
    return pool_.back();
  }

  [[noreturn]] void fail_field(const std::string& what) {
    sc_.where = "traceEvents[" + std::to_string(index_) + "]";
    if (!field_.empty()) sc_.where += "." + std::string(field_);
    sc_.fail(what);
  }
  [[noreturn]] void fail_event(const char* field, const std::string& what) {
    field_ = field;
    fail_field(what);
  }

  std::uint32_t intern(std::string_view s) {
    auto it = name_ids_.find(s);
    if (it != name_ids_.end()) return it->second;
    std::uint32_t id = std::uint32_t(out_.timeline.names.size());
    out_.timeline.names.emplace_back(s);
    name_ids_.emplace(s, id);
    return id;
  }

  void dispatch(const RawEvent& ev) {
    switch (ev.ph) {
      case 'X': {
        if (ev.bad_ts || !std::isfinite(ev.ts)) fail_event("ts", ev.bad_ts ? "expected a number (microseconds)" : "missing");
        if (ev.bad_dur) fail_event("dur", "expected a number (microseconds)");
        double dur = std::isnan(ev.dur) ? 0.0 : ev.dur;
        if (!std::isfinite(dur) || dur < 0) fail_event("dur", "must be a finite, non-negative number of microseconds");
        TimelineEvent e;
        e.category = category_from(ev.cat);
        e.task = to_int(ev.task);
        e.name = intern(ev.name.empty() ? std::string_view("?") : ev.name);
        e.start_s = ev.ts / kUsPerS;
        e.dur_s = dur / kUsPerS;
        e.layer = to_int(ev.layer);
        e.microbatch = to_int(ev.microbatch);
        e.flops = std::isfinite(ev.flops) ? ev.flops : 0;
        e.bytes = std::isfinite(ev.bytes) ? ev.bytes : 0;
        e.measured = ev.measured;
        e.exposed = ev.exposed;
        if (ev.bind_id >= 0 && (ev.flow_out || ev.flow_in)) {
          e.flow = ev.bind_id;
          e.flow_out = ev.flow_out;
        }
        out_.timeline.events.push_back(e);
        out_.args.push_back(ev.args);
        ev_pid_.push_back(ev.pid);
        ev_tid_.push_back(ev.tid);
        note_pid(ev.pid);
        break;
      }
      case 'C': {
        bool memory = ev.name.find("mem") != std::string_view::npos || ev.name.find("Mem") != std::string_view::npos;
        double v = std::isfinite(ev.bytes) ? ev.bytes : ev.value;
        if (!memory || !std::isfinite(v)) {
          ++out_.skipped_events;
          break;
        }
        if (ev.bad_ts || !std::isfinite(ev.ts)) fail_event("ts", "expected a number (microseconds)");
        out_.timeline.memory.push_back({0, ev.ts / kUsPerS, v});
        mem_pid_.push_back(ev.pid);
        note_pid(ev.pid);
        break;
      }
      case 'M': {
        if (ev.name == "process_name") {
          note_pid(ev.pid);
          proc_name_[ev.pid] = std::string(ev.arg_name);
        } else if (ev.name == "process_labels") {
          proc_labels_[ev.pid] = std::string(ev.labels);
        } else if (ev.name == "thread_name") {
          thread_name_[key(ev.pid, ev.tid)] = std::string(ev.arg_name);
        }
        if (std::isfinite(ev.stage)) proc_stage_[ev.pid] = to_int(ev.stage);
        break;
      }
      default: ++out_.skipped_events;
    }
  }

  static std::uint64_t key(std::int64_t pid, std::int64_t tid) { return (std::uint64_t(pid) << 24) ^ std::uint64_t(tid); }

  void note_pid(std::int64_t pid) {
    if (pid == last_pid_) return;
    last_pid_ = pid;
    pids_.emplace(pid, 0);
  }

  void read_strata_block(std::unordered_map<std::int64_t, TimelineRank>& listed) {
    if (strata_block_.empty()) return;
    Json s;
    try {
      s = Json::parse(strata_block_);
    } catch (const Json::exception& e) {
      throw InputError(file_, "strata", std::string("malformed: ") + e.what());
    }
    if (!s.is_object()) throw InputError(file_, "strata", "expected an object");
    auto num = [&](const Json& o, const char* k, const std::string& path, double def) {
      if (!o.contains(k)) return def;
      if (!o[k].is_number()) throw InputError(file_, path + "." + k, "expected a number, got " + json_type_name(o[k]));
      return o[k].get<double>();
    };
    if (s.contains("source") && s["source"].is_string()) out_.timeline.source = s["source"].get<std::string>();
    out_.timeline.capacity_bytes = num(s, "capacity_bytes", "strata", 0);
    if (s.contains("report")) out_.timeline.report = s["report"];
    if (out_.timeline.capacity_bytes <= 0 && s.contains("report") && s["report"].is_object() &&
        s["report"].contains("memory") && s["report"]["memory"].is_object())
      out_.timeline.capacity_bytes = num(s["report"]["memory"], "capacity_bytes", "strata.report.memory", 0);
    if (!s.contains("ranks")) return;
    if (!s["ranks"].is_array()) throw InputError(file_, "strata.ranks", "expected an array");
    for (std::size_t i = 0; i < s["ranks"].size(); ++i) {
      const Json& r = s["ranks"][i];
      std::string path = "strata.ranks[" + std::to_string(i) + "]";
      if (!r.is_object()) throw InputError(file_, path, "expected an object");
      auto int_field = [&](const char* k, int def) {
        double v = num(r, k, path, def);
        if (v < 0 || v > 1e9 || v != std::floor(v)) throw InputError(file_, path + "." + k, "expected a non-negative integer");
        return int(v);
      };
      TimelineRank tr;
      tr.rank = int_field("rank", 0);
      tr.node = int_field("node", 0);
      tr.local_gpu = int_field("gpu", 0);
      tr.rank_class = int_field("class", 0);
      tr.stage = int_field("stage", 0);
      listed[tr.rank] = tr;
    }
  }

  void finish() {
    Timeline& t = out_.timeline;
    std::unordered_map<std::int64_t, TimelineRank> listed;
    read_strata_block(listed);
    // pid -> rank: the strata block (pid is the rank), else "node N / gpu G (rank R)", else the pid.
    std::unordered_map<std::int64_t, int> pid_rank;
    std::unordered_map<int, std::int64_t> rank_taken;
    int next_free = 0;
    std::vector<std::int64_t> pids;
    for (auto& [pid, unused] : pids_) pids.push_back(pid);
    std::sort(pids.begin(), pids.end());
    for (std::int64_t pid : pids) {
      TimelineRank tr;
      bool have = false;
      if (auto it = listed.find(pid); it != listed.end()) tr = it->second, have = true;
      if (!have) {
        int n = 0, g = 0, r = 0;
        auto nm = proc_name_.find(pid);
        if (nm != proc_name_.end() && std::sscanf(nm->second.c_str(), "node %d / gpu %d (rank %d)", &n, &g, &r) == 3 &&
            r >= 0 && !rank_taken.count(r)) {
          tr.rank = r, tr.node = n, tr.local_gpu = g;
        } else if (pid >= 0 && pid < (std::int64_t(1) << 30) && !rank_taken.count(int(pid))) {
          tr.rank = int(pid), tr.node = 0, tr.local_gpu = int(pid);
        } else {
          while (rank_taken.count(next_free)) ++next_free;
          tr.rank = next_free, tr.node = 0, tr.local_gpu = next_free;
        }
        if (auto st = proc_stage_.find(pid); st != proc_stage_.end()) tr.stage = st->second;
        if (auto lb = proc_labels_.find(pid); lb != proc_labels_.end()) {
          auto at = lb->second.find("stage ");
          if (at != std::string::npos) tr.stage = std::atoi(lb->second.c_str() + at + 6);
        }
      }
      rank_taken[tr.rank] = pid;
      pid_rank[pid] = tr.rank;
      listed.erase(pid);
      t.ranks.push_back(tr);
    }
    for (auto& [pid, tr] : listed) t.ranks.push_back(tr);  // listed ranks without events
    std::sort(t.ranks.begin(), t.ranks.end(), [](const TimelineRank& a, const TimelineRank& b) { return a.rank < b.rank; });

    // Streams: a known thread name, else a Strata tid, else by category.
    std::unordered_map<std::uint64_t, int> stream_of;  // (pid, tid) -> stream or -1 (by category)
    auto resolve = [&](std::int64_t pid, std::int64_t tid) {
      std::uint64_t k = key(pid, tid);
      auto it = stream_of.find(k);
      if (it != stream_of.end()) return it->second;
      int s = -1;
      auto nm = thread_name_.find(k);
      if (nm != thread_name_.end())
        for (int i = 0; i < kStreams; ++i)
          if (nm->second == stream_name(Stream(i))) s = i;
      if (s < 0 && tid >= 0 && tid < kStreams && (nm == thread_name_.end() || nm->second.empty())) s = int(tid);
      stream_of.emplace(k, s);
      return s;
    };
    std::int64_t lp = ev_pid_.empty() ? 0 : ev_pid_[0] - 1, lt = 0;
    int lrank = 0, lstream = 0;
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      TimelineEvent& e = t.events[i];
      if (ev_pid_[i] != lp || ev_tid_[i] != lt) {
        lp = ev_pid_[i], lt = ev_tid_[i];
        lrank = pid_rank[lp];
        lstream = resolve(lp, lt);
      }
      e.rank = lrank;
      e.stream = lstream >= 0 ? Stream(lstream) : stream_for(e.category);
    }
    for (std::size_t i = 0; i < t.memory.size(); ++i) t.memory[i].rank = pid_rank[mem_pid_[i]];
  }

  std::string_view text_;
  Scanner sc_;
  const std::string& file_;
  LoadedTrace out_;
  std::size_t index_ = 0;
  std::string_view field_;
  std::string key_buf_, str_buf_, name_buf_, cat_buf_;
  std::deque<std::string> pool_;
  std::unordered_map<std::string_view, std::uint32_t> name_ids_;
  std::unordered_map<std::string, std::int64_t> pid_names_, tid_names_;
  std::vector<std::int64_t> ev_pid_, ev_tid_, mem_pid_;
  std::unordered_map<std::int64_t, char> pids_;
  std::int64_t last_pid_ = std::numeric_limits<std::int64_t>::min();
  std::unordered_map<std::int64_t, std::string> proc_name_, proc_labels_;
  std::unordered_map<std::int64_t, int> proc_stage_;
  std::unordered_map<std::uint64_t, std::string> thread_name_;
  std::string_view strata_block_;
};

}  // namespace

LoadedTrace parse_trace_text(std::string_view text, const std::string& file) {
  LoadedTrace t = TraceParser(text, file).run();
  t.path = file;
  return t;
}

LoadedTrace read_trace_file(const std::string& path) {
  MappedFile f(path);
  if (f.text().empty()) throw InputError(path, "", "the file is empty");
  return parse_trace_text(f.text(), path);
}

std::string read_args_text(const std::string& path, TextSpan span) {
  if (path.empty() || span.length == 0) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(std::streamoff(span.offset));
  std::string s(span.length, '\0');
  if (!in.read(s.data(), std::streamsize(s.size()))) return {};
  if (s.front() != '{' || s.back() != '}') return {};  // the file changed under us
  return s;
}

FileKind detect_file_kind(const std::string& path) {
  MappedFile f(path);
  std::string_view t = f.text();
  std::size_t i = t.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) throw InputError(path, "", "the file is empty");
  if (t[i] == '[') return FileKind::timeline;
  if (t[i] != '{') throw InputError(path, "", "not a JSON file (expected a scenario or a Chrome-trace timeline)");
  return t.find("\"traceEvents\"") != std::string_view::npos ? FileKind::timeline : FileKind::scenario;
}

}  // namespace strata::gui
