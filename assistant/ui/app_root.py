"""The folder Chainlit works in (``<data>/ui``): its config, the welcome page, the product's
logo and script, and the interface text, rewritten from the project's files at every start."""

from __future__ import annotations

import json
import os
import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError
from core.settings import Settings

HERE = Path(__file__).resolve().parent
CONFIG_TEMPLATE = HERE / "chainlit.toml"
PUBLIC = HERE / "public"
COPY_FILE = HERE / "copy.yaml"
LANGUAGE = "en-US"


def footer(mode: str) -> str:
    """The line under the chat box: how answers are made here, and that they are not advice."""
    if mode == "extractive":
        made = (
            "Extractive mode: answers quote your documents word for word; no language model runs."
        )
    else:
        made = f"Answers written by {mode.removeprefix('llm:')} from the cited passages."
    return f"{made} Not legal advice: check the cited passages."


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def interface_text(mode: str) -> dict[str, Any]:
    """Chainlit's English strings with ours (copy.yaml) in their place."""
    # found, not imported: importing chainlit fixes its working folder to the current one
    spec = find_spec("chainlit")
    if spec is None or spec.origin is None:
        raise ConfigError("chainlit is not installed")
    base_file = Path(spec.origin).parent / "translations" / f"{LANGUAGE}.json"
    base = json.loads(base_file.read_text(encoding="utf-8"))
    ours = yaml.safe_load(COPY_FILE.read_text(encoding="utf-8"))
    ours = {k: str(v).replace("{footer}", footer(mode)) for k, v in ours.items()}
    return _merge(base, _nested(ours))


def prepare(settings: Settings, mode: str) -> Path:
    """Writes the folder; returns it. ``mode`` is the answering mode the footer names."""
    root = settings.paths.data_dir.resolve() / "ui"
    config_dir = root / ".chainlit"
    translations = config_dir / "translations"
    translations.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    config = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    origins = json.dumps([o.rstrip("/") for o in settings.server.allowed_origins])
    config = config.replace("allow_origins = []", f"allow_origins = {origins}")
    if settings.server.websocket_only:
        config = config.replace("# transports = []", 'transports = ["websocket"]')
    (config_dir / "config.toml").write_text(config, encoding="utf-8")
    welcome = settings.server.welcome_file
    if not welcome.is_file():
        raise ConfigError(f"the welcome page {welcome} does not exist (server.welcome_file)")
    for name in ("chainlit.md", f"chainlit_{LANGUAGE}.md"):
        shutil.copyfile(welcome, root / name)
    shutil.copytree(PUBLIC, root / "public", dirs_exist_ok=True)
    (root / "public" / "notice.txt").write_text(footer(mode) + "\n", encoding="utf-8")
    text = json.dumps(interface_text(mode), indent=2, ensure_ascii=False)
    (translations / f"{LANGUAGE}.json").write_text(text, encoding="utf-8")
    return root


def english_only(root: Path) -> None:
    """Chainlit copies its other languages into the folder when it loads; without them every
    browser gets the English text above (one product voice, one mode line)."""
    for path in (root / ".chainlit" / "translations").glob("*.json"):
        if path.name != f"{LANGUAGE}.json":
            path.unlink()
