#include "xray/context.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::configure(recorder_, testing::config_for(daemon_)).ok());
  }

  testing::FakeDaemon daemon_;
  Recorder recorder_;
};

TEST_F(ContextTest, EmptyByDefault) {
  Context context;
  EXPECT_TRUE(context.empty());
  EXPECT_FALSE(context.sampled());
  EXPECT_EQ(context.trace_id(), "");
  EXPECT_EQ(context.entity_id(), "");
  EXPECT_TRUE(context.outbound_header().empty());
  EXPECT_TRUE(current_context().empty());
  static_assert(std::is_nothrow_move_constructible_v<Context>);
  static_assert(std::is_nothrow_move_assignable_v<Context>);
  static_assert(std::is_copy_constructible_v<Context>);
  static_assert(!std::is_copy_constructible_v<ContextScope>);
}

TEST_F(ContextTest, BeginPushesAndEndPops) {
  auto segment = recorder_.begin_segment("segment");
  EXPECT_EQ(current_context().entity_id(), segment.id());
  {
    auto outer = recorder_.begin_subsegment("outer");
    EXPECT_EQ(current_context().entity_id(), outer.id());
    auto inner = recorder_.begin_subsegment("inner");
    EXPECT_EQ(current_context().entity_id(), inner.id());
  }
  EXPECT_EQ(current_context().entity_id(), segment.id());
  segment.end();
  EXPECT_TRUE(current_context().empty());
}

TEST_F(ContextTest, StartSegmentLeavesTheCallingThreadUntouched) {
  auto outer = recorder_.begin_segment("outer");
  auto started = recorder_.start_segment("started", TraceHeader::parse("Sampled=1"));
  ASSERT_TRUE(started.sampled());
  EXPECT_EQ(current_context().entity_id(), outer.id());  // still the caller's own segment
  std::thread handler([&] {
    EXPECT_TRUE(current_context().empty());
    ContextScope attach(started.context());
    auto call = recorder_.begin_subsegment("call");
    EXPECT_EQ(call.outbound_header().root(), started.trace_id());
  });
  handler.join();
  started.end();
  EXPECT_EQ(current_context().entity_id(), outer.id());
  outer.end();
  EXPECT_TRUE(current_context().empty());
  ASSERT_TRUE(recorder_.flush(std::chrono::seconds(5)));
  ASSERT_TRUE(daemon_.wait_for_documents(2, std::chrono::seconds(5)));
  const auto entities = testing::flatten(daemon_.documents());
  const auto* call = testing::find_by_name(entities, "call");
  ASSERT_NE(call, nullptr);
  EXPECT_NE(testing::find_by_name(entities, "started"), nullptr);
}

TEST_F(ContextTest, StartSubsegmentJoinsItsParentWithoutBecomingCurrent) {
  auto segment = recorder_.begin_segment("segment");
  auto call = recorder_.start_subsegment("call", segment.context());
  EXPECT_EQ(current_context().entity_id(), segment.id());
  EXPECT_EQ(call.trace_id(), segment.trace_id());
  std::thread completes_elsewhere([call = std::move(call)]() mutable { call.end(); });
  completes_elsewhere.join();
  segment.end();
  EXPECT_TRUE(current_context().empty());
  ASSERT_TRUE(recorder_.flush(std::chrono::seconds(5)));
  ASSERT_TRUE(daemon_.wait_for_documents(1, std::chrono::seconds(5)));
  const auto entities = testing::flatten(daemon_.documents());
  ASSERT_EQ(entities.size(), 2u);  // the call is embedded in its segment
  EXPECT_NE(testing::find_by_name(entities, "call"), nullptr);
  // Without a parent: the context-missing strategy, an inert scope.
  EXPECT_FALSE(recorder_.start_subsegment("orphan", Context{}).active());
}

TEST_F(ContextTest, EndingOutOfOrderRemovesOnlyThatEntity) {
  auto segment = recorder_.begin_segment("segment");
  auto a = recorder_.begin_subsegment("a");
  auto b = recorder_.begin_subsegment("b");
  a.end();  // not on top: removed, b stays current
  EXPECT_EQ(current_context().entity_id(), b.id());
  b.end();
  EXPECT_EQ(current_context().entity_id(), segment.id());
}

TEST_F(ContextTest, ContextScopeAttachesOnAnotherThreadAndRestores) {
  auto segment = recorder_.begin_segment("segment");
  Context context = current_context();
  std::string seen_parent;
  std::thread worker([&] {
    EXPECT_TRUE(current_context().empty());
    {
      ContextScope attach(context);
      EXPECT_EQ(current_context().entity_id(), segment.id());
      auto job = recorder_.begin_subsegment("job");
      seen_parent = current_context().entity_id();
      // Leaving `job` open past the scope is tolerated: the scope restores the stack anyway.
      job.end();
    }
    EXPECT_TRUE(current_context().empty());
  });
  worker.join();
  EXPECT_FALSE(seen_parent.empty());
  EXPECT_EQ(current_context().entity_id(), segment.id());
}

TEST_F(ContextTest, ContextScopeRestoresThePreviousStackExactly) {
  auto first = recorder_.begin_segment("first");
  Context first_context = current_context();
  auto second = recorder_.begin_segment("second");
  {
    ContextScope attach(first_context);
    EXPECT_EQ(current_context().entity_id(), first.id());
    auto sub = recorder_.begin_subsegment("under-first");
    EXPECT_EQ(sub.trace_id(), first.trace_id());
  }
  EXPECT_EQ(current_context().entity_id(), second.id());
}

TEST_F(ContextTest, MovedFromContextScopeIsInert) {
  auto segment = recorder_.begin_segment("segment");
  Context context = current_context();
  segment.end();
  EXPECT_TRUE(current_context().empty());
  {
    ContextScope outer(context);
    ContextScope moved = std::move(outer);
    EXPECT_EQ(current_context().entity_id(), context.entity_id());
  }  // `moved` restores once; `outer` does nothing
  EXPECT_TRUE(current_context().empty());
}

TEST_F(ContextTest, EmptyContextScopeChangesNothing) {
  auto segment = recorder_.begin_segment("segment");
  {
    ContextScope nothing{Context()};
    EXPECT_EQ(current_context().entity_id(), segment.id());
  }
  EXPECT_EQ(current_context().entity_id(), segment.id());
}

TEST_F(ContextTest, OutboundHeaderNamesTheCurrentEntityAsParent) {
  auto segment = recorder_.begin_segment(
      "segment", TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Foo=bar"));
  auto call = recorder_.begin_subsegment("call");
  TraceHeader header = current_context().outbound_header();
  EXPECT_EQ(header.to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=" + call.id() + ";Sampled=1;Foo=bar");
}

TEST_F(ContextTest, ContextKeepsTheSegmentAliveAfterItsScopeEnds) {
  Context context;
  {
    auto segment = recorder_.begin_segment("segment");
    context = segment.context();
  }
  EXPECT_TRUE(context.sampled());
  EXPECT_EQ(context.trace_id().size(), 35u);
}

}  // namespace
}  // namespace xray
