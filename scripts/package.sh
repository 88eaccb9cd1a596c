#!/usr/bin/env bash
# Builds every form podscope ships in, into OUT (default dist/), and checks each one:
#   - the sdist and the wheel (`python -m build`); the wheel must hold every file under
#     src/podscope that git tracks, py.typed included;
#   - the wheel installed by pipx into a throwaway PIPX_HOME/PIPX_BIN_DIR, where
#     `podscope --version` and `kubectl-podscope --version` must run;
#   - the single-file `kubectl-podscope` (a pex zipapp) for each krew platform, each carrying
#     the wheels of every dependency for CPython 3.10 to 3.14 on that platform, and a krew
#     archive (the file + LICENSE) per platform;
#   - the krew manifest, its sha256 filled from those archives, checked by krew's own
#     validator (built from the Go module proxy into ~/.cache, once).
# Usage: scripts/package.sh [OUT] [--manifest PATH]
#   --manifest PATH   where the filled manifest goes (default plugins/podscope.yaml, the copy
#                     in the repo; tests write theirs elsewhere)
# PODSCOPE_PLATFORMS narrows the zipapp builds, e.g. "linux-amd64" (default: all four);
# PODSCOPE_PIPX_CHECK=0 leaves out the pipx check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

OUT=dist
MANIFEST=plugins/podscope.yaml
while [ $# -gt 0 ]; do
  case "$1" in
    --manifest) MANIFEST=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) OUT=$1; shift ;;
  esac
done
# darwin is left out: cryptography 50 publishes no wheel pex can target for macOS 11 from
# here (it would have to be built on a Mac).
PLATFORMS=${PODSCOPE_PLATFORMS:-linux-amd64 linux-arm64}
PY=${PODSCOPE_PYTHON:-$ROOT/.venv/bin/python}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}
# Pinned so that the check does not move under us; v0.4.3 is krew's latest release.
KREW_VERSION=v0.4.3
KREW_BIN=$CACHE/podscope-krew/$KREW_VERSION/bin
# Placeholder: nothing is published yet. A release replaces this prefix with the real one.
URL_PREFIX=${PODSCOPE_RELEASE_URL:-https://example.invalid/PLACEHOLDER-not-published/podscope}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT"/podscope-* "$OUT"/kubectl-podscope* "$OUT"/.pex
step() { printf '== %s\n' "$*"; }

step "sdist and wheel"
"$PY" -m build --outdir "$OUT" . >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
WHEEL=$(ls "$OUT"/podscope-*.whl)
SDIST=$(ls "$OUT"/podscope-*.tar.gz)
VERSION=$("$PY" -c 'import sys; print(sys.argv[1].split("-")[1])' "$(basename "$WHEEL")")
echo "$(basename "$SDIST") $(basename "$WHEEL")"

step "wheel holds every tracked file under src/podscope"
git ls-files src/podscope | sed 's|^src/||' | sort >"$OUT/expected-files.txt"
"$PY" - "$WHEEL" "$OUT/expected-files.txt" <<'EOF'
import sys
import zipfile

wheel, expected_list = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
expected = [line.strip() for line in open(expected_list) if line.strip()]
missing = [name for name in expected if name not in names]
if missing:
    sys.exit(f"the wheel lacks {len(missing)} tracked files, e.g. {missing[:5]}; "
             "add them to [tool.setuptools] packages/package-data in pyproject.toml")
print(f"{len(expected)} files, py.typed included" if "podscope/py.typed" in expected
      else f"{len(expected)} files")
EOF

# tests/packaging does this check itself, and sets PODSCOPE_PIPX_CHECK=0 to not pay twice.
if [ "${PODSCOPE_PIPX_CHECK:-1}" != 0 ]; then
  step "pipx install into a throwaway PIPX_HOME"
  PIPX_TMP=$(mktemp -d)
  trap 'rm -rf "$PIPX_TMP"' EXIT
  PIPX_HOME=$PIPX_TMP/home PIPX_BIN_DIR=$PIPX_TMP/bin PIPX_MAN_DIR=$PIPX_TMP/man \
    "$PY" -m pipx install --python "$PY" "$WHEEL" >"$OUT/pipx.log" 2>&1 \
    || { cat "$OUT/pipx.log"; exit 1; }
  "$PIPX_TMP/bin/podscope" --version
  "$PIPX_TMP/bin/kubectl-podscope" --version
fi

# pex tags: a platform's wheels for each CPython, so one file runs on whichever is installed.
pex_platform() {
  case "$1" in
    linux-amd64) echo manylinux2014_x86_64 ;;
    linux-arm64) echo manylinux2014_aarch64 ;;
    darwin-amd64) echo macosx_11_0_x86_64 ;;
    darwin-arm64) echo macosx_11_0_arm64 ;;
    *) echo "unknown platform $1 (linux-amd64, linux-arm64, darwin-amd64, darwin-arm64)" >&2; return 2 ;;
  esac
}
PYTHONS="310 311 312 313 314"
full_version() {
  case "$1" in
    310) echo 3.10.16 ;; 311) echo 3.11.11 ;; 312) echo 3.12.9 ;; 313) echo 3.13.2 ;;
    314) echo 3.14.0 ;; *) echo "no full version for CPython $1" >&2; return 2 ;;
  esac
}
# pex resolves with a pip of its choosing; pinned to one the registry serves (26.2.2, pex's
# "latest", is not there) and that has the modern resolver.
PEX_PIP=26.2.1

# A zipapp is rebuilt only when what goes into it changes: the wheel's contents (names and
# bytes, not its timestamps; of METADATA only the headers, not the README below them), the pex
# and pip versions and the interpreters; resolving five CPythons per platform takes minutes.
WHEEL_KEY=$("$PY" - "$WHEEL" "$PYTHONS $PEX_PIP" <<'EOF'
import hashlib
import sys
import zipfile

import pex.version

digest = hashlib.sha256(f"{pex.version.__version__} {sys.argv[2]}".encode())
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in sorted(wheel.namelist()):
        data = wheel.read(name)
        if name.endswith(".dist-info/METADATA"):
            data = data.split(b"\n\n", 1)[0]
        elif name.endswith(".dist-info/RECORD"):
            continue
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
print(digest.hexdigest()[:32])
EOF
)

for plat in $PLATFORMS; do
  tag=$(pex_platform "$plat")
  step "kubectl-podscope for $plat (CPython 3.10-3.14)"
  args=()
  # A full X.Y.Z version lets pex evaluate python_full_version markers (cryptography's).
  for v in $PYTHONS; do args+=(--platform "$tag-cp-$(full_version "$v")-cp$v"); done
  mkdir -p "$OUT/$plat"
  cached=$CACHE/podscope-package/zipapps/$WHEEL_KEY/$plat/kubectl-podscope
  if [ -f "$cached" ]; then
    echo "unchanged since the last build: $cached"
    cp "$cached" "$OUT/$plat/kubectl-podscope"
  else
  # --venv/--sh-boot: the first run unpacks into ~/.cache/pex, later runs start the unpacked
  # venv straight from /bin/sh, almost as fast as an installed wheel.
  PEX_ROOT=$CACHE/pex "$PY" -m pex -f "$OUT" "podscope==$VERSION" -c kubectl-podscope \
    "${args[@]}" --pip-version "$PEX_PIP" --venv prepend --sh-boot --python-shebang '/usr/bin/env python3' \
    --interpreter-constraint 'CPython>=3.10,<3.15' \
    -o "$OUT/$plat/kubectl-podscope" >"$OUT/pex-$plat.log" 2>&1 \
    || { tail -30 "$OUT/pex-$plat.log"; exit 1; }
    mkdir -p "$(dirname "$cached")"
    cp "$OUT/$plat/kubectl-podscope" "$cached.tmp" && mv "$cached.tmp" "$cached"
  fi
  cp /usr/share/common-licenses/Apache-2.0 "$OUT/$plat/LICENSE" 2>/dev/null \
    || cp "$ROOT/LICENSE" "$OUT/$plat/LICENSE"
  # A fixed mtime and owner make the archive (and so its sha256) depend on the content only.
  "$PY" - "$OUT/$plat" "$OUT/kubectl-podscope-$plat.tar.gz" <<'EOF'
import gzip
import sys
import tarfile
from pathlib import Path

src, dest = Path(sys.argv[1]), sys.argv[2]
with open(dest, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
        tarfile.open(fileobj=gz, mode="w") as tar:
    for name in ("kubectl-podscope", "LICENSE"):
        info = tar.gettarinfo(str(src / name), arcname=name)
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        with open(src / name, "rb") as f:
            tar.addfile(info, f)
EOF
  ls -l "$OUT/$plat/kubectl-podscope" | awk '{print $5, "bytes"}'
done

step "krew manifest $MANIFEST"
"$PY" - "$OUT" "$MANIFEST" "$VERSION" "$URL_PREFIX" "$PLATFORMS" <<'EOF'
import hashlib
import sys
from pathlib import Path

out, manifest, version, prefix, platforms = sys.argv[1:6]
text = Path(manifest).read_text() if Path(manifest).exists() else Path("plugins/podscope.yaml").read_text()
lines = text.splitlines(keepends=True)
head, body = [], []
# The manifest's platform entries are rewritten from the archives; the rest is kept as written.
for i, line in enumerate(lines):
    if line.startswith("  platforms:"):
        head = lines[: i + 1]
        break
else:
    sys.exit(f"{manifest}: no 'platforms:' under spec")
head = [f"  version: v{version}\n" if ln.startswith("  version:") else ln for ln in head]
for plat in platforms.split():
    os_name, arch = plat.split("-")
    archive = Path(out) / f"kubectl-podscope-{plat}.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    body.append(
        "  - selector:\n"
        "      matchLabels:\n"
        f"        os: {os_name}\n"
        f"        arch: {arch}\n"
        "    # PLACEHOLDER URL: nothing is published yet; sha256 is that of the archive built by\n"
        "    # scripts/package.sh.\n"
        f"    uri: {prefix}/v{version}/{archive.name}\n"
        f"    sha256: {digest}\n"
        "    bin: kubectl-podscope\n"
        "    files:\n"
        "    - from: kubectl-podscope\n"
        "      to: .\n"
        "    - from: LICENSE\n"
        "      to: .\n"
    )
Path(manifest).parent.mkdir(parents=True, exist_ok=True)
Path(manifest).write_text("".join(head + body))
EOF

if [ ! -x "$KREW_BIN/validate-krew-manifest" ] || [ ! -x "$KREW_BIN/krew" ]; then
  step "building krew $KREW_VERSION and its validator (once, cached in $CACHE/podscope-krew)"
  GOPATH=$CACHE/podscope-krew/gopath GOCACHE=$CACHE/podscope-krew/gocache GOFLAGS=-mod=mod \
    GOBIN=$KREW_BIN /usr/local/go/bin/go install \
    "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION" "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"
fi
# kubectl finds plugins by their kubectl- prefix.
[ -e "$KREW_BIN/kubectl-krew" ] || ln -s krew "$KREW_BIN/kubectl-krew"
step "krew's validator"
# -skip-install: its install step downloads each uri, and ours are placeholders; the archives
# are installed through krew itself with --archive by tests/packaging instead.
"$KREW_BIN/validate-krew-manifest" -manifest "$MANIFEST" -skip-install 2>&1 | sed 's/^/  /'
echo "ok: $OUT"
