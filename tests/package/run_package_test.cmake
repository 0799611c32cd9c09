# cmake -P script: install, build the consumer against the install twice (find_package(AWSXRay), and
# the `pkg-config --cflags --libs awsxray` line), run each under package_check.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}\n${out}")
  endif()
endfunction()

run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer" -G Ninja
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
run("${CHECK}" "${WORK_DIR}/consumer/consumer")
message(STATUS "find_package consumer delivered the expected document")

# find_package(AWSXRay REQUIRED COMPONENTS ...): every integration that was built is found (with its
# imported target); one that was not built fails the configure.
function(configure_components name components)
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}/../components"
                          -B "${WORK_DIR}/components-${name}" -G Ninja "-DCMAKE_PREFIX_PATH=${prefix}"
                          "-DCOMPONENTS=${components}"
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(result ${result} PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
endfunction()
string(REPLACE "," ";" components "${COMPONENTS}")
configure_components(built "${components}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "find_package(AWSXRay REQUIRED COMPONENTS ${components}) failed:\n${out}")
endif()
string(REPLACE "," ";" not_built "${COMPONENTS_NOT_BUILT}")
foreach(component IN LISTS not_built)
  configure_components(${component} "${component}")
  if(result EQUAL 0)
    message(FATAL_ERROR "find_package(AWSXRay REQUIRED COMPONENTS ${component}) succeeded, "
                        "but ${component} was not built")
  endif()
endforeach()
message(STATUS "find_package(AWSXRay REQUIRED COMPONENTS ${components}) found them; "
               "not built, not found: ${not_built}")

# The pkg-config line as given, for whichever library was installed (static or shared). A shared
# library outside the loader's search path needs an rpath, as it would for any consumer.
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs awsxray
                RESULT_VARIABLE result OUTPUT_VARIABLE line ERROR_VARIABLE error
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs awsxray failed: ${error}")
endif()
message(STATUS "pkg-config --cflags --libs awsxray: ${line}")
separate_arguments(flags UNIX_COMMAND "${line}")
set(rpath "")
if(EXISTS "${prefix}/${LIBDIR}/libawsxray.so")
  set(rpath "-Wl,-rpath,${prefix}/${LIBDIR}")
endif()
run("${CXX}" -std=c++17 "${CONSUMER_DIR}/main.cpp" -o "${WORK_DIR}/consumer-pkg-config" ${flags}
    ${rpath})
run("${CHECK}" "${WORK_DIR}/consumer-pkg-config")
message(STATUS "pkg-config consumer delivered the expected document")
