# Installs the build into a temporary prefix, then configures, builds and runs a C++17 consumer
# (find_package(cpuattn CONFIG)) and a C consumer (pkg-config) against it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed")
endif()
foreach(consumer cxx c)
  set(src ${SOURCE_DIR}/tests/install/consumer_${consumer})
  set(bin ${WORK_DIR}/build_${consumer})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${src} -B ${bin} -G ${GENERATOR}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the ${consumer} consumer failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${bin} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the ${consumer} consumer failed")
  endif()
  # The pkg-config consumer links with -L only: point the loader at the prefix.
  file(GLOB_RECURSE libs ${WORK_DIR}/prefix/*libcpuattn.so*)
  set(libdirs "")
  foreach(l IN LISTS libs)
    get_filename_component(d ${l} DIRECTORY)
    list(APPEND libdirs ${d})
  endforeach()
  list(REMOVE_DUPLICATES libdirs)
  string(REPLACE ";" ":" ld_path "${libdirs}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${ld_path} ${bin}/consumer
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  message(STATUS "${consumer} consumer: ${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "running the ${consumer} consumer failed")
  endif()
endforeach()
