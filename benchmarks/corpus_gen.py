"""Generated policy documents that grow the corpus for the scale benchmarks.

Each generated file is one of the bundled Markdown policies under a new id and title, with its
numbers changed and a few sentences of its sections reordered, so every passage is new text (no
embedding-cache hit) of the same shape and length as the real ones. Deterministic for a seed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "corpus" / "policies"
_NUMBER = re.compile(r"\b(\d{1,3})\b")
_FRONT = re.compile(r"^---\n(.*?)\n---\n", re.S)


def _templates() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(POLICIES.glob("*.md"))]
    if not texts:
        raise FileNotFoundError(f"no Markdown policies in {POLICIES}")
    return texts


def _variant(text: str, n: int, rng: random.Random) -> str:
    doc_id = f"GEN-{n:05d}"
    front = _FRONT.match(text)
    body = text[front.end() :] if front else text
    meta = front.group(1) if front else ""
    meta = re.sub(r"(?m)^id:.*$", f"id: {doc_id}", meta)
    meta = re.sub(r"(?m)^title:\s*(.*)$", lambda m: f"title: {m.group(1)} (variant {n})", meta)
    # numbers in the text change (not section numbers at the start of headings)
    lines = []
    for line in body.splitlines():
        if not line.startswith("#"):
            line = _NUMBER.sub(lambda m: str(int(m.group(1)) + rng.randint(1, 9)), line)
            sentences = re.split(r"(?<=[.;]) ", line)
            if len(sentences) > 2 and rng.random() < 0.5:
                head, rest = sentences[0], sentences[1:]
                rng.shuffle(rest)
                line = " ".join([head, *rest])
        lines.append(line)
    body = "\n".join(lines).replace(text.split("id:", 1)[-1].split()[0], doc_id)
    return f"---\n{meta}\n---\n{body}\n"


def generate(folder: Path, documents: int, seed: int = 7) -> list[Path]:
    """Writes ``documents`` generated policies into ``folder`` (created); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    templates = _templates()
    out = []
    for n in range(1, documents + 1):
        path = folder / f"GEN-{n:05d}.md"
        path.write_text(_variant(templates[(n - 1) % len(templates)], n, rng), encoding="utf-8")
        out.append(path)
    return out
