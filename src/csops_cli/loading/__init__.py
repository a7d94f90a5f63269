"""Reading CRM, product-usage and activity exports into canonical pandas tables."""

from .tables import Exports, Table, find_exports, load_exports, load_table

__all__ = ["Exports", "Table", "find_exports", "load_exports", "load_table"]
