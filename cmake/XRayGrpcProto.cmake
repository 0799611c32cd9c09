# xray_grpc_proto_library(<target> <file.proto>): a small static library of the protobuf and gRPC
# code protoc generates for <file.proto> at build time (protoc + grpc_cpp_plugin, both from Debian's
# protobuf-compiler-grpc), so the generated code is compiled once for every program that uses it.
# Its include directory is the generated one: `#include "<name>.grpc.pb.h"`. Nothing is done when
# the target exists already (the tests and the benchmark share one).
#
# The generated code is compiled with the project's sanitizers except ThreadSanitizer: like
# libprotobuf itself it belongs to the protobuf runtime, and the hand-offs of messages between
# threads happen inside libgrpc, which is not TSan-built and whose synchronisation TSan cannot see.
function(xray_grpc_proto_library target proto)
  if(TARGET ${target})
    return()
  endif()
  # Imported targets are local to the directory that found them (integrations/): look again here.
  if(NOT TARGET gRPC::grpc++)
    find_package(gRPC CONFIG REQUIRED)
  endif()
  if(TARGET protobuf::protoc)
    set(protoc $<TARGET_FILE:protobuf::protoc>)
  else()
    find_program(XRAY_PROTOC protoc REQUIRED)
    set(protoc ${XRAY_PROTOC})
  endif()
  if(TARGET gRPC::grpc_cpp_plugin)
    set(plugin $<TARGET_FILE:gRPC::grpc_cpp_plugin>)
  else()
    find_program(XRAY_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
    set(plugin ${XRAY_GRPC_CPP_PLUGIN})
  endif()
  get_filename_component(proto "${proto}" ABSOLUTE)
  get_filename_component(proto_dir "${proto}" DIRECTORY)
  get_filename_component(name "${proto}" NAME_WE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(generated "${out}/${name}.pb.cc" "${out}/${name}.pb.h" "${out}/${name}.grpc.pb.cc"
                "${out}/${name}.grpc.pb.h")
  add_custom_command(
    OUTPUT ${generated}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${out}"
    COMMAND ${protoc} "--proto_path=${proto_dir}" "--cpp_out=${out}" "--grpc_out=${out}"
            "--plugin=protoc-gen-grpc=${plugin}" "${proto}"
    DEPENDS "${proto}"
    COMMENT "protoc: ${name}.proto (protobuf and gRPC)"
    VERBATIM)
  # Under TSan a shared library, so that tests/tsan_suppressions.txt can name it (called_from_lib):
  # the free and memcpy calls this generated code makes on messages that libgrpc hands between
  # threads are otherwise reported, the hand-off itself being invisible to TSan.
  set(kind STATIC)
  if("thread" IN_LIST XRAY_SANITIZE)
    set(kind SHARED)
  endif()
  add_library(${target} ${kind} "${out}/${name}.pb.cc" "${out}/${name}.grpc.pb.cc")
  target_include_directories(${target} SYSTEM PUBLIC "${out}")
  target_link_libraries(${target} PUBLIC gRPC::grpc++ protobuf::libprotobuf)
  if(NOT "thread" IN_LIST XRAY_SANITIZE)
    xray_set_sanitizers(${target})
  endif()
endfunction()
