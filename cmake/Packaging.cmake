# Debian packages (CPack DEB): xo-ceph-gateway and xo-ceph-responder, one per
# install() component. Each holds its daemon in /usr/bin, its systemd unit,
# the xo user (sysusers.d) and the bpffs pin directory (tmpfiles.d) under its
# own file names (dpkg refuses two packages owning one path; both files say
# the same thing and either suffices), and maintainer scripts that apply them.
# Depends comes from dpkg-shlibdeps on the stripped binaries, so it names the
# libraries they really link (librados2, libbpf1, libnl, libssl3, Boost).
#
#   cmake --build build --target xo-gateway xo-responder
#   (cd build && cpack -G DEB)        # build/xo-ceph-{gateway,responder}_<v>_<arch>.deb
#
# scripts/systemd/ holds the units and the files they need; qa/packaging/
# checks the packages.

set(XO_SYSTEMD_DIR ${PROJECT_SOURCE_DIR}/scripts/systemd)

# xo_package(<component> <package> <target> <unit file> <unit glob>)
function(xo_package component package target unit glob)
  install(TARGETS ${target} RUNTIME DESTINATION bin COMPONENT ${component})
  install(FILES ${XO_SYSTEMD_DIR}/${unit} DESTINATION lib/systemd/system COMPONENT ${component})
  install(FILES ${XO_SYSTEMD_DIR}/xo.sysusers DESTINATION lib/sysusers.d RENAME ${package}.conf
          COMPONENT ${component})
  install(FILES ${XO_SYSTEMD_DIR}/xo.tmpfiles DESTINATION lib/tmpfiles.d RENAME ${package}.conf
          COMPONENT ${component})

  set(XO_PACKAGE ${package})
  set(XO_UNIT ${unit})
  set(XO_UNIT_GLOB ${glob})
  set(scripts)
  foreach(script postinst prerm postrm)
    configure_file(${XO_SYSTEMD_DIR}/${script}.in ${CMAKE_BINARY_DIR}/packaging/${component}/${script}
                   @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                   WORLD_READ WORLD_EXECUTE)
    list(APPEND scripts ${CMAKE_BINARY_DIR}/packaging/${component}/${script})
  endforeach()
  string(TOUPPER ${component} c)
  set(CPACK_DEBIAN_${c}_PACKAGE_NAME ${package} PARENT_SCOPE)
  set(CPACK_DEBIAN_${c}_PACKAGE_CONTROL_EXTRA ${scripts} PARENT_SCOPE)
  set(CPACK_DEBIAN_${c}_PACKAGE_CONTROL_STRICT_PERMISSION ON PARENT_SCOPE)
endfunction()

xo_package(gateway xo-ceph-gateway xo-gateway xo-gateway@.service "xo-gateway@*.service")
set(CPACK_DEBIAN_GATEWAY_DESCRIPTION "XO-Ceph gateway: offloads radosgw S3 GETs to the OSD hosts
xo-gateway sits in front of radosgw, lets it authorize each GET and hands
the client's TCP (and TLS) connection to the xo-responder on the host of
the object's primary OSD. Enabled by an `xo` entry in `rgw frontends`;
run as xo-gateway@<rgw id>.service.")

xo_package(responder xo-ceph-responder xo-responder xo-responder.service xo-responder.service)
install(FILES ${XO_SYSTEMD_DIR}/xo-responder.default DESTINATION /etc/default RENAME xo-responder
        COMPONENT responder)
# /etc/default/xo-responder is the operator's: a conffile, kept on upgrade and remove.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/responder/conffiles "/etc/default/xo-responder\n")
list(APPEND CPACK_DEBIAN_RESPONDER_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/packaging/responder/conffiles)
set(CPACK_DEBIAN_RESPONDER_DESCRIPTION "XO-Ceph responder: serves offloaded S3 GETs from RADOS
xo-responder runs on each OSD host, takes over client connections that
xo-gateway hands off and streams the objects from RADOS to the clients in
the gateway's name. Run as xo-responder.service, flags in
/etc/default/xo-responder.")

# cpack packs what is built: it does not build every target (tests,
# benchmarks) first, so only the two daemons need building before it.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL gateway responder)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "XO-Ceph maintainers <xo-ceph@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The units need systemd's sysusers/tmpfiles; adduser is the fallback without it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
include(CPack)
