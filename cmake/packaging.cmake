# The Debian package (CPack DEB): `cd build/native && cpack -G DEB` writes
# build/native/certsteward_<version>_<arch>.deb. It holds
#   /usr/bin/certsteward, /usr/bin/certsteward-worker  (one folder: the daemon finds its worker there)
#   /etc/certsteward/certsteward.ini                    (conffile: an admin's edits survive upgrades)
#   /lib/systemd/system/certsteward.service             (installer/certsteward.service)
#   /usr/share/doc/certsteward/README.md, events.md
#   /usr/share/certsteward/ca-helpers/step-ca         (a CA helper for [request] route = command)
# and the maintainer scripts of installer/debian/ (postinst makes /var/lib/certsteward
# and its drop folder 0700; postrm purge removes configuration and state).
# Depends is computed by dpkg-shlibdeps from the binaries.
#
# The configuration, unit and documents are an install component of their own,
# excluded from a plain `cmake --install` (which must not overwrite
# /etc/certsteward/certsteward.ini); only the package installs them.
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  return()
endif()

set(CS_PKG_DIR ${PROJECT_SOURCE_DIR}/installer)

# Without dpkg-shlibdeps CPack writes a package with no Depends at all, silently;
# without file(1) it stops.
find_program(CS_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(CS_FILE_PROGRAM file)
if(NOT CS_DPKG_SHLIBDEPS OR NOT CS_FILE_PROGRAM)
  message(WARNING "dpkg-shlibdeps or file is missing (Debian packages dpkg-dev, file): "
                  "cpack -G DEB would fail or write a package without its Depends")
endif()
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(FILES ${PROJECT_SOURCE_DIR}/conf/certsteward.ini DESTINATION /etc/certsteward
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CS_PKG_DIR}/certsteward.service DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/events.md
        DESTINATION share/doc/certsteward
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ COMPONENT deb EXCLUDE_FROM_ALL)

# The CA helpers for [request] route = command (certmonger's contract): run by root, so
# root-owned and only root may change them
install(PROGRAMS ${PROJECT_SOURCE_DIR}/conf/ca-helpers/step-ca DESTINATION share/certsteward/ca-helpers
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE
        COMPONENT deb EXCLUDE_FROM_ALL)

# Every file under /etc is a conffile; dpkg keeps an admin's changes across upgrades
# and removes them on purge only.
set(CS_PKG_CONFFILES ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles)
file(WRITE ${CS_PKG_CONFFILES} "/etc/certsteward/certsteward.ini\n")

set(CPACK_PACKAGE_NAME certsteward)
set(CPACK_PACKAGE_VENDOR certsteward)
set(CPACK_PACKAGE_CONTACT "certsteward maintainers <root@localhost>" CACHE STRING
    "Maintainer field of the Debian package")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps a TLS server's certificate in service")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# the binaries (default component) and the files above; nothing else
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};${PROJECT_NAME};Unspecified;/"
    "${CMAKE_BINARY_DIR};${PROJECT_NAME};deb;/")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CS_PKG_CONFFILES} ${CS_PKG_DIR}/debian/postinst ${CS_PKG_DIR}/debian/prerm ${CS_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# the extended description; the summary above is its first line
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "An admin drops a renewed certificate (PFX, PEM or DER) into a folder; certsteward checks
that it fits, installs it, grants the service account READ on the private key, rewrites
the files that name the thumbprint, restarts the service, proves the new certificate is
served, and rolls everything back if any step fails.")

# A test build (a movable clock, sanitizers) must never pass for a release: its
# version sorts before the release's ("~test") and its description says so.
if(CS_TEST_HOOKS OR CS_SANITIZE OR CS_TSAN)
  set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}~test")
  string(APPEND CPACK_DEBIAN_PACKAGE_DESCRIPTION "
.
TEST BUILD (CS_TEST_HOOKS, CS_SANITIZE or CS_TSAN): not for production.")
endif()

include(CPack)
