// Timeline I/O: the Chrome trace form of CONTRACT §4 round-trips, and bad files give clear errors.
#include <gtest/gtest.h>

#include "io/input_error.hpp"
#include "report/timeline_json.hpp"

using namespace strata;

static Timeline sample() {
  Timeline t;
  t.capacity_bytes = 80e9;
  t.ranks = {{0, 0, 0, 0, 0}, {1, 0, 1, 1, 1}};
  TimelineEvent send;
  send.rank = 0;
  send.stream = Stream::pp_send;
  send.category = Category::pp;
  send.task = 7;
  send.name = t.intern("pp_send_act");
  send.start_s = 1e-3;
  send.dur_s = 2e-4;
  send.flow = 42;
  send.flow_out = true;
  TimelineEvent recv = send;
  recv.rank = 1;
  recv.stream = Stream::pp_recv_fwd;
  recv.task = 3;
  recv.name = t.intern("pp_recv_act");
  recv.flow_out = false;
  t.events = {send, recv};
  t.memory = {{0, 0.0, 1e9}, {0, 1e-3, 2e9}};
  t.report = {{"step_time_s", 0.5}};
  return t;
}

TEST(TimelineJson, RoundTripKeepsEventsFlowsAndCounters) {
  Timeline t = sample();
  Json j = timeline_to_json(t);
  Timeline u = timeline_from_json(j, "mem.json");
  ASSERT_EQ(u.events.size(), 2u);
  EXPECT_EQ(u.names[u.events[0].name], "pp_send_act");
  EXPECT_EQ(u.events[0].task, 7);
  EXPECT_EQ(u.events[0].stream, Stream::pp_send);
  EXPECT_EQ(u.events[0].category, Category::pp);
  EXPECT_NEAR(u.events[0].start_s, 1e-3, 1e-15);
  EXPECT_NEAR(u.events[0].dur_s, 2e-4, 1e-15);
  EXPECT_EQ(u.events[0].flow, 42);
  EXPECT_TRUE(u.events[0].flow_out);
  EXPECT_EQ(u.events[1].flow, 42);
  EXPECT_FALSE(u.events[1].flow_out);
  ASSERT_EQ(u.memory.size(), 2u);
  EXPECT_DOUBLE_EQ(u.memory[1].bytes, 2e9);
  EXPECT_DOUBLE_EQ(u.capacity_bytes, 80e9);
  EXPECT_DOUBLE_EQ(u.report["step_time_s"].get<double>(), 0.5);
  ASSERT_EQ(u.ranks.size(), 2u);
  EXPECT_EQ(u.ranks[1].stage, 1);
}

TEST(TimelineJson, ChromeTraceFieldsFollowTheContract) {
  Json j = timeline_to_json(sample());
  bool saw_process_name = false, saw_x = false, saw_c = false;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name" && e["pid"] == 1) {
      EXPECT_EQ(e["args"]["name"], "node 0 / gpu 1 (rank 1)");
      saw_process_name = true;
    }
    if (e["ph"] == "X") {
      saw_x = true;
      for (const char* k : {"task", "microbatch", "layer", "flops", "bytes"}) EXPECT_TRUE(e["args"].contains(k)) << k;
      EXPECT_TRUE(e.contains("bind_id"));
    }
    if (e["ph"] == "C") saw_c = true;
  }
  EXPECT_TRUE(saw_process_name && saw_x && saw_c);
  EXPECT_TRUE(j["strata"].contains("report"));
}

TEST(TimelineJson, BadEventsNameTheField) {
  Json j = {{"traceEvents", {{{"ph", "X"}, {"pid", 0}, {"ts", "soon"}}}}};
  try {
    timeline_from_json(j, "bad.json");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "bad.json: traceEvents[0].ts: expected a number, got a string");
  }
  EXPECT_THROW(timeline_from_json(Json::object(), "empty.json"), InputError);
}
