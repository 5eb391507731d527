#!/usr/bin/env bash
# Install the Debian 12 packages that asyncgui's build, tests, demo, docs
# and CI need. Idempotent: packages already installed are left alone, and
# `apt-get update` runs only when something is missing.
#
# Usage: bash build-aux/install-deps.sh [EXTRA-PACKAGE...]
# Runs as root, or through sudo when not root.
set -euo pipefail

packages=(
  # build; gettext's xgettext and msgfmt also run in the catalogue tests.
  # The translation tests use the C.UTF-8 locale, which libc-bin (always
  # installed) provides, so no locale needs generating.
  meson ninja-build pkg-config gcc libc6-dev gettext
  libglib2.0-dev libglib2.0-bin libgtk-4-dev
  # introspection, bindings and their tests
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gir1.2-gtk-4.0
  python3 python3-gi python3-trio gjs valac
  # the Python override's stub, checked by mypy (tests/python/test_typing.py)
  python3-mypy
  # sandboxed workers: bwrap runs them, libseccomp builds their filter
  bubblewrap libseccomp-dev
  # asyncgui in a Qt application (tests/python/test_qt.py) and in a
  # headless GNOME Shell (tests/shell/test_extension.py)
  python3-pyqt6 gnome-shell
  # sanitizer builds with clang as well as gcc
  clang libclang-rt-14-dev
  # API reference, and a browser to check it as rendered
  gi-docgen gir1.2-webkit2-4.1
  # headless GTK: X server (and xprop, to test it), session bus, GL (llvmpipe),
  # icons (SVG loader), fonts
  xvfb xauth x11-utils dbus libgtk-4-bin libgl1-mesa-dri librsvg2-common
  adwaita-icon-theme fonts-cantarell fonts-dejavu-core
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: not root and no sudo; please install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
