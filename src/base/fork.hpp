// Internal: how many times this process is removed from its original by fork(2).
//
// State owned by background threads (a poller, the housekeeper, per-thread id buffers) cannot be
// used as is in a child: the threads do not exist there and their locks may be held forever.
// Components remember the generation they were set up in and, seeing another one, abandon that
// state and start clean. The count is incremented by one pthread_atfork child handler, registered
// when the library is loaded.
// Thread safety: thread-safe.
#pragma once

namespace xray::detail {

// 0 in the original process; one more in each child of a fork() (and in their children).
unsigned fork_generation() noexcept;

}  // namespace xray::detail
