from typing import Any

from gi.repository import GObject

class Cancellable(GObject.Object): ...

def __getattr__(name: str) -> Any: ...
