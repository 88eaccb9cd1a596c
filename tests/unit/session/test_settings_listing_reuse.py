from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import ConfigError
from podscope.rules.container import DebugSpec
from podscope.rules.legacy import to_legacy_body
from podscope.session.ephemeral import find_reusable
from podscope.session.listing import rows_for_pod
from podscope.session.settings import DEFAULT_IMAGE, resolve_image, resolve_record, resolve_ttl


def test_image_precedence(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("image: registry.local/tools:1\n")
    env = {"PODSCOPE_IMAGE": "env/image:2"}
    assert resolve_image("flag/image:3", env, config) == ("flag/image:3", "--image")
    assert resolve_image(None, env, config) == ("env/image:2", "$PODSCOPE_IMAGE")
    assert resolve_image(None, {}, config) == ("registry.local/tools:1", str(config))
    assert resolve_image(None, {}, tmp_path / "absent.yaml") == (DEFAULT_IMAGE, "default")
    home = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PODSCOPE_NO_CONFIG": "1"}
    assert resolve_image(None, home) == (DEFAULT_IMAGE, "default")


def test_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        resolve_image(None, {}, config)
    config.write_text("image: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve_image(None, {}, config)


def test_an_unknown_config_key_is_named_not_ignored(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("imgae: registry.local/tools:1\nttl: 5m\n")
    for resolve in (resolve_image, resolve_ttl):
        with pytest.raises(ConfigError) as info:
            resolve(None, {}, config)
        assert info.value.message == (
            f"{config}: unknown key 'imgae' (the keys are image, record, record_required, ttl)"
        )
        assert info.value.remedy == "fix the key's spelling or remove it"
    config.write_text("image: a:1\nrecord: /tmp/r\nrecord_required: true\nttl: 5m\n")
    assert resolve_image(None, {}, config) == ("a:1", str(config))


def test_a_blank_environment_variable_is_named(tmp_path: Path) -> None:
    absent = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=r"^\$PODSCOPE_IMAGE is blank$") as info:
        resolve_image(None, {"PODSCOPE_IMAGE": "  "}, absent)
    assert info.value.remedy == (
        "set it to an image such as busybox:1.36, or unset it (unset PODSCOPE_IMAGE)"
    )
    with pytest.raises(ConfigError, match=r"^\$PODSCOPE_RECORD is blank$"):
        resolve_record(None, False, {"PODSCOPE_RECORD": " "}, absent)
    # Empty is unset, as in a shell's `PODSCOPE_IMAGE= podscope ...`.
    assert resolve_image(None, {"PODSCOPE_IMAGE": ""}, absent) == (DEFAULT_IMAGE, "default")


def _pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "42", "uid": "u"},
        "spec": {
            "containers": [{"name": "app", "image": "app:1"}],
            "ephemeralContainers": [
                {
                    "name": "old",
                    "image": "busybox:1",
                    "targetContainerName": "app",
                    "stdin": True,
                    "tty": True,
                },
                {
                    "name": "done",
                    "image": "busybox:1",
                    "targetContainerName": "app",
                    "stdin": True,
                    "tty": True,
                },
                {"name": "other", "image": "nicolaka/netshoot", "command": ["tcpdump"]},
            ],
        },
        "status": {
            "ephemeralContainerStatuses": [
                {"name": "old", "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}},
                {
                    "name": "done",
                    "state": {
                        "terminated": {
                            "exitCode": 3,
                            "reason": "Error",
                            "startedAt": "2024-01-01T00:00:00Z",
                            "finishedAt": "2024-01-01T00:01:00Z",
                        }
                    },
                },
            ]
        },
    }


def test_reuse_picks_a_running_container_with_same_image_and_target() -> None:
    spec = DebugSpec(image="busybox:1", target="app", stdin=True, tty=True)
    assert find_reusable(_pod(), spec) == "old"
    assert find_reusable(_pod(), DebugSpec(image="busybox:2", target="app")) is None
    assert find_reusable(_pod(), DebugSpec(image="busybox:1", target=None)) is None
    with_command = DebugSpec(image="busybox:1", target="app", command=["top"])
    assert find_reusable(_pod(), with_command) is None


def test_listing_rows() -> None:
    rows = {row.name: row for row in rows_for_pod(_pod())}
    assert rows["old"].state == "running" and rows["old"].started == "2024-01-01T00:00:00Z"
    assert (rows["done"].state, rows["done"].exit_code, rows["done"].reason) == (
        "terminated",
        3,
        "Error",
    )
    assert rows["done"].finished == "2024-01-01T00:01:00Z"
    assert rows["other"].state == "unknown" and rows["other"].target is None
    assert rows["old"].to_dict()["namespace"] == "shop"


def test_legacy_body_carries_existing_containers_and_the_resource_version() -> None:
    # 1.16-1.21: PUT replaces the list, so the body must repeat the existing containers, and
    # the resourceVersion makes a concurrent change answer 409 rather than be overwritten.
    body = to_legacy_body(_pod(), [{"name": "new", "image": "busybox:1"}])
    assert body["kind"] == "EphemeralContainers"
    assert body["metadata"]["resourceVersion"] == "42"
    assert [c["name"] for c in body["ephemeralContainers"]] == ["old", "done", "other", "new"]


def test_no_config_file_means_no_yaml_import(tmp_path: Path) -> None:
    # Most runs have no config file: they must not pay for the YAML library at start-up.
    code = (
        "import sys; from podscope.session.settings import resolve_image, resolve_ttl; "
        f"resolve_image(None, {{'XDG_CONFIG_HOME': {str(tmp_path)!r}}}); "
        "print('ruamel.yaml' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False", run.stderr
    (tmp_path / "podscope").mkdir()
    (tmp_path / "podscope" / "config.yaml").write_text("image: busybox:1.36\n")
    code = code.replace(
        "print(", f"print(resolve_image(None, {{'XDG_CONFIG_HOME': {str(tmp_path)!r}}}), "
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "busybox:1.36" in run.stdout and run.stdout.strip().endswith("True"), run.stdout
