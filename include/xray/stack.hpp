// xray/stack.hpp: stack frames for the exceptions a segment or subsegment records (the `stack` of
// a cause's exception, spec §2.5).
//
//   catch (const std::exception& e) {
//     call.add_exception(e, xray::capture_stack());   // where it was caught, innermost first
//   }
//
// C++ has no portable way to find source positions at run time, so captured frames carry the
// binary or shared object as `path`, `line` 0, and as `label` the demangled function name when the
// object exports it (shared libraries; executables linked with -rdynamic), else the offset into
// the object (`addr2line -f -e <path> <offset>` resolves it). Callers that know better (a stack
// trace library) fill StackFrame themselves.
// Thread safety: capture_stack is thread-safe and reads only the calling thread's stack.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xray/export.hpp"

namespace xray {

struct StackFrame {
  std::string path;   // source file, or the binary; omitted when empty
  int line = 0;       // omitted when 0
  std::string label;  // function; omitted when empty
};

// Most frames recorded per exception; the rest are counted in the exception's `truncated`.
inline constexpr std::size_t kMaxStackFrames = 50;

// The calling thread's frames, innermost first, without capture_stack's own; at most `max_frames`
// after skipping `skip` more. Never throws: returns what it could gather.
XRAY_EXPORT std::vector<StackFrame> capture_stack(std::size_t max_frames = kMaxStackFrames,
                                                  std::size_t skip = 0) noexcept;

}  // namespace xray
