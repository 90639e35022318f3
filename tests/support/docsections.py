"""Generated sections of a Markdown file, each between two HTML comments, rewritten one at a time.

``docs/reliability.md`` is written by two test runs: the fault matrix (``tests/reliability``) and the attacks
(``tests/attacks``). Each replaces only its own section, so either can run alone and the other's stays.
"""

from __future__ import annotations

from pathlib import Path


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- generated: {name} -->", f"<!-- end: {name} -->"


def update_section(path: Path | str, name: str, text: str, *, first: bool = False) -> None:
    """Put ``text`` as section ``name`` of the file at ``path``, keeping every other section.

    A section not yet in the file is added at the end, or, with ``first``, in place of whatever the file holds
    before its first generated section (a file written before sections existed).
    """
    target = Path(path)
    current = target.read_text() if target.exists() else ""
    begin, end = _markers(name)
    block = f"{begin}\n{text.strip()}\n{end}\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        updated = head + block + ("\n" + tail if tail else "")
    elif first:
        index = current.find("<!-- generated: ")
        tail = current[index:] if index >= 0 else ""
        updated = block + ("\n" + tail if tail else "")
    else:
        updated = current.rstrip("\n") + ("\n\n" if current else "") + block
    target.write_text(updated)
