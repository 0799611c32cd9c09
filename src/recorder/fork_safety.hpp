// Internal: keeps the locks a request thread takes consistent across fork(2).
//
// A child of fork() holds only the forking thread. A mutex that another thread held at the moment
// of the fork stays locked in the child forever, so the child's first begin_segment would hang
// (seen: 31 of 200 children with threads calling begin_segment while the parent forked). The
// pthread_atfork handlers registered here take every recorder's request-path locks before the
// fork, in one fixed order (recorder settings, plugin result, centralized rules, then the log
// sink, which is a leaf), and release them in both processes afterwards. The emitter's queue lock
// has its own handlers (udp_emitter.cpp), registered earlier and therefore run after these
// (POSIX runs prepare handlers in reverse order of registration). Entity trees are not covered:
// a tree shared with another thread at the moment of the fork belongs to the parent.
//
// Thread safety: thread-safe.
#pragma once

namespace xray::detail {

class RecorderCore;

// Called by RecorderCore's constructor (after its emitter exists) and destructor.
void register_for_fork(RecorderCore* core) noexcept;
void unregister_for_fork(RecorderCore* core) noexcept;

}  // namespace xray::detail
