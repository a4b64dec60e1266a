#!/usr/bin/env python3
"""Checks the QAPI schema subset in qapi/schema/*.json and embeds it in C++.

usage: gen-schema.py OUTPUT.cpp SCHEMA.json...

The schema files are strict JSON arrays plus whole-line "//" comments.  The
checks here run at build time, so a schema mistake fails the build instead
of a monitor command at run time:

* every entry has exactly one of enum / struct / union / command / event,
  and only the keys that kind allows;
* names are unique (types share one namespace, commands and events others);
* every type reference resolves (built-ins, enums, structs, unions, [T]);
* a union has an inline base holding its discriminator, an enum member,
  and its variants are values of that enum, each naming a struct;
* a boxed command names a struct or union.

The output defines qvnc::monitor::kSchemaJson: the entries of all files in
order, as one minified JSON array.
"""
import json
import sys

BUILTINS = {'str', 'int', 'int64', 'uint16', 'uint32', 'uint64', 'bool', 'number', 'any', 'null'}
ALLOWED = {
    'enum': {'enum', 'data'},
    'struct': {'struct', 'data', 'base'},
    'union': {'union', 'base', 'discriminator', 'data'},
    'command': {'command', 'data', 'returns', 'boxed'},
    'event': {'event', 'data'},
}


class SchemaError(Exception):
    pass


def load(path):
    with open(path, encoding='utf-8') as f:
        lines = [l for l in f if not l.lstrip().startswith('//')]
    try:
        entries = json.loads(''.join(lines))
    except json.JSONDecodeError as e:
        raise SchemaError('%s: %s' % (path, e))
    if not isinstance(entries, list):
        raise SchemaError('%s: the top level must be an array' % path)
    return [(path, e) for e in entries]


def kind_of(path, entry):
    if not isinstance(entry, dict):
        raise SchemaError('%s: entry %r is not an object' % (path, entry))
    kinds = [k for k in ALLOWED if k in entry]
    if len(kinds) != 1:
        raise SchemaError('%s: entry %r needs exactly one of %s' % (path, entry, sorted(ALLOWED)))
    kind = kinds[0]
    extra = set(entry) - ALLOWED[kind]
    if extra:
        raise SchemaError('%s: %s %s: unknown keys %s' % (path, kind, entry[kind], sorted(extra)))
    return kind


def check(entries):
    types, commands, events = {}, {}, {}
    for path, e in entries:
        kind = kind_of(path, e)
        name = e[kind]
        table = {'command': commands, 'event': events}.get(kind, types)
        if name in table or name in BUILTINS:
            raise SchemaError('%s: %s is defined twice' % (path, name))
        table[name] = (kind, e, path)

    def ref(where, t):
        if isinstance(t, list):
            if len(t) != 1:
                raise SchemaError('%s: array type %r must have one element type' % (where, t))
            return ref(where, t[0])
        if not isinstance(t, str):
            raise SchemaError('%s: bad type reference %r' % (where, t))
        if t not in BUILTINS and t not in types:
            raise SchemaError('%s: unknown type %s' % (where, t))
        return t

    def members(where, data):
        if not isinstance(data, dict):
            raise SchemaError('%s: members must be an object' % where)
        for m, t in data.items():
            if not m.lstrip('*'):
                raise SchemaError('%s: empty member name' % where)
            ref('%s.%s' % (where, m), t)

    for name, (kind, e, path) in types.items():
        where = '%s: %s' % (path, name)
        if kind == 'enum':
            vals = e.get('data')
            if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals) \
                    or len(set(vals)) != len(vals):
                raise SchemaError('%s: enum values must be distinct strings' % where)
        elif kind == 'struct':
            members(where, e.get('data', {}))
            if 'base' in e and types.get(e['base'], ('',))[0] != 'struct':
                raise SchemaError('%s: base %r is not a struct' % (where, e['base']))
        else:
            base = e.get('base')
            if not isinstance(base, dict):
                raise SchemaError('%s: a union needs an inline base' % where)
            members(where, base)
            disc = e.get('discriminator')
            if disc not in base:
                raise SchemaError('%s: discriminator %r is not a required base member' % (where, disc))
            dtype = base[disc]
            if types.get(dtype, ('',))[0] != 'enum':
                raise SchemaError('%s: discriminator type %r is not an enum' % (where, dtype))
            values = types[dtype][1]['data']
            for v, t in e.get('data', {}).items():
                if v not in values:
                    raise SchemaError('%s: variant %r is not a value of %s' % (where, v, dtype))
                if types.get(t, ('',))[0] != 'struct':
                    raise SchemaError('%s: variant %r must name a struct' % (where, v))
    for name, (kind, e, path) in list(commands.items()) + list(events.items()):
        where = '%s: %s' % (path, name)
        data = e.get('data', {})
        if e.get('boxed'):
            if kind != 'command' or types.get(data, ('',))[0] not in ('struct', 'union'):
                raise SchemaError('%s: boxed data must name a struct or union' % where)
        else:
            members(where, data)
        if 'returns' in e:
            ref(where + ' returns', e['returns'])


def c_string(text):
    out = []
    for ch in text:
        if ch in '"\\':
            out.append('\\' + ch)
        elif ' ' <= ch <= '~':
            out.append(ch)
        else:
            out.append('\\x%02x' % ord(ch))
    s = ''.join(out)
    # Split into lines of moderate length for readable diffs of the output.
    chunks = [s[i:i + 100] for i in range(0, len(s), 100)]
    fixed = []
    for c in chunks:
        # Never split an escape sequence across two literals.
        while fixed and fixed[-1].endswith('\\') and not fixed[-1].endswith('\\\\'):
            fixed[-1], c = fixed[-1][:-1], '\\' + c
        fixed.append(c)
    return '\n'.join('    "%s"' % c for c in fixed)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, paths = sys.argv[1], sys.argv[2:]
    try:
        entries = []
        for p in paths:
            entries.extend(load(p))
        check(entries)
    except SchemaError as e:
        print('gen-schema: %s' % e, file=sys.stderr)
        return 1
    text = json.dumps([e for _, e in entries], separators=(',', ':'), ensure_ascii=True)
    with open(out, 'w', encoding='utf-8') as f:
        f.write('// Generated by qapi/schema/gen-schema.py: do not edit.\n')
        f.write('namespace qvnc::monitor {\n')
        f.write('extern const char kSchemaJson[];\n')
        f.write('const char kSchemaJson[] =\n%s;\n' % c_string(text))
        f.write('} // namespace qvnc::monitor\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
