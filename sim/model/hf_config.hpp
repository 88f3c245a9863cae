#pragma once
// Import of a Hugging Face `config.json` into a ModelSpec. Supported architectures are listed
// in hf_architectures(); anything else is refused by name.
#include <string>
#include <vector>

#include "io/json_reader.hpp"
#include "model/model.hpp"

namespace strata {

const std::vector<std::string>& hf_architectures();
ModelSpec import_hf_config(const JsonReader& config);
ModelSpec import_hf_config_file(const std::string& path);

}  // namespace strata
