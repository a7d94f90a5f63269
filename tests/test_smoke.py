import subprocess
import sys
from pathlib import Path

from conftest import sample_paying

ROOT = Path(__file__).resolve().parents[1]


def test_module_runs_health_on_sample_data(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "csops_cli", "health", str(ROOT / "sample_data"), "--no-save",
         "--format", "csv"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header[:10] == ["account_id", "account_name", "segment", "health_score",
                           "health_band", "usage_score", "relationship_score",
                           "commercial_score", "partial", "health_change"]
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(sample_paying("2026-11-20"))  # every account with ARR
    scores = [float(line.split(",")[3]) for line in lines[1:]]
    assert scores == sorted(scores) and lines[1].split(",")[4] == "red"  # worst first
