"""The README's access matrix is the code's: regenerate it with `manage.py access_matrix` when MATRIX changes."""

from pathlib import Path

from jointops.management.commands.access_matrix import matrix_markdown


def test_readme_access_matrix_matches_the_code():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start, end = "<!-- access-matrix:start -->\n", "\n<!-- access-matrix:end -->"
    documented = readme[readme.index(start) + len(start) : readme.index(end)]
    assert documented == matrix_markdown()
