// Fuzz target: the document path. The input drives a random sequence of public API calls
// (begin_segment / begin_subsegment / put_annotation / put_metadata / set_http_* / add_exception /
// set_sql / set_user / end ...) with random names, keys and values on a recorder whose emitter runs
// the real size ladder synchronously.
//
// Properties of every datagram (fuzz_document.hpp): one valid JSON object in valid UTF-8, within
// max_datagram_bytes, preceded by exactly the daemon header line, with no raw newline that could
// forge another header; clean names and annotation keys. Over a whole input: every sampled entity
// is sent complete exactly once or counted as dropped, outbound headers never carry CR/LF/NUL, and
// the thread's context stack is empty again once every scope has ended.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/xray.hpp"

namespace {

using xray::fuzz::CheckingEmitter;
using xray::fuzz::DocumentChecker;

struct Harness {
  DocumentChecker checker;
  CheckingEmitter* emitter = nullptr;
  xray::Recorder recorder;
  std::size_t max_bytes = 0;
  std::size_t streaming_threshold = 0;
  bool collect_sql = false;

  Harness() {
    auto capture = std::make_unique<CheckingEmitter>(checker, 65000);
    emitter = capture.get();
    core().set_emitter(std::move(capture));
  }

  xray::detail::RecorderCore& core() { return xray::detail::RecorderAccess::core(recorder); }

  void configure(std::size_t max, std::size_t threshold, bool sql) {
    if (max == max_bytes && threshold == streaming_threshold && sql == collect_sql) return;
    xray::Config config;
    config.service_name = "fuzz-service";
    config.sampling = false;  // sample everything (an upstream Sampled=0 still wins)
    config.daemon_address = "127.0.0.1:2000";
    config.log_level = xray::LogLevel::kSilent;
    config.log_sink = [](xray::LogLevel, std::string_view) {};
    config.max_datagram_bytes = max;
    config.streaming_threshold = threshold;
    config.collect_sql_queries = sql;
    // Abandoned subsegments are sent when the input says so (run_due below), never by the
    // housekeeping thread during a run.
    config.abandoned_subsegment_timeout = std::chrono::hours(1);
    // The process environment is not read: the fuzz run must not depend on it.
    auto result = core().configure(config, [](const char*) -> const char* { return nullptr; });
    XRAY_FUZZ_CHECK(result.ok(), "the fuzz configuration was rejected");
    emitter->set_max_bytes(max);
    max_bytes = max;
    streaming_threshold = threshold;
    collect_sql = sql;
  }
};

Harness& harness() {
  static Harness* instance = new Harness();  // never destroyed: libFuzzer exits with _exit
  return *instance;
}

std::string text(FuzzedDataProvider& in) {
  // Mostly short; sometimes long enough to push documents down the size ladder.
  const std::size_t max = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? 5000 : 40;
  return in.ConsumeRandomLengthString(max);
}

// Any bit pattern: NaN, infinities and subnormals included.
double any_double(FuzzedDataProvider& in) {
  const auto bits = in.ConsumeIntegral<std::uint64_t>();
  double d;
  static_assert(sizeof d == sizeof bits);
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

nlohmann::json value(FuzzedDataProvider& in, int depth) {
  switch (in.ConsumeIntegralInRange<int>(0, depth > 0 ? 8 : 6)) {
    case 0: return nullptr;
    case 1: return in.ConsumeBool();
    case 2: return in.ConsumeIntegral<std::int64_t>();
    case 3: return in.ConsumeIntegral<std::uint64_t>();
    case 4: return any_double(in);
    case 5:
    case 6: return text(in);
    case 7: {
      nlohmann::json array = nlohmann::json::array();
      const int n = in.ConsumeIntegralInRange<int>(0, 4);
      for (int i = 0; i < n; ++i) array.push_back(value(in, depth - 1));
      return array;
    }
    default: {
      nlohmann::json object = nlohmann::json::object();
      const int n = in.ConsumeIntegralInRange<int>(0, 4);
      for (int i = 0; i < n; ++i) object[text(in)] = value(in, depth - 1);
      return object;
    }
  }
}

struct CustomError : std::exception {
  std::string message;
  explicit CustomError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

struct Slot {
  std::optional<xray::SegmentScope> segment;
  std::optional<xray::SubsegmentScope> subsegment;

  bool live() const { return segment || subsegment; }
  xray::EntityScope* scope() {
    if (segment) return &*segment;
    if (subsegment) return &*subsegment;
    return nullptr;
  }
  void end() {
    segment.reset();
    subsegment.reset();
  }
};

void check_header(const xray::TraceHeader& header) {
  const std::string value = header.to_string();
  XRAY_FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
                  "a trace header to send carries CR, LF or NUL");
}

void record(FuzzedDataProvider& in, Slot& slot) {
  xray::EntityScope& scope = *slot.scope();
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: {
      const std::string key = text(in);
      switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0: scope.put_annotation(key, text(in)); break;
        case 1: scope.put_annotation(key, in.ConsumeBool()); break;
        case 2: scope.put_annotation(key, in.ConsumeIntegral<std::int64_t>()); break;
        case 3: scope.put_annotation(key, in.ConsumeIntegral<std::uint64_t>()); break;
        default: scope.put_annotation(key, any_double(in)); break;
      }
      break;
    }
    case 1: {
      const std::string key = text(in);
      nlohmann::json v = value(in, 3);
      if (in.ConsumeBool()) {
        scope.put_metadata(key, std::move(v));
      } else {
        scope.put_metadata(key, std::move(v), text(in));
      }
      break;
    }
    case 2: {
      xray::HttpRequestInfo info;
      info.method = text(in);
      info.url = text(in);
      info.user_agent = text(in);
      info.client_ip = text(in);
      info.x_forwarded_for = in.ConsumeBool();
      info.traced = in.ConsumeBool();
      scope.set_http_request(std::move(info));
      break;
    }
    case 3: scope.set_http_status(in.ConsumeIntegral<int>()); break;
    case 4: scope.set_http_content_length(in.ConsumeIntegral<std::uint64_t>()); break;
    case 5: {
      const bool remote = in.ConsumeBool();
      if (in.ConsumeBool()) {
        scope.add_exception(std::runtime_error(text(in)), remote);
      } else {
        scope.add_exception(std::make_exception_ptr(CustomError(text(in))), remote);
      }
      break;
    }
    case 6: scope.set_cause_id(text(in)); break;
    case 7:
      switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: scope.set_error(); break;
        case 1: scope.set_throttle(); break;
        default: scope.set_fault(); break;
      }
      break;
    case 8: {
      const std::string key = text(in);
      scope.set_aws(key, value(in, 2));
      break;
    }
    case 9: check_header(scope.outbound_header()); break;
    case 10:
      if (slot.segment) {
        switch (in.ConsumeIntegralInRange<int>(0, 4)) {
          case 0: slot.segment->set_user(text(in)); break;
          case 1: slot.segment->set_service_version(text(in)); break;
          case 2: slot.segment->set_origin(text(in)); break;
          case 3: slot.segment->set_resource_arn(text(in)); break;
          default: check_header(slot.segment->response_header()); break;
        }
      } else {
        switch (in.ConsumeIntegralInRange<int>(0, 2)) {
          case 0: slot.subsegment->set_namespace(text(in)); break;
          case 1: slot.subsegment->add_precursor_id(text(in)); break;
          default: {
            xray::SqlInfo sql;
            sql.connection_string = text(in);
            sql.url = text(in);
            sql.sanitized_query = text(in);
            sql.database_type = text(in);
            sql.database_version = text(in);
            sql.driver_version = text(in);
            sql.user = text(in);
            sql.preparation = text(in);
            slot.subsegment->set_sql(std::move(sql));
            break;
          }
        }
      }
      break;
    default: {
      // Cheap accessors, to be exercised in any state.
      (void)scope.id();
      (void)scope.trace_id();
      (void)scope.sampled();
      (void)scope.context();
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  FuzzedDataProvider in(data, size);
  static constexpr std::size_t kMaxBytes[] = {65000, 8192, 2048, 1024};
  h.configure(kMaxBytes[in.ConsumeIntegralInRange<int>(0, 3)], in.ConsumeBool() ? 100 : 3,
              in.ConsumeBool());
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
    h.emitter->set_plugin_data(text(in), nlohmann::json{{text(in), value(in, 2)}});
  } else {
    h.emitter->set_plugin_data("", nullptr);
  }
  h.checker.reset();
  h.emitter->reset_counts();

  std::vector<Slot> slots;
  std::size_t sampled_entities = 0;
  int steps = 0;
  while (in.remaining_bytes() > 0 && steps++ < 200) {
    const int op = in.ConsumeIntegralInRange<int>(0, 9);
    if (op == 0 || slots.empty()) {
      if (slots.size() >= 32) continue;
      const std::string name = text(in);
      xray::TraceHeader upstream;
      if (in.ConsumeBool()) upstream = xray::TraceHeader::parse(text(in));
      Slot slot;
      if (in.ConsumeBool()) {
        xray::SamplingRequest request;
        const std::string host = text(in);
        request.host = host;
        slot.segment = h.recorder.begin_segment(name, upstream, request);
      } else {
        slot.segment = h.recorder.begin_segment(name, upstream);
      }
      if (slot.segment->sampled()) ++sampled_entities;
      if (std::getenv("XRAY_FUZZ_PRINT") != nullptr) {
        std::fprintf(stderr, "op: begin_segment -> %s sampled=%d\n", slot.segment->id().c_str(),
                     slot.segment->sampled());
      }
      slots.push_back(std::move(slot));
    } else if (op == 1 || op == 2) {
      if (slots.size() >= 32) continue;
      const std::string name = text(in);
      Slot slot;
      if (op == 1) {
        slot.subsegment = h.recorder.begin_subsegment(name);  // the current entity, if any
      } else {
        Slot& parent = slots[in.ConsumeIntegralInRange<std::size_t>(0, slots.size() - 1)];
        xray::Context context = parent.live() ? parent.scope()->context() : xray::Context();
        slot.subsegment = h.recorder.begin_subsegment(name, context);
      }
      if (slot.subsegment->sampled()) ++sampled_entities;
      if (std::getenv("XRAY_FUZZ_PRINT") != nullptr) {
        std::fprintf(stderr, "op: begin_subsegment%s -> %s sampled=%d\n", op == 1 ? "" : "(parent)",
                     slot.subsegment->id().c_str(), slot.subsegment->sampled());
      }
      slots.push_back(std::move(slot));
    } else if (op == 3) {
      Slot& slot = slots[in.ConsumeIntegralInRange<std::size_t>(0, slots.size() - 1)];
      if (std::getenv("XRAY_FUZZ_PRINT") != nullptr && slot.live()) {
        std::fprintf(stderr, "op: end %s\n", slot.scope()->id().c_str());
      }
      slot.end();
    } else if (op == 4) {
      if (std::getenv("XRAY_FUZZ_PRINT") != nullptr) std::fprintf(stderr, "op: run_due\n");
      // The abandoned-subsegment timer fires now (spec §6.1), on this thread.
      h.core().housekeeper().run_due(std::chrono::steady_clock::now() + std::chrono::hours(2));
    } else {
      Slot& slot = slots[in.ConsumeIntegralInRange<std::size_t>(0, slots.size() - 1)];
      if (slot.live()) record(in, slot);
    }
  }
  // End what is still open in a random-ish order (last first, then the rest), then fire the
  // timers, so every tree is complete.
  for (auto it = slots.rbegin(); it != slots.rend(); ++it) it->end();
  h.core().housekeeper().run_due(std::chrono::steady_clock::now() + std::chrono::hours(2));

  if (std::getenv("XRAY_FUZZ_PRINT") != nullptr) {
    std::fprintf(stderr, "sampled entities %zu, complete sent %zu, dropped %llu, trees %llu\n",
                 sampled_entities, h.checker.complete_entities(),
                 static_cast<unsigned long long>(h.emitter->dropped()),
                 static_cast<unsigned long long>(h.emitter->submitted()));
  }
  XRAY_FUZZ_CHECK(xray::current_context().empty(),
                  "the context stack is not empty after every scope ended");
  // Every sampled entity is sent complete exactly once, or dropped as too large. A drop counts
  // sends, not entities (an abandoned subsegment's in_progress copy may be dropped, then its
  // complete document), so with drops the sum may exceed the entities.
  XRAY_FUZZ_CHECK(h.checker.complete_entities() <= sampled_entities,
                  "more complete entities sent than were begun");
  XRAY_FUZZ_CHECK(h.checker.complete_entities() + h.emitter->dropped() >= sampled_entities,
                  "a sampled entity was neither sent complete nor counted as dropped");
  return 0;
}
