"""Hostile export files, table-driven: bombs, non-finite and huge numbers, odd encodings, stray
NUL bytes, broken Parquet and xlsx, overlong lines, repeated contracts. Each is either read with
the right values or refused with exit code 2, a message naming the file, the line and the fix,
and never a traceback."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from csops_cli.errors import CsopsError, ProblemCode

ACCOUNTS = "account_id,account_name,segment,csm_owner,champion_status\n001,Acme,SMB,Ann,active\n"
CONTRACTS_HEADER = "contract_id,account_id,start_date,end_date,arr,licenses\n"
CONTRACTS = CONTRACTS_HEADER + "C1,001,2026-01-01,2027-01-01,1200,10\n"
USAGE = "account_id,timestamp,user_id,feature\n001,2026-06-01,u1,login\n"
ACTIVITIES = "account_id,date,activity_type\n001,2026-06-01,call\n"
BASE = {"accounts.csv": ACCOUNTS, "contracts.csv": CONTRACTS, "usage.csv": USAGE,
        "activities.csv": ACTIVITIES}
TABLE_OF = {"accounts": "accounts.csv", "contracts": "contracts.csv", "usage": "usage.csv"}


def folder_with(tmp_path: Path, name: str, content: bytes | str) -> Path:
    """The base exports, with ``name`` added; it replaces the canonical file of its table."""
    folder = tmp_path / "data"
    folder.mkdir(parents=True)
    replaced = TABLE_OF.get(name.split(".")[0])
    for file, text in BASE.items():
        if file != replaced:
            (folder / file).write_text(text)
    (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def contracts(*rows: str) -> str:
    return CONTRACTS_HEADER + "".join(f"{row}\n" for row in rows)


def contract_arr(value: str) -> str:
    return contracts(f"C1,001,2026-01-01,2027-01-01,{value},10")


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def usage_bomb() -> bytes:
    """Usage rows and then 32 MB of one repeated line: deflates to about 100 KB."""
    return USAGE.encode() + b"001,2026-06-01,u1,login\n" * ((32 << 20) // 24)


def xlsx_bomb() -> bytes:
    """A workbook whose sheet holds 32 MB of blank space: zipped to about 32 KB."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["account_id", "account_name"])
    workbook.active.append(["001", "Acme"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (32 << 20))
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def workbook_with_formulas() -> bytes:
    """An .xlsx written by a program (openpyxl): formulas, and no saved results."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["contract_id", "account_id", "start_date", "end_date", "arr"])
    sheet.append(["C1", "001", "2026-01-01", "2027-01-01", 1200])
    sheet.append(["C2", "001", "2026-01-01", "2027-01-01", "=E2*2"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def contracts_workbook(change_sheet: Callable[[bytes], bytes]) -> bytes:
    """A contracts workbook whose sheet XML is changed by ``change_sheet``."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["contract_id", "account_id", "start_date", "end_date", "arr"])
    workbook.active.append(["C1", "001", "2026-01-01", "2027-01-01", 12345])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change_sheet(data)
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def parquet(**columns) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def parquet_cut_short() -> bytes:
    data = parquet(account_id=["001"], account_name=["Acme"])
    return data[:len(data) // 2] + data[-8:]


def parquet_name_not_utf8() -> bytes:
    """A column name in the footer that is not UTF-8 (pyarrow raises UnicodeDecodeError)."""
    return parquet(account_id=["001"], account_name=["Acme"]).replace(
        b"account_name", b"account_n\xff\xfee")


BINARY = ProblemCode.BINARY_FILE
TOO_LARGE = ProblemCode.ARCHIVE_TOO_LARGE

# (id, file, content (or what builds it), the problems as (code, line, column, value), or
# the error's own code when there is nothing to locate)
REFUSED: list[tuple[str, str, bytes | str | Callable[[], bytes], object]] = [
    ("arr-1e309", "contracts.csv", contract_arr("1e309"),
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "1e309")]),
    ("arr-inf", "contracts.csv", contract_arr("inf"),
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "inf")]),
    ("arr-minus-inf", "contracts.csv", contract_arr("-inf"),
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "-inf")]),
    ("arr-nan-is-missing", "contracts.csv", contract_arr("nan"),
     [(ProblemCode.MISSING_VALUE, 2, "arr", "nan")]),
    ("arr-5000-digits", "contracts.csv", contract_arr("9" * 5000),
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "9" * 5000)]),
    ("licenses-1e309", "contracts.csv",
     contracts("C1,001,2026-01-01,2027-01-01,5,1", "C2,001,2026-01-01,2027-01-01,5,1e309"),
     [(ProblemCode.NOT_A_NUMBER, 3, "licenses", "1e309")]),
    ("licenses-5000-digits-among-text", "contracts.csv",
     contracts("C1,001,2026-01-01,2027-01-01,5,ten", "C2,001,2026-01-01,2027-01-01,5,"
               + "9" * 5000),
     [(ProblemCode.NOT_A_NUMBER, 2, "licenses", "ten"),
      (ProblemCode.NOT_A_NUMBER, 3, "licenses", "9" * 5000)]),
    ("start-date-of-5000-digits", "contracts.csv",
     contracts("C1,001,2026-01-01,2027-01-01,5,1", "C2,001," + "9" * 5000 + ",2027-01-01,5,1"),
     [(ProblemCode.NOT_A_DATE, 3, "start_date", "9" * 5000)]),
    ("usage-timestamp-of-5000-digits", "usage.csv",
     "account_id,timestamp\n001,2026-06-01\n001," + "9" * 5000 + "\n",
     [(ProblemCode.NOT_A_DATE, 3, "timestamp", "9" * 5000)]),
    ("usage-count-inf", "usage.csv", "account_id,timestamp,count\n001,2026-06-01,3\n"
     "001,2026-06-02,inf\n", [(ProblemCode.NOT_A_NUMBER, 3, "count", "inf")]),
    ("json-lines-number-of-5000-digits", "usage.json",
     '{"account_id": "001", "timestamp": "2026-06-01", "count": 3}\n'
     '{"account_id": "001", "timestamp": "2026-06-02", "count": ' + "9" * 5000 + "}\n",
     [(ProblemCode.NOT_A_NUMBER, 2, "count", "inf")]),
    ("json-document-number-of-5000-digits", "usage.json",
     '[{"account_id": "001", "timestamp": "2026-06-01", "count": 3},\n'
     '{"account_id": "001", "timestamp": "2026-06-02",\n"count": ' + "9" * 5000 + "}]\n",
     [(ProblemCode.BAD_JSON, 3, None, None)]),
    ("json-nested-100000-deep", "usage.json", "[" * 100_000 + "]" * 100_000,
     [(ProblemCode.BAD_JSON, None, None, None)]),
    ("nul-byte-on-line-5", "accounts.csv",
     b"account_id,account_name\n001,A\n002,B\n003,C\n004,D\x00x\n005,E\n",
     [(BINARY, 5, None, "004,D\\x00x")]),
    ("nul-byte-past-the-sniffed-start", "accounts.csv",
     b"account_id,account_name\n" + b"".join(b"%05d,Name\n" % n for n in range(9000))
     + b"X,\x00\n", [(BINARY, 9002, None, "X,\\x00")]),
    ("binary-file", "accounts.csv", bytes(range(256)) * 4, [(BINARY, 1, None, None)]),
    ("zip-bomb", "usage.zip", lambda: zipped("usage.csv", usage_bomb()), TOO_LARGE),
    ("gzip-bomb", "usage.csv.gz", lambda: gzip.compress(usage_bomb(), 9), TOO_LARGE),
    ("xlsx-bomb", "accounts.xlsx", xlsx_bomb, TOO_LARGE),
    ("parquet-cut-short", "accounts.parquet", parquet_cut_short,
     ProblemCode.UNREADABLE_FILE),
    ("parquet-column-name-not-utf8", "accounts.parquet", parquet_name_not_utf8,
     ProblemCode.UNREADABLE_FILE),
    ("xlsx-number-of-5000-digits", "contracts.xlsx", lambda: contracts_workbook(
        lambda sheet: sheet.replace(b"<v>12345</v>", b"<v>" + b"9" * 5000 + b"</v>")),
     [(ProblemCode.UNREADABLE_FILE, 2, None, None)]),
    ("xlsx-sheet-cut-short", "contracts.xlsx", lambda: contracts_workbook(
        lambda sheet: sheet[:len(sheet) // 2]), [(ProblemCode.UNREADABLE_FILE, 1, None, None)]),
    ("line-of-50-mb", "accounts.csv",
     lambda: b"account_id,account_name\n001,A\n002,B\n003," + b"x" * (50 << 20) + b"\n004,D\n",
     [(ProblemCode.UNREADABLE_FILE, 4, None, "003," + "x" * 56)]),
    ("xlsx-formula-without-saved-result", "contracts.xlsx", workbook_with_formulas,
     [(ProblemCode.UNREADABLE_FILE, 3, "arr", "=E2*2")]),
]


@pytest.mark.parametrize("case_id, file, content, expected", REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_refused_with_file_line_and_fix(cli, tmp_path, default_config, case_id, file, content,
                                        expected):
    from csops_cli.loading import load_exports

    folder = folder_with(tmp_path, file, content() if callable(content) else content)
    result = cli("validate", folder)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert file in result.output, result.output

    with pytest.raises(CsopsError) as caught:
        load_exports(folder, default_config)
    error = caught.value
    assert all(problem.fix for problem in error.problems)
    if isinstance(expected, ProblemCode):  # the whole file is refused
        assert [problem.code for problem in error.problems] == [expected]
        assert error.problems[0].file == str(folder / file)
        return
    assert all(problem.file == str(folder / file) for problem in error.problems)
    assert [(p.code, p.line, p.column, p.value) for p in error.problems] == expected


def load(tmp_path, default_config, file, content):
    from csops_cli.loading import load_exports

    return load_exports(folder_with(tmp_path, file, content), default_config)


def test_dos_code_page_bytes_are_read_and_each_reported(tmp_path, default_config, cli):
    # 0x81 0x8D 0x8F 0x90 0x9D: undefined in Windows-1252, letters in cp850
    content = b"account_id,account_name\n001,M\x81ller\n002,Caf\x90 \x8d\x8f\x9d\n"
    exports = load(tmp_path, default_config, "accounts.csv", content)
    assert exports.accounts.frame["account_name"].tolist() == [
        "M\x81ller", "Caf\x90 \x8d\x8f\x9d"]
    warnings = exports.accounts.warnings
    assert [(w.code, w.line, w.message[:9]) for w in warnings] == [
        (ProblemCode.MIXED_ENCODING, 2, "byte 0x81"), (ProblemCode.MIXED_ENCODING, 3, "byte 0x90"),
        (ProblemCode.MIXED_ENCODING, 3, "byte 0x8D"), (ProblemCode.MIXED_ENCODING, 3, "byte 0x8F"),
        (ProblemCode.MIXED_ENCODING, 3, "byte 0x9D")]
    assert "save the file again as UTF-8" in warnings[0].fix
    result = cli("validate", tmp_path / "data")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_windows_1252_with_dos_bytes_keeps_its_letters(tmp_path, default_config):
    content = "account_id,account_name\n001,Müller Café\n".encode("cp1252") + b"002,X\x81\n"
    exports = load(tmp_path, default_config, "accounts.csv", content)
    assert exports.accounts.frame["account_name"].tolist() == ["Müller Café", "X\x81"]


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_is_read_as_utf32(tmp_path, default_config, codec):
    text = "account_id,account_name\n001,Müller\n002,Zoë\n"
    data = text.encode(codec)
    if codec == "utf-32-be":
        data = b"\x00\x00\xfe\xff" + data
    exports = load(tmp_path, default_config, "accounts.csv", data)
    assert exports.accounts.frame["account_name"].tolist() == ["Müller", "Zoë"]


def test_gzipped_json_bomb_stops_early(tmp_path, default_config):
    from csops_cli.loading import archives

    record = b'{"account_id": "001", "timestamp": "2026-06-01", "event_type": "login"}\n'
    bomb = gzip.compress(record * ((32 << 20) // len(record)), 9)
    budget = archives.Budget("usage.json.gz", compressed=len(bomb))
    with pytest.raises(CsopsError) as caught:
        archives.gunzip(bomb, "usage.json.gz", budget)
    assert caught.value.problems[0].code == TOO_LARGE
    # stopped within a block of the ratio's limit, not after unpacking it all
    assert archives.MAX_UNCOMPRESSED_BYTES - budget.left < archives.RATIO_CHECKED_FROM \
        + archives.BLOCK


def test_genuine_gzip_export_is_read(tmp_path, default_config):
    rows = "".join(f"{n:03d},2026-06-{1 + n % 28:02d},u{n},login\n" for n in range(2000))
    data = gzip.compress(("account_id,timestamp,user_id,feature\n" + rows).encode())
    exports = load(tmp_path, default_config, "usage.csv.gz", data)
    assert exports.usage.rows == 2000
def test_formula_message_says_what_to_do(cli, tmp_path):
    folder = folder_with(tmp_path, "contracts.xlsx", workbook_with_formulas())
    result = cli("validate", folder)
    assert result.exit_code == 2, result.output
    assert "a formula with no saved result" in result.output
    assert "open the file in Excel and save it" in result.output
    assert "missing value" not in result.output


@pytest.mark.parametrize("content", [parquet_cut_short, parquet_name_not_utf8],
                         ids=["cut-short", "column-name-not-utf8"])
@pytest.mark.parametrize("name", ["accounts.parquet", "export.parquet"])
def test_corrupt_parquet_in_init_and_health(cli, tmp_path, content, name):
    folder = folder_with(tmp_path, name, content())
    if name != "accounts.parquet":
        (folder / "accounts.csv").write_text(ACCOUNTS)
    for command in ("init", "health"):
        result = cli(command, folder)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if name == "accounts.parquet":  # read as the accounts: refused
            assert result.exit_code == 2, result.output
            assert "the file is damaged or not Parquet" in result.output
            assert "write it again as Parquet, or export CSV" in result.output
        else:  # not recognised as any export: init lists it as unread, health ignores it
            assert result.exit_code == 0, result.output
    assert not (folder / "playbooks.yaml").exists() or name != "accounts.parquet"


def test_parquet_nested_columns_are_read_as_json_ones_are(tmp_path, default_config):
    # a struct's fields are dotted columns; a one-element list is its element; a longer list
    # its values joined by ";"
    content = parquet(account_id=[["001"], ["002"]], account_name=["Acme", "Beta"],
                      details=[{"tier": "gold", "seats": 5}, {"tier": "silver", "seats": 2}],
                      tags=[["a", "b"], []])
    exports = load(tmp_path, default_config, "accounts.parquet", content)
    frame = exports.accounts.frame
    assert frame["account_id"].tolist() == ["001", "002"]
    assert frame["details_tier"].tolist() == ["gold", "silver"]
    assert frame["details_seats"].tolist() == [5, 2]
    assert frame["tags"].fillna("").tolist() == ["a;b", ""]


def test_a_line_longer_than_a_read_block_but_under_the_limit_is_read(tmp_path, default_config):
    # a 4 MB file is read in 1 MB blocks; its 3 MB line is read in larger ones
    name = "x" * (3 << 20)
    exports = load(tmp_path, default_config, "accounts.csv",
                   f"account_id,account_name\n001,A\n002,{name}\n003,C\n" + "004,D\n" * 1000)
    assert exports.accounts.frame["account_name"].str.len().tolist()[:3] == [1, 3 << 20, 1]


def test_the_long_line_message_names_the_limit(cli, tmp_path):
    folder = folder_with(tmp_path, "accounts.csv",
                         b"account_id,account_name\n001,A\n002," + b"x" * (40 << 20) + b"\n")
    result = cli("validate", folder)
    assert result.exit_code == 2
    assert "the line is 40.0 MB long; a row may be at most 16 MB" in result.output


@pytest.mark.parametrize("value", ["1e309", "inf", "-inf", "9" * 5000],
                         ids=["1e309", "inf", "minus-inf", "5000-digits"])
def test_no_infinity_reaches_json_output(cli, tmp_path, value):
    folder = folder_with(tmp_path, "contracts.csv", contract_arr(value))
    result = cli("health", folder, "--as-of", "2026-06-30", "--format", "json")
    assert result.exit_code == 2, result.output
    assert "Infinity" not in result.stdout
    assert "not an amount" in result.output


def test_formula_with_a_saved_result_reads_its_result(tmp_path, default_config):
    # as Excel saves it: the formula and, beside it, its result
    def saved(sheet: bytes) -> bytes:
        return sheet.replace(b"<v>12345</v>", b"<f>1000+200</f><v>1200</v>")

    exports = load(tmp_path, default_config, "contracts.xlsx", contracts_workbook(saved))
    assert exports.contracts.frame["arr"].tolist() == [1200.0]
