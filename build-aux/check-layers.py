#!/usr/bin/python3
"""Checks the library's structure: each layer (a folder of asyncgui/)
includes only its own headers and those of the layers below it, and no
two modules include each other, directly or through others.

A module is a name and its files: ag-foo.c, ag-foo.h, ag-foo-private.h
(what other files of the library may use) and ag-foo-internal.h (what
the other files of the same layer may use).
Module A depends on module B when a file of A includes a header of B. The
build already refuses an upward include (a layer's compiler sees only the
layers below it); this check names it, and finds cycles, which the build
cannot.

Usage: check-layers.py SOURCE-ROOT
"""

import pathlib
import re
import sys

# From the bottom; a layer may use those listed for it.
LAYERS = {
    'core': set(),
    'engine': {'core'},
    'task': {'core', 'engine'},
    'channel': {'core'},
    'process': {'core', 'engine', 'task'},
    'parallel': {'core', 'engine', 'task', 'channel'},
    'job': {'core', 'engine', 'task'},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(ag-[a-z0-9-]+\.h)"', re.M)
GENERATED = re.compile(r'^ag-([a-z]+)-enum-types\.h$')


def module_of(name):
    stem = name.rsplit('.', 1)[0]
    for suffix in ('-private', '-internal'):
        if stem.endswith(suffix):
            return stem[:-len(suffix)]
    return stem


def main(root):
    library = pathlib.Path(root) / 'asyncgui'
    layer_of = {}
    files = []
    for layer in LAYERS:
        for path in sorted((library / layer).glob('ag-*.[ch]')):
            layer_of[path.name] = layer
            files.append(path)

    problems = []
    graph = {}
    for path in files:
        module = module_of(path.name)
        layer = layer_of[path.name]
        graph.setdefault(module, set())
        for header in INCLUDE.findall(path.read_text(encoding='utf-8')):
            generated = GENERATED.match(header)
            target_layer = generated.group(1) if generated else layer_of.get(header)
            if target_layer is None:
                problems.append(f'{path.relative_to(root)} includes {header}, which no layer has')
                continue
            if target_layer != layer and target_layer not in LAYERS[layer]:
                problems.append(f'{path.relative_to(root)} ({layer}) includes {header} '
                                f'of {target_layer}, which is not below it')
            target = module_of(header)
            if target != module and not generated:
                graph[module].add(target)

    # Cycles between modules, by depth-first search.
    state = {}
    stack = []

    def visit(module):
        state[module] = 'open'
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 'open':
                cycle = stack[stack.index(target):] + [target]
                problems.append('include cycle: ' + ' -> '.join(cycle))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 'done'

    for module in sorted(graph):
        if module not in state:
            visit(module)

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f'{len(files)} files in {len(LAYERS)} layers: every include points down, no cycles')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
