#!/usr/bin/env bash
# Packs release binaries into krew archives and writes the krew plugin manifest for them.
#
#   krm/krew/release.sh --homepage URL --url-base URL [--out DIR] [--version vX.Y.Z] \
#     OS/ARCH=BINARY...
#
# For each OS/ARCH=BINARY (OS linux, darwin or windows; ARCH amd64, arm64, arm or 386) it writes
# DIR/kubectl-nixernetes-VERSION-OS-ARCH.tar.gz holding the binary (kubectl-nixernetes, or
# kubectl-nixernetes.exe on Windows), the completion helper kubectl_complete-nixernetes (not on
# Windows) and README.md, then DIR/nixernetes.yaml, the manifest for krew-index: each platform's
# uri is URL-BASE/<archive name>, its sha256 that of the archive written. Upload the archives to
# URL-BASE before submitting the manifest. VERSION defaults to v<the version in Cargo.toml>; DIR
# to target/krew. The archives are reproducible with GNU tar (sorted, owner 0, mtime from
# SOURCE_DATE_EPOCH, else 0).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

usage() {
  echo "usage: krm/krew/release.sh --homepage URL --url-base URL [--out DIR] [--version vX.Y.Z] OS/ARCH=BINARY..." >&2
  echo "example: krm/krew/release.sh --homepage https://github.com/OWNER/nixernetes \\" >&2
  echo "  --url-base https://github.com/OWNER/nixernetes/releases/download/v0.1.0 \\" >&2
  echo "  linux/amd64=target/x86_64-unknown-linux-musl/release/kubectl-nixernetes" >&2
  exit 2
}

fail() {
  echo "krm/krew/release.sh: $*" >&2
  exit 1
}

homepage="" url_base="" out="$root/target/krew" version=""
platforms=()
while (($#)); do
  case "$1" in
    --homepage) homepage="${2-}"; shift 2 || usage ;;
    --url-base) url_base="${2-}"; shift 2 || usage ;;
    --out) out="${2-}"; shift 2 || usage ;;
    --version) version="${2-}"; shift 2 || usage ;;
    -h|--help) usage ;;
    -*) echo "krm/krew/release.sh: unknown flag $1" >&2; usage ;;
    *) platforms+=("$1"); shift ;;
  esac
done

[[ -n "$homepage" ]] || { echo "krm/krew/release.sh: --homepage is required (the project's page, shown by krew info)" >&2; usage; }
[[ -n "$url_base" ]] || { echo "krm/krew/release.sh: --url-base is required (where the archives will be downloaded from)" >&2; usage; }
((${#platforms[@]})) || { echo "krm/krew/release.sh: name at least one OS/ARCH=BINARY" >&2; usage; }
for url in "$homepage" "$url_base"; do
  [[ "$url" =~ ^https?:// ]] || fail "$url is not an http(s) URL"
done
url_base="${url_base%/}"

if [[ -z "$version" ]]; then
  # The [package] version of Cargo.toml (the workspace has none of its own).
  version="v$(awk -F'"' '/^\[/ { pkg = ($0 == "[package]") } pkg && /^version *=/ { print $2; exit }' "$root/Cargo.toml")"
fi
# krew reads versions as semver with a leading v.
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]] \
  || fail "version $version is not semver with a leading v (e.g. v0.1.0)"

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
else
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
fi
tar_flags=()
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner "--mtime=@${SOURCE_DATE_EPOCH:-0}")
fi

mkdir -p "$out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

entries=""
seen=" "
for spec in "${platforms[@]}"; do
  [[ "$spec" == */*=* ]] || fail "$spec is not OS/ARCH=BINARY (e.g. linux/amd64=path/to/kubectl-nixernetes)"
  target="${spec%%=*}" binary="${spec#*=}"
  os="${target%%/*}" arch="${target#*/}"
  case "$os" in linux|darwin|windows) ;; *) fail "$spec: OS must be linux, darwin or windows, not $os" ;; esac
  case "$arch" in amd64|arm64|arm|386) ;; *) fail "$spec: ARCH must be amd64, arm64, arm or 386, not $arch" ;; esac
  [[ "$seen" != *" $os/$arch "* ]] || fail "$os/$arch is named twice"
  seen+="$os/$arch "
  [[ -f "$binary" ]] || fail "$spec: no file $binary"

  bin="kubectl-nixernetes"
  files=("README.md")
  if [[ "$os" == windows ]]; then
    bin="kubectl-nixernetes.exe"
  else
    files+=("kubectl_complete-nixernetes")
  fi
  dir="$stage/$os-$arch"
  mkdir -p "$dir"
  install -m 0755 "$binary" "$dir/$bin"
  cp "$root/README.md" "$dir/README.md"
  if [[ "$os" != windows ]]; then
    install -m 0755 "$root/completion/kubectl_complete-nixernetes" "$dir/kubectl_complete-nixernetes"
  fi
  archive="kubectl-nixernetes-$version-$os-$arch.tar.gz"
  tar "${tar_flags[@]}" -C "$dir" -cf - "$bin" "${files[@]}" | gzip -n -9 > "$out/$archive"
  sum="$(sha256 "$out/$archive")"

  entries+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $url_base/$archive
    sha256: $sum
    files:
    - from: $bin
      to: .
"
  for f in "${files[@]}"; do
    entries+="    - from: $f
      to: .
"
  done
  entries+="    bin: $bin
"
done

manifest="$out/nixernetes.yaml"
{
  cat <<EOF
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: nixernetes
spec:
  version: $version
  homepage: $homepage
EOF
  cat <<'EOF'
  shortDescription: Render platform modules into checked Kubernetes objects
  description: |
    Nixernetes expands short module resources (apiVersion nixernetes.io/v1alpha1,
    kinds such as WebApp or PostgreSQL) into validated, labelled Kubernetes
    objects, runs policy checks on any Kubernetes YAML (text, JSON, SARIF) and
    shows what applying would change in a live cluster:
      kubectl nixernetes render app.yaml
      kubectl nixernetes check manifests/ -o sarif
      kubectl nixernetes diff app.yaml
    The same binary is a Kustomize KRM function and an Argo CD plugin.
  caveats: |
    Completion of `kubectl nixernetes <TAB>` (kubectl 1.26 or later) needs the
    helper kubectl_complete-nixernetes on PATH, which krew does not link. Once:
      h="${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-nixernetes"
      printf '#!/bin/sh\nexec kubectl-nixernetes __complete "$@"\n' > "$h"
      chmod +x "$h"
  platforms:
EOF
  printf '%s' "$entries"
} > "$manifest"

echo "$manifest"
