#!/usr/bin/env bash
# Sourced by the README's scripts: installs what is missing, then configures
# (once) and compiles the build directory $build_dir, from the source root.
# Environment: AG_BUILD_DIR (default: build), AG_SKIP_DEPS=1 to skip
#              installing packages.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir="${AG_BUILD_DIR:-build}"

if [ "${AG_SKIP_DEPS:-0}" != 1 ]; then
  bash build-aux/install-deps.sh
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir"
fi
meson compile -C "$build_dir"
