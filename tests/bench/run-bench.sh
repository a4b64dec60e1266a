#!/bin/sh
# The benchmark table in one command (see README.md here):
#   tests/bench/run-bench.sh [-C BUILD] [--seconds N] [--workloads desktop,cursor]
#                            [--encodings raw,zrle] [--servers qvnc,libvncserver,neatvnc,xvnc]
#                            [--fps F] [--json FILE] [--no-continuous]
# BUILD defaults to $QVNC_BUILD, else build/ in the source tree; it needs
# qvnc-emu, bench-client and vfr-frames built (peers are optional).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${QVNC_BUILD:-$here/../../build}
if [ "$1" = "-C" ]; then
  build=$2
  shift 2
fi
exec /usr/bin/python3 "$here/run_bench.py" --build "$build" "$@"
