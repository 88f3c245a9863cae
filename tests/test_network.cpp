// FlowNetwork (max-min fair fluid flows) and collectives expanded into flows on the topology.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "cluster/topology.hpp"
#include "network/collective.hpp"
#include "network/flow_network.hpp"

using namespace strata;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

ClusterSpec dgx_h100(int nodes) {
  ClusterSpec c;
  c.name = "dgx-h100";
  c.gpus_per_node = 8;
  c.nodes = nodes;
  c.intra = {IntraKind::nvswitch, 450, 0.7, true};
  c.nic = {8, 50, 2.0};
  c.fabric = {FabricKind::rail_optimized, 2, 1.0, 64, 1.0};
  c.pcie_GBps = 64;
  return c;
}

ClusterSpec fat_tree(int gpn, int nics, int nodes, int radix, double over) {
  ClusterSpec c = dgx_h100(nodes);
  c.gpus_per_node = gpn;
  c.nic.per_node = nics;
  c.fabric = {FabricKind::fat_tree, 2, over, radix, 1.0};
  return c;
}

std::vector<int> iota_members(int first, int n, int stride = 1) {
  std::vector<int> m(std::size_t(n), 0);
  for (int i = 0; i < n; ++i) m[std::size_t(i)] = first + i * stride;
  return m;
}

double run_alone(const CollectivePlan& plan, const Topology& topo) {
  return simulate_collectives(std::span<const CollectivePlan>(&plan, 1), topo)[0];
}

// Drains a network: completion time of each flow id.
std::vector<double> drain(FlowNetwork& net) {
  std::vector<double> done;
  std::vector<FlowId> fin;
  for (double t; (t = net.next_completion()) < kInf;) {
    net.advance(t, fin);
    for (FlowId f : fin) {
      if (done.size() <= f) done.resize(f + 1, -1);
      done[f] = t;
    }
  }
  return done;
}

// Reference weighted max-min (progressive filling over all flows and links, no shortcuts).
std::vector<double> reference_rates(const std::vector<double>& cap, const std::vector<std::vector<LinkId>>& paths,
                                    const std::vector<std::vector<double>>& weights) {
  const std::size_t F = paths.size();
  std::vector<double> rate(F, 0.0), rem(cap);
  std::vector<bool> frozen(F, false);
  for (;;) {
    std::vector<double> W(cap.size(), 0.0);
    bool any = false;
    for (std::size_t f = 0; f < F; ++f)
      if (!frozen[f]) {
        any = true;
        for (std::size_t h = 0; h < paths[f].size(); ++h) W[paths[f][h]] += weights[f][h];
      }
    if (!any) break;
    double delta = kInf;
    for (std::size_t l = 0; l < cap.size(); ++l)
      if (W[l] > 0) delta = std::min(delta, rem[l] / W[l]);
    for (std::size_t f = 0; f < F; ++f)
      if (!frozen[f]) rate[f] += delta;
    for (std::size_t l = 0; l < cap.size(); ++l) rem[l] -= delta * W[l];
    for (std::size_t f = 0; f < F; ++f) {
      if (frozen[f]) continue;
      for (LinkId l : paths[f])
        if (rem[l] <= 1e-9 * cap[l]) frozen[f] = true;
    }
  }
  return rate;
}

}  // namespace

// ---------------------------------------------------------------- FlowNetwork

TEST(FlowNetwork, SingleFlowFinishesAtBytesOverCapacity) {
  FlowNetwork net({25e9});
  const LinkId l = 0;
  const FlowId f = net.start(std::span<const LinkId>(&l, 1), {}, 3e9, 0.5);
  EXPECT_DOUBLE_EQ(net.rate(f), 25e9);
  EXPECT_EQ(net.next_completion(), 0.5 + 3e9 / 25e9);
  std::vector<FlowId> fin;
  net.advance(0.5 + 0.06, fin);
  EXPECT_TRUE(fin.empty());
  EXPECT_NEAR(net.remaining(f), 3e9 - 0.06 * 25e9, 1e-3);
  net.advance(net.next_completion(), fin);
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(net.active(), 0u);
  EXPECT_EQ(net.next_completion(), kInf);
}

TEST(FlowNetwork, TwoFlowsOnOneLinkGetHalfEach) {
  FlowNetwork net({10e9, 100e9, 100e9});
  const std::vector<LinkId> a{1, 0}, b{0, 2};
  const FlowId fa = net.start(a, {}, 10e9, 0), fb = net.start(b, {}, 5e9, 0);
  EXPECT_DOUBLE_EQ(net.rate(fa), 5e9);
  EXPECT_DOUBLE_EQ(net.rate(fb), 5e9);
  // b finishes at 1 s; a then gets the whole link: 5e9 left at 10e9/s -> 1.5 s.
  auto done = drain(net);
  EXPECT_DOUBLE_EQ(done[fb], 1.0);
  EXPECT_DOUBLE_EQ(done[fa], 1.5);
}

TEST(FlowNetwork, ClassicThreeFlowMaxMin) {
  // Link 0: 10 GB/s, link 1: 4 GB/s. A crosses both, B only link 0, C only link 1.
  // Link 1 saturates first: A = C = 2; then link 0 leaves 8 for B.
  FlowNetwork net({10e9, 4e9});
  const std::vector<LinkId> pa{0, 1}, pb{0}, pc{1};
  const FlowId A = net.start(pa, {}, 4e9, 0), B = net.start(pb, {}, 40e9, 0), C = net.start(pc, {}, 2e9, 0);
  EXPECT_DOUBLE_EQ(net.rate(A), 2e9);
  EXPECT_DOUBLE_EQ(net.rate(B), 8e9);
  EXPECT_DOUBLE_EQ(net.rate(C), 2e9);
  // C ends at 1 s; A alone on link 1 (4) but shares link 0 with B: both 5 -> A bounded by 4.
  std::vector<FlowId> fin;
  net.advance(net.next_completion(), fin);
  ASSERT_EQ(fin, std::vector<FlowId>{C});
  EXPECT_DOUBLE_EQ(net.now(), 1.0);
  EXPECT_DOUBLE_EQ(net.rate(A), 4e9);
  EXPECT_DOUBLE_EQ(net.rate(B), 6e9);
  EXPECT_DOUBLE_EQ(net.remaining(A), 2e9);
  EXPECT_DOUBLE_EQ(net.next_completion(), 1.5);
}

TEST(FlowNetwork, WeightsCountSymmetricCopies) {
  // A flow standing for 3 copies (weight 3) and a single flow on an 8 GB/s link: every flow fills
  // at the same speed, 3x + x = 8 -> 2 GB/s each; the weighted flow consumes 6.
  FlowNetwork net({8e9, 100e9});
  const std::vector<LinkId> pa{0, 1}, pb{0};
  const std::vector<double> wa{3.0, 3.0};
  const FlowId a = net.start(pa, wa, 1e9, 0), b = net.start(pb, {}, 1e9, 0);
  EXPECT_DOUBLE_EQ(net.rate(a), 2e9);
  EXPECT_DOUBLE_EQ(net.rate(b), 2e9);
}

TEST(FlowNetwork, RecomputesOnlyTheTouchedComponent) {
  FlowNetwork net({1e9, 1e9, 1e9});
  const std::vector<LinkId> p0{0}, p1{1};
  for (int i = 0; i < 100; ++i) net.start(p0, {}, 1e9, 0);
  net.start(p1, {}, 1e9, 0);
  (void)net.next_completion();
  const auto before = net.rates_computed();
  net.start(p1, {}, 1e9, 0);  // joins the 1-flow component on link 1
  (void)net.next_completion();
  EXPECT_EQ(net.rates_computed() - before, 2u);
  // Starting many flows at one instant is one solve.
  const auto solves = net.recomputations();
  const std::vector<LinkId> p2{2};
  for (int i = 0; i < 50; ++i) net.start(p2, {}, 1e9, 0);
  (void)net.next_completion();
  EXPECT_EQ(net.recomputations() - solves, 1u);
}

TEST(FlowNetwork, SlackLinksDoNotCoupleComponents) {
  // Two NIC-bound flows (50) share a 450 link that can never saturate: they stay independent.
  FlowNetwork net({450e9, 50e9, 50e9});
  const std::vector<LinkId> a{0, 1}, b{0, 2};
  net.start(a, {}, 1e9, 0);
  net.start(b, {}, 1e9, 0);
  (void)net.next_completion();
  const auto before = net.rates_computed();
  const std::vector<LinkId> c{2};
  net.start(c, {}, 1e9, 0);  // shares link 2 with b only
  EXPECT_DOUBLE_EQ(net.rate(1), 25e9);
  EXPECT_EQ(net.rates_computed() - before, 2u);
  EXPECT_DOUBLE_EQ(net.rate(0), 50e9);
}

// Random starts (1-3 per instant), completions (often several at once when sizes and
// capacities are uniform), partial advances and weights, checked against the reference solver.
void churn_against_reference(std::uint64_t seed, bool uniform, int steps) {
  std::mt19937_64 rng(seed);
  const std::size_t L = uniform ? 12 : 24;
  std::vector<double> cap(L);
  for (auto& c : cap) c = uniform ? double(1 + rng() % 2) * 4e9 : double(1 + rng() % 20) * 1e9;
  FlowNetwork net(cap);
  struct Live { FlowId id; std::vector<LinkId> path; std::vector<double> w; };
  std::vector<Live> live;
  std::vector<FlowId> fin;
  for (int step = 0; step < steps; ++step) {
    const int starts = 1 + int(rng() % 3);
    for (int s = 0; s < starts; ++s) {
      Live f;
      const int hops = 1 + int(rng() % 4);
      for (int h = 0; h < hops; ++h) {
        f.path.push_back(LinkId(rng() % L));
        f.w.push_back(!uniform && rng() % 4 == 0 ? double(2 + rng() % 3) : 1.0);
      }
      std::sort(f.path.begin(), f.path.end());
      f.path.erase(std::unique(f.path.begin(), f.path.end()), f.path.end());
      f.w.resize(f.path.size());
      f.id = net.start(f.path, f.w, uniform ? 1e9 : double(1 + rng() % 100) * 1e8, net.now());
      live.push_back(f);
    }
    std::vector<std::vector<LinkId>> paths;
    std::vector<std::vector<double>> ws;
    for (const Live& f : live) {
      paths.push_back(f.path);
      ws.push_back(f.w);
    }
    const auto ref = reference_rates(cap, paths, ws);
    for (std::size_t i = 0; i < live.size(); ++i)
      ASSERT_NEAR(net.rate(live[i].id), ref[i], 1e-6 * ref[i]) << "seed " << seed << " step " << step << " flow " << i;
    // Every third step progresses half-way to the next completion (nothing finishes).
    const double t = net.next_completion();
    net.advance(step % 3 == 0 ? net.now() + 0.5 * (t - net.now()) : t, fin);
    std::erase_if(live, [&](const Live& f) { return std::find(fin.begin(), fin.end(), f.id) != fin.end(); });
  }
}

TEST(FlowNetwork, MatchesReferenceMaxMinUnderChurn) {
  for (std::uint64_t seed : {42u, 7u, 2024u}) {
    churn_against_reference(seed, false, 300);
    churn_against_reference(seed, true, 300);
  }
}

TEST(FlowNetwork, IsDeterministic) {
  auto run = [] {
    std::mt19937_64 rng(7);
    FlowNetwork net(std::vector<double>(16, 3e9));
    std::vector<double> out;
    std::vector<FlowId> fin;
    double now = 0;
    for (int i = 0; i < 300; ++i) {
      std::vector<LinkId> p{LinkId(rng() % 16), LinkId(rng() % 16)};
      if (p[0] == p[1]) p.pop_back();
      net.start(p, {}, double(rng() % 1000) * 1e6, now);
      if (i % 3 == 2) {
        now = net.next_completion();
        net.advance(now, fin);
        out.push_back(now);
      }
    }
    for (double t; (t = net.next_completion()) < kInf;) {
      net.advance(t, fin);
      out.push_back(t);
    }
    return out;
  };
  const auto a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(FlowNetwork, IncastSharesTheReceiverLink) {
  // k GPUs on k other nodes send to one GPU: its NIC downlink gives each B/k.
  ClusterSpec c = fat_tree(1, 1, 9, 64, 1.0);
  c.fabric.kind = FabricKind::ideal;
  Topology topo(c);
  FlowNetwork net(topo.capacities());
  std::vector<LinkId> path;
  std::vector<FlowId> ids;
  for (int s = 1; s <= 8; ++s) {
    topo.route(s, 0, 0, path);
    ids.push_back(net.start(path, {}, 1e9, 0));
  }
  for (FlowId f : ids) EXPECT_DOUBLE_EQ(net.rate(f), 50e9 / 8);
  EXPECT_DOUBLE_EQ(net.next_completion(), 8 * 1e9 / 50e9);
}

TEST(FlowNetwork, EcmpCollisionHalvesRate) {
  // Fat-tree of 1-GPU nodes, 4 NIC ports and 4 uplinks per leaf. GPU 0 -> GPU 4 and GPU 1 -> GPU 5
  // cross from leaf 0 to leaf 1; a key that hashes both onto one uplink halves both rates.
  for (EcmpMode mode : {EcmpMode::balanced, EcmpMode::random}) {
    Topology topo(fat_tree(1, 1, 8, 8, 1.0), TopologyOptions{mode});
    std::vector<LinkId> p0, p1;
    topo.route(0, 4, 0, p0);
    int collide = -1, apart = -1;
    for (int k = 0; k < 256 && (collide < 0 || apart < 0); ++k) {
      topo.route(1, 5, std::uint64_t(k), p1);
      (p1[2] == p0[2] ? collide : apart) = k;
    }
    ASSERT_GE(collide, 0);
    ASSERT_GE(apart, 0);
    for (int k : {collide, apart}) {
      FlowNetwork net(topo.capacities());
      topo.route(1, 5, std::uint64_t(k), p1);
      const FlowId a = net.start(p0, {}, 1e9, 0), b = net.start(p1, {}, 1e9, 0);
      const double expect = k == collide ? 25e9 : 50e9;
      EXPECT_DOUBLE_EQ(net.rate(a), expect) << topo.describe_link(p0[2]);
      EXPECT_DOUBLE_EQ(net.rate(b), expect);
    }
  }
}

// ---------------------------------------------------------------- Collectives

TEST(Collective, RingAllReduceMatchesClosedForm) {
  Topology topo(dgx_h100(1));
  const double B = 450e9;
  for (int n : {2, 4, 8}) {
    for (double S : {256e6, 1e9, 4e9}) {
      const auto members = iota_members(0, n);
      const CollectivePlan plan = plan_collective(CollKind::all_reduce, members, S, CollAlgo::ring, topo);
      ASSERT_EQ(plan.algo, CollAlgo::ring);
      ASSERT_EQ(plan.proto, NcclProto::simple);
      ASSERT_EQ(plan.phases.size(), 1u);
      EXPECT_EQ(plan.phases[0].flows.size(), std::size_t(n));
      const double expect = plan.phases[0].latency_s + 2.0 * (n - 1) / n * S / B;
      const double t = run_alone(plan, topo);
      EXPECT_NEAR(t / expect, 1.0, 1e-9) << "n " << n << " S " << S;
      EXPECT_NEAR(plan.predicted_s / expect, 1.0, 1e-9);
    }
  }
}

TEST(Collective, LargeRingBusBandwidthIsTheBottleneckLink) {
  const double S = 8e9;
  {  // one node: NVLink 450 GB/s
    Topology topo(dgx_h100(1));
    const auto m = iota_members(0, 8);
    const double t = run_alone(plan_collective(CollKind::all_reduce, m, S, CollAlgo::ring, topo), topo);
    EXPECT_NEAR(2.0 * 7 / 8 * S / t / 450e9, 1.0, 0.01);
  }
  {  // 4 nodes, all 32 GPUs: one ring per rail, node crossings on 8 x 50 GB/s NICs -> 400 GB/s
    Topology topo(dgx_h100(4));
    const auto m = iota_members(0, 32);
    const double S4 = 4 * S;  // multi-node latency is ~0.5 ms
    const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, S4, CollAlgo::ring, topo);
    EXPECT_EQ(plan.phases[0].flows.size(), 8u * 32u);
    const double t = run_alone(plan, topo);
    EXPECT_NEAR(2.0 * 31 / 32 * S4 / t / 400e9, 1.0, 0.01);
  }
  {  // DP-style group: one GPU per node on one rail -> one NIC, 50 GB/s
    Topology topo(dgx_h100(4));
    const auto m = iota_members(3, 4, 8);
    const double t = run_alone(plan_collective(CollKind::all_reduce, m, S, CollAlgo::ring, topo), topo);
    EXPECT_NEAR(2.0 * 3 / 4 * S / t / 50e9, 1.0, 0.01);
  }
}

TEST(Collective, SmallMessagesAreLatencyBound) {
  Topology topo(dgx_h100(1));
  const auto m = iota_members(0, 8);
  const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, 8, CollAlgo::ring, topo);
  EXPECT_EQ(plan.proto, NcclProto::ll);
  // NCCL Ring+LL: base 6.6 us + 2(n-1) steps x (NVLink 0.6 us + 0.7 us path) [S2a].
  const double alpha = (0.6 + 0.7) * 1e-6;
  EXPECT_NEAR(plan.phases[0].latency_s, 6.6e-6 + 14 * alpha, 1e-15);
  const double t = run_alone(plan, topo);
  EXPECT_NEAR(t / plan.phases[0].latency_s, 1.0, 1e-5);
  // Latency grows with the steps: 4 ranks pay 6 steps.
  const auto m4 = iota_members(0, 4);
  const CollectivePlan p4 = plan_collective(CollKind::all_reduce, m4, 8, CollAlgo::ring, topo);
  EXPECT_NEAR(p4.phases[0].latency_s, 6.6e-6 + 6 * alpha, 1e-15);
}

TEST(Collective, AllGatherAndReduceScatterRing) {
  Topology topo(dgx_h100(1));
  const auto m = iota_members(0, 8);
  for (CollKind k : {CollKind::all_gather, CollKind::reduce_scatter}) {
    const CollectivePlan plan = plan_collective(k, m, 4e9, CollAlgo::automatic, topo);
    EXPECT_EQ(plan.algo, CollAlgo::ring);
    const double t = run_alone(plan, topo);
    EXPECT_NEAR(t / (plan.phases[0].latency_s + 7.0 / 8 * 4e9 / 450e9), 1.0, 1e-9);
  }
}

TEST(Collective, AllToAllOversubscribedFatTreeTakesTwiceAsLong) {
  // 8 nodes x 8 GPUs, one NIC per GPU, radix 16 (8 NIC ports per leaf: a leaf per node).
  const auto m = iota_members(0, 64);
  const double S = 2e9;
  Topology full(fat_tree(8, 8, 8, 16, 1.0)), half(fat_tree(8, 8, 8, 16, 2.0));
  const CollectivePlan pf = plan_collective(CollKind::all_to_all, m, S, CollAlgo::automatic, full);
  const CollectivePlan ph = plan_collective(CollKind::all_to_all, m, S, CollAlgo::automatic, half);
  EXPECT_EQ(pf.algo, CollAlgo::direct);
  EXPECT_EQ(pf.phases[0].flows.size(), 64u * 63u);
  const double tf = run_alone(pf, full), th = run_alone(ph, half);
  // Non-blocking: NIC bound, 56 off-node peers x S/64 per GPU at 50 GB/s.
  EXPECT_NEAR(tf / (pf.phases[0].latency_s + 56 * S / 64 / 50e9), 1.0, 0.01);
  EXPECT_GE(th / tf, 1.8);
  EXPECT_LE(th / tf, 2.2);
}

TEST(Collective, AllToAllVFollowsTheMatrix) {
  Topology topo(dgx_h100(2));
  const std::vector<int> m{0, 1, 8, 9};
  std::vector<std::vector<double>> bytes(4, std::vector<double>(4, 0.0));
  bytes[0][2] = 4e9;  // hot path over the NIC
  bytes[1][0] = 1e9;
  bytes[3][2] = 2e9;
  const CollectivePlan plan = plan_collective(CollKind::all_to_all_v, m, 0, CollAlgo::automatic, topo, &bytes);
  ASSERT_EQ(plan.phases.size(), 1u);
  EXPECT_EQ(plan.phases[0].flows.size(), 3u);
  // GPU 0 -> GPU 8 crosses rail 0 alone (4 GB at 50 GB/s); GPU 9 -> GPU 8 shares GPU 8's NVLink.
  const double t = run_alone(plan, topo);
  EXPECT_NEAR(t, plan.phases[0].latency_s + 4e9 / 50e9, 1e-9);
}

TEST(Collective, TwoCollectivesSharingLinksSlowEachOther) {
  Topology topo(dgx_h100(2));
  // Two DP-style rings on rail 0 and the same GPUs: they share every link.
  const std::vector<int> a{0, 8};
  const CollectivePlan p = plan_collective(CollKind::all_reduce, a, 2e9, CollAlgo::ring, topo);
  const double alone = run_alone(p, topo);
  const std::vector<CollectivePlan> both{p, p};
  const auto t = simulate_collectives(both, topo);
  EXPECT_NEAR((t[0] - p.phases[0].latency_s) / (alone - p.phases[0].latency_s), 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(t[0], t[1]);
  // A ring on another rail does not interfere.
  const std::vector<int> b{1, 9};
  const std::vector<CollectivePlan> apart{p, plan_collective(CollKind::all_reduce, b, 2e9, CollAlgo::ring, topo)};
  EXPECT_DOUBLE_EQ(simulate_collectives(apart, topo)[0], alone);
}

TEST(Collective, TreeAllReduceMovesAboutTwiceTheBuffer) {
  // 8 single-GPU nodes on an ideal fabric: each rank's NIC carries 2S in the busiest direction
  // (interior in one tree, leaf in the other) [ref §2.2].
  ClusterSpec c = fat_tree(1, 1, 8, 64, 1.0);
  c.fabric.kind = FabricKind::ideal;
  Topology topo(c);
  const auto m = iota_members(0, 8);
  const double S = 4e9;
  const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, S, CollAlgo::tree, topo);
  ASSERT_EQ(plan.algo, CollAlgo::tree);
  EXPECT_NEAR(phase_bandwidth_time(plan.phases[0], topo) / (2 * S / 50e9), 1.0, 1e-12);
  const double t = run_alone(plan, topo) - plan.phases[0].latency_s;
  EXPECT_NEAR(t / (2 * S / 50e9), 1.0, 0.01);
}

TEST(Collective, TreeLatencyFollowsNccl) {
  // 16 single-GPU nodes, LL: base 6.8 + 2 * log2(16) * (Tree NET 5.0 + path 5 us)  [S2a].
  ClusterSpec c = dgx_h100(16);
  c.gpus_per_node = 1;
  c.nic.per_node = 1;
  Topology topo(c);
  const auto m = iota_members(0, 16);
  const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, 64, CollAlgo::tree, topo);
  EXPECT_EQ(plan.proto, NcclProto::ll);
  EXPECT_NEAR(plan.phases[0].latency_s, (6.8 + 2 * 4 * (5.0 + 5.0)) * 1e-6, 1e-15);
}

TEST(Collective, NvlsAllReduce) {
  Topology topo(dgx_h100(1));
  const auto m = iota_members(0, 8);
  const double S = 2e9;
  const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, S, CollAlgo::nvls, topo);
  ASSERT_EQ(plan.algo, CollAlgo::nvls);
  EXPECT_EQ(plan.proto, NcclProto::simple);
  EXPECT_NEAR(plan.phases[0].latency_s, (25 + 0.7) * 1e-6, 1e-15);
  const double t = run_alone(plan, topo);
  EXPECT_NEAR(t / (plan.phases[0].latency_s + (1 + 1.0 / 8) * S / 450e9), 1.0, 1e-9);
  // Multi-node or no NVLS: not applicable, falls back to the automatic choice.
  Topology two(dgx_h100(2));
  EXPECT_NE(plan_collective(CollKind::all_reduce, iota_members(0, 16), S, CollAlgo::nvls, two).algo, CollAlgo::nvls);
}

TEST(Collective, ChooseAlgorithmLikeNccl) {
  Topology one(dgx_h100(1));
  const auto m8 = iota_members(0, 8);
  // One node with NVLS: ring (LL) for small messages, NVLS for large ones.
  EXPECT_EQ(choose_algorithm(CollKind::all_reduce, m8, 1024, one), CollAlgo::ring);
  EXPECT_EQ(choose_algorithm(CollKind::all_reduce, m8, 1e9, one), CollAlgo::nvls);
  // Many nodes: tree (log latency) for small messages; ring (2(n-1)/n S per link against the
  // tree's 2S) for large ones.
  Topology many(dgx_h100(64));
  const auto dp = iota_members(0, 64, 8);
  EXPECT_EQ(choose_algorithm(CollKind::all_reduce, dp, 4096, many), CollAlgo::tree);
  Topology eight(dgx_h100(8));
  EXPECT_EQ(choose_algorithm(CollKind::all_reduce, iota_members(0, 8, 8), 4096, eight), CollAlgo::tree);
  EXPECT_EQ(choose_algorithm(CollKind::all_reduce, iota_members(0, 8, 8), 4e9, eight), CollAlgo::ring);
  EXPECT_EQ(choose_algorithm(CollKind::all_to_all, dp, 4e9, many), CollAlgo::direct);
  EXPECT_EQ(choose_algorithm(CollKind::all_gather, m8, 4e9, one), CollAlgo::ring);
  // Automatic plans take the chosen algorithm and predict no worse than the others.
  const CollectivePlan best = plan_collective(CollKind::all_reduce, dp, 4096, CollAlgo::automatic, many);
  EXPECT_EQ(best.algo, CollAlgo::tree);
  for (CollAlgo a : {CollAlgo::ring, CollAlgo::tree})
    EXPECT_LE(best.predicted_s, plan_collective(CollKind::all_reduce, dp, 4096, a, many).predicted_s);
}

TEST(Collective, HierarchicalAllReducePhases) {
  Topology topo(dgx_h100(4));
  const auto m = iota_members(0, 32);
  const double S = 8e9;
  const CollectivePlan plan = plan_collective(CollKind::all_reduce, m, S, CollAlgo::hierarchical, topo);
  ASSERT_EQ(plan.algo, CollAlgo::hierarchical);
  ASSERT_EQ(plan.phases.size(), 3u);
  EXPECT_EQ(plan.phases[0].flows.size(), 32u);  // 4 intra-node rings of 8
  EXPECT_EQ(plan.phases[1].flows.size(), 32u);  // 8 rails x rings of 4 nodes
  EXPECT_DOUBLE_EQ(plan.phases[0].flows[0].bytes, 7.0 / 8 * S);
  EXPECT_DOUBLE_EQ(plan.phases[1].flows[0].bytes, 2.0 * 3 / 4 * S / 8);
  // Phase by phase: (k-1)/k S / B_nv + 2(N-1)/N (S/k) / B_nic + (k-1)/k S / B_nv.
  double lat = 0;
  for (const auto& ph : plan.phases) lat += ph.latency_s;
  const double expect = lat + 2 * 7.0 / 8 * S / 450e9 + 2.0 * 3 / 4 * S / 8 / 50e9;
  EXPECT_NEAR(run_alone(plan, topo) / expect, 1.0, 1e-9);
  // Not a grid: ring.
  const std::vector<int> odd{0, 1, 2, 8};
  EXPECT_EQ(plan_collective(CollKind::all_reduce, odd, S, CollAlgo::hierarchical, topo).algo, CollAlgo::ring);
}

TEST(Collective, BroadcastChainAndDirect) {
  Topology topo(dgx_h100(1));
  const std::vector<int> m{3, 0, 1, 2, 4, 5, 6, 7};  // root = GPU 3
  const double S = 4e9;
  const CollectivePlan chain = plan_collective(CollKind::broadcast, m, S, CollAlgo::automatic, topo);
  EXPECT_EQ(chain.algo, CollAlgo::ring);
  ASSERT_EQ(chain.phases[0].flows.size(), 7u);
  EXPECT_EQ(chain.phases[0].flows[0].src, 3);
  EXPECT_NEAR(run_alone(chain, topo) / (chain.phases[0].latency_s + S / 450e9), 1.0, 1e-9);
  const CollectivePlan direct = plan_collective(CollKind::broadcast, m, S, CollAlgo::direct, topo);
  EXPECT_NEAR(run_alone(direct, topo) / (direct.phases[0].latency_s + 7 * S / 450e9), 1.0, 1e-9);
}

TEST(Collective, DegenerateGroups) {
  Topology topo(dgx_h100(1));
  const std::vector<int> one{3};
  EXPECT_TRUE(plan_collective(CollKind::all_reduce, one, 1e9, CollAlgo::automatic, topo).phases.empty());
  const auto m = iota_members(0, 4);
  EXPECT_TRUE(plan_collective(CollKind::all_reduce, m, 0, CollAlgo::automatic, topo).phases.empty());
  const std::vector<int> dup{1, 1};
  EXPECT_THROW(plan_collective(CollKind::all_reduce, dup, 1e9, CollAlgo::ring, topo), std::invalid_argument);
}
