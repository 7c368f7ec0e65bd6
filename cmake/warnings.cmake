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
if(CS_TSAN)
  if(MSVC OR CS_SANITIZE OR CS_FUZZ)
    message(FATAL_ERROR "CS_TSAN is for GCC and Clang builds, without CS_SANITIZE or CS_FUZZ")
  endif()
  # ThreadSanitizer: data races between the loop thread and libuv's thread pool
  # (scripts/test.sh runs the unit and daemon tests with it)
  set(CS_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
endif()
if(CS_ANALYZER)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU" OR CMAKE_C_COMPILER_VERSION VERSION_LESS 12)
    message(FATAL_ERROR "CS_ANALYZER needs GCC 12 or later (-fanalyzer)")
  endif()
endif()
if(CS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CS_FUZZ needs clang (libFuzzer): CC=clang cmake ...")
  endif()
  list(APPEND CS_SAN_FLAGS -fsanitize=fuzzer-no-link) # coverage for the libraries too
endif()

function(cs_target_flags target)
  target_compile_options(${target} PRIVATE ${CS_WARN_FLAGS} ${CS_SAN_FLAGS})
  # The analyzer on the product's code only (common/, service/): the tests' own code and
  # the dependencies are not analysed. Its findings are warnings, errors with CS_WERROR.
  get_target_property(src_dir ${target} SOURCE_DIR)
  if(CS_ANALYZER AND (src_dir MATCHES "^${PROJECT_SOURCE_DIR}/(common|service)$"))
    target_compile_options(${target} PRIVATE -fanalyzer)
    # False "leak" reports, each checked by hand, in two files only: GCC 12's analyzer
    # loses a pointer once it is stored inside memory that was itself realloc()ed or
    # reached through a linked list, and then calls the allocation leaked.
    #  common/reply.c: a preflight line's array and strings are stored in the reply,
    #   which lives in m->items (realloc()ed per "file" line); cs_reply_free frees them.
    #  service/daemon.c: a job is linked into d->queue (enqueue walks the list), moved
    #   to d->running by pump and freed by after_work_cb or cs__daemon_free.
    #  service/daemon_drop.c: the tracked drops, d->drops, realloc()ed by scan as files
    #   appear; each name is freed by forget(), the array by cs__daemon_drops_free.
    # Leaks there are still caught at run time: LeakSanitizer runs the daemon's tests
    # (scripts/test.sh, the ASan suite) and the reply parser's fuzz target.
    get_target_property(srcs ${target} SOURCES)
    foreach(src IN LISTS srcs)
      if(src MATCHES "^(reply|daemon|daemon_drop)\\.c$")
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS -Wno-analyzer-malloc-leak)
      endif()
    endforeach()
  endif()
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
