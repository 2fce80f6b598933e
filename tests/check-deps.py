#!/usr/bin/env python3
# check-deps.py - the dependency rule of lib/ (lib/README.md), checked.
#
# Reads the ordered module list of lib/README.md, then every #include of
# every file under lib/.  Fails when a file belongs to no listed module,
# when it includes a header of a module listed after its own (an arrow
# pointing up), when a quoted include names a file that does not exist, or
# when a third-party header is included outside the module that wraps it.
# With a total order and strictly downward arrows there can be no cycle;
# the script also checks that directly, on the module graph it built.
#
# Usage: check-deps.py [SOURCE_ROOT]        exit 0 = rule holds, 1 = broken
#
# SPDX-License-Identifier: Apache-2.0
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
lib = os.path.join(root, 'lib')
readme = open(os.path.join(lib, 'README.md'), encoding='utf-8').read()
m = re.search(r'```deps\n(.*?)```', readme, re.S)
if not m:
    sys.exit('check-deps: no ```deps block in lib/README.md')

order, external = [], {}
for line in m.group(1).splitlines():
    line = line.strip()
    if not line:
        continue
    if line.startswith('external '):
        hdr, _, owners = line[len('external '):].partition(':')
        external[hdr.strip()] = {o.strip() for o in owners.split(',')}
    else:
        if line in order:
            sys.exit(f'check-deps: module {line} is listed twice')
        order.append(line)
rank = {mod: i for i, mod in enumerate(order)}

errors = []
edges = {mod: set() for mod in order}
seen = set()
include_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
for dirpath, _, files in os.walk(lib):
    for name in sorted(files):
        if not name.endswith(('.c', '.h')):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, lib).replace(os.sep, '/')
        mod = rel[:-2]
        if mod not in rank:
            errors.append(f'lib/{rel}: module {mod} is not listed in lib/README.md')
            continue
        seen.add(mod)
        for lineno, text in enumerate(open(path, encoding='utf-8', errors='replace'), 1):
            inc = include_re.match(text)
            if not inc:
                continue
            kind, target = inc.groups()
            where = f'lib/{rel}:{lineno}'
            if target in external and mod not in external[target]:
                errors.append(f'{where}: {target} may only be included by '
                              f'{", ".join(sorted(external[target]))}')
            if kind == '<' or target == 'tfrsc.h':
                continue
            if not target.endswith('.h'):
                errors.append(f'{where}: includes "{target}", which is not a header')
                continue
            if not os.path.exists(os.path.join(lib, target)):
                errors.append(f'{where}: "{target}" is not a header of lib/ '
                              '(quote it relative to lib/, e.g. "util/alloc.h")')
                continue
            dep = target[:-2]
            if dep not in rank:
                errors.append(f'{where}: "{target}" belongs to no listed module')
                continue
            if dep == mod:
                continue
            edges[mod].add(dep)
            if rank[dep] > rank[mod]:
                errors.append(f'{where}: {mod} includes {target}, but {dep} is listed after '
                              f'{mod} in lib/README.md (an arrow pointing up)')

# libtfrsc-mpi (mpi/) and the tfrsc tool (tools/tfrsc/) are built on the
# public API: their files include system headers, tfrsc.h, tfrsc_mpi.h and
# each other, never a header of lib/.
for sub in ('mpi', os.path.join('tools', 'tfrsc')):
    sub_dir = os.path.join(root, sub)
    if not os.path.isdir(sub_dir):
        continue
    for name in sorted(os.listdir(sub_dir)):
        if not name.endswith(('.c', '.h')):
            continue
        for lineno, text in enumerate(open(os.path.join(sub_dir, name), encoding='utf-8',
                                           errors='replace'), 1):
            inc = include_re.match(text)
            if not inc or inc.group(1) == '<':
                continue
            target = inc.group(2)
            if target in ('tfrsc.h', 'tfrsc_mpi.h') or \
                    os.path.exists(os.path.join(sub_dir, target)):
                continue
            errors.append(f'{sub}/{name}:{lineno}: includes "{target}": it may use only '
                          'the public headers and its own')

for mod in order:
    if mod not in seen:
        errors.append(f'lib/README.md: module {mod} is listed but has no file in lib/')

# Cycle check on the graph itself (depth-first search with colours).
colour = {}
def visit(mod, stack):
    colour[mod] = 1
    for dep in sorted(edges[mod]):
        if colour.get(dep) == 1:
            cyc = stack[stack.index(dep):] + [dep]
            errors.append('cycle: ' + ' -> '.join(cyc))
        elif dep not in colour:
            visit(dep, stack + [dep])
    colour[mod] = 2
for mod in order:
    if mod not in colour:
        visit(mod, [mod])

if errors:
    print('\n'.join(errors))
    sys.exit(1)
print(f'check-deps: {len(seen)} modules, {sum(len(e) for e in edges.values())} '
      'dependencies, all pointing down, no cycle')
