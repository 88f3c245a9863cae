#pragma once
// The discrete-event kernel's queue: events ordered by (time, sequence number), so that ties
// always resolve in insertion order and the same input gives byte-identical output.
#include <cstdint>
#include <queue>
#include <vector>

namespace strata {

// Simulated time is a double in seconds. Doubles resolve 1e-16 relative: a 100 s step keeps
// sub-nanosecond resolution, which is far below any modelled effect.
using SimTime = double;

struct Event {
  SimTime time;
  std::uint64_t seq;
  std::uint32_t type;
  std::uint32_t a;
  std::uint32_t b;
};

class EventQueue {
public:
  void push(SimTime t, std::uint32_t type, std::uint32_t a, std::uint32_t b) { heap_.push(Event{t, next_seq_++, type, a, b}); }
  bool empty() const { return heap_.empty(); }
  const Event& top() const { return heap_.top(); }
  Event pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }
  std::size_t size() const { return heap_.size(); }
  void reserve(std::size_t n) {
    std::vector<Event> v;
    v.reserve(n);
    heap_ = Heap(Later{}, std::move(v));
  }

private:
  struct Later {
    bool operator()(const Event& x, const Event& y) const { return x.time != y.time ? x.time > y.time : x.seq > y.seq; }
  };
  using Heap = std::priority_queue<Event, std::vector<Event>, Later>;
  Heap heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace strata
