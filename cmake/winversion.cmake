# cs_version_resource(<target> <description>): the VERSIONINFO resource of a Windows
# executable, from the project's name and version (project() in CMakeLists.txt), the
# vendor and the copyright below, and cmake/version.rc.in; compiled by the resource
# compiler as the message table is (cmake/events.cmake).
#
# A build with CS_TEST_HOOKS or CS_SANITIZE is marked VS_FF_SPECIALBUILD with a
# SpecialBuild string, as its MSI is named "certsteward (TEST BUILD)".

set(CS_VENDOR "${PROJECT_NAME}" CACHE STRING
    "CompanyName of the Windows executables' version resource (printable ASCII, no double quote)")
set(CS_COPYRIGHT "Copyright (C) the ${PROJECT_NAME} authors" CACHE STRING
    "LegalCopyright of the Windows executables' version resource (printable ASCII, no double quote)")
set(CS_VERSION_RC_IN ${CMAKE_CURRENT_LIST_DIR}/version.rc.in)

function(cs_version_resource target description)
  # the strings go into the .rc between double quotes, in the code page windres assumes
  foreach(v CS_VENDOR CS_COPYRIGHT description)
    if(NOT "${${v}}" MATCHES "^[ !#-~]+$")
      message(FATAL_ERROR "${v} '${${v}}': the version resource takes printable ASCII without a double quote")
    endif()
  endforeach()
  # FILEVERSION has four 16-bit parts; project(VERSION) may give fewer
  foreach(part MAJOR MINOR PATCH TWEAK)
    set(n "${PROJECT_VERSION_${part}}")
    if(n STREQUAL "")
      set(n 0)
    endif()
    if(n GREATER 65535)
      message(FATAL_ERROR "version part ${part} (${n}) does not fit a FILEVERSION (at most 65535)")
    endif()
    set(CS_VI_${part} ${n})
  endforeach()
  set(CS_VI_NAME ${target})
  set(CS_VI_FILE ${target}${CMAKE_EXECUTABLE_SUFFIX})
  set(CS_VI_DESCRIPTION "${description}")
  set(CS_VI_FLAGS 0)
  set(CS_VI_SPECIAL "")
  if(CS_TEST_HOOKS OR CS_SANITIZE)
    set(CS_VI_FLAGS VS_FF_SPECIALBUILD)
    set(CS_VI_SPECIAL "      VALUE \"SpecialBuild\", \"TEST BUILD (test hooks or sanitizers): not for production\"")
  endif()
  set(rc ${CMAKE_CURRENT_BINARY_DIR}/cs_version/${target}.rc)
  configure_file(${CS_VERSION_RC_IN} ${rc} @ONLY)
  target_sources(${target} PRIVATE ${rc})
endfunction()
