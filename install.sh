#!/usr/bin/env bash
# Builds the release binary and installs kubectl-nixernetes and its completion helper into
# ${PREFIX:-$HOME/.local}/bin, and its manual pages into ${PREFIX:-$HOME/.local}/share/man/man1.
# Safe to run again: it rebuilds only what changed and replaces the installed binary.
# CARGO_TARGET_DIR (or a cargo config's build.target-dir) is honoured: the binary is taken from
# where cargo says it built it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${PREFIX:-$HOME/.local}"
bindir="$prefix/bin"

if ! command -v cargo >/dev/null 2>&1; then
  echo "install.sh: cargo was not found on PATH." >&2
  echo "Install the Rust toolchain (https://rustup.rs: 'curl https://sh.rustup.rs -sSf | sh'), then run this again." >&2
  exit 1
fi

echo "building kubectl-nixernetes (release)…" >&2
# The binary is wherever cargo put it (CARGO_TARGET_DIR, build.target-dir in a cargo config):
# cargo names it in its JSON messages on stdout; progress and diagnostics stay on stderr.
built="$(cargo build --release --locked --manifest-path "$here/Cargo.toml" --bin kubectl-nixernetes \
  --message-format=json-render-diagnostics |
  sed -n 's/.*"executable":"\([^"]*kubectl-nixernetes\)".*/\1/p' | tail -n 1)"
if [ -z "$built" ] || [ ! -x "$built" ]; then
  echo "install.sh: cargo built kubectl-nixernetes but did not say where (got '${built}')." >&2
  echo "Look for it under \${CARGO_TARGET_DIR:-$here/target}/release/ and copy it to $bindir yourself." >&2
  exit 1
fi

mkdir -p "$bindir"
# Copy to a temporary name and rename: an interrupted install never leaves a half-written binary.
install -m 0755 "$built" "$bindir/.kubectl-nixernetes.tmp"
mv -f "$bindir/.kubectl-nixernetes.tmp" "$bindir/kubectl-nixernetes"
echo "installed $bindir/kubectl-nixernetes (from $built):" >&2
"$bindir/kubectl-nixernetes" version | sed 's/^/  /' >&2
# kubectl (1.26 or later) completes `kubectl nixernetes <TAB>` by running this helper from PATH.
install -m 0755 "$here/completion/kubectl_complete-nixernetes" "$bindir/kubectl_complete-nixernetes"
mandir="$prefix/share/man/man1"
"$bindir/kubectl-nixernetes" man --dir "$mandir" >/dev/null
echo "installed $bindir/kubectl_complete-nixernetes (completion) and manual pages in $mandir" >&2

case ":$PATH:" in
  *":$bindir:"*) ;;
  *)
    echo "" >&2
    echo "$bindir is not on your PATH. Add it, e.g.:" >&2
    echo "  echo 'export PATH=\"$bindir:\$PATH\"' >> ~/.bashrc && export PATH=\"$bindir:\$PATH\"" >&2
    echo "kubectl finds the plugin as 'kubectl nixernetes' once it is on PATH." >&2
    ;;
esac
