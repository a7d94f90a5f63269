"""One module per command. Each body: parse options, call the core, emit the result, exit.

Importing this package registers every command with the app.
"""

from . import (  # noqa: F401
    audit,
    coverage,
    explain,
    health,
    init,
    metrics,
    plays,
    renewals,
    sample,
    validate,
)
