#!/usr/bin/python3
"""Checks that every property of the introspection data names its accessors:
a readable property its getter, a property that can be written after
construction its setter. Bindings use them (PyGObject and GJS call the
getter instead of going through g_object_get_property(), and documentation
links the two), so a property without one reads slower and documents
worse. g-ir-scanner finds get_NAME and set_NAME by itself; any other name
needs a (getter ...) or (setter ...) annotation on the property.

Usage: check-gir-properties.py GIR-FILE
"""

import sys
import xml.etree.ElementTree as ET

CORE = '{http://www.gtk.org/introspection/core/1.0}'


def missing_accessors(gir_path):
    problems = []
    root = ET.parse(gir_path).getroot()
    for kind in ('class', 'interface'):
        for owner in root.iter(CORE + kind):
            for prop in owner.findall(CORE + 'property'):
                attrs = prop.attrib
                where = '%s:%s' % (owner.get('name'), attrs['name'])
                if attrs.get('readable', '1') != '0' and 'getter' not in attrs:
                    problems.append('%s is readable but names no getter' % where)
                if (attrs.get('writable') == '1' and attrs.get('construct-only') != '1'
                        and 'setter' not in attrs):
                    problems.append('%s is writable but names no setter' % where)
    return problems


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    problems = missing_accessors(argv[1])
    for problem in problems:
        print(problem)
    if problems:
        print('%d propert%s without accessors: annotate them, e.g. '
              '"AgFoo:bar: (getter is_bar)"' % (len(problems), 'y' if len(problems) == 1 else 'ies'))
        return 1
    print('every property names its accessors')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
