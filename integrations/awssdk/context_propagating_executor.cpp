// ContextPropagatingExecutor: aws-sdk-cpp's asynchronous calls under the caller's X-Ray context.
#include <aws/core/utils/memory/AWSMemory.h>
#include <aws/core/utils/threading/Executor.h>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "xray/aws_sdk.hpp"
#include "xray/context.hpp"

namespace xray::aws_sdk {

ContextPropagatingExecutor::ContextPropagatingExecutor(
    std::shared_ptr<Aws::Utils::Threading::Executor> inner)
    : inner_(inner ? std::move(inner)
                   : Aws::MakeShared<Aws::Utils::Threading::DefaultExecutor>("AWSXRay")) {}

ContextPropagatingExecutor::~ContextPropagatingExecutor() = default;

namespace {

template <typename Executor, typename = void>
struct HasWaitUntilStopped : std::false_type {};
template <typename Executor>
struct HasWaitUntilStopped<Executor,
                           std::void_t<decltype(std::declval<Executor&>().WaitUntilStopped())>>
    : std::true_type {};

// Executor::WaitUntilStopped exists from some 1.11 release on (see the header).
template <typename Executor>
void wait_until_stopped(Executor& executor) {
  if constexpr (HasWaitUntilStopped<Executor>::value) executor.WaitUntilStopped();
}

}  // namespace

void ContextPropagatingExecutor::WaitUntilStopped() { wait_until_stopped(*inner_); }

bool ContextPropagatingExecutor::SubmitToThread(std::function<void()>&& task) {
  // Runs on the thread that called the `...Async` operation: its context is the caller's.
  Context context = current_context();
  std::function<void()> wrapped;
  try {
    // `task` is copied, not moved: should wrapping fail, it is still there to submit bare.
    wrapped = [context = std::move(context), task]() {
      ContextScope attach(context);
      task();
    };
  } catch (...) {
    return inner_->Submit(std::move(task));  // out of memory: untraced rather than lost
  }
  return inner_->Submit(std::move(wrapped));
}

}  // namespace xray::aws_sdk
