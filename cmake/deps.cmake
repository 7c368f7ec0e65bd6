# Dependencies: OpenSSL 3 (FindOpenSSL), libuv and inih (pkg-config, else a
# CMake package or a plain find, which is what MSVC + vcpkg provides).
# Each ends up as an imported target: OpenSSL::SSL / OpenSSL::Crypto, cs::uv, cs::inih.

find_package(OpenSSL 3.0 REQUIRED)
find_package(PkgConfig QUIET)

# cJSON: only the tests use it, to read the --json output back.
if(PkgConfig_FOUND)
  pkg_check_modules(CJSON QUIET IMPORTED_TARGET libcjson)
endif()

# libuv
if(PkgConfig_FOUND)
  pkg_check_modules(LIBUV QUIET IMPORTED_TARGET libuv)
endif()
if(TARGET PkgConfig::LIBUV)
  add_library(cs::uv ALIAS PkgConfig::LIBUV)
else()
  find_package(libuv CONFIG QUIET)
  if(TARGET libuv::uv_a)
    add_library(cs::uv ALIAS libuv::uv_a)
  elseif(TARGET uv_a)
    add_library(cs::uv ALIAS uv_a)
  elseif(TARGET libuv::uv)
    add_library(cs::uv ALIAS libuv::uv)
  else()
    message(FATAL_ERROR "libuv not found (Debian: libuv1-dev; vcpkg: libuv)")
  endif()
endif()

# inih
if(PkgConfig_FOUND)
  pkg_check_modules(INIH QUIET IMPORTED_TARGET inih)
endif()
if(TARGET PkgConfig::INIH)
  add_library(cs::inih ALIAS PkgConfig::INIH)
  set(CS_INIH_CHECK_LIBS ${INIH_LINK_LIBRARIES})
  set(CS_INIH_CHECK_INCS ${INIH_INCLUDE_DIRS})
else()
  find_path(INIH_INCLUDE_DIR ini.h)
  find_library(INIH_LIBRARY NAMES inih libinih)
  if(NOT INIH_INCLUDE_DIR OR NOT INIH_LIBRARY)
    message(FATAL_ERROR "inih not found (Debian: libinih-dev; vcpkg: inih)")
  endif()
  add_library(cs_inih_lib UNKNOWN IMPORTED)
  set_target_properties(cs_inih_lib PROPERTIES IMPORTED_LOCATION "${INIH_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${INIH_INCLUDE_DIR}")
  add_library(cs::inih ALIAS cs_inih_lib)
  set(CS_INIH_CHECK_LIBS ${INIH_LIBRARY})
  set(CS_INIH_CHECK_INCS ${INIH_INCLUDE_DIR})
endif()

# Debian's libinih turns the compile-time options into run-time globals
# (ini_max_line, ini_use_stack); upstream inih keeps them compile-time only.
# Find out which one we have so common/config.c can set the line limit either way.
include(CheckCSourceCompiles)
include(CMakePushCheckState)
cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_LIBRARIES ${CS_INIH_CHECK_LIBS})
set(CMAKE_REQUIRED_INCLUDES ${CS_INIH_CHECK_INCS})
check_c_source_compiles("
#include <ini.h>
int main(void) { ini_use_stack = 0; ini_allow_realloc = 0; ini_max_line = 4096; return 0; }"
  CS_INIH_RUNTIME_OPTIONS)
cmake_pop_check_state()
