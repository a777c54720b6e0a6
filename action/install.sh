#!/usr/bin/env bash
# Installs a released ekspec binary for this runner into EKSPEC_INSTALL_DIR, verified against
# the SHA-256 checksum published with the release (and against EKSPEC_SHA256 when the workflow
# pins one). Used by action.yml; runs anywhere with bash (3.2, macOS's, is enough), curl, tar
# with xz, and sha256sum or shasum.
#
# Environment:
#   EKSPEC_VERSION      version to install, e.g. 0.2.0 (a leading `v` is accepted)
#   EKSPEC_INSTALL_DIR  where the binary goes (created)
#   EKSPEC_SHA256       optional: the archive's expected SHA-256, pinned in the workflow
#   EKSPEC_RELEASES     optional: base URL of the releases (default: the GitHub releases)
#   EKSPEC_TARGET       optional: the target triple (default: this machine's)
set -euo pipefail

fail() {
  echo "::error title=ekspec install::$*" >&2
  exit 1
}

version="${EKSPEC_VERSION:-}"
version="${version#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "version \`${EKSPEC_VERSION:-}\` is not a release version such as 0.2.0: set the action's \`version\` input"
install_dir="${EKSPEC_INSTALL_DIR:?EKSPEC_INSTALL_DIR is not set}"
releases="${EKSPEC_RELEASES:-https://github.com/ekspec/ekspec/releases/download}"

target="${EKSPEC_TARGET:-}"
if [[ -z "$target" ]]; then
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64) target=aarch64-apple-darwin ;;
    *) fail "no ekspec release for $(uname -s) $(uname -m): build it from source (cargo install --locked --path .)" ;;
  esac
fi

archive="ekspec-$target.tar.xz"
url="$releases/v$version/$archive"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

download() {
  curl --fail --silent --show-error --location --retry 3 --retry-connrefused \
    --output "$2" "$1" || fail "could not download $1"
}
download "$url" "$work/$archive"
download "$url.sha256" "$work/$archive.sha256"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}
actual="$(sha256 "$work/$archive")"
published="$(cut -d' ' -f1 < "$work/$archive.sha256")"
[[ "$actual" == "$published" ]] ||
  fail "$archive does not match the checksum published with v$version ($actual, expected $published): not installed"
pinned="$(printf '%s' "${EKSPEC_SHA256:-}" | tr '[:upper:]' '[:lower:]')"
if [[ -n "$pinned" && "$actual" != "$pinned" ]]; then
  fail "$archive of v$version has SHA-256 $actual, not the pinned $EKSPEC_SHA256: not installed"
fi

tar -xJf "$work/$archive" -C "$work"
binary="$(find "$work" -type f -name ekspec -perm -u+x | head -n 1)"
[[ -n "$binary" ]] || fail "$archive has no ekspec binary"
mkdir -p "$install_dir"
install -m 0755 "$binary" "$install_dir/ekspec"
echo "ekspec $version ($target) installed in $install_dir, SHA-256 $actual"
