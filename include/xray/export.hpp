// xray/export.hpp: XRAY_EXPORT, the mark on every declaration the SDK's libraries export.
//
// The SDK and its integrations are compiled with hidden visibility (-fvisibility=hidden
// -fvisibility-inlines-hidden), so libawsxray.so exports only the declarations that carry this mark:
// the classes and free functions of the public headers. Internals (xray::detail) and the template
// instantiations of private dependencies (Boost) stay inside the library, so an application built
// against another Boost cannot bind to the SDK's copies. A new public class or free function that
// the library defines gets the mark too:
//
//   class XRAY_EXPORT Recorder { ... };
//   XRAY_EXPORT Context current_context() noexcept;
//
// Types defined entirely in the header (plain structs, inline-only classes) need no mark. For
// consumers the mark changes nothing: default visibility is what ELF gives their own symbols
// anyway, whether they link the static archive or the shared library.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define XRAY_EXPORT __attribute__((visibility("default")))
#else
#define XRAY_EXPORT
#endif
