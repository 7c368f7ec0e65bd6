# Warnings (and sanitizers) for the project's own targets only: dependencies are
# built by their own rules. Call cs_target_flags(target) on every project target.

if(MSVC)
  set(CS_WARN_FLAGS /W4)
  if(CS_WERROR)
    list(APPEND CS_WARN_FLAGS /WX)
  endif()
else()
  set(CS_WARN_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
      -Wmissing-prototypes -Wwrite-strings -Wcast-qual -Wvla -Wno-unused-parameter)
  if(CS_WERROR)
    list(APPEND CS_WARN_FLAGS -Werror)
  endif()
endif()

if(CS_SANITIZE OR CS_FUZZ)
  if(MSVC)
    message(FATAL_ERROR "CS_SANITIZE and CS_FUZZ are for GCC and Clang builds")
  endif()
  set(CS_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()
if(CS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CS_FUZZ needs clang (libFuzzer): CC=clang cmake ...")
  endif()
  list(APPEND CS_SAN_FLAGS -fsanitize=fuzzer-no-link) # coverage for the libraries too
endif()

function(cs_target_flags target)
  target_compile_options(${target} PRIVATE ${CS_WARN_FLAGS} ${CS_SAN_FLAGS})
  if(CS_SAN_FLAGS)
    target_link_options(${target} PRIVATE ${CS_SAN_FLAGS})
  endif()
  if(WIN32)
    # Unicode Win32 API, Windows 10 / Server 2016 as the floor.
    target_compile_definitions(${target} PRIVATE UNICODE _UNICODE _WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN)
    if(MINGW)
      # C99 printf (%zu, %lld) from MinGW's own stdio rather than msvcrt's
      target_compile_definitions(${target} PRIVATE __USE_MINGW_ANSI_STDIO=1)
      # File names in assertions and debug information relative to the source and build
      # folders: no path of the build machine in what is shipped (scripts/win-build.sh checks).
      target_compile_options(${target} PRIVATE -ffile-prefix-map=${CMAKE_SOURCE_DIR}/=
                                               -ffile-prefix-map=${CMAKE_BINARY_DIR}/=)
    endif()
  else()
    target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  endif()
endfunction()
