# xray_add_integration: one call adds an integration (integrations/CMakeLists.txt).
#
#   xray_add_integration(<name> PACKAGE <find_package arguments...> SOURCES <files...>
#                        [LINK <targets...>] [DEFINITIONS <definitions...>] [DESCRIPTION <text>])
#
# Declares the option XRAY_WITH_<NAME>, on by default when find_package(<PACKAGE> QUIET) finds the
# dependency, so a machine without it still builds the core and the other integrations. When the
# option is on (an explicit ON fails the configure if the dependency is missing), adds the library
# xray_<name>: alias AWSXRay::<name>, file libawsxray_<name>, linking AWSXRay::xray and LINK
# publicly (the integration's public header uses them), compiled like the core (warnings,
# sanitizers, hidden visibility: mark its public API with XRAY_EXPORT). The install rules
# (cmake/XRayInstall.cmake) add it to the export set, and the installed AWSXRayConfig.cmake offers
# it as a component that looks up <PACKAGE> again. Tests and examples check `if(TARGET xray_<name>)`.

function(xray_add_integration name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DESCRIPTION" "PACKAGE;SOURCES;LINK;DEFINITIONS")
  if(NOT arg_PACKAGE OR NOT arg_SOURCES)
    message(FATAL_ERROR "xray_add_integration(${name}): PACKAGE and SOURCES are required")
  endif()
  string(TOUPPER "${name}" upper)
  set(option XRAY_WITH_${upper})
  list(GET arg_PACKAGE 0 package)
  if(NOT DEFINED ${option})
    find_package(${arg_PACKAGE} QUIET)
    set(default OFF)
    if(${package}_FOUND)
      set(default ON)
    endif()
  endif()
  if(NOT arg_DESCRIPTION)
    set(arg_DESCRIPTION "${name}")
  endif()
  option(${option} "Build the ${arg_DESCRIPTION} integration, AWSXRay::${name} (needs ${package})"
         ${default})
  if(NOT ${option})
    message(STATUS "AWSXRay: ${name} integration off (${option}=OFF; needs ${package})")
    set_property(GLOBAL APPEND PROPERTY XRAY_INTEGRATIONS_OFF ${name})
    return()
  endif()
  find_package(${arg_PACKAGE} REQUIRED)

  set(target xray_${name})
  list(TRANSFORM arg_SOURCES PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  add_library(${target} ${arg_SOURCES})
  add_library(AWSXRay::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME awsxray_${name}
    EXPORT_NAME ${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}
    POSITION_INDEPENDENT_CODE ON)
  xray_set_visibility(${target})
  # integrations/common/ holds helpers the integrations share (not installed); they build on the
  # core's header-only base helpers (src/base/).
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/integrations"
                                                "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(${target} PUBLIC AWSXRay::xray ${arg_LINK})
  if(arg_DEFINITIONS)
    target_compile_definitions(${target} PRIVATE ${arg_DEFINITIONS})
  endif()
  xray_set_warnings(${target})
  xray_set_sanitizers(${target})

  # For the install rules: which integrations exist and what their config-file lookup is.
  set_property(GLOBAL APPEND PROPERTY XRAY_INTEGRATIONS ${name})
  set_property(GLOBAL PROPERTY XRAY_INTEGRATION_PACKAGE_${name} "${arg_PACKAGE}")
endfunction()
