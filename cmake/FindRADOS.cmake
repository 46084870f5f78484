# FindRADOS: locates librados (C and C++ API). Debian ships no pkg-config
# file or CMake config for it, so search for the headers and library directly.
#
# Provides the imported target RADOS::rados and RADOS_FOUND.

find_path(RADOS_INCLUDE_DIR NAMES rados/librados.hpp)
find_library(RADOS_LIBRARY NAMES rados)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RADOS
  REQUIRED_VARS RADOS_LIBRARY RADOS_INCLUDE_DIR)

if(RADOS_FOUND AND NOT TARGET RADOS::rados)
  add_library(RADOS::rados UNKNOWN IMPORTED)
  set_target_properties(RADOS::rados PROPERTIES
    IMPORTED_LOCATION "${RADOS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RADOS_INCLUDE_DIR}")
endif()
mark_as_advanced(RADOS_INCLUDE_DIR RADOS_LIBRARY)
