"""User defaults: flag > ``$PODSCOPE_IMAGE`` > ``~/.config/podscope/config.yaml`` > built-in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podscope.errors import ConfigError, PodscopeError

DEFAULT_IMAGE = "docker.io/library/busybox:latest"
IMAGE_ENV = "PODSCOPE_IMAGE"
# Set (to anything) to ignore the user config file, e.g. in tests.
NO_CONFIG_ENV = "PODSCOPE_NO_CONFIG"
# Every key the config file may hold: a misspelt one would otherwise do nothing, silently.
CONFIG_KEYS = ("image", "record", "record_required", "ttl")


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "podscope" / "config.yaml"


def load_user_config(path: Path) -> dict[str, Any]:
    """The user config file as a mapping (empty when the file does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    # Only now: most runs have no config file, and the YAML library costs ~15 ms to import.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError, YAMLFutureWarning

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except (YAMLError, YAMLFutureWarning):
        raise ConfigError(f"{path} is not valid YAML", remedy="fix or remove the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping (e.g. `image: busybox:1.36`)")
    unknown = sorted(str(key) for key in data if key not in CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} (the keys are {', '.join(CONFIG_KEYS)})",
            remedy="fix the key's spelling or remove it",
        )
    return data


def _from_env(env: Mapping[str, str], name: str, example: str) -> str | None:
    """The variable's value; None when it is unset or empty. Blank (spaces only) is an error:
    it cannot be meant, and the flag it stands for would be blamed."""
    value = env.get(name)
    if not value:
        return None
    if not value.strip():
        raise ConfigError(
            f"${name} is blank", remedy=f"set it to {example}, or unset it (unset {name})"
        )
    return value


def resolve_image(
    flag: str | None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> tuple[str, str]:
    """The debug image and where it came from (for the progress message)."""
    if flag:
        return flag, "--image"
    env = os.environ if environ is None else environ
    image = _from_env(env, IMAGE_ENV, "an image such as busybox:1.36")
    if image is not None:
        return image, f"${IMAGE_ENV}"
    if env.get(NO_CONFIG_ENV) and config_file is None:
        return DEFAULT_IMAGE, "default"
    path = config_file or config_path(env)
    image = load_user_config(path).get("image")
    if image is not None:
        if not isinstance(image, str) or not image.strip():
            raise ConfigError(f"{path}: `image` must be a non-empty string")
        return image, str(path)
    return DEFAULT_IMAGE, "default"


def resolve_ttl(
    flag: str | None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> tuple[int, str]:
    """A new debugger's TTL in seconds, and where it came from: ``--ttl``, ``ttl`` in the
    config file, else the built-in default."""
    from podscope.rules.debugger import DEFAULT_TTL, parse_duration

    if flag is not None:
        return parse_duration(flag, "--ttl"), "--ttl"
    env = os.environ if environ is None else environ
    if not (env.get(NO_CONFIG_ENV) and config_file is None):
        path = config_file or config_path(env)
        value = load_user_config(path).get("ttl")
        if value is not None:
            try:
                return parse_duration(value, "ttl"), str(path)
            except PodscopeError as exc:
                raise ConfigError(f"{path}: {exc.message}", remedy=exc.remedy) from None
    return parse_duration(DEFAULT_TTL), "default"


RECORD_ENV = "PODSCOPE_RECORD"


def resolve_record(
    flag: str | None,
    required: bool = False,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> tuple[str | None, bool, str]:
    """Where sessions are recorded (None: nowhere), whether a session that cannot be recorded
    is refused, and where the directory came from: ``--record``, ``$PODSCOPE_RECORD``, else
    ``record:`` (and ``record_required: true``) in the config file."""
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    path = config_file or config_path(env)
    if not (env.get(NO_CONFIG_ENV) and config_file is None):
        config = load_user_config(path)
    configured = config.get("record_required")
    if configured is not None and not isinstance(configured, bool):
        raise ConfigError(f"{path}: `record_required` must be true or false")
    required = required or bool(configured)
    if flag:
        return flag, required, "--record"
    directory = _from_env(env, RECORD_ENV, "a directory")
    if directory is not None:
        return directory, required, f"${RECORD_ENV}"
    value = config.get("record")
    if value is not None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: `record` must be a directory (a non-empty string)")
        return os.path.expanduser(value), required, str(path)
    return None, required, "default"
