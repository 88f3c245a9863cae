#pragma once
// Numeric formats Strata knows, their sizes and names.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

enum class DType : std::uint8_t { fp32, bf16, fp16, fp8 };

constexpr double dtype_bytes(DType t) {
  switch (t) {
    case DType::fp32: return 4;
    case DType::bf16: return 2;
    case DType::fp16: return 2;
    case DType::fp8: return 1;
  }
  return 2;
}
const char* dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view s);

}  // namespace strata
