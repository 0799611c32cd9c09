# Warning, sanitizer and visibility flags, applied PRIVATE to the project's own targets only.

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

# Hidden visibility: a shared library exports only the declarations marked XRAY_EXPORT
# (include/xray/export.hpp), never xray::detail or the Boost templates it instantiates. Static
# builds get the same objects: visibility does not affect linking an archive into a program, and
# an application that links the archive into its own shared library does not re-export them
# either. tests/package checks the exported list (package.exported_symbols).
function(xray_set_visibility target)
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()

# A shared library exports symbols of namespace xray only (cmake/awsxray.version): the vague-linkage
# symbols that hidden visibility cannot reach (Boost classes that ask for default visibility,
# std::thread states of xray::detail classes) stay inside too. Only affects linking a shared
# library; the core's target and the exported-symbol check's library use it.
set(XRAY_EXPORTS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/awsxray.version")
function(xray_limit_exports target)
  target_link_options(${target} PRIVATE "LINKER:--version-script=${XRAY_EXPORTS_SCRIPT}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${XRAY_EXPORTS_SCRIPT}")
endfunction()
