"""Nothing from a user's file is executed, and every CSV csops writes is safe to open in Excel."""

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import write
from csops_cli.output import FORMULA_TRIGGERS, csv_text

SOURCE = Path(__file__).resolve().parents[1] / "src" / "csops_cli"
FORBIDDEN = {
    r"(?<![\w.])eval\(": "eval()",
    r"(?<![\w.])exec\(": "exec()",
    r"(?<![\w.])compile\(": "compile()",
    r"\.query\(": "DataFrame.query",
    r"\.eval\(": "DataFrame.eval / pd.eval",
    r"yaml\.load\(": "yaml.load without a safe loader",
    r"yaml\.(unsafe_load|full_load|Loader|FullLoader|UnsafeLoader)": "an unsafe YAML loader",
    r"\bpickle\b|\bmarshal\b|\bshelve\b": "pickle-like deserialisation",
    r"\bsubprocess\b|os\.system|os\.popen|os\.exec|shell\s*=\s*True": "a shell call",
    r"__import__|importlib\.import_module": "dynamic imports",
    r"\.executescript\(\s*[a-z_]+\s*\)|execute\(\s*f[\"']": "SQL built from text",
}


def test_the_source_has_no_way_to_execute_user_text():
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in FORBIDDEN.items():
                if re.search(pattern, code):
                    found.append(f"{path.relative_to(SOURCE)}:{number}: {what}: {line.strip()}")
    assert found == []


def test_the_scan_itself_catches_what_it_looks_for():
    samples = ["x = eval(text)", "frame.query(expr)", "yaml.load(text)", "import pickle",
               "subprocess.run(cmd)", "pd.eval(x)", "__import__('os')"]
    for sample in samples:
        assert any(re.search(pattern, sample) for pattern in FORBIDDEN), sample


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_each_trigger_character_is_escaped(trigger):
    frame = pd.DataFrame({"text": [f"{trigger}SUM(A1:A9)", "plain"], "number": [-5.0, 3.0]})
    rows = list(csv.DictReader(io.StringIO(csv_text(frame))))
    assert rows[0]["text"] == f"'{trigger}SUM(A1:A9)"
    assert rows[1]["text"] == "plain"
    assert rows[0]["number"] == "-5"  # numbers stay numbers


HOSTILE_ACCOUNTS = """
account_id,account_name,segment,csm_owner,ae_owner
1,=HYPERLINK("http://x"),Strategic,@owner,+ae
2,-2+3,Commercial,=owner,\tae
3,@SUM(A1),SMB,-owner,ae
4,=no contract,SMB,,
"""
HOSTILE_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,contract_type
C1,1,2025-06-01,2026-08-01,150000,10,new
C2,2,2025-06-01,2026-08-01,50000,10,new
C3,3,2025-06-01,2026-08-01,5000,2,new
"""


NAMES = {"'=HYPERLINK(\"http://x\")", "'-2+3", "'@SUM(A1)"}
OWNERS = {"'@owner", "'=owner"}


@pytest.mark.parametrize("args, escaped", [
    (["health", "--no-save"], NAMES | OWNERS | {"'-owner"}),
    # the SMB account's tasks and renewal are its CSM's (-owner): tech-touch sends only
    # e-mails to the automation queue
    (["plays", "--dry-run"], NAMES | OWNERS | {"'-owner"}),
    (["plays", "--dry-run", "--target", "hubspot"], OWNERS | {"'-owner"}),
    (["plays", "--dry-run", "--target", "salesforce"], OWNERS | {"'-owner"}),
    (["renewals"], NAMES | OWNERS | {"'-owner"}), (["coverage"], OWNERS | {"'-owner"}),
    (["metrics"], set()), (["audit"], set()), (["explain", "1"], set()),
])
def test_every_csv_csops_writes_is_excel_safe(cli, tmp_path, args, escaped):
    folder = tmp_path / "d"
    folder.mkdir()
    write(folder, "accounts.csv", HOSTILE_ACCOUNTS)
    write(folder, "contracts.csv", HOSTILE_CONTRACTS)
    result = cli(*args[:2] if args[0] == "explain" else args[:1], folder,
                 *(args[2:] if args[0] == "explain" else args[1:]), "--as-of", "2026-06-30",
                 "-f", "csv", "-q")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) > 1
    for row in rows:
        for cell in row:
            if cell[:1] in ("=", "+", "@", "\t", "\r", "\n"):
                pytest.fail(f"unescaped cell {cell!r} in {args}")
            if cell.startswith("-"):
                float(cell)  # a leading minus only on numbers
    # the hostile names and owners are there, escaped (the output does not just leave them out)
    assert {cell for row in rows for cell in row if cell.startswith("'")} == escaped
