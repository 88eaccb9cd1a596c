"""Which registry an image comes from, and whether a pull secret covers it, as the kubelet
decides (pure).

The kubelet passes a Pod's pull secrets (``spec.imagePullSecrets``: the Pod's own, or its
ServiceAccount's, copied in by admission when the Pod was created) to the runtime for every
container of the Pod, ephemeral ones included. Of a secret it reads the registry keys of its
``.dockerconfigjson`` (or legacy ``.dockercfg``); a key covers an image when, as URLs without
scheme, the hosts have as many dot-separated parts and each matches as a glob, the ports are
equal and the key's path is a prefix of the image's. Keys for Docker Hub
(``index.docker.io``, ``https://index.docker.io/v1/``) cover ``docker.io`` images.

Only the keys leave this module: :func:`secret_registries` drops the credentials it decodes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", DOCKER_HUB)
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"

# What runtimes say when a registry refuses the credentials (or their absence); containerd:
# "401 Unauthorized", "403 Forbidden"; CRI-O and Docker: "unauthorized", "denied", "no basic
# auth credentials", "authentication required".
_AUTH_REFUSED = re.compile(
    r"\b(401|403)\b|unauthori[sz]ed|authentication required|no basic auth credentials"
    r"|access denied|requested access to the resource is denied|insufficient_scope",
    re.IGNORECASE,
)


def registry_of(image: str) -> str:
    """The registry host (with port) an image reference pulls from: ``docker.io`` when the
    first path component is no host (no ``.`` or ``:``, and not ``localhost``)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return DOCKER_HUB if first == "index.docker.io" else first
    return DOCKER_HUB


def repository_of(image: str) -> str:
    """``registry/path`` without tag or digest, as the kubelet matches keys against it."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    registry = registry_of(image)
    first, sep, rest = name.partition("/")
    path = rest if sep and (first == registry or first == "index.docker.io") else name
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return f"{registry}/{path}"


def _split(url: str) -> tuple[list[str], str, str]:
    url = re.sub(r"^[a-z]+://", "", url)
    hostport, _, path = url.partition("/")
    host, port = hostport, ""
    if hostport.count(":") == 1:
        host, port = hostport.split(":")
    return host.split("."), port, "/" + path if path else ""


def _key_path(key: str) -> str:
    """A key as the kubelet stores it: no scheme, ``/v1/``/``/v2/`` dropped."""
    parts, port, path = _split(key)
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path == "/":
        path = ""
    host = ".".join(parts) + (f":{port}" if port else "")
    return host + path


def key_covers(key: str, image: str) -> bool:
    """Whether a pull-secret registry key gives credentials for ``image``."""
    stored = _key_path(key)
    target = repository_of(image)
    glob_parts, glob_port, glob_path = _split(stored)
    parts, port, path = _split(target)
    if (
        glob_port == port
        and len(glob_parts) == len(parts)
        and path.startswith(glob_path)
        and all(fnmatchcase(t, g) for g, t in zip(glob_parts, parts, strict=True))
    ):
        return True
    # Docker Hub's historical key names serve docker.io images.
    return registry_of(image) == DOCKER_HUB and _split(stored)[0] == ["index", "docker", "io"]


def auth_refused(message: str | None) -> bool:
    """Whether a pull error says the registry refused credentials (or wanted some)."""
    return bool(message) and _AUTH_REFUSED.search(message or "") is not None


def _decoded(data: Mapping[str, Any], key: str) -> Any:
    raw = data.get(key)
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return None


def secret_registries(secret: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The registry keys of a pull secret, or None when the kubelet would not read it as one
    (another type, no or malformed data). The decoded credentials are not kept."""
    kind = secret.get("type")
    data = secret.get("data") or {}
    if kind == DOCKERCONFIGJSON:
        doc = _decoded(data, ".dockerconfigjson")
        auths = doc.get("auths") if isinstance(doc, dict) else None
    elif kind == DOCKERCFG:
        auths = _decoded(data, ".dockercfg")
    else:
        return None
    if not isinstance(auths, dict):
        return None
    return tuple(str(k) for k in auths)


def pod_pull_secrets(pod: Mapping[str, Any]) -> tuple[str, ...]:
    """The names in ``spec.imagePullSecrets`` (what the kubelet uses for every container)."""
    spec = pod.get("spec") or {}
    names = [str(ref.get("name")) for ref in spec.get("imagePullSecrets") or [] if ref.get("name")]
    return tuple(dict.fromkeys(names))


def service_account_of(pod: Mapping[str, Any]) -> str:
    spec = pod.get("spec") or {}
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


@dataclass(frozen=True)
class Coverage:
    """Which of some pull secrets cover an image's registry, and which could not be read."""

    registry: str
    covering: tuple[str, ...]
    not_covering: tuple[str, ...]
    unreadable: tuple[str, ...]  # missing, forbidden, or not a registry secret
    reasons: Mapping[str, str]  # secret name -> why it could not be read

    @property
    def covered(self) -> bool:
        return bool(self.covering)


def coverage(
    image: str,
    names: Sequence[str],
    keys_of: Mapping[str, tuple[str, ...] | None],
    reasons: Mapping[str, str] | None = None,
) -> Coverage:
    """Sort ``names`` by whether their keys (``keys_of[name]``, None when unreadable) cover
    ``image``."""
    covering, not_covering, unreadable = [], [], []
    for name in names:
        keys = keys_of.get(name)
        if keys is None:
            unreadable.append(name)
        elif any(key_covers(key, image) for key in keys):
            covering.append(name)
        else:
            not_covering.append(name)
    return Coverage(
        registry_of(image),
        tuple(covering),
        tuple(not_covering),
        tuple(unreadable),
        dict(reasons or {}),
    )


def join(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


def copy_remedy(pod_name: str, image: str) -> str:
    return (
        f"a running Pod cannot gain a pull secret; debug a copy that has one: podscope debug "
        f"{pod_name} --copy-to {pod_name}-debug --pull-secret SECRET --image {image} "
        "(SECRET: a docker-registry Secret for "
        f"{registry_of(image)} in the Pod's namespace)"
    )


def pull_refused_remedy(pod: Mapping[str, Any], image: str) -> str:
    """What can work when the registry of ``image`` refused the Pod's pull credentials."""
    meta = pod.get("metadata") or {}
    pod_name = str(meta.get("name") or "POD")
    secrets = pod_pull_secrets(pod)
    account = service_account_of(pod)
    registry = registry_of(image)
    if secrets:
        held = (
            f"Pod {pod_name}'s pull secrets ({join(secrets)}, from spec.imagePullSecrets) hold "
            f"no credentials {registry} accepts"
        )
    else:
        held = (
            f"Pod {pod_name} has no pull secret (spec.imagePullSecrets is empty, and "
            f"ServiceAccount {account} gave it none when it was created)"
        )
    return f"{held}; {copy_remedy(pod_name, image)}; or use an image the Pod can pull"


def copy_pull_refused_remedy(pod: Mapping[str, Any], image: str) -> str:
    """The same refusal in a copy podscope made, which can be made again with other secrets."""
    meta = pod.get("metadata") or {}
    secrets = pod_pull_secrets(pod)
    registry = registry_of(image)
    namespace = meta.get("namespace") or "NAMESPACE"
    return (
        f"the copy's pull secrets ({join(secrets)}) hold no credentials {registry} accepts: "
        f"--pull-secret NAME must name a docker-registry Secret for {registry} in namespace "
        f"{namespace} (kubectl create secret docker-registry NAME --docker-server={registry} "
        "...); delete the copy and run the command again"
    )
