# One object library per ISA, each compiled with its own flags; the library as a whole is built
# for baseline x86-64 and dispatches at run time.
set(CPUATTN_FLAGS_avx512 -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma -mbmi2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 false positive inside avx512fintrin.h (_mm512_undefined_ps).
  list(APPEND CPUATTN_FLAGS_avx512 -Wno-maybe-uninitialized -Wno-uninitialized)
endif()
set(CPUATTN_FLAGS_avx2 -mavx2 -mfma)
set(CPUATTN_FLAGS_sse42 -msse4.2)
set(CPUATTN_FLAGS_generic "")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  set(CPUATTN_ISAS avx512 avx2 sse42 generic)
else()
  message(FATAL_ERROR "cpuattn's kernels target x86-64 (xsimd sse2..avx512); "
                      "${CMAKE_SYSTEM_PROCESSOR} is not supported yet")
endif()

function(cpuattn_add_isa_objects target)
  foreach(isa IN LISTS CPUATTN_ISAS)
    add_library(cpuattn_isa_${isa} OBJECT ${PROJECT_SOURCE_DIR}/engine/isa/${isa}.cpp)
    target_compile_options(cpuattn_isa_${isa} PRIVATE ${CPUATTN_FLAGS_${isa}})
    target_include_directories(cpuattn_isa_${isa} PRIVATE ${PROJECT_SOURCE_DIR}/engine
                                                          ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(cpuattn_isa_${isa} PRIVATE xsimd cpuattn_warnings)
    set_target_properties(cpuattn_isa_${isa} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:cpuattn_isa_${isa}>)
    string(TOUPPER ${isa} ISA_UPPER)
    target_compile_definitions(${target} PRIVATE CPUATTN_HAVE_ISA_${ISA_UPPER})
  endforeach()
endfunction()
