"""Document metadata: front matter, PDF info, a sidecar ``<file>.meta.yaml``, or the manifest."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml

from core.documents import DOC_TYPES, SourceDocument
from core.errors import DocumentError
from ingest.contracts import looks_like_baa, vendor_of

log = logging.getLogger(__name__)

PDF_META_KEY = "HipaaAssistantMeta"
_FOLDER_TYPES = {"baas": "baa", "baa": "baa", "policies": "policy", "policy": "policy"}
_ID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# "SHP-HR-03 Workforce Training.docx": a leading policy number, then words
_ID_IN_NAME = re.compile(
    r"^([A-Z][A-Z0-9]*(?:[-.][A-Z0-9]+)*-?\d[A-Z0-9]*)[\s_]+(?:[-\u2013\u2014]\s*)?\w"
)
MAX_META_BYTES = 256 * 1024
MAX_META_VALUES = 2000
MAX_META_DEPTH = 8


def load_meta_yaml(text: str, what: str) -> dict[str, Any]:
    """YAML metadata (front matter, sidecar) -> a mapping, or ``DocumentError`` with the reason.

    Bounded: YAML anchors can make a few lines stand for billions of values (and the nesting can
    be deep enough to exhaust the parser's recursion), so the size, depth and value count are
    checked before anything reads the values."""
    if len(text) > MAX_META_BYTES:
        raise DocumentError(f"{what} is too large (limit {MAX_META_BYTES >> 10} KB)")
    if _flow_depth(text) > 4 * MAX_META_DEPTH:
        # PyYAML's scanner is quadratic in the nesting of [ and {: refuse before it starts.
        raise DocumentError(f"{what} is nested too deeply")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"{what} is not valid YAML") from exc
    except RecursionError as exc:
        raise DocumentError(f"{what} is nested too deeply") from exc
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. "effective: 2024-13-45"
        raise DocumentError(f"{what} has a value that cannot be read (a date?)") from exc
    if not isinstance(data, dict):
        raise DocumentError(f"{what} is not a mapping of fields")
    check_meta_size(data, what)
    return data


def check_meta_size(data: Any, what: str) -> None:
    """Refuse metadata that holds more than ``MAX_META_VALUES`` values (counting each use of a
    shared YAML anchor) or nests deeper than a few levels."""
    budget = MAX_META_VALUES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise DocumentError(f"{what} holds too many values (limit {MAX_META_VALUES})")
        if depth > MAX_META_DEPTH:
            raise DocumentError(f"{what} is nested too deeply")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for kv in value.items() for v in kv)
        elif isinstance(value, list | tuple | set):
            stack.extend((v, depth + 1) for v in value)


def _flow_depth(text: str) -> int:
    """Deepest nesting of YAML flow collections (``[`` and ``{``) outside quotes, roughly."""
    depth = deepest = 0
    quote = ""
    for ch in text:
        if quote:
            if ch == quote or ch == "\n":
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def sidecar_meta(path: Path) -> dict[str, Any]:
    side = path.with_name(path.name + ".meta.yaml")
    if not side.exists():
        return {}
    try:
        if side.stat().st_size > MAX_META_BYTES:
            raise DocumentError(
                f"sidecar {side.name} is too large (limit {MAX_META_BYTES >> 10} KB)"
            )
        text = side.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"sidecar {side.name} is not valid YAML") from exc
    except OSError as exc:
        raise DocumentError(f"cannot read sidecar {side.name}") from exc
    return load_meta_yaml(text, f"sidecar {side.name}")


def pdf_embedded_meta(info: dict[str, str]) -> dict[str, Any]:
    raw = info.get(PDF_META_KEY)
    if not raw:
        return {"title": info["Title"]} if info.get("Title") else {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    check_meta_size(data, "the PDF's embedded metadata")
    return data


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return (str(value),)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def build_document(
    meta: dict[str, Any],
    *,
    path: Path,
    sha256: str,
    fmt: str,
    default_groups: list[str],
    fallback_title: str = "",
    restricted_groups: list[str] | None = None,
    opening: str = "",
) -> SourceDocument:
    """Validate and normalise metadata into a ``SourceDocument``. What the metadata leaves out is
    inferred and recorded in ``inferred``: the type from the folder or the document's own words
    (``opening``: its title and first paragraphs), a BAA's vendor from its title or parties
    clause, and the access groups: ``restricted_groups`` for a contract, ``default_groups``
    otherwise."""
    inferred: list[str] = []
    title = _as_text(meta.get("title")) or fallback_title or title_from_name(path.stem)
    doc_type = _as_text(meta.get("type") or meta.get("doc_type"))
    if not doc_type:
        inferred.append("type")
        doc_type = _FOLDER_TYPES.get(path.parent.name.lower(), "")
        if not doc_type:
            doc_type = "baa" if looks_like_baa(f"{title}\n{opening[:2000]}") else "policy"
    if doc_type not in DOC_TYPES:
        raise DocumentError(
            f"unknown document type '{doc_type}' (use one of {', '.join(DOC_TYPES)})"
        )
    doc_id = _as_text(meta.get("id") or meta.get("doc_id")) or id_from_name(path.stem)
    groups = _as_list(meta.get("access_groups"))
    if not groups:
        inferred.append("access")
        contract = doc_type == "baa" and restricted_groups is not None
        groups = tuple(restricted_groups if contract and restricted_groups else default_groups)
        log.info("%s names no access groups: given %s", path.name, ", ".join(groups))
    vendor = _as_text(meta.get("vendor"))
    if not vendor and doc_type == "baa":
        vendor = vendor_of(title, opening[:8000]) or vendor_of(title_from_name(path.stem), "")
        if vendor:
            inferred.append("vendor")
    return SourceDocument(
        doc_id=doc_id,
        doc_type=doc_type,  # type: ignore[arg-type]
        title=title,
        path=str(path),
        sha256=sha256,
        version=_as_text(meta.get("version")),
        as_of=_as_text(meta.get("effective") or meta.get("as_of")),
        owner=_as_text(meta.get("owner")),
        vendor=vendor,
        url=_as_text(meta.get("url")),
        access_groups=groups,
        implements=_as_list(meta.get("implements")),
        fmt=fmt,
        inferred=tuple(inferred),
    )


def id_from_name(stem: str) -> str:
    """A document id from a file name: its leading policy number when it has one
    (``SHP-HR-03 Workforce Training`` -> ``SHP-HR-03``), else the name made safe."""
    m = _ID_IN_NAME.match(stem)
    return m.group(1) if m else _ID_SAFE.sub("-", stem).strip("-") or "document"


def title_from_name(stem: str) -> str:
    """``SHP-HR-03 Workforce Training`` -> ``Workforce Training``."""
    m = _ID_IN_NAME.match(stem)
    rest = stem[len(m.group(1)) :].strip(" _-\u2013\u2014") if m else ""
    return rest or stem


def locator_prefix(doc: SourceDocument) -> str:
    """How a passage of this document is cited: ``AI-301``, ``Acme Scribe BAA``, ``45 CFR``."""
    if doc.doc_type == "baa":
        return f"{doc.vendor} BAA" if doc.vendor else doc.doc_id
    if doc.doc_type == "rule":
        return "45 CFR"
    return doc.doc_id
