#include "report/timeline_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <unordered_map>
#include <utility>

#include "io/input_error.hpp"

namespace strata {

MappedFile::MappedFile(const std::string& path) {
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
  ::madvise(p, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

namespace {

constexpr double kUsPerS = 1e6;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxDepth = 256;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// key == literal with the length known at compile time (an inlined compare, not a memcmp call).
template <std::size_t N>
bool is(std::string_view key, const char (&lit)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), lit, N - 1) == 0;
}

// Invalid UTF-8 in a name would make every later JSON writer throw: replace it with U+FFFD.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n > 1) {
      unsigned cp = c & (0x7F >> n);
      for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static constexpr unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp < 0xE000);
    }
    if (ok) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& s, unsigned cp) {
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

// One trace event as read, before ranks and streams are resolved.
struct RawEvent {
  const char* at = nullptr;  // its '{'
  char ph = 0;
  std::string_view name, cat;
  std::int64_t pid = 0, tid = 0;
  double ts = kNaN, dur = kNaN;
  const char* ts_at = nullptr;  // where a "ts"/"dur" that is not a number sits
  const char* dur_at = nullptr;
  TextSpan args;
  double task = -1, microbatch = -1, layer = -1, flops = 0, bytes = kNaN, stage = kNaN, value = kNaN;
  bool measured = true, exposed = false;
  std::string_view arg_name, labels;
  std::int64_t bind_id = -1;
  bool flow_out = false, flow_in = false;
};

Category category_from(std::string_view cat) {
  static const auto names = [] {
    std::array<std::string_view, std::size_t(Category::count)> n;
    for (int i = 0; i < int(Category::count); ++i) n[std::size_t(i)] = category_name(Category(i));
    return n;
  }();
  // "cat" may be a comma-separated list; the first known name wins.
  std::size_t pos = 0;
  while (pos <= cat.size()) {
    std::size_t comma = cat.find(',', pos);
    std::string_view tok = cat.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    for (std::size_t i = 0; i < names.size(); ++i)
      if (tok == names[i]) return Category(i);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return Category::compute;
}

// Without a Strata tid or thread name, an event goes to the stream of its category.
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

std::string number_text(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

int to_int(double v) { return (std::isfinite(v) && v >= -2147483648.0 && v <= 2147483647.0) ? int(v) : -1; }

// A string bind_id: decimal or 0x hex, else a stable hash of the opaque id.
std::int64_t parse_id(std::string_view s) {
  std::int64_t v = -1;
  bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char* b = s.data() + (hex ? 2 : 0);
  auto r = std::from_chars(b, s.data() + s.size(), v, hex ? 16 : 10);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0) return v;
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : s) h = (h ^ std::uint8_t(c)) * 1099511628211ull;
  return std::int64_t(h >> 2);
}

class Reader {
public:
  Reader(std::string_view text, const std::string& file, const TimelineReadOptions& o)
      : text_(text), b_(text.data()), p_(b_), e_(b_ + text.size()), file_(file), opt_(o) {}

  TimelineFile run() {
    std::size_t guess = std::min<std::size_t>(text_.size() / 128 + 16, std::size_t(1) << 24);  // ~190 bytes an event
    out_.timeline.events.reserve(guess);
    ev_pid_.reserve(guess);
    ev_tid_.reserve(guess);
    if (opt_.arg_spans) out_.args.reserve(guess);
    char c = next();
    if (c == '[') events_array();
    else if (c == '{') top_object();
    else if (p_ >= e_) throw InputError(file_, "", "the file is empty");
    else fail("not a JSON object or array: expected a Chrome trace ({\"traceEvents\": [...]})");
    ctx_ = Ctx::top;
    if (next() != '\0' || p_ < e_) fail("unexpected text after the JSON value");
    finish();
    out_.path = file_;
    return std::move(out_);
  }

private:
  // ---- errors --------------------------------------------------------------------------------

  std::string where() const {
    switch (ctx_) {
      case Ctx::top: return "";
      case Ctx::events: return "traceEvents";
      case Ctx::strata: return "strata";
      case Ctx::event: break;
    }
    std::string w = "traceEvents[" + std::to_string(index_) + "]";
    if (!field_.empty()) {
      w += '.';
      w += field_;
      if (!arg_field_.empty()) {
        w += '.';
        w += arg_field_;
      }
    }
    return w;
  }
  [[noreturn]] void fail_at(const char* at, const std::string& what) const {
    std::string msg = what;
    if (opt_.positions) {
      long line = 1;
      const char* ls = b_;
      for (const char* q = b_; q < at && q < e_; ++q)
        if (*q == '\n') ++line, ls = q + 1;
      msg += " (line " + std::to_string(line) + ", column " + std::to_string(at - ls + 1) + ")";
    }
    throw InputError(file_, where(), msg);
  }
  [[noreturn]] void fail(const std::string& what) const { fail_at(p_, what); }
  // What the next value is, for "expected ..., got ..." (call after next()).
  std::string found() const {
    if (p_ >= e_) return "the end of the file";
    switch (*p_) {
      case '"': return "a string";
      case '{': return "an object";
      case '[': return "an array";
      case 't':
      case 'f': return "a boolean";
      case 'n': return "null";
      default: break;
    }
    if (*p_ == '-' || is_digit(*p_)) return "a number";
    return std::string("'") + *p_ + "'";
  }
  [[noreturn]] void fail_expected(const std::string& what) {
    next();
    if (p_ >= e_) fail("unexpected end of file (truncated?), expected " + what);
    fail("expected " + what + ", got " + found());
  }

  // ---- lexing --------------------------------------------------------------------------------

  char next() {  // the next significant character, 0 at the end
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    return p_ < e_ ? *p_ : '\0';
  }
  void expect(char c, const char* what) {
    if (next() != c) fail_expected(what);
    ++p_;
  }
  bool eat(char c) {
    if (next() != c) return false;
    ++p_;
    return true;
  }

  // A string; the view points into the text, or into `scratch` when it had escapes.
  std::string_view string(std::string& scratch) {
    if (next() != '"') fail_expected("a string");
    const char* s = ++p_;
    while (p_ < e_ && *p_ != '"' && *p_ != '\\') {
      if (static_cast<unsigned char>(*p_) < 0x20) fail("control character inside a string");
      ++p_;
    }
    if (p_ >= e_) fail_at(s - 1, "unterminated string");
    if (*p_ == '"') return {s, std::size_t(p_++ - s)};
    scratch.assign(s, p_);
    for (;;) {
      if (p_ >= e_) fail_at(s - 1, "unterminated string");
      char c = *p_++;
      if (c == '"') return scratch;
      if (static_cast<unsigned char>(c) < 0x20) {
        --p_;
        fail("control character inside a string");
      }
      if (c != '\\') {
        scratch += c;
        continue;
      }
      if (p_ >= e_) fail_at(s - 1, "unterminated string");
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
        default: p_ -= 2; fail(std::string("invalid escape '\\") + x + "' in a string");
      }
    }
  }
  void skip_string() {
    const char* s = p_++;  // opening quote
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
    fail_at(s, "unterminated string");
  }
  unsigned hex4() {
    if (e_ - p_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      v <<= 4;
      if (is_digit(c)) v |= unsigned(c - '0');
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

  bool at_number() { char c = next(); return c == '-' || is_digit(c); }

  double number() {
    if (!at_number()) fail_expected("a number");
    if (double v; fast_number(v)) return v;
    // The JSON grammar first (from_chars alone would take "1.", "-inf", "nan").
    const char* q = p_;
    if (*q == '-') ++q;
    if (q < e_ && *q == '0') ++q;
    else if (q < e_ && is_digit(*q)) while (q < e_ && is_digit(*q)) ++q;
    else fail("malformed number");
    if (q < e_ && *q == '.') {
      if (++q >= e_ || !is_digit(*q)) fail_at(q, "malformed number");
      while (q < e_ && is_digit(*q)) ++q;
    }
    bool neg_exp = false;
    if (q < e_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < e_ && (*q == '+' || *q == '-')) neg_exp = *q++ == '-';
      if (q >= e_ || !is_digit(*q)) fail_at(q, "malformed number");
      while (q < e_ && is_digit(*q)) ++q;
    }
    double v = 0;
    auto r = std::from_chars(p_, q, v);
    if (r.ec == std::errc::result_out_of_range) {
      if (!neg_exp) fail("number out of range");
      v = *p_ == '-' ? -0.0 : 0.0;  // underflow: as good as zero
    } else if (r.ec != std::errc() || r.ptr != q) {
      fail("malformed number");
    }
    p_ = q;
    return v;
  }
  // Clinger's fast path: up to 15 significant digits and a power of ten within 10^22 are exact
  // in a double, so one multiplication or division rounds correctly. Timestamps ("1234.567"),
  // ids and counts all take it; anything else goes to from_chars.
  bool fast_number(double& out) {
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* q = p_;
    bool neg = *q == '-';
    if (neg) ++q;
    std::uint64_t m = 0;
    int digits = 0, frac = 0;
    const char* start = q;
    while (q < e_ && is_digit(*q) && digits < 19) m = m * 10 + std::uint64_t(*q++ - '0'), ++digits;
    if (q == start || (digits > 1 && *start == '0') || (q < e_ && is_digit(*q))) return false;
    if (q < e_ && *q == '.') {
      const char* f = ++q;
      while (q < e_ && is_digit(*q) && digits < 19) m = m * 10 + std::uint64_t(*q++ - '0'), ++digits;
      frac = int(q - f);
      if (frac == 0 || (q < e_ && is_digit(*q))) return false;
    }
    int exp = 0;
    if (q < e_ && (*q == 'e' || *q == 'E')) {
      ++q;
      bool eneg = q < e_ && *q == '-';
      if (q < e_ && (*q == '-' || *q == '+')) ++q;
      const char* es = q;
      while (q < e_ && is_digit(*q) && q - es < 4) exp = exp * 10 + (*q++ - '0');
      if (q == es || (q < e_ && is_digit(*q))) return false;
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

  bool literal(std::string_view word) {
    if (std::size_t(e_ - p_) >= word.size() && std::memcmp(p_, word.data(), word.size()) == 0) {
      p_ += word.size();
      return true;
    }
    return false;
  }
  // A boolean, or (lenient) anything else skipped as `def`.
  bool boolean_or(bool def) {
    char c = next();
    if (c == 't' && literal("true")) return true;
    if (c == 'f' && literal("false")) return false;
    skip(1);
    return def;
  }

  void skip(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    char c = next();
    if (c == '"') {
      skip_string();
    } else if (c == '{') {
      ++p_;
      if (eat('}')) return;
      for (;;) {
        if (next() != '"') fail_expected("a member name");
        skip_string();
        expect(':', "':'");
        skip(depth + 1);
        if (eat(',')) continue;
        if (eat('}')) return;
        fail_expected("',' or '}'");
      }
    } else if (c == '[') {
      ++p_;
      if (eat(']')) return;
      for (;;) {
        skip(depth + 1);
        if (eat(',')) continue;
        if (eat(']')) return;
        fail_expected("',' or ']'");
      }
    } else if (c == 't' || c == 'f' || c == 'n') {
      if (!literal("true") && !literal("false") && !literal("null")) fail("invalid literal");
    } else if (p_ >= e_) {
      fail("unexpected end of file (truncated?), expected a value");
    } else if (c == '-' || is_digit(c)) {
      number();
    } else {
      fail(std::string("expected a value, got '") + c + "'");
    }
  }

  // ---- structure -----------------------------------------------------------------------------

  void top_object() {
    ++p_;  // '{'
    bool have_events = false;
    if (!eat('}')) {
      for (;;) {
        std::string_view key = string(key_buf_);
        expect(':', "':'");
        if (is(key, "traceEvents")) {
          if (next() != '[') {
            ctx_ = Ctx::events;
            fail_expected("an array of trace events");
          }
          events_array();
          have_events = true;
        } else if (is(key, "strata")) {
          ctx_ = Ctx::strata;
          next();
          const char* b = p_;
          skip(1);
          strata_block_ = std::string_view(b, std::size_t(p_ - b));
          strata_at_ = b;
        } else {
          skip(1);
        }
        ctx_ = Ctx::top;
        if (eat(',')) continue;
        if (eat('}')) break;
        fail_expected("',' or '}' in the top-level object");
      }
    }
    if (!have_events)
      throw InputError(file_, "traceEvents", "missing: this is not a Chrome trace / Strata timeline (no \"traceEvents\" array)");
  }

  void events_array() {
    ++p_;  // '['
    ctx_ = Ctx::events;
    if (eat(']')) return;
    for (std::size_t i = 0;; ++i) {
      index_ = i;
      ctx_ = Ctx::event;
      if (next() != '{') fail_expected("a trace event object");
      event();
      ctx_ = Ctx::events;
      if (eat(',')) continue;
      if (eat(']')) return;
      fail_expected("',' or ']' after trace event " + std::to_string(i));
    }
  }

  // An integer or string id (pid, tid): strings get stable synthetic ids.
  std::int64_t id_value(std::unordered_map<std::string, std::int64_t>& names) {
    if (next() == '"') {
      std::string_view s = string(str_buf_);
      auto it = names.find(std::string(s));
      if (it != names.end()) return it->second;
      std::int64_t id = (std::int64_t(1) << 40) + std::int64_t(names.size());
      names.emplace(std::string(s), id);
      return id;
    }
    if (!at_number()) fail_expected("an integer or a string");
    const char* at = p_;
    double v = number();
    if (std::abs(v) > 9e15) fail_at(at, "id out of range");
    return std::int64_t(v);
  }

  // A number, or (recorded as bad, reported only if the event needs it) anything else.
  double maybe_number(const char*& bad_at) {
    if (at_number()) return number();
    bad_at = p_;
    skip(1);
    return kNaN;
  }

  // The current member's name for messages: known keys are named by a literal; others are kept
  // stable only when they point into the text (escaped keys are rare and only ever skipped).
  std::string_view key_name(std::string_view key) {
    if (key.data() >= b_ && key.data() < e_) return key;
    return "(escaped key)";
  }

  void event() {
    pool_.clear();
    RawEvent ev;
    ev.at = p_;
    ++p_;  // '{'
    if (!eat('}')) {
      for (;;) {
        std::string_view key = string(key_buf_);
        field_ = key_name(key);
        expect(':', "':'");
        if (is(key, "ph")) {
          std::string_view ph = string(str_buf_);
          ev.ph = ph.size() == 1 ? ph[0] : '?';
        } else if (is(key, "name")) {
          if (next() == '"') ev.name = stable(string(name_buf_));
          else skip(1);
        } else if (is(key, "cat")) {
          if (next() == '"') ev.cat = string(cat_buf_);
          else skip(1);
        } else if (is(key, "pid")) {
          ev.pid = id_value(pid_names_);
        } else if (is(key, "tid")) {
          ev.tid = id_value(tid_names_);
        } else if (is(key, "ts")) {
          ev.ts = maybe_number(ev.ts_at);
        } else if (is(key, "dur")) {
          ev.dur = maybe_number(ev.dur_at);
        } else if (is(key, "args")) {
          args(ev);
        } else if (is(key, "bind_id")) {
          if (next() == '"') {
            ev.bind_id = parse_id(string(str_buf_));
          } else {
            const char* ignored = nullptr;
            double v = maybe_number(ignored);
            ev.bind_id = (std::isfinite(v) && v >= 0 && v < 9e18) ? std::int64_t(v) : -1;
          }
        } else if (is(key, "flow_out")) {
          ev.flow_out = boolean_or(false);
        } else if (is(key, "flow_in")) {
          ev.flow_in = boolean_or(false);
        } else {
          skip(1);
        }
        field_ = {};
        if (eat(',')) continue;
        if (eat('}')) break;
        fail_expected("',' or '}' in a trace event");
      }
    }
    dispatch(ev);
  }

  void args(RawEvent& ev) {
    if (next() != '{') {
      skip(1);
      return;
    }
    const char* begin = p_;
    ++p_;
    if (!eat('}')) {
      for (;;) {
        std::string_view key = string(key_buf_);
        arg_field_ = key_name(key);
        expect(':', "':'");
        char c = next();
        if (c == '-' || is_digit(c)) {
          double v = number();
          if (is(key, "task")) ev.task = v;
          else if (is(key, "microbatch")) ev.microbatch = v;
          else if (is(key, "layer")) ev.layer = v;
          else if (is(key, "flops")) ev.flops = v;
          else if (is(key, "bytes")) ev.bytes = v;
          else if (is(key, "stage")) ev.stage = v;
          else if (std::isnan(ev.value)) ev.value = v;
        } else if ((c == 't' || c == 'f') && (is(key, "measured") || is(key, "exposed"))) {
          bool b = boolean_or(is(key, "measured"));
          (is(key, "measured") ? ev.measured : ev.exposed) = b;
        } else if (c == '"' && is(key, "name")) {
          ev.arg_name = stable(string(str_buf_));
        } else if (c == '"' && is(key, "labels")) {
          ev.labels = stable(string(str_buf_));
        } else {
          skip(2);
        }
        arg_field_ = {};
        if (eat(',')) continue;
        if (eat('}')) break;
        fail_expected("',' or '}' in args");
      }
    }
    ev.args = {std::uint64_t(begin - b_), std::uint32_t(std::min<std::ptrdiff_t>(p_ - begin, 0xffffffff))};
  }

  // Escaped strings live in scratch buffers; keep a stable copy of them.
  std::string_view stable(std::string_view s) {
    if (s.data() >= b_ && s.data() < e_) return s;
    pool_.emplace_back(s);
    return pool_.back();
  }

  std::uint32_t intern(std::string_view s) {
    auto it = name_ids_.find(s);
    if (it != name_ids_.end()) return it->second;
    std::uint32_t id = std::uint32_t(out_.timeline.names.size());
    if (s.data() < b_ || s.data() >= e_) s = name_pool_.emplace_back(s);  // the key must outlive the event
    bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    out_.timeline.names.push_back(ascii ? std::string(s) : valid_utf8(s));
    name_ids_.emplace(s, id);
    return id;
  }

  void dispatch(const RawEvent& ev) {
    switch (ev.ph) {
      case 'X': {
        if (ev.ts_at) field_ = "ts", fail_at(ev.ts_at, "expected a number, got " + found_at(ev.ts_at));
        if (std::isnan(ev.ts)) field_ = "ts", fail_at(ev.at, "missing (the start in microseconds)");
        if (ev.dur_at) field_ = "dur", fail_at(ev.dur_at, "expected a number, got " + found_at(ev.dur_at));
        double dur = std::isnan(ev.dur) ? 0.0 : ev.dur;
        if (dur < 0) field_ = "dur", fail_at(ev.at, "expected a non-negative number of microseconds, got " + number_text(dur));
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
        if (opt_.arg_spans) out_.args.push_back(ev.args);
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
        if (ev.ts_at) field_ = "ts", fail_at(ev.ts_at, "expected a number, got " + found_at(ev.ts_at));
        if (std::isnan(ev.ts)) field_ = "ts", fail_at(ev.at, "missing (the time in microseconds)");
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
  std::string found_at(const char* at) {
    const char* keep = p_;
    p_ = at;
    std::string s = found();
    p_ = keep;
    return s;
  }

  // Thread names and streams are per (pid, tid): the pair itself is the key (ids go up to 2^41:
  // string ids are 2^40 + n, so no shifted 64-bit packing is collision-free).
  using PidTid = std::pair<std::int64_t, std::int64_t>;
  struct PidTidHash {
    std::size_t operator()(const PidTid& k) const {
      return std::hash<std::int64_t>{}(k.first) * 0x9e3779b97f4a7c15ULL ^ std::hash<std::int64_t>{}(k.second);
    }
  };
  static PidTid key(std::int64_t pid, std::int64_t tid) { return {pid, tid}; }

  void note_pid(std::int64_t pid) {
    if (pid == last_pid_) return;
    last_pid_ = pid;
    pids_.emplace(pid, 0);
  }

  // ---- after the pass ------------------------------------------------------------------------

  void read_strata_block(std::unordered_map<std::int64_t, TimelineRank>& listed) {
    if (strata_block_.empty()) return;
    ctx_ = Ctx::strata;
    Json s;
    try {
      s = Json::parse(strata_block_);
    } catch (const Json::exception& e) {
      fail_at(strata_at_, std::string("malformed: ") + e.what());
    }
    if (!s.is_object()) fail_at(strata_at_, "expected an object, got " + json_type_name(s));
    auto num = [&](const Json& o, const char* k, const std::string& path, double def) {
      if (!o.contains(k) || o[k].is_null()) return def;
      if (!o[k].is_number()) throw InputError(file_, path + "." + k, "expected a number, got " + json_type_name(o[k]));
      return o[k].get<double>();
    };
    Timeline& t = out_.timeline;
    if (s.contains("source") && s["source"].is_string()) t.source = s["source"].get<std::string>();
    t.capacity_bytes = num(s, "capacity_bytes", "strata", 0);
    if (s.contains("report")) t.report = std::move(s["report"]);
    if (t.capacity_bytes <= 0 && t.report.is_object() && t.report.contains("memory") && t.report["memory"].is_object())
      t.capacity_bytes = num(t.report["memory"], "capacity_bytes", "strata.report.memory", 0);
    if (!std::isfinite(t.capacity_bytes) || t.capacity_bytes < 0) t.capacity_bytes = 0;
    if (!s.contains("ranks")) return;
    if (!s["ranks"].is_array()) throw InputError(file_, "strata.ranks", "expected an array, got " + json_type_name(s["ranks"]));
    for (std::size_t i = 0; i < s["ranks"].size(); ++i) {
      const Json& r = s["ranks"][i];
      std::string path = "strata.ranks[" + std::to_string(i) + "]";
      if (!r.is_object()) throw InputError(file_, path, "expected an object, got " + json_type_name(r));
      auto int_field = [&](const char* k) {
        double v = num(r, k, path, 0);
        if (v < 0 || v > 1e9 || v != std::floor(v))
          throw InputError(file_, path + "." + k, "expected a non-negative integer, got " + r[k].dump());
        return int(v);
      };
      TimelineRank tr;
      tr.rank = int_field("rank");
      tr.node = int_field("node");
      tr.local_gpu = int_field("gpu");
      tr.rank_class = int_field("class");
      tr.stage = int_field("stage");
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
      if (auto it = listed.find(pid); it != listed.end()) {
        tr = it->second;
      } else {
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
          if (at != std::string::npos) tr.stage = std::max(0, std::atoi(lb->second.c_str() + at + 6));
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
    std::unordered_map<PidTid, int, PidTidHash> stream_of;  // (pid, tid) -> stream or -1 (by category)
    auto resolve = [&](std::int64_t pid, std::int64_t tid) {
      const PidTid k = key(pid, tid);
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
    std::int64_t lp = 0, lt = 0;
    int lrank = 0, lstream = 0;
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      TimelineEvent& e = t.events[i];
      if (i == 0 || ev_pid_[i] != lp || ev_tid_[i] != lt) {
        lp = ev_pid_[i], lt = ev_tid_[i];
        lrank = pid_rank[lp];
        lstream = resolve(lp, lt);
      }
      e.rank = lrank;
      e.stream = lstream >= 0 ? Stream(lstream) : stream_for(e.category);
    }
    for (std::size_t i = 0; i < t.memory.size(); ++i) t.memory[i].rank = pid_rank[mem_pid_[i]];
  }

  enum class Ctx { top, events, event, strata };

  std::string_view text_;
  const char* b_;
  const char* p_;
  const char* e_;
  const std::string& file_;
  TimelineReadOptions opt_;
  TimelineFile out_;
  Ctx ctx_ = Ctx::top;
  std::size_t index_ = 0;
  std::string_view field_, arg_field_;
  std::string key_buf_, str_buf_, name_buf_, cat_buf_;
  std::deque<std::string> pool_, name_pool_;  // escaped strings of this event; escaped names
  std::unordered_map<std::string_view, std::uint32_t> name_ids_;
  std::unordered_map<std::string, std::int64_t> pid_names_, tid_names_;
  std::vector<std::int64_t> ev_pid_, ev_tid_, mem_pid_;
  std::unordered_map<std::int64_t, char> pids_;
  std::int64_t last_pid_ = std::numeric_limits<std::int64_t>::min();
  std::unordered_map<std::int64_t, std::string> proc_name_, proc_labels_;
  std::unordered_map<std::int64_t, int> proc_stage_;
  std::unordered_map<PidTid, std::string, PidTidHash> thread_name_;
  std::string_view strata_block_;
  const char* strata_at_ = nullptr;
};

}  // namespace

TimelineFile parse_timeline(std::string_view text, const std::string& file, const TimelineReadOptions& options) {
  return Reader(text, file, options).run();
}

TimelineFile read_timeline_file(const std::string& path, const TimelineReadOptions& options) {
  MappedFile f(path);
  if (f.text().empty()) throw InputError(path, "", "the file is empty");
  return parse_timeline(f.text(), path, options);
}

std::string read_text_span(const std::string& path, TextSpan span) {
  if (path.empty() || span.length == 0) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(std::streamoff(span.offset));
  std::string s(span.length, '\0');
  if (!in.read(s.data(), std::streamsize(s.size()))) return {};
  if (s.front() != '{' || s.back() != '}') return {};  // the file changed under us
  return s;
}

}  // namespace strata
