// Test support: a latch a fake server's handler waits on until the test opens it, and a guard
// that opens it when the test leaves (so a failing test never leaves a server blocked).
//
//   Gate gate;
//   FakeHttpServer server([&gate](const RecordedRequest&) { gate.wait(); return HttpReply(200); });
//   OpenOnExit release(gate);
//
// Thread safety: thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

namespace xray::testing {

class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

class OpenOnExit {
 public:
  explicit OpenOnExit(Gate& gate) : gate_(gate) {}
  ~OpenOnExit() { gate_.open(); }
  OpenOnExit(const OpenOnExit&) = delete;
  OpenOnExit& operator=(const OpenOnExit&) = delete;

 private:
  Gate& gate_;
};

}  // namespace xray::testing
