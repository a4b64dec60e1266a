#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tools and the tests need.
# Kept in one place so README, CI and developers install the same set.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  # build
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libgnutls28-dev nettle-dev libpixman-1-dev zlib1g-dev libsasl2-dev
  nlohmann-json3-dev libjpeg62-turbo-dev libpng-dev libcmocka-dev
  # -k LAYOUT keymaps: xkbcommon and the layouts it compiles
  libxkbcommon-dev xkb-data
  # real peers and fixtures used by the tests
  python3 python3-gi gir1.2-gtk-vnc-2.0 libgvnc-1.0-dev libvncserver-dev
  gnutls-bin sasl2-bin libsasl2-modules binutils
  # SASL tests: a throwaway MIT Kerberos KDC and the GSSAPI SASL plugin
  krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit
  # TLS tests: TigerVNC under Xvfb, typing (xdotool), screenshots (import), unshare
  tigervnc-viewer xvfb x11-utils xdotool imagemagick util-linux
  # encoding tests (tests/integration/enc): an X clipboard owner for TigerVNC
  xclip
  # net tests: noVNC in Debian's Chromium (driven by playwright-core from npm,
  # which tests/integration/net/setup-node.sh installs; no browser download)
  chromium
  # benchmark kit peers (tests/bench/peers, built only when found): neatvnc
  # (+ aml, libdrm for its .pc), TigerVNC's Xvnc and its X client (Xext/MIT-SHM)
  libneatvnc-dev libaml-dev libdrm-dev tigervnc-standalone-server libx11-dev libxext-dev
  # qvnc-dbus tests: a real QEMU with its D-Bus display (ui-dbus.so is in
  # qemu-system-common), a private bus, and as/ld (binutils) for the boot-sector guest;
  # the same QEMU is the benchmark kit's qemu peer (its guest needs only gcc and ld)
  qemu-system-x86 dbus-daemon
  # libFuzzer targets (tests/fuzz/run.sh): clang with its fuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev
)
# Node.js and npm for that test: Debian's, unless the machine already has them
# (a NodeSource nodejs ships npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
