#pragma once
// A thin reader over nlohmann::json that remembers where it is (file + dotted JSON path) so
// that every complaint about input names the exact field. Used only at the edge (scenario,
// topology, profile, HF config parsing); the libraries' own types are valid by construction.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/input_error.hpp"

namespace strata {

using Json = nlohmann::json;

class JsonReader {
public:
  JsonReader(const Json& node, std::string file, std::string path = "")
      : node_(&node), file_(std::move(file)), path_(std::move(path)) {}

  const Json& json() const { return *node_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(file_, path_, what); }
  [[noreturn]] void fail_at(const std::string& key, const std::string& what) const {
    throw InputError(file_, child_path(key), what);
  }

  bool has(const std::string& key) const;
  JsonReader child(const std::string& key) const;  // required object/any member
  std::optional<JsonReader> maybe_child(const std::string& key) const;
  JsonReader element(std::size_t i) const;
  std::size_t array_size() const;  // requires an array

  void expect_object() const;
  // Rejects members not in `allowed` so that typos ("tpp": 8) do not pass silently.
  void reject_unknown(std::initializer_list<const char*> allowed) const;

  // Scalars of this node.
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  double as_number(double min, double max) const;
  bool as_bool() const;
  std::string as_string() const;
  std::string as_enum(std::initializer_list<const char*> choices) const;

  // Member access with defaults.
  std::int64_t get_int(const std::string& key, std::int64_t min, std::int64_t max) const;
  std::int64_t get_int(const std::string& key, std::int64_t min, std::int64_t max, std::int64_t def) const;
  double get_number(const std::string& key, double min, double max) const;
  double get_number(const std::string& key, double min, double max, double def) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  std::string get_enum(const std::string& key, std::initializer_list<const char*> choices) const;
  std::string get_enum(const std::string& key, std::initializer_list<const char*> choices,
                       const std::string& def) const;
  std::vector<std::int64_t> get_int_list(const std::string& key, std::int64_t min, std::int64_t max) const;

  std::string child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

private:
  const Json* node_;
  std::string file_, path_;
};

// Reads and parses a JSON file; parse errors become InputError naming line and column.
Json read_json_file(const std::string& file);
// Describes a JSON value's type for messages ("a string", "an array", ...).
std::string json_type_name(const Json& j);

}  // namespace strata
