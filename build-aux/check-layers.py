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

Some modules see less than the rest of their layer (CONFINED): they may
include only headers of the layers named for them and of modules confined
like them. The build compiles them apart, without the other headers.

Usage: check-layers.py SOURCE-ROOT [LAYER...]

With layers named, only the problems of those layers' files are told (a
cycle counts when one of its modules is in them).
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
    'job': {'core', 'engine', 'task', 'channel'},
}

# What runs processes knows no task and no engine: a request in, a reply
# out (asyncgui/process/meson.build builds it on the core alone).
CONFINED = {
    'ag-worker-protocol': {'core'},
    'ag-process-thread': {'core'},
    'ag-worker-process': {'core'},
    'ag-process-pool': {'core'},
    'ag-process-pool-stop': {'core'},
    'ag-sandbox': {'core'},
    'ag-command-runner': {'core'},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(ag-[a-z0-9-]+\.h)"', re.M)
# The include path of a layer also holds the project's root (for config.h),
# so a header named by its path would slip past the build's own check.
PATH_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]*/ag-[a-z0-9-]+\.h)"', re.M)
GENERATED = re.compile(r'^ag-([a-z]+)-enum-types\.h$')


def module_of(name):
    stem = name.rsplit('.', 1)[0]
    for suffix in ('-private', '-internal'):
        if stem.endswith(suffix):
            return stem[:-len(suffix)]
    return stem


def main(root, selected):
    library = pathlib.Path(root) / 'asyncgui'
    layer_of = {}
    files = []
    for layer in LAYERS:
        for path in sorted((library / layer).glob('ag-*.[ch]')) + sorted((library / layer).glob('ag-*.h.in')):
            # A header made from a template (ag-version-macros.h.in) is
            # included by the name it gets.
            layer_of[path.name.removesuffix('.in')] = layer
            files.append(path)
    module_layer = {module_of(path.name.removesuffix('.in')): layer_of[path.name.removesuffix('.in')]
                    for path in files}

    problems = []
    graph = {}
    for path in files:
        module = module_of(path.name.removesuffix('.in'))
        layer = layer_of[path.name.removesuffix('.in')]
        graph.setdefault(module, set())
        text = path.read_text(encoding='utf-8')
        for header in PATH_INCLUDE.findall(text):
            problems.append((layer, f'{path.relative_to(root)} includes {header} by its path; '
                                    f'name a header of a lower layer by its file name'))
        for header in INCLUDE.findall(text):
            generated = GENERATED.match(header)
            target_layer = generated.group(1) if generated else layer_of.get(header)
            if target_layer is None:
                problems.append((layer, f'{path.relative_to(root)} includes {header}, which no layer has'))
                continue
            if target_layer != layer and target_layer not in LAYERS[layer]:
                problems.append((layer, f'{path.relative_to(root)} ({layer}) includes {header} '
                                        f'of {target_layer}, which is not below it'))
            target = module_of(header)
            if module in CONFINED and target != module and target not in CONFINED:
                if target_layer == layer or target_layer not in CONFINED[module]:
                    problems.append((layer, f'{path.relative_to(root)} includes {header}; '
                                            f'{module} may use only {", ".join(sorted(CONFINED[module]))} '
                                            f'and the modules confined like it'))
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
                layers = {module_layer.get(m) for m in cycle}
                problems.append((layers, 'include cycle: ' + ' -> '.join(cycle)))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 'done'

    for module in sorted(graph):
        if module not in state:
            visit(module)

    def concerns(where):
        where = where if isinstance(where, set) else {where}
        return not selected or bool(where & selected)

    problems = [text for where, text in problems if concerns(where)]
    for problem in problems:
        print(problem)
    if problems:
        return 1
    checked = f'{len(files)} files in {len(LAYERS)} layers'
    if selected:
        checked += ' (told about: ' + ', '.join(sorted(selected)) + ')'
    print(f'{checked}: every include points down, no cycles')
    return 0


if __name__ == '__main__':
    unknown = set(sys.argv[2:]) - set(LAYERS)
    if len(sys.argv) < 2 or unknown:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], set(sys.argv[2:])))
