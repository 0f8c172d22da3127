"""Instance-level patches that can be undone exactly."""

import functools

_MISSING = object()


class Patches:
    """Replaces methods on single objects and puts the originals back.

    `wrap(obj, "name", wrapper)` makes `obj.name(...)` call
    `wrapper(original, ...)`, where `original` is what `obj.name` was. Only the
    instance changes; `undo()` restores it, deleting the instance attribute if
    there was none before.
    """

    def __init__(self):
        self._undo = []

    def wrap(self, obj, name, wrapper):
        previous = obj.__dict__.get(name, _MISSING)
        original = getattr(obj, name)
        setattr(obj, name, functools.partial(wrapper, original))
        self._undo.append((obj, name, previous))

    def undo(self):
        while self._undo:
            obj, name, previous = self._undo.pop()
            if previous is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, previous)
