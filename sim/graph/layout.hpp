#pragma once
// Rank layout: how global ranks map onto (tp, cp, dp, pp) coordinates, and the explicit
// communication groups built from that ordering (Megatron-Core: tp innermost, then cp, dp, pp).
// Expert-parallel groups are carved out of dp·cp: ep consecutive ranks of the flattened
// (dp, cp) index form an EP group; ranks with equal EP index across those form the
// expert-data-parallel (edp) group.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace strata {

enum class GroupKind : std::uint8_t { tp, cp, ep, pp, dp, dp_cp, edp, world, count };
constexpr int kGroupKinds = static_cast<int>(GroupKind::count);
const char* group_kind_name(GroupKind g);

enum class Dim : std::uint8_t { tp, cp, dp, pp };

struct RankCoord {
  int tp = 0, cp = 0, dp = 0, pp = 0;
};

class Layout {
public:
  Layout() = default;
  // `order` lists the dims innermost first, e.g. "tp-cp-dp-pp". Throws std::invalid_argument on
  // a malformed order (the scenario layer reports it with the field path).
  Layout(int tp, int cp, int dp, int pp, int ep, const std::string& order, int gpus_per_node);

  int world() const { return tp_ * cp_ * dp_ * pp_; }
  int degree(Dim d) const;
  int ep() const { return ep_; }
  int gpus_per_node() const { return gpus_per_node_; }

  RankCoord coord(int rank) const;
  int rank_of(const RankCoord& c) const;
  int node_of(int rank) const { return rank / gpus_per_node_; }
  // Index of the rank inside its EP group (0..ep-1) and its flattened dp·cp index.
  int ep_index(int rank) const;

  // Groups: each kind is a list of groups, each an explicit, ordered list of ranks.
  int group_count(GroupKind k) const { return int(groups_[int(k)].offsets.size()) - 1; }
  std::span<const int> group(GroupKind k, int index) const;
  int group_of(GroupKind k, int rank) const { return groups_[int(k)].group_of[rank]; }
  int position_in_group(GroupKind k, int rank) const { return groups_[int(k)].position[rank]; }
  std::span<const int> group_of_rank(GroupKind k, int rank) const { return group(k, group_of(k, rank)); }
  int group_size(GroupKind k) const;
  // The rank `offset` positions further along the rank's group ring (wrapping).
  int peer(GroupKind k, int rank, int offset) const;

private:
  struct GroupTable {
    std::vector<int> offsets{0};   // group i = members[offsets[i] .. offsets[i+1])
    std::vector<int> members;
    std::vector<int> group_of;     // rank -> group index
    std::vector<int> position;     // rank -> position in its group
  };
  void build_groups();
  void add_groups(GroupKind k, const std::vector<std::vector<int>>& groups);

  int tp_ = 1, cp_ = 1, dp_ = 1, pp_ = 1, ep_ = 1, gpus_per_node_ = 8;
  std::array<Dim, 4> order_{Dim::tp, Dim::cp, Dim::dp, Dim::pp};
  std::array<int, 4> stride_{};  // stride of each Dim in the rank number
  std::array<GroupTable, kGroupKinds> groups_;
};

}  // namespace strata
