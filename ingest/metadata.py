"""Document metadata: front matter, PDF info, a sidecar ``<file>.meta.yaml``, or the manifest."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml

from assistant.documents import DOC_TYPES, SourceDocument
from assistant.errors import DocumentError

PDF_META_KEY = "HipaaAssistantMeta"
_FOLDER_TYPES = {"baas": "baa", "baa": "baa", "policies": "policy", "policy": "policy"}
_ID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sidecar_meta(path: Path) -> dict[str, Any]:
    side = path.with_name(path.name + ".meta.yaml")
    if not side.exists():
        return {}
    try:
        data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"sidecar {side.name} is not valid YAML") from exc
    if not isinstance(data, dict):
        raise DocumentError(f"sidecar {side.name} is not a mapping")
    return data


def pdf_embedded_meta(info: dict[str, str]) -> dict[str, Any]:
    raw = info.get(PDF_META_KEY)
    if not raw:
        return {"title": info["Title"]} if info.get("Title") else {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


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
) -> SourceDocument:
    """Validate and normalise metadata into a ``SourceDocument``."""
    doc_type = _as_text(meta.get("type") or meta.get("doc_type"))
    if not doc_type:
        doc_type = _FOLDER_TYPES.get(path.parent.name.lower(), "policy")
    if doc_type not in DOC_TYPES:
        raise DocumentError(
            f"unknown document type '{doc_type}' (use one of {', '.join(DOC_TYPES)})"
        )
    doc_id = _as_text(meta.get("id") or meta.get("doc_id")) or _ID_SAFE.sub("-", path.stem)
    groups = _as_list(meta.get("access_groups")) or tuple(default_groups)
    return SourceDocument(
        doc_id=doc_id,
        doc_type=doc_type,  # type: ignore[arg-type]
        title=_as_text(meta.get("title")) or fallback_title or path.stem,
        path=str(path),
        sha256=sha256,
        version=_as_text(meta.get("version")),
        as_of=_as_text(meta.get("effective") or meta.get("as_of")),
        owner=_as_text(meta.get("owner")),
        vendor=_as_text(meta.get("vendor")),
        url=_as_text(meta.get("url")),
        access_groups=groups,
        implements=_as_list(meta.get("implements")),
        fmt=fmt,
    )


def locator_prefix(doc: SourceDocument) -> str:
    """How a passage of this document is cited: ``AI-301``, ``Acme Scribe BAA``, ``45 CFR``."""
    if doc.doc_type == "baa":
        return f"{doc.vendor} BAA" if doc.vendor else doc.doc_id
    if doc.doc_type == "rule":
        return "45 CFR"
    return doc.doc_id
