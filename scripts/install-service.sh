#!/usr/bin/env bash
# Installs Portent's headless monitor as a systemd service (docs/service.md), from a checkout
# where `npm ci && npm run build` has been run by its own user. Run as root:
#
#   sudo bash scripts/install-service.sh [--prefix DIR] [--no-start]
#   sudo bash scripts/install-service.sh --remove [--purge] [--prefix DIR]
#
# It never builds: a build as root would leave root-owned files in the user's checkout. It copies
# the build and the production packages the checkout has (no install script runs again, so the
# patched `cap` stays as built) into the prefix, owned by root and readable by all; creates the
# system user `portent`; installs the capture helper for the group `portent`; installs
# deploy/systemd/portent.service; and, when systemd runs, enables and starts it. Running it again
# upgrades in place (a running service is stopped, swapped and started again).
set -euo pipefail
umask 022

readonly SERVICE_USER=portent
readonly STATE_DIR=/var/lib/portent
readonly UNIT_NAME=portent.service
readonly UNIT_FILE=/etc/systemd/system/$UNIT_NAME
readonly DEFAULT_PREFIX=/opt/portent
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly SOURCE

die() {
  echo "install-service: $*" >&2
  exit 1
}
usage_error() {
  echo "install-service: $* (see --help)" >&2
  exit 2
}
usage() {
  cat <<EOF
Usage: sudo bash scripts/install-service.sh [--prefix DIR] [--no-start]
       sudo bash scripts/install-service.sh --remove [--purge] [--prefix DIR]

Installs Portent's headless monitor as the systemd service $UNIT_NAME, running as the
system user $SERVICE_USER with its data in $STATE_DIR. Run it from a checkout where
\`npm ci && npm run build\` was run (as yourself); running it again upgrades in place.

  --prefix DIR  where to install (default $DEFAULT_PREFIX; for --remove, the installed
                unit's folder)
  --no-start    install, but neither enable nor start the service
  --remove      stop and disable the service, remove its unit (with its drop-ins), the
                capture helper and the installation; keeps $STATE_DIR (the database)
                and the user
  --purge       with --remove: also delete $STATE_DIR and the user and group $SERVICE_USER
EOF
}

prefix=""
start=yes
action=install
purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a folder"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --no-start) start=no; shift ;;
    --remove) action=remove; shift ;;
    --purge) purge=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[ "$purge" = no ] || [ "$action" = remove ] || usage_error "--purge goes with --remove"

[ "$(uname -s)" = Linux ] || die "this installs a systemd service, for Linux; on $(uname -s) run the monitor from a checkout (README)"
[ "$(id -u)" -eq 0 ] || die "run it as root (sudo bash scripts/install-service.sh): it creates a user and installs into system folders"

systemd_running() { [ -d /run/systemd/system ]; }

# A folder that holds an installation this script made: Portent's manifest and its built CLI.
is_installation() {
  [ -f "$1/out/main/cli.js" ] && [ -f "$1/package.json" ] && grep -Eq '"name"[[:space:]]*:[[:space:]]*"portent"' "$1/package.json"
}

# The folder the installed unit runs from, when a unit is installed.
installed_prefix() {
  [ -f "$UNIT_FILE" ] && sed -n 's/^WorkingDirectory=//p' "$UNIT_FILE" | head -n 1
}

check_prefix() {
  case "$prefix" in
    /*) ;;
    *) die "--prefix must be an absolute path; got '$prefix'" ;;
  esac
  # A path systemd takes as it is in the unit, and one this script can safely replace.
  [[ "$prefix" =~ ^(/[A-Za-z0-9._+-]+)+$ ]] || die "--prefix must be a plain path (letters, digits, . _ + -), without a trailing slash or spaces; got '$prefix'"
  [[ "/$prefix/" != */../* && "/$prefix/" != */./* ]] || die "--prefix must not contain . or .. parts; got '$prefix'"
  case "$prefix/" in
    /home/* | /root/* | /run/user/*) die "$prefix is hidden from the service (ProtectHome=yes in the unit); choose a folder such as $DEFAULT_PREFIX" ;;
    "$STATE_DIR"/*) die "--prefix must not be inside the data folder $STATE_DIR" ;;
  esac
}

# Pids of the processes the service user runs, from /proc (pgrep is not on every minimal system).
pids_of_service_user() {
  local uid f key real rest pid found=()
  uid="$(id -u "$SERVICE_USER" 2>/dev/null)" || return 0
  for f in /proc/[0-9]*/status; do
    pid="${f#/proc/}"
    while read -r key real rest; do
      if [ "$key" = Uid: ]; then
        if [ "$real" = "$uid" ]; then found+=("${pid%/status}"); fi
        break
      fi
    done <"$f" 2>/dev/null || true
  done
  echo "${found[*]}"
}

remove() {
  if [ -z "$prefix" ]; then prefix="$(installed_prefix || true)"; fi
  prefix="${prefix:-$DEFAULT_PREFIX}"
  check_prefix
  if [ -e "$prefix" ] && ! is_installation "$prefix"; then die "$prefix is not a Portent installation; left alone"; fi
  if [ -f "$UNIT_FILE" ] && systemd_running; then
    systemctl disable --now "$UNIT_NAME"
  fi
  local left
  left="$(pids_of_service_user)"
  [ -z "$left" ] || die "processes of the user $SERVICE_USER still run (pids $left): stop the monitor first (kill -TERM <pid>), then run this again"
  if [ -f "$UNIT_FILE" ]; then echo "Removing $UNIT_FILE"; fi
  # With the unit go its links and its drop-ins (systemctl edit): they would name a missing unit.
  rm -rf -- "$UNIT_FILE" "$UNIT_FILE.d" /etc/systemd/system/*.wants/"$UNIT_NAME"
  if systemd_running; then systemctl daemon-reload; fi
  if [ -e "$prefix" ]; then
    # The capture helper lives in the installation: it goes with it.
    echo "Removing $prefix and its capture helper"
    rm -rf -- "$prefix"
  fi
  if [ "$purge" = yes ]; then
    rm -rf -- "$STATE_DIR"
    if getent passwd "$SERVICE_USER" >/dev/null; then userdel "$SERVICE_USER"; fi
    if getent group "$SERVICE_USER" >/dev/null; then groupdel "$SERVICE_USER"; fi
    echo "Deleted $STATE_DIR and the user $SERVICE_USER."
  else
    echo "Kept $STATE_DIR (the database) and the user $SERVICE_USER; --remove --purge deletes them."
  fi
}

if [ "$action" = remove ]; then
  remove
  exit 0
fi

prefix="${prefix:-$DEFAULT_PREFIX}"
check_prefix
[ "$prefix" != "$SOURCE" ] || die "run it from a checkout, not from the installation $prefix"
case "$prefix/" in "$SOURCE"/*) die "--prefix must not be inside the checkout $SOURCE" ;; esac
case "$SOURCE/" in "$prefix"/*) die "the checkout $SOURCE must not be inside --prefix $prefix" ;; esac
if [ -e "$prefix" ] && ! is_installation "$prefix"; then
  [ -z "$(ls -A "$prefix" 2>/dev/null)" ] || die "$prefix exists and is not a Portent installation; choose another --prefix or empty it"
fi

# Node: the one on root's PATH (what sudo's secure_path finds) runs the service.
node_bin="$(command -v node || true)"
[ -n "$node_bin" ] || die "node is not on root's PATH ($PATH): install Node.js system-wide (for example /usr/bin/node), then run this again"
case "$node_bin" in
  /home/* | /root/* | /run/user/*) die "node is $node_bin, which the service cannot see (ProtectHome=yes): install Node.js system-wide" ;;
esac
[[ "$node_bin" =~ ^(/[A-Za-z0-9._+-]+)+$ ]] || die "node's path $node_bin has characters a unit line cannot take as they are"
# The minimum Node comes from package.json's engines, so the two never disagree. Old syntax
# only: this has to run on the too-old Node it refuses.
"$node_bin" -e '
  var engines = require(process.argv[1]).engines;
  var want = /(\d+)\.(\d+)/.exec((engines && engines.node) || "") || [0, 0, 0];
  var have = process.versions.node.split(".").map(Number);
  if (have[0] > +want[1] || (have[0] === +want[1] && have[1] >= +want[2])) process.exit(0);
  console.error("install-service: Portent needs Node " + want[1] + "." + want[2] + " or newer; " + process.execPath + " is " + process.version);
  process.exit(1);
' "$SOURCE/package.json" || exit 1
command -v npm >/dev/null || die "npm is not on root's PATH: it lists the production packages to copy (Debian: apt install npm)"
command -v setcap >/dev/null || die "setcap is not installed: install libcap2-bin (Debian, Ubuntu), then run this again"

# The checkout must be built, with native modules this Node loads.
is_installation "$SOURCE" || die "$SOURCE has no build: run \`npm ci && npm run build\` there as your own user, then this again"
[ -d "$SOURCE/migrations" ] || die "$SOURCE/migrations is missing: is this a full checkout?"
[ -f "$SOURCE/native/sockdiag/build/Release/sockdiag.node" ] || die "the socket table addon (native/sockdiag) is not built: run \`npm ci\` in $SOURCE"
[ -x "$SOURCE/native/capture/build/Release/portent-capture" ] || die "the capture helper (native/capture) is not built: run \`npm ci\` in $SOURCE"
"$node_bin" -e '
  const root = process.argv[1];
  try {
    require(root + "/node_modules/better-sqlite3");
    require(root + "/native/sockdiag");
    if (typeof require(root + "/node_modules/cap").Cap.prototype.stats !== "function") {
      console.error("install-service: node_modules/cap is not patched: run `npm ci` in " + root + " (its postinstall patches cap)");
      process.exit(1);
    }
  } catch (e) {
    console.error(`install-service: a native module of ${root} does not load in Node ${process.version}: ${e.message.split("\n")[0]} (run \`npm ci\` there with this Node)`);
    process.exit(1);
  }
' "$SOURCE" || exit 1
packages="$(cd "$SOURCE" && npm ls --omit=dev --all --parseable 2>/dev/null)" ||
  die "$SOURCE/node_modules does not match package-lock.json (npm ls --omit=dev fails): run \`npm ci\` there"

# Stage the new tree beside the prefix, then swap it in: an interrupted run leaves the old one.
mkdir -p "$(dirname "$prefix")"
stage="$(mktemp -d "$(dirname "$prefix")/.portent-install.XXXXXX")"
old=""
cleanup() {
  rm -rf -- "$stage"
  # The previous installation: deleted once the new one is in place, put back if it is not.
  if [ -n "$old" ] && [ -e "$old" ]; then
    if [ -e "$prefix" ]; then rm -rf -- "$old"; else mv -- "$old" "$prefix"; fi
  fi
}
trap cleanup EXIT

echo "Copying the build and its production packages from $SOURCE to $prefix"
(
  cd "$SOURCE"
  cp -R package.json package-lock.json out migrations "$stage/"
  mkdir -p "$stage/native/sockdiag/build/Release" "$stage/scripts" "$stage/deploy/systemd"
  cp native/sockdiag/package.json native/sockdiag/index.js "$stage/native/sockdiag/"
  cp native/sockdiag/build/Release/sockdiag.node "$stage/native/sockdiag/build/Release/"
  # The capture helper as built, without privilege; capture-setup below installs the one copy
  # that may capture, in libexec/.
  mkdir -p "$stage/native/capture/build/Release"
  cp native/capture/package.json native/capture/index.js "$stage/native/capture/"
  cp native/capture/build/Release/portent-capture "$stage/native/capture/build/Release/"
  # Kept with the installation, so that it can remove itself without the checkout.
  cp scripts/install-service.sh "$stage/scripts/"
  cp deploy/systemd/portent.service "$stage/deploy/systemd/"
  # Each production package as the checkout built it; nested ones are copied with their parent.
  while IFS= read -r dir; do
    case "$dir" in "$SOURCE"/node_modules/*) cp -P -R --parents "${dir#"$SOURCE"/}" "$stage/" ;; esac
  done <<<"$packages"
)
chown -R root:root "$stage"
chmod -R u+rwX,go+rX,go-w "$stage"

if ! getent group "$SERVICE_USER" >/dev/null; then
  groupadd --system "$SERVICE_USER"
fi
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  nologin="$(command -v nologin || echo /usr/sbin/nologin)"
  useradd --system --gid "$SERVICE_USER" --home-dir "$STATE_DIR" --no-create-home --shell "$nologin" --comment "Portent host monitor" "$SERVICE_USER"
  echo "Created the system user $SERVICE_USER."
fi
# systemd creates it too (StateDirectory=); made here so that `config set` works before a start.
install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0700 "$STATE_DIR"

was_running=no
if systemd_running && systemctl is-active --quiet "$UNIT_NAME"; then
  echo "Stopping $UNIT_NAME to upgrade it"
  systemctl stop "$UNIT_NAME"
  was_running=yes
fi
# A monitor started by hand from the old files would lose them under its feet.
running="$(pids_of_service_user)"
[ -z "$running" ] || die "processes of the user $SERVICE_USER still run (pids $running): stop them (kill -TERM <pid>), then run this again"
if [ -e "$prefix" ]; then
  old="$(mktemp -u "$prefix.old.XXXXXX")"
  mv -- "$prefix" "$old"
fi
mv -- "$stage" "$prefix"

(cd / && "$node_bin" "$prefix/out/main/cli.js" capture-setup --group "$SERVICE_USER")

sed -e "/^#/!s|/opt/portent|$prefix|g" -e "/^#/!s|/usr/bin/node|$node_bin|g" "$SOURCE/deploy/systemd/portent.service" >"$UNIT_FILE.new"
chmod 0644 "$UNIT_FILE.new"
mv -- "$UNIT_FILE.new" "$UNIT_FILE"
echo "Installed $UNIT_FILE"

status_line="sudo -u $SERVICE_USER env PORTENT_HOME=$STATE_DIR $node_bin $prefix/out/main/cli.js status"
if ! systemd_running; then
  echo "systemd is not running here (it is not PID 1), so the service was not started."
  echo "On a machine booted with systemd: systemctl daemon-reload && systemctl enable --now $UNIT_NAME"
  echo "Without systemd, start the monitor by hand: runuser -u $SERVICE_USER -- env PORTENT_HOME=$STATE_DIR $node_bin $prefix/out/main/cli.js run"
  exit 0
fi
systemctl daemon-reload
if [ "$start" = yes ]; then
  systemctl enable --now "$UNIT_NAME"
  echo "Portent runs as $UNIT_NAME. Check it with: systemctl status $UNIT_NAME; $status_line"
elif [ "$was_running" = yes ]; then
  systemctl start "$UNIT_NAME"
  echo "Restarted $UNIT_NAME on the new installation (it was running). Check it with: $status_line"
else
  echo "Installed, not started (--no-start). Start it with: systemctl enable --now $UNIT_NAME"
fi
