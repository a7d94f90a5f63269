"""Domain errors and exit codes.

The core raises these; the CLI turns them into a message on stderr and an exit code in one
place (``app.command``). Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

# an error shows this many of its problems, and counts the rest
MAX_PROBLEMS_SHOWN = 20


class ExitCode(IntEnum):
    """Exit codes shared by every command."""

    OK = 0
    FINDINGS = 1  # the command worked and found what --strict asks to fail on
    BAD_INPUT = 2  # bad input, bad configuration or bad usage
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class ProblemCode(StrEnum):
    """Why an input was refused, for programs and tests: stable, never renamed or reused.
    The message beside it is for people and may be reworded at any time."""

    # the data folder and its files
    NO_SUCH_FOLDER = "no_such_folder"  # the data folder does not exist
    NOT_A_FOLDER = "not_a_folder"  # the data folder is a file
    FILE_NOT_FOUND = "file_not_found"  # a file named by an option does not exist
    DUPLICATE_EXPORT = "duplicate_export"  # two files in the folder are the same table
    MISSING_EXPORT = "missing_export"  # a required table has no file
    AMBIGUOUS_EXPORT = "ambiguous_export"  # two files claim one table in incompatible ways
    # reading a file
    EMPTY_FILE = "empty_file"  # nothing but blank space
    NO_DATA_ROWS = "no_data_rows"  # a header and nothing below it
    BINARY_FILE = "binary_file"  # NUL bytes: not text
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # UTF-16, or YAML that is not UTF-8
    UNREADABLE_FILE = "unreadable_file"  # the CSV, xlsx or Parquet reader gave up
    OPEN_QUOTE = "open_quote"  # a quoted value never closed
    RAGGED_ROW = "ragged_row"  # a row with more or fewer fields than the header
    BAD_JSON = "bad_json"  # JSON that does not parse, or holds no records
    ARCHIVE_TOO_LARGE = "archive_too_large"  # a zip or gzip past the size or member caps
    MIXED_FORMATS = "mixed_formats"  # a zip whose members are not all of one format
    MIXED_ENCODING = "mixed_encoding"  # warning: a UTF-8 file with a few bytes that are not
    # columns and values of an export
    MISSING_COLUMN = "missing_column"  # a required column is not among the headers
    MISSING_VALUE = "missing_value"  # a required column is empty on a row
    DUPLICATE_COLUMN = "duplicate_column"  # two headers map to one canonical column
    OPEN_DEALS = "open_deals"  # open or lost deals in a contracts file with no `where`
    NOT_A_DATE = "not_a_date"
    NOT_AN_AMOUNT = "not_an_amount"
    NOT_A_NUMBER = "not_a_number"
    NEGATIVE_VALUE = "negative_value"  # a count below zero
    # playbooks.yaml
    BAD_YAML = "bad_yaml"  # not valid YAML syntax
    UNSUPPORTED_YAML = "unsupported_yaml"  # valid YAML that a safe loader refuses (tags)
    YAML_TOO_LARGE = "yaml_too_large"  # anchors and aliases expand past any real config
    YAML_TOO_DEEP = "yaml_too_deep"  # values nested far deeper than any real config
    DUPLICATE_KEY = "duplicate_key"  # a key given twice in one mapping
    NOT_A_MAPPING = "not_a_mapping"  # the document is not a mapping of sections
    UNKNOWN_KEY = "unknown_key"  # a key the model does not have
    MISSING_KEY = "missing_key"  # a required key left out
    UNKNOWN_NAME = "unknown_name"  # a signal or column name that does not exist
    DUPLICATE_ID = "duplicate_id"  # two plays with one id
    INVALID_VALUE = "invalid_value"  # wrong type, out of range or not one of the choices
    BAD_CONDITION = "bad_condition"  # a play's `when` cannot be parsed or compiled
    # a usage table in a warehouse (sources: usage: warehouse:)
    MISSING_DRIVER = "missing_driver"  # the engine's driver (or ibis) is not installed
    WAREHOUSE_UNREACHABLE = "warehouse_unreachable"  # no connection, or it was lost
    MISSING_TABLE = "missing_table"  # the table named is not in the warehouse
    # the history store
    UNUSABLE_HISTORY = "unusable_history"  # not a history database csops can read
    # writing results
    OUTPUT_IS_INPUT = "output_is_input"  # --out names a file the run reads
    UNWRITABLE_OUTPUT = "unwritable_output"  # a folder, no permission, a full disk
    FOLDER_NOT_EMPTY = "folder_not_empty"  # csops sample into a folder that holds files
    # the command line
    NO_MATCH = "no_match"  # --segment or --owner names a value no account has


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located well enough for a person to fix it."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    fix: str | None = None
    code: ProblemCode = field(kw_only=True)  # required: every problem says what kind it is


class CsopsError(Exception):
    """Base of every error that is the user's input, not a bug."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, problems: list[Problem] | None = None,
                 total: int | None = None, *, code: ProblemCode | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        # what went wrong when there is no problem to carry it (a file that is not there)
        self.code = code
        # ``problems`` may be a sample; ``total`` counts them all
        self.total = total if total is not None else len(self.problems)


class InputError(CsopsError):
    """An export cannot be read or holds values that cannot be used."""


class ConfigError(CsopsError):
    """playbooks.yaml is malformed or names something that does not exist."""


class UsageError(CsopsError):
    """The command line asks for something impossible (bad option value, unknown account)."""
