# find_package with an error that says which Debian package to install.
macro(cpuattn_require package debian_package)
  find_package(${package} ${ARGN})
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR "cpuattn needs ${package}. On Debian/Ubuntu: "
                        "sudo apt-get install ${debian_package} (or run ./scripts/install-deps.sh)")
  endif()
endmacro()
