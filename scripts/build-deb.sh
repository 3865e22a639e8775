#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# `make deb`: build sluice-store, sluice-agent and sluice-cli .deb files from
# packaging/debian with debhelper, in a clean copy of the tree under
# build/deb/, then run lintian on them (errors and warnings fail the build;
# accepted tags carry an override with its reason in packaging/debian/).
# DEB_LINTIAN=0 leaves lintian to the caller (tests/integration/test_packaging.sh
# runs it beside the install).
set -eu
# A package is always the release build: drop what an outer make passes down
# (make asan runs this through the packaging test with BUILD/SAN/OPT set).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES BUILD SAN OPT 2>/dev/null || true
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
rm -rf "$out"
mkdir -p "$out/sluice-0.1.0"
src=$out/sluice-0.1.0
tar -C "$top" --exclude=./build --exclude=./build-asan --exclude=./.git \
    --exclude=./tests/js/node_modules --exclude=./demo -cf - . | tar -C "$src" -xf -
cp -r "$src/packaging/debian" "$src/debian"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1) || {
    tail -n 60 "$out/build.log"
    echo "deb: dpkg-buildpackage failed; full log in $out/build.log" >&2
    exit 1
}
ls "$out"/*.deb
if [ "${DEB_LINTIAN:-1}" != 0 ]; then
    lintian --fail-on error,warning --profile debian "$out"/*.changes
fi
echo "deb: packages in $out"
