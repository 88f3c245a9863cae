#include "io/json_reader.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace strata {

std::string json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

Json read_json_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "", "cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  try {
    // Depth limit: nlohmann's recursive parser could exhaust the stack on absurd nesting.
    int depth = 0, max_depth = 0;
    bool in_str = false, esc = false;
    for (char c : text) {
      if (in_str) {
        if (esc) esc = false;
        else if (c == '\\') esc = true;
        else if (c == '"') in_str = false;
        continue;
      }
      if (c == '"') in_str = true;
      else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
      else if (c == '}' || c == ']') --depth;
    }
    if (max_depth > 64) throw InputError(file, "", "JSON nested deeper than 64 levels");
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message carries the byte position; translate it to line:column.
    std::size_t pos = e.byte == 0 ? 0 : e.byte - 1;
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos && i < text.size(); ++i) {
      if (text[i] == '\n') { ++line; col = 1; } else ++col;
    }
    throw InputError(file, "", "invalid JSON at line " + std::to_string(line) + ", column " +
                                   std::to_string(col));
  }
}

bool JsonReader::has(const std::string& key) const {
  return node_->is_object() && node_->contains(key) && !(*node_)[key].is_null();
}

void JsonReader::expect_object() const {
  if (!node_->is_object()) fail("expected an object, got " + json_type_name(*node_));
}

JsonReader JsonReader::child(const std::string& key) const {
  expect_object();
  auto it = node_->find(key);
  if (it == node_->end() || it->is_null()) throw InputError(file_, child_path(key), "missing required field");
  return JsonReader(*it, file_, child_path(key));
}

std::optional<JsonReader> JsonReader::maybe_child(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return child(key);
}

std::size_t JsonReader::array_size() const {
  if (!node_->is_array()) fail("expected an array, got " + json_type_name(*node_));
  return node_->size();
}

JsonReader JsonReader::element(std::size_t i) const {
  if (!node_->is_array() || i >= node_->size()) fail("expected an array element " + std::to_string(i));
  return JsonReader((*node_)[i], file_, path_ + "[" + std::to_string(i) + "]");
}

void JsonReader::reject_unknown(std::initializer_list<const char*> allowed) const {
  expect_object();
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw InputError(file_, child_path(it.key()), "unknown field (expected one of: " + list + ")");
    }
  }
}

std::int64_t JsonReader::as_int(std::int64_t min, std::int64_t max) const {
  const Json& j = *node_;
  std::int64_t v = 0;
  if (j.is_number_integer()) {
    if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      fail("integer out of range");
    v = j.get<std::int64_t>();
  } else if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15)
      fail("expected an integer, got " + j.dump());
    v = static_cast<std::int64_t>(d);
  } else {
    fail("expected an integer, got " + json_type_name(j));
  }
  if (v < min || v > max)
    fail(std::to_string(v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

double JsonReader::as_number(double min, double max) const {
  const Json& j = *node_;
  if (!j.is_number()) fail("expected a number, got " + json_type_name(j));
  double v = j.get<double>();
  if (!std::isfinite(v)) fail("expected a finite number");
  if (v < min || v > max) {
    std::ostringstream os;
    os << v << " is out of range [" << min << ", " << max << "]";
    fail(os.str());
  }
  return v;
}

bool JsonReader::as_bool() const {
  if (!node_->is_boolean()) fail("expected true or false, got " + json_type_name(*node_));
  return node_->get<bool>();
}

std::string JsonReader::as_string() const {
  if (!node_->is_string()) fail("expected a string, got " + json_type_name(*node_));
  return node_->get<std::string>();
}

std::string JsonReader::as_enum(std::initializer_list<const char*> choices) const {
  std::string s = as_string();
  std::string list;
  for (const char* c : choices) {
    if (s == c) return s;
    list += (list.empty() ? "" : ", ") + std::string("\"") + c + "\"";
  }
  fail("\"" + s + "\" is not one of " + list);
}

std::int64_t JsonReader::get_int(const std::string& key, std::int64_t min, std::int64_t max) const {
  return child(key).as_int(min, max);
}
std::int64_t JsonReader::get_int(const std::string& key, std::int64_t min, std::int64_t max, std::int64_t def) const {
  return has(key) ? child(key).as_int(min, max) : def;
}
double JsonReader::get_number(const std::string& key, double min, double max) const {
  return child(key).as_number(min, max);
}
double JsonReader::get_number(const std::string& key, double min, double max, double def) const {
  return has(key) ? child(key).as_number(min, max) : def;
}
bool JsonReader::get_bool(const std::string& key, bool def) const { return has(key) ? child(key).as_bool() : def; }
std::string JsonReader::get_string(const std::string& key) const { return child(key).as_string(); }
std::string JsonReader::get_string(const std::string& key, const std::string& def) const {
  return has(key) ? child(key).as_string() : def;
}
std::string JsonReader::get_enum(const std::string& key, std::initializer_list<const char*> choices) const {
  return child(key).as_enum(choices);
}
std::string JsonReader::get_enum(const std::string& key, std::initializer_list<const char*> choices,
                                 const std::string& def) const {
  return has(key) ? child(key).as_enum(choices) : def;
}
std::vector<std::int64_t> JsonReader::get_int_list(const std::string& key, std::int64_t min, std::int64_t max) const {
  JsonReader arr = child(key);
  std::size_t n = arr.array_size();
  std::vector<std::int64_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(arr.element(i).as_int(min, max));
  return out;
}

}  // namespace strata
