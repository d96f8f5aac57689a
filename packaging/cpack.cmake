# Install layout and Debian package of sipbeat (CPack DEB generator).
#
# include()d from the top-level CMakeLists.txt once the `sipbeat` executable
# target exists and ${SIPBEAT_GEN_DIR} holds the generated sipbeat.yml and
# sipbeat.reference.yml. Layout and modes follow the Beats deb packages
# (reference/beats.md §10, SPEC §12):
#
#   /usr/share/sipbeat/bin/sipbeat          0755  the binary
#   /usr/share/sipbeat/kibana/              0644  dashboards, detection rules
#   /usr/bin/sipbeat                        0755  wrapper setting the --path.* flags
#   /etc/sipbeat/sipbeat.yml                0600  config (conffile)
#   /etc/sipbeat/sipbeat.reference.yml      0644  all options (conffile)
#   /etc/sipbeat/fields.yml                 0644  field definitions (conffile)
#   /lib/systemd/system/sipbeat.service     0644  systemd unit
#   /var/lib/sipbeat, /var/log/sipbeat      0750  data and logs (postinst chowns
#                                                 them to the sipbeat user)
#
# The destinations are absolute, as in the packages: `cpack -G DEB` (or
# `cmake --build <dir> --target package`) builds the .deb; a manual install
# should be staged with DESTDIR (DESTDIR=/tmp/stage cmake --install <dir>).

include_guard(GLOBAL)

if(NOT TARGET sipbeat OR NOT SIPBEAT_GEN_DIR)
  message(WARNING "packaging/cpack.cmake: no install rules and no package: include it "
                  "after the sipbeat target is defined and SIPBEAT_GEN_DIR is set")
  return()
endif()

set(_sipbeat_pkg_dir "${CMAKE_CURRENT_LIST_DIR}")

set(_sipbeat_mode_0755
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(_sipbeat_mode_0644 OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
set(_sipbeat_mode_0600 OWNER_READ OWNER_WRITE)
set(_sipbeat_mode_0750 OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)

# --- binary and wrapper -------------------------------------------------------
install(TARGETS sipbeat
        RUNTIME DESTINATION /usr/share/sipbeat/bin
        PERMISSIONS ${_sipbeat_mode_0755})
install(PROGRAMS "${_sipbeat_pkg_dir}/scripts/sipbeat.sh"
        DESTINATION /usr/bin
        RENAME sipbeat)

# --- configuration --------------------------------------------------------------
install(FILES "${SIPBEAT_GEN_DIR}/sipbeat.yml"
        DESTINATION /etc/sipbeat
        PERMISSIONS ${_sipbeat_mode_0600})
install(FILES "${SIPBEAT_GEN_DIR}/sipbeat.reference.yml"
        DESTINATION /etc/sipbeat
        PERMISSIONS ${_sipbeat_mode_0644})

if(EXISTS "${CMAKE_SOURCE_DIR}/fields/fields.yml")
  install(FILES "${CMAKE_SOURCE_DIR}/fields/fields.yml"
          DESTINATION /etc/sipbeat
          PERMISSIONS ${_sipbeat_mode_0644})
else()
  message(WARNING "packaging: ${CMAKE_SOURCE_DIR}/fields/fields.yml not found, "
                  "/etc/sipbeat/fields.yml will be missing from the package")
endif()

# --- kibana saved objects and detection rules ------------------------------------
if(IS_DIRECTORY "${CMAKE_SOURCE_DIR}/kibana")
  install(DIRECTORY "${CMAKE_SOURCE_DIR}/kibana/"
          DESTINATION /usr/share/sipbeat/kibana
          FILE_PERMISSIONS ${_sipbeat_mode_0644}
          DIRECTORY_PERMISSIONS ${_sipbeat_mode_0755})
else()
  message(WARNING "packaging: ${CMAKE_SOURCE_DIR}/kibana not found, "
                  "/usr/share/sipbeat/kibana will be missing from the package")
endif()

# --- documents next to the binary, as the Beats packages ship them -----------------
foreach(_doc README.md LICENSE LICENSE.txt NOTICE.txt)
  if(EXISTS "${CMAKE_SOURCE_DIR}/${_doc}")
    install(FILES "${CMAKE_SOURCE_DIR}/${_doc}"
            DESTINATION /usr/share/sipbeat
            PERMISSIONS ${_sipbeat_mode_0644})
  endif()
endforeach()

# --- index templates and index pattern generated from fields.yml --------------------
install(FILES "${SIPBEAT_GEN_DIR}/template-es8.json" "${SIPBEAT_GEN_DIR}/template-es7.json"
              "${SIPBEAT_GEN_DIR}/index-pattern.json"
        DESTINATION /usr/share/sipbeat/templates
        PERMISSIONS ${_sipbeat_mode_0644})

# --- systemd unit -------------------------------------------------------------------
install(FILES "${_sipbeat_pkg_dir}/systemd/sipbeat.service"
        DESTINATION /lib/systemd/system
        PERMISSIONS ${_sipbeat_mode_0644})

# --- empty data and log directories ------------------------------------------------
# An empty directory named like the target is installed into its parent, so
# that DIRECTORY_PERMISSIONS applies to the target itself.
set(_sipbeat_empty "${CMAKE_CURRENT_BINARY_DIR}/sipbeat-pkg-empty/sipbeat")
file(MAKE_DIRECTORY "${_sipbeat_empty}")
install(DIRECTORY "${_sipbeat_empty}"
        DESTINATION /var/lib
        DIRECTORY_PERMISSIONS ${_sipbeat_mode_0750})
install(DIRECTORY "${_sipbeat_empty}"
        DESTINATION /var/log
        DIRECTORY_PERMISSIONS ${_sipbeat_mode_0750})

# --- CPack: Debian package ------------------------------------------------------------
if(NOT CPACK_PACKAGE_VERSION)
  if(DEFINED SIPBEAT_VERSION AND NOT SIPBEAT_VERSION STREQUAL "")
    set(CPACK_PACKAGE_VERSION "${SIPBEAT_VERSION}")
  elseif(NOT PROJECT_VERSION STREQUAL "")
    set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
  endif()
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "sipbeat")
set(CPACK_PACKAGE_VENDOR "sipbeat developers")
set(CPACK_PACKAGE_CONTACT "sipbeat developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "SIP monitoring shipper compatible with Elastic Beats")
set(CPACK_PACKAGE_DESCRIPTION
    "sipbeat watches SIP signalling (live capture, pcap files, HEP) and turns it
into call, registration and per-message events for the Elastic stack. It
behaves like an Elastic Beat: same command line, configuration, outputs,
index templates and dashboards.")
# Everything is installed to absolute paths; nothing below the prefix.
set(CPACK_PACKAGING_INSTALL_PREFIX "/")

set(CPACK_DEBIAN_PACKAGE_NAME "sipbeat")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "sipbeat developers")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# adduser: postinst creates the sipbeat system user.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libpcap0.8, libyaml-cpp0.7, librdkafka1, libcurl4, libssl3, adduser")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_sipbeat_pkg_dir}/deb/postinst"
    "${_sipbeat_pkg_dir}/deb/conffiles")
# Control files get 0755 (scripts) / 0644 (conffiles) whatever the source mode.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
