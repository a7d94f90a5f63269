"""One module per command. Each body: parse options, call the core, emit the result, exit.

Importing this package registers every command module in it with the app: a new command is a
new module here (and its view in ``render/``), nothing else.
"""

from importlib import import_module
from pkgutil import iter_modules

for _module in iter_modules(__path__):
    if _module.name != "common":
        import_module(f"{__name__}.{_module.name}")
