#include "xray/stack.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace xray {
namespace {

std::string demangle(const char* symbol) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(symbol, nullptr, nullptr, &status),
                                              &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(symbol);
}

}  // namespace

std::vector<StackFrame> capture_stack(std::size_t max_frames, std::size_t skip) noexcept {
  std::vector<StackFrame> frames;
  try {
    constexpr int kLimit = 256;
    void* addresses[kLimit];
    const int count = ::backtrace(addresses, kLimit);
    // Frame 0 is capture_stack itself.
    for (int i = 1 + static_cast<int>(skip); i < count && frames.size() < max_frames; ++i) {
      StackFrame frame;
      Dl_info info{};
      if (::dladdr(addresses[i], &info) != 0) {
        if (info.dli_fname != nullptr) frame.path = info.dli_fname;
        if (info.dli_sname != nullptr) frame.label = demangle(info.dli_sname);
      }
      if (frame.label.empty()) {
        // No exported symbol (an executable linked without -rdynamic): the offset into the
        // object, which `addr2line -f -e <path> <offset>` turns into a function, file and line.
        const auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
        const auto address = reinterpret_cast<std::uintptr_t>(addresses[i]);
        char text[2 + 2 * sizeof(void*) + 1];
        std::snprintf(text, sizeof text, "0x%zx", static_cast<std::size_t>(address - base));
        frame.label = text;
      }
      frames.push_back(std::move(frame));
    }
  } catch (...) {
    // Out of memory: what was gathered so far.
  }
  return frames;
}

}  // namespace xray
