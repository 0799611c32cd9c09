# Install rules: headers, library, CMake package (AWSXRayConfig + version), pkg-config file and a
# build-tree export so the build directory itself can be found with find_package.
include(CMakePackageConfigHelpers)

set(XRAY_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/AWSXRay")

install(DIRECTORY include/xray DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# The integrations (integrations/CMakeLists.txt) share the export set; the config file looks up
# their dependencies only if they were built.
set(XRAY_INSTALL_TARGETS xray)
set(XRAY_PACKAGE_BEAST OFF)  # substituted into AWSXRayConfig.cmake
set(XRAY_PACKAGE_CURL OFF)
if(TARGET xray_beast)
  list(APPEND XRAY_INSTALL_TARGETS xray_beast)
  set(XRAY_PACKAGE_BEAST ON)
endif()
if(TARGET xray_curl)
  list(APPEND XRAY_INSTALL_TARGETS xray_curl)
  set(XRAY_PACKAGE_CURL ON)
endif()
install(TARGETS ${XRAY_INSTALL_TARGETS} EXPORT AWSXRayTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT AWSXRayTargets NAMESPACE AWSXRay:: DESTINATION "${XRAY_CMAKE_DIR}")

configure_package_config_file(cmake/AWSXRayConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/AWSXRayConfig.cmake" INSTALL_DESTINATION "${XRAY_CMAKE_DIR}")
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/AWSXRayConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/AWSXRayConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/AWSXRayConfigVersion.cmake"
        DESTINATION "${XRAY_CMAKE_DIR}")

export(EXPORT AWSXRayTargets NAMESPACE AWSXRay::
       FILE "${CMAKE_CURRENT_BINARY_DIR}/AWSXRayTargets.cmake")

configure_file(cmake/awsxray.pc.in "${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
