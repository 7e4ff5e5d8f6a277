#!/usr/bin/env bash
# Makes sure the `node` on PATH is Node.js 22.13 or later, the floor of package.json's `engines`
# (Electron's npm tooling declares it, and Node 20 is past its end of life). On Linux, an older
# Node (or none beside a working npm) is answered by installing Node.js $NODE_VERSION into
# /usr/local: the binary and its headers, from the npm package node-linux-<arch>, whose tarball
# must match the digest pinned below. The machine's npm stays. When npm is set to build native
# modules against another Node's headers (`nodedir`), that setting is pointed at the new
# headers, or the modules would be built for the wrong Node.
#
# Called by install-system-deps.sh. PORTENT_NODE_PREFIX installs elsewhere than /usr/local.
set -euo pipefail

NODE_VERSION=22.23.5
NEED_MAJOR=22
NEED_MINOR=13
declare -A INTEGRITY=(
  [x64]='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=='
  [arm64]='sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg=='
)
PREFIX="${PORTENT_NODE_PREFIX:-/usr/local}"

node_version() { node -p 'process.versions.node' 2>/dev/null || true; }

new_enough() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [ -n "$major" ] && { [ "$major" -gt "$NEED_MAJOR" ] || { [ "$major" -eq "$NEED_MAJOR" ] && [ "$minor" -ge "$NEED_MINOR" ]; }; }
}

# npm's nodedir, when set, must hold the running Node's headers.
match_nodedir() {
  local dir major headers
  dir="$(npm config get nodedir 2>/dev/null || true)"
  case "$dir" in '' | undefined | null) return 0 ;; esac
  major="$(node -p 'process.versions.node.split(".")[0]')"
  headers="$(awk '/#define NODE_MAJOR_VERSION/ { print $3 }' "$dir/include/node/node_version.h" 2>/dev/null || true)"
  [ "$headers" = "$major" ] && return 0
  local own file
  own="$(dirname "$(dirname "$(command -v node)")")"
  if [ "$(awk '/#define NODE_MAJOR_VERSION/ { print $3 }' "$own/include/node/node_version.h" 2>/dev/null || true)" = "$major" ]; then
    # npm refuses `npm config set nodedir` (it is node-gyp's setting): the line is rewritten in
    # the npmrc that has it, the user's or the machine's.
    for file in "$(npm config get userconfig 2>/dev/null || true)" "$(npm config get globalconfig 2>/dev/null || true)"; do
      [ -f "$file" ] && grep -Eq '^[[:space:]]*nodedir[[:space:]]*=' "$file" || continue
      local sudo=""
      [ -w "$file" ] || sudo="sudo"
      $sudo sed -i.portent-old -E "s|^[[:space:]]*nodedir[[:space:]]*=.*$|nodedir=$own|" "$file"
      echo "npm built native modules against $dir (Node ${headers:-?} headers); $file now says nodedir=$own, Node $major's (the old file is $file.portent-old)."
      [ "$(npm config get nodedir 2>/dev/null || true)" = "$own" ] && return 0
    done
  fi
  echo "npm's nodedir is $dir, which holds no headers of Node $major: native modules would be built for another Node. Point it at Node $major's headers (the folder with include/node) or remove it, in the npmrc (or the npm_config_nodedir variable) that sets it." >&2
  exit 1
}

have="$(node_version)"
if new_enough "$have"; then
  echo "Node.js $have is new enough (22.13 or later)."
  match_nodedir
  exit 0
fi

say_install() {
  local had="${have:+ (this machine has $have)}"
  echo "Portent needs Node.js 22.13 or later$had: $1" >&2
  exit 1
}
[ "$(uname -s)" = Linux ] || say_install "install it from Node's own packages or with Homebrew (brew install node@22), then run this again."
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say_install "there is no pinned build for $(uname -m); install it from Node's own packages." ;;
esac
command -v npm >/dev/null 2>&1 || say_install "with no npm here to fetch it, install it from Node's own packages."

SUDO=""
if [ "$(id -u)" -ne 0 ] && [ ! -w "$PREFIX" ]; then
  command -v sudo >/dev/null 2>&1 || say_install "installing it into $PREFIX needs root (or sudo)."
  SUDO="sudo"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Fetching Node.js $NODE_VERSION (node-linux-$arch)..."
tarball="$(npm pack --silent --pack-destination "$work" "node-linux-$arch@$NODE_VERSION" | tail -n 1)"
got="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$work/$tarball")"
if [ "$got" != "${INTEGRITY[$arch]}" ]; then
  echo "The Node.js $NODE_VERSION tarball fetched does not match its pinned digest (got $got); nothing was installed." >&2
  exit 1
fi
$SUDO mkdir -p "$PREFIX"
$SUDO tar -xzf "$work/$tarball" -C "$PREFIX" --strip-components=1 --no-same-owner package/bin/node package/include/node package/share
hash -r
was="${have:+ (this machine had $have)}"
echo "Installed Node.js $NODE_VERSION in $PREFIX$was."
if [ -n "$have" ]; then
  echo "Native modules are built for one Node: run \`npm ci\` again in any checkout installed under Node $have."
fi

if [ "$(command -v node)" != "$PREFIX/bin/node" ]; then
  echo "$PREFIX/bin/node is installed, but \`node\` on PATH is $(command -v node): put $PREFIX/bin before $(dirname "$(command -v node)") on PATH." >&2
  exit 1
fi
match_nodedir
