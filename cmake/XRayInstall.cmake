# Install rules: headers, library, CMake package (AWSXRayConfig + version), pkg-config file and a
# build-tree export so the build directory itself can be found with find_package.
include(CMakePackageConfigHelpers)

set(XRAY_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/AWSXRay")

install(DIRECTORY include/xray DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# The integrations (xray_add_integration, cmake/XRayIntegrations.cmake) share the export set; the
# config file looks up the dependency of each one that was built, with the find_package arguments
# it was built with.
set(XRAY_INSTALL_TARGETS xray)
set(XRAY_CONFIG_INTEGRATIONS "")  # substituted into AWSXRayConfig.cmake
get_property(_xray_integrations GLOBAL PROPERTY XRAY_INTEGRATIONS)
foreach(_name IN LISTS _xray_integrations)
  get_property(_package GLOBAL PROPERTY XRAY_INTEGRATION_PACKAGE_${_name})
  list(GET _package 0 _package_name)
  list(JOIN _package " " _package_args)
  list(APPEND XRAY_INSTALL_TARGETS xray_${_name})
  string(APPEND XRAY_CONFIG_INTEGRATIONS
         "find_package(${_package_args} QUIET)\n"
         "set(AWSXRay_${_name}_FOUND \${${_package_name}_FOUND})\n")
endforeach()
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

# pkg-config: `pkg-config --cflags --libs awsxray` links the library that was installed. A static
# libawsxray.a needs OpenSSL on the link line (Libs); a shared one links it itself (Libs.private).
get_target_property(_xray_type xray TYPE)
if(_xray_type STREQUAL "STATIC_LIBRARY")
  set(XRAY_PC_LIBS "-lssl -lcrypto -lpthread")
  set(XRAY_PC_LIBS_PRIVATE "")
else()
  set(XRAY_PC_LIBS "-lpthread")
  set(XRAY_PC_LIBS_PRIVATE "-lssl -lcrypto")
endif()
# The prefix is the one given at install time (`cmake --install <build> --prefix <prefix>`), so the
# file is written in two passes: here everything else, at install time the prefix.
set(XRAY_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(XRAY_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(XRAY_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
configure_file(cmake/awsxray.pc.in "${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc.in" @ONLY)
install(CODE "configure_file(\"${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc.in\"
                             \"${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc\" @ONLY)")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/awsxray.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
