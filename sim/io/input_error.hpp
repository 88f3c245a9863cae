#pragma once
// Errors in user input. Every message names the file, the JSON path of the offending field and
// what was expected, e.g. "scenarios/x.json: strategy.tp: 3 does not divide heads = 64".
// The CLI maps InputError to exit code 2.
#include <stdexcept>
#include <string>

namespace strata {

class InputError : public std::runtime_error {
public:
  InputError(std::string file, std::string path, std::string what)
      : std::runtime_error(compose(file, path, what)), file_(std::move(file)),
        path_(std::move(path)), detail_(std::move(what)) {}
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& detail() const { return detail_; }

private:
  static std::string compose(const std::string& file, const std::string& path, const std::string& what) {
    std::string s = file.empty() ? std::string("<input>") : file;
    if (!path.empty()) s += ": " + path;
    return s + ": " + what;
  }
  std::string file_, path_, detail_;
};

}  // namespace strata
