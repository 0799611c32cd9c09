# Warning and sanitizer flags, applied PRIVATE to the project's own targets only.

function(xray_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(XRAY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    if("thread" IN_LIST XRAY_SANITIZE)
      # g++ 12 warns (-Wtsan) about std::atomic_thread_fence, which Boost.Asio 1.74 uses.
      target_compile_options(${target} PRIVATE -Wno-error=tsan)
    endif()
  endif()
endfunction()

function(xray_set_sanitizers target)
  if(XRAY_FUZZ)
    # Coverage instrumentation without libFuzzer's main; the fuzz targets link -fsanitize=fuzzer.
    target_compile_options(${target} PUBLIC -fsanitize=fuzzer-no-link,address,undefined
                                            -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  elseif(XRAY_SANITIZE)
    list(JOIN XRAY_SANITIZE "," _sanitizers)
    target_compile_options(${target} PUBLIC -fsanitize=${_sanitizers} -fno-omit-frame-pointer
                                            -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=${_sanitizers})
  endif()
endfunction()
