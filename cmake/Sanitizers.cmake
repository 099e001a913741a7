# CPUATTN_SANITIZE=address (ASan + UBSan) or thread (TSan); applied to everything built here.
set(CPUATTN_SANITIZE "" CACHE STRING "Sanitizer build: '', address or thread")
set_property(CACHE CPUATTN_SANITIZE PROPERTY STRINGS "" address thread)
if(CPUATTN_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(CPUATTN_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT CPUATTN_SANITIZE STREQUAL "")
  message(FATAL_ERROR "CPUATTN_SANITIZE must be empty, address or thread, not '${CPUATTN_SANITIZE}'")
endif()
