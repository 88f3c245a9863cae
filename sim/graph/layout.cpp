#include "graph/layout.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

namespace strata {

const char* group_kind_name(GroupKind g) {
  switch (g) {
    case GroupKind::tp: return "tp";
    case GroupKind::cp: return "cp";
    case GroupKind::ep: return "ep";
    case GroupKind::pp: return "pp";
    case GroupKind::dp: return "dp";
    case GroupKind::dp_cp: return "dp_cp";
    case GroupKind::edp: return "edp";
    case GroupKind::world: return "world";
    case GroupKind::count: break;
  }
  return "?";
}

Layout::Layout(int tp, int cp, int dp, int pp, int ep, const std::string& order, int gpus_per_node)
    : tp_(tp), cp_(cp), dp_(dp), pp_(pp), ep_(ep), gpus_per_node_(gpus_per_node) {
  std::map<std::string, Dim> names{{"tp", Dim::tp}, {"cp", Dim::cp}, {"dp", Dim::dp}, {"pp", Dim::pp}};
  std::stringstream ss(order);
  std::string part;
  int n = 0;
  bool seen[4] = {false, false, false, false};
  while (std::getline(ss, part, '-')) {
    auto it = names.find(part);
    if (it == names.end() || n >= 4 || seen[int(it->second)])
      throw std::invalid_argument("\"" + order + "\" must list tp, cp, dp and pp once each, joined by '-'");
    seen[int(it->second)] = true;
    order_[n++] = it->second;
  }
  if (n != 4) throw std::invalid_argument("\"" + order + "\" must list tp, cp, dp and pp once each, joined by '-'");
  int stride = 1;
  for (Dim d : order_) {
    stride_[int(d)] = stride;
    stride *= degree(d);
  }
  build_groups();
}

int Layout::degree(Dim d) const {
  switch (d) {
    case Dim::tp: return tp_;
    case Dim::cp: return cp_;
    case Dim::dp: return dp_;
    case Dim::pp: return pp_;
  }
  return 1;
}

RankCoord Layout::coord(int rank) const {
  RankCoord c;
  c.tp = (rank / stride_[int(Dim::tp)]) % tp_;
  c.cp = (rank / stride_[int(Dim::cp)]) % cp_;
  c.dp = (rank / stride_[int(Dim::dp)]) % dp_;
  c.pp = (rank / stride_[int(Dim::pp)]) % pp_;
  return c;
}

int Layout::rank_of(const RankCoord& c) const {
  return c.tp * stride_[int(Dim::tp)] + c.cp * stride_[int(Dim::cp)] + c.dp * stride_[int(Dim::dp)] +
         c.pp * stride_[int(Dim::pp)];
}

int Layout::ep_index(int rank) const {
  RankCoord c = coord(rank);
  return (c.dp * cp_ + c.cp) % ep_;
}

std::span<const int> Layout::group(GroupKind k, int index) const {
  const GroupTable& t = groups_[int(k)];
  return std::span<const int>(t.members.data() + t.offsets[index], std::size_t(t.offsets[index + 1] - t.offsets[index]));
}

int Layout::group_size(GroupKind k) const {
  const GroupTable& t = groups_[int(k)];
  return t.offsets.size() > 1 ? t.offsets[1] - t.offsets[0] : 1;
}

int Layout::peer(GroupKind k, int rank, int offset) const {
  auto g = group_of_rank(k, rank);
  int n = int(g.size());
  int pos = position_in_group(k, rank);
  return g[std::size_t(((pos + offset) % n + n) % n)];
}

void Layout::add_groups(GroupKind k, const std::vector<std::vector<int>>& groups) {
  GroupTable& t = groups_[int(k)];
  t.offsets.assign(1, 0);
  t.members.clear();
  t.group_of.assign(std::size_t(world()), -1);
  t.position.assign(std::size_t(world()), -1);
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    for (std::size_t p = 0; p < groups[gi].size(); ++p) {
      int r = groups[gi][p];
      t.members.push_back(r);
      t.group_of[std::size_t(r)] = int(gi);
      t.position[std::size_t(r)] = int(p);
    }
    t.offsets.push_back(int(t.members.size()));
  }
}

void Layout::build_groups() {
  const int W = world();
  // Key each rank by its coordinates outside the group's dims; ranks sharing the key form a group,
  // ordered by their coordinate inside it.
  // Every key lies in [0, W) (a mixed-radix number over the other dims), so groups are numbered in
  // key order through a flat table instead of a map: O(W) with a small constant.
  std::vector<long long> keys(static_cast<std::size_t>(W));
  std::vector<int> index_of_key(static_cast<std::size_t>(W) + 1);
  auto build = [&](GroupKind k, auto key_of, auto pos_of, int size) {
    std::fill(index_of_key.begin(), index_of_key.end(), 0);
    for (int r = 0; r < W; ++r) {
      const long long key = key_of(r);
      if (key < 0 || key >= W) throw std::logic_error("layout: group key out of range");
      keys[std::size_t(r)] = key;
      index_of_key[std::size_t(key)] = 1;
    }
    int groups = 0;
    for (int& x : index_of_key) x = x ? groups++ : -1;
    GroupTable& t = groups_[int(k)];
    t.offsets.resize(std::size_t(groups) + 1);
    for (int i = 0; i <= groups; ++i) t.offsets[std::size_t(i)] = i * size;
    t.members.assign(std::size_t(groups) * std::size_t(size), -1);
    t.group_of.assign(std::size_t(W), -1);
    t.position.assign(std::size_t(W), -1);
    for (int r = 0; r < W; ++r) {
      const int gi = index_of_key[std::size_t(keys[std::size_t(r)])], p = pos_of(r);
      t.members[std::size_t(gi) * std::size_t(size) + std::size_t(p)] = r;
      t.group_of[std::size_t(r)] = gi;
      t.position[std::size_t(r)] = p;
    }
  };
  auto C = [&](int r) { return coord(r); };
  const long long T = tp_, Cc = cp_, D = dp_;
  build(GroupKind::tp, [&](int r) { auto c = C(r); return ((long long)c.pp * D + c.dp) * Cc + c.cp; },
        [&](int r) { return C(r).tp; }, tp_);
  build(GroupKind::cp, [&](int r) { auto c = C(r); return ((long long)c.pp * D + c.dp) * T + c.tp; },
        [&](int r) { return C(r).cp; }, cp_);
  build(GroupKind::dp, [&](int r) { auto c = C(r); return ((long long)c.pp * Cc + c.cp) * T + c.tp; },
        [&](int r) { return C(r).dp; }, dp_);
  build(GroupKind::pp, [&](int r) { auto c = C(r); return ((long long)c.dp * Cc + c.cp) * T + c.tp; },
        [&](int r) { return C(r).pp; }, pp_);
  build(GroupKind::dp_cp, [&](int r) { auto c = C(r); return (long long)c.pp * T + c.tp; },
        [&](int r) { auto c = C(r); return c.dp * cp_ + c.cp; }, dp_ * cp_);
  // EP: consecutive blocks of ep ranks along the flattened dp·cp index.
  build(GroupKind::ep, [&](int r) { auto c = C(r); return (((long long)c.pp * T + c.tp) * (D * Cc)) + (c.dp * cp_ + c.cp) / ep_; },
        [&](int r) { auto c = C(r); return (c.dp * cp_ + c.cp) % ep_; }, ep_);
  build(GroupKind::edp, [&](int r) { auto c = C(r); return (((long long)c.pp * T + c.tp) * ep_) + (c.dp * cp_ + c.cp) % ep_; },
        [&](int r) { auto c = C(r); return (c.dp * cp_ + c.cp) / ep_; }, (dp_ * cp_) / ep_);
  std::vector<std::vector<int>> world_group(1);
  for (int r = 0; r < W; ++r) world_group[0].push_back(r);
  add_groups(GroupKind::world, world_group);
}

}  // namespace strata
