# cmake -P script: install, build the consumer against the install, run it under package_check;
# then find_package(AWSXRay COMPONENTS ...) for the integrations built and not built.
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

