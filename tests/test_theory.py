import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_symbolic_derivations_agree_with_the_library():
    run = subprocess.run(
        [sys.executable, str(ROOT / "theory" / "verify_closed_forms.py")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout
