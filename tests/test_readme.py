"""README's examples run as written (training shortened from 2000 to 20 steps)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    for block in blocks:
        exec(
            block.replace("steps=2000", "steps=20").replace('dtype="float32")', 'dtype="float32", progress=False)'),
            namespace,
        )
    assert namespace["nngp"].shape == (5, 3) and namespace["traj"].shape == (100, 15, 2)


def test_readme_stays_short_and_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= 120
    for link in re.findall(r"\]\((docs/[^)]+)\)", text):
        assert (README.parent / link).exists(), link
