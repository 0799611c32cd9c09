// Compile check: xray/lambda_runtime.hpp builds the way aws-lambda-cpp itself is built, without
// exceptions or RTTI (see CMakeLists.txt). Not linked into anything.
#include "xray/lambda_runtime.hpp"

#if defined(__cpp_exceptions)
#error "this file must be compiled with -fno-exceptions"
#endif

aws::lambda_runtime::invocation_response no_exceptions_check(
    const aws::lambda_runtime::invocation_request& request) {
  static const xray::lambda::RuntimeHandler handler =
      xray::lambda::traced([](const aws::lambda_runtime::invocation_request& r) {
        return r.payload.empty()
                   ? aws::lambda_runtime::invocation_response::failure("empty", "Empty")
                   : aws::lambda_runtime::invocation_response::success(r.payload,
                                                                       "application/json");
      });
  return handler(request);
}
