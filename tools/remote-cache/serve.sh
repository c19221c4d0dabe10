#!/usr/bin/env bash
# serve.sh: a Bazel remote cache on this machine's nginx, for a try-out.
#
#   tools/remote-cache/serve.sh [-d DIR] [-p PORT] [-u USER] [-w PASSWORD] [-r] [-b]
#   bazel run //tools/remote-cache:serve -- [the same options]
#
# Starts nginx unprivileged on 127.0.0.1 with the server block of
# cache.conf.in, its configuration, logs, temporary files and the cache
# itself under DIR (default: a new temporary directory, removed when a
# foreground server stops), and prints the flag for Bazel:
#   --remote_cache=http://USER:PASSWORD@127.0.0.1:PORT
#
#   -d DIR       where everything goes; relative to the directory `bazel run`
#                was started in (BUILD_WORKING_DIRECTORY). A second start on
#                the same DIR keeps the cache's contents.
#   -p PORT      the port (default: a free one)
#   -u USER      the writer's user name (default: bazel)
#   -w PASSWORD  the writer's password (default: generated and printed)
#   -r           reads need the password too (default: anyone may read)
#   -b           start in the background and return: the server runs until
#                `kill $(cat DIR/nginx.pid)`. Without -b it runs until ^C.
#
# It also writes DIR/url (the --remote_cache URL) for scripts, such as
# test.sh. Needs nginx (Debian's package: apt-get install nginx) and
# openssl for the password hash.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

dir="" port="" user=bazel pass="" read_auth=off background=0
while getopts "d:p:u:w:rbh" o; do
  case $o in
    d) dir=$OPTARG ;;
    p) port=$OPTARG ;;
    u) user=$OPTARG ;;
    w) pass=$OPTARG ;;
    r) read_auth='"bazel cache"' ;;
    b) background=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $port in
  "") ;;
  *[!0-9]*) echo "serve.sh: -p $port: not a port number" >&2; exit 2 ;;
  *) [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { echo "serve.sh: -p $port: not a port number" >&2; exit 2; } ;;
esac
case $user in *:*|"") echo "serve.sh: the user name must not be empty or contain ':'" >&2; exit 2 ;; esac

# The template: next to this script, or in the runfiles of `bazel run`.
template=""
for t in "$(dirname "$0")/cache.conf.in" \
         "${RUNFILES_DIR:-$0.runfiles}/bazwrt/tools/remote-cache/cache.conf.in" \
         "$PWD/tools/remote-cache/cache.conf.in"; do
  [ -f "$t" ] && { template=$(cd "$(dirname "$t")" && pwd)/cache.conf.in; break; }
done
[ -n "$template" ] || { echo "serve.sh: cache.conf.in not found" >&2; exit 1; }

nginx=$(command -v nginx || true)
[ -n "$nginx" ] || [ ! -x /usr/sbin/nginx ] || nginx=/usr/sbin/nginx
[ -n "$nginx" ] || { echo "serve.sh: no nginx: apt-get install nginx" >&2; exit 1; }

# Paths given by the user are relative to where they started `bazel run`.
abs() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "${BUILD_WORKING_DIRECTORY:-$PWD}/$1" ;;
  esac
}
own_dir=0
if [ -n "$dir" ]; then
  dir=$(abs "$dir")
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bazel-cache.XXXXXX")
  own_dir=1
fi
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/cache" "$dir/tmp" "$dir/logs"
if [ -e "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null; then
  echo "serve.sh: an nginx already runs for $dir (pid $(cat "$dir/nginx.pid"))" >&2
  exit 1
fi

# The password, hashed (apr1, which nginx's auth_basic reads) in htpasswd.
generated=0
if [ -z "$pass" ]; then
  pass=$(head -c 15 /dev/urandom | base64 | tr '+/' 'xy')
  generated=1
fi
if command -v openssl >/dev/null; then
  hash=$(printf '%s\n' "$pass" | openssl passwd -apr1 -stdin)
else
  # nginx also reads {PLAIN}: acceptable for a try-out's own file only.
  hash="{PLAIN}$pass"
fi
(umask 077 && printf '%s:%s\n' "$user" "$hash" >"$dir/htpasswd")

# nginx's main configuration: everything under $dir, nothing of the system
# installation's (no /etc/nginx, no /var/log/nginx, no privileged port).
write_conf() {
  local cache_conf
  # The placeholders of the directives; the comments keep their names.
  cache_conf=$(sed -e '/^[[:space:]]*#/b' \
                   -e "s|@LISTEN@|127.0.0.1:$1|" \
                   -e "s|@ROOT@|$dir/cache|" \
                   -e "s|@TEMP@|$dir/tmp|" \
                   -e "s|@WRITERS@|$dir/htpasswd|" \
                   -e "s|@READ_AUTH@|$read_auth|" \
                   -e "s|@READERS@|$dir/htpasswd|" "$template")
  {
    # As root, the workers would run as nobody and could not write $dir.
    [ "$(id -u)" != 0 ] || echo "user root;"
    cat <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 256; }
http {
    access_log $dir/logs/access.log;
    # The temporary directories of modules the cache does not use, out of
    # the system's /var/lib/nginx.
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$cache_conf
}
CONF
  } >"$dir/nginx.conf"
}

# A free port: one nothing listens on, and nginx's bind() decides.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}

tries=0
while :; do
  p=${port:-$(free_port)}
  write_conf "$p"
  # -e: the error log before the configuration is read, not /var/log/nginx.
  if "$nginx" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" 2>"$dir/logs/start.log"; then
    port=$p
    break
  fi
  tries=$((tries + 1))
  if [ -n "$port" ] || [ $tries -ge 5 ] || ! grep -q "Address already in use" "$dir/logs/start.log"; then
    cat "$dir/logs/start.log" >&2
    exit 1
  fi
done

# Percent-encodes the user and password for the URL.
urlenc() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}
url="http://$(urlenc "$user"):$(urlenc "$pass")@127.0.0.1:$port"
printf '%s\n' "$url" >"$dir/url"
chmod 600 "$dir/url"

cat <<MSG
nginx serves a Bazel remote cache on 127.0.0.1:$port from $dir/cache
(reads: $([ "$read_auth" = off ] && echo "open" || echo "password"); writes: user $user$([ $generated = 1 ] && echo ", generated password $pass")).
Build against it with:
  bazel build --config=remote --remote_cache=$url //...
MSG

if [ $background = 1 ]; then
  echo "Stop it with: kill \$(cat $dir/nginx.pid)"
  exit 0
fi

stop() {
  kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  # nginx removes its pid file when it has stopped.
  while [ -e "$dir/nginx.pid" ]; do sleep 0.2; done
  [ $own_dir = 0 ] || rm -rf "$dir"
}
trap 'stop; exit 0' INT TERM
echo "^C stops it."
pid=$(cat "$dir/nginx.pid")
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
