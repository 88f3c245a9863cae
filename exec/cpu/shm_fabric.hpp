#pragma once
// Collectives and point-to-point messages between threads over shared memory: real data
// movement and real reductions (fp32 sums), used by the cpu backend's ranks and by the cpu
// micro-benchmarks. Every member of a collective registers its buffers at a rendezvous, then
// each moves its own share of the data (all-reduce: reduce-scatter + all-gather by chunk, each
// member reducing one chunk into every member's output), then all leave together, so no member
// returns while another still reads its buffers. Messages are eager: a send copies its data
// into a mailbox and completes; the receive waits for it and copies it out.
//
// Counts follow nccl-tests (reference/cost-models.md §2.4), in elements: all-reduce and
// broadcast: per rank; all-gather and reduce-scatter: the total buffer; all-to-all: the per-rank
// send buffer; all-to-all-v: per-peer element counts.
#include <atomic>
#include <compare>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/partition_graph.hpp"

namespace strata::exec {

class ShmFabric {
public:
  explicit ShmFabric(double timeout_s) : timeout_s_(timeout_s) {}

  struct CollKey {
    int group = 0, group_index = 0, stream = 0;
    std::uint32_t iteration = 0;
    std::uint64_t seq = 0;
    auto operator<=>(const CollKey&) const = default;
  };
  struct MsgKey {
    int src = 0, dst = 0;
    std::uint32_t send_task = 0, iteration = 0;
    auto operator<=>(const MsgKey&) const = default;
  };

  // This member's part of a collective of n members; returns when all members are done.
  // send_counts (all-to-all-v only): elements this member sends to each position.
  void collective(const CollKey& key, CollKind kind, int n, int position, const float* in, float* out,
                  std::size_t count, const std::vector<std::size_t>& send_counts, const std::string& what);
  void send(const MsgKey& key, const float* data, std::size_t count);
  void recv(const MsgKey& key, float* out, std::size_t count, const std::string& what);

  void abort(const std::string& why);
  bool aborted() const { return aborted_.load(); }
  std::string abort_reason() const;
  double timeout_s() const { return timeout_s_; }

private:
  struct Slot {
    int n = 0, arrived = 0, done = 0;
    CollKind kind = CollKind::all_reduce;
    std::size_t count = 0;
    std::vector<const float*> in;
    std::vector<float*> out;
    std::vector<const std::vector<std::size_t>*> counts;
  };
  // Waits on cv_ (lock held) until pred() or abort/timeout; throws with `what` on failure.
  template <class Pred>
  void wait(std::unique_lock<std::mutex>& lk, Pred pred, const std::string& what);
  static void do_part(const Slot& s, int p);

  double timeout_s_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::map<CollKey, std::shared_ptr<Slot>> slots_;
  std::map<MsgKey, std::vector<float>> mailbox_;
  std::atomic<bool> aborted_{false};
  std::string reason_;
};

}  // namespace strata::exec
