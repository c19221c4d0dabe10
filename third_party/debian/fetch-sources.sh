#!/usr/bin/env bash
# fetch-sources.sh LOCK DIR: downloads every source package LOCK pins into DIR
# and checks each file's sha256. Called by ./bazelw. A file ending in .deb
# is a binary package's, fetched with apt-get download (for data and test
# tools that have no usable source here; see sources.lock).
#
# apt-get runs with a private configuration (lists and caches under DIR/.apt)
# whose deb-src entries are derived from this machine's own apt sources, for
# the suites there and for trixie (newer userland versions); the system's apt
# state is not touched. A package or version the mirror does not serve fails
# with its name and version.
set -euo pipefail

lock=$1
dir=$2
apt="$dir/.apt"
mkdir -p "$dir"

log() { echo "fetch-sources: $*" >&2; }

# name package version file sha256, one line per source.
entries() { grep -vE '^[[:space:]]*(#|$)' "$lock"; }

have() { # file sha256
  [ -f "$dir/$1" ] && [ "$(cat "$dir/$1.sha256" 2>/dev/null)" = "$2" ]
}

missing=()
while read -r name package version file sha; do
  if [ -z "$sha" ] || [ ${#sha} -ne 64 ]; then
    log "$lock: entry \"$name\": want 'name package version file sha256'"
    exit 1
  fi
  have "$file" "$sha" || missing+=("$name $package $version $file $sha")
done < <(entries)
[ ${#missing[@]} -eq 0 ] && exit 0

# deb-src lines from the machine's deb822 and one-line apt sources.
write_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk '
      function flush() {
        if (uris != "" && suites != "") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++) {
            line(s[i])
            if (s[i] ~ /^bookworm$/) line("trixie")
          }
        }
        uris = ""; suites = ""; comps = ""; key = ""
      }
      function line(suite) {
        opt = key != "" ? "[signed-by=" key "] " : ""
        printf "deb-src %s%s %s %s\n", opt, uris, suite, comps
      }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      /^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
      /^Signed-By:/ { sub(/^Signed-By:[[:space:]]*/, ""); key = $0 }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -nE 's/^deb[[:space:]]+/deb-src /p' "$f"
    sed -nE 's/^deb[[:space:]]+(.*)[[:space:]]bookworm[[:space:]]+(.*)$/deb-src \1 trixie \2/p' "$f"
  done
}

mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/download"
# Binary packages (a file ending in .deb: data such as the wireless
# regulatory database, or a test's host tool that must not be installed)
# need the deb lines as well; their lists are large, so only then.
binary=
for entry in "${missing[@]}"; do
  case "$entry" in *.deb\ *) binary=1 ;; esac
done
{
  write_sources
  [ -z "$binary" ] || write_sources | sed 's/^deb-src /deb /'
} | sort -u >"$apt/sources.list"
touch "$apt/status"
cat >"$apt/apt.conf" <<CONF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/nonexistent";
Dir::State "$apt";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt";
Dir::Cache::archives "$apt/archives";
APT::Sandbox::User "root";
CONF
export APT_CONFIG="$apt/apt.conf"

log "updating the source lists"
apt-get update -qq >&2

for entry in "${missing[@]}"; do
  read -r name package version file sha <<<"$entry"
  log "fetching $package $version"
  rm -rf "$apt/download" && mkdir -p "$apt/download"
  case "$file" in
    *.deb) what="binary package"; get=(download) ;;
    *) what="source package"; get=(source --download-only) ;;
  esac
  if ! out=$(cd "$apt/download" && apt-get "${get[@]}" -qq "$package=$version" 2>&1); then
    echo "$out" >&2
    log "$what $package version $version (for \"$name\" in $lock) cannot be fetched: the mirror does not serve it"
    exit 1
  fi
  if [ ! -f "$apt/download/$file" ]; then
    log "$what $package $version has no file $file (for \"$name\" in $lock); it has: $(ls "$apt/download" | tr '\n' ' ')"
    exit 1
  fi
  got=$(sha256sum "$apt/download/$file" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    log "$file of $package $version has sha256 $got, $lock pins $sha"
    exit 1
  fi
  mv "$apt/download/$file" "$dir/$file"
  echo "$sha" >"$dir/$file.sha256"
done
rm -rf "$apt/download"
