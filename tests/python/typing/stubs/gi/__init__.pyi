# Just enough of PyGObject's types for tests/python/test_typing.py to check
# AsyncGui.pyi without third-party PyGObject stubs: the GI modules the stub
# names, their members typed Any.
from typing import Any

def require_version(namespace: str, version: str) -> None: ...
def __getattr__(name: str) -> Any: ...
