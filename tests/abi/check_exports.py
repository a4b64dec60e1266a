#!/usr/bin/env python3
"""ABI check on the built shared library.

usage: check_exports.py LIBQVNC.so HEADER.h...

* every dynamic symbol the library defines starts with qvnc_ (version nodes
  such as QVNC_1.0 and the linker's own _init/_fini/_edata/_end/__bss_start
  are tolerated);
* every function a header declares with QVNC_API is defined and exported
  under the QVNC_1.0 version node;
* nothing else leaks (no C++ symbols, no statically linked dependencies).
"""
import re
import subprocess
import sys

LINKER_SYMBOLS = {'_init', '_fini', '_edata', '_end', '__bss_start'}


def main():
    if len(sys.argv) < 3:
        print('usage: check_exports.py LIB HEADER...', file=sys.stderr)
        return 2
    lib, headers = sys.argv[1], sys.argv[2:]
    out = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True)
    if out.returncode != 0:
        print('nm failed: %s' % out.stderr, file=sys.stderr)
        return 1
    defined = {}
    bad = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, sym = parts[-2], parts[-1]
        name, _, version = sym.partition('@')
        version = version.lstrip('@')
        if kind == 'A' and re.fullmatch(r'QVNC_[0-9]+(\.[0-9]+)*', name):
            continue  # version node
        if name in LINKER_SYMBOLS:
            continue
        if not name.startswith('qvnc_'):
            bad.append('%s (%s)' % (sym, kind))
            continue
        defined[name] = (kind, version)
    declared = set()
    for h in headers:
        text = open(h, encoding='utf-8').read()
        # QVNC_API <return type> <name>(  -- possibly across lines, possibly returning a pointer
        for m in re.finditer(r'\bQVNC_API\b[^;(]*?\b(qvnc_[A-Za-z0-9_]+)\s*\(', text):
            declared.add(m.group(1))
    missing = sorted(n for n in declared if n not in defined)
    not_functions = sorted(n for n in declared if n in defined and defined[n][0] not in ('T', 'W', 'i'))
    unversioned = sorted(n for n in declared if n in defined and not defined[n][1].startswith('QVNC_1.0'))
    ok = True
    if bad:
        ok = False
        print('symbols exported without the qvnc_ prefix (%d):' % len(bad))
        for b in bad[:50]:
            print('  ' + b)
    if not declared:
        ok = False
        print('no QVNC_API declarations found in %s' % ' '.join(headers))
    if missing:
        ok = False
        print('declared in the public headers but not exported by %s (%d): %s'
              % (lib, len(missing), ', '.join(missing)))
    if not_functions:
        ok = False
        print('exported but not as functions: %s' % ', '.join(not_functions))
    if unversioned:
        ok = False
        print('exported without the QVNC_1.0 version node: %s' % ', '.join(unversioned))
    extra = sorted(n for n in defined if n not in declared)
    if extra:
        print('note: exported qvnc_ symbols not declared in the public headers: %s' % ', '.join(extra))
    print('%d symbols declared, %d exported' % (len(declared), len(defined)))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
