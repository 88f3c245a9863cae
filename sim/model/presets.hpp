#pragma once
// Built-in model presets (CONTRACT §5), each with its published parameter count and source.
#include <string>
#include <vector>

#include "model/model.hpp"

namespace strata {

struct ModelPreset {
  ModelSpec spec;
  double published_params;  // the figure its authors publish
  const char* source;       // where that figure comes from
};

const std::vector<ModelPreset>& model_presets();
const ModelPreset* find_model_preset(const std::string& name);

}  // namespace strata
