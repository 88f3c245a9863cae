#include "cost/profile_loader.hpp"

#include "io/json_reader.hpp"

namespace strata {

std::shared_ptr<const EfficiencyTable> load_efficiency_profile(const std::string& path) {
  if (path.empty()) return nullptr;
  Json j = read_json_file(path);
  JsonReader r(j, path);
  r.expect_object();
  auto t = std::make_shared<EfficiencyTable>();
  auto list = [&](const JsonReader& p, const char* key, std::vector<double>& out) {
    if (!p.has(key)) return;
    JsonReader a = p.child(key);
    for (std::size_t i = 0; i < a.array_size(); ++i) out.push_back(a.element(i).as_number(0, 1e18));
  };
  if (auto g = r.maybe_child("gemm")) {
    list(*g, "m", t->gemm_m);
    list(*g, "n", t->gemm_n);
    list(*g, "k", t->gemm_k);
    list(*g, "efficiency", t->gemm_eff);
    if (t->gemm_eff.size() != t->gemm_m.size() * t->gemm_n.size() * t->gemm_k.size())
      g->fail_at("efficiency", "expected " + std::to_string(t->gemm_m.size() * t->gemm_n.size() * t->gemm_k.size()) +
                                   " values (|m|·|n|·|k|), got " + std::to_string(t->gemm_eff.size()));
  }
  if (auto a = r.maybe_child("attention")) {
    list(*a, "seq_len", t->attn_len);
    list(*a, "efficiency", t->attn_eff);
    if (t->attn_eff.size() != t->attn_len.size()) a->fail_at("efficiency", "expected one value per seq_len");
  }
  t->hbm_GBps = r.get_number("memcpy_GBps", 0, 1e6, 0);
  double launch_us = r.get_number("launch_overhead_us", 0, 1e6, -1);
  t->launch_s = launch_us >= 0 ? launch_us * 1e-6 : -1;
  t->overlap_slowdown = r.get_number("overlap_slowdown", 0, 10, -1);
  t->peak_scale = r.get_number("peak_scale", 1e-9, 1e3, 1.0);
  return t;
}

}  // namespace strata
