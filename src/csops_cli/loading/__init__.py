"""Reading CRM, product-usage and activity exports into canonical pandas tables.

The names below are loaded on first use: the pandas-free modules of this package (columns,
csvtext, events) can then start reading the usage export while pandas is still importing.
"""

from importlib import import_module

_MODULE_OF = {"Exports": "tables", "Table": "tables", "load_exports": "tables",
              "load_table": "tables", "find_exports": "columns", "FileMatch": "recognise",
              "Assumption": "sources"}  # recognise(): from .recognise (its module's name)

__all__ = ["Assumption", "Exports", "FileMatch", "Table", "find_exports", "load_exports",
           "load_table"]


def __getattr__(name: str):
    if name in _MODULE_OF:
        return getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
