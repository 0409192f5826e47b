#!/usr/bin/env bash
# Makes sure what the test suite talks to is running and installed: PostgreSQL, Redis, NATS (JetStream),
# Chromium (browser tests), promtool (metrics format check) and sshd (the breeder's SSH effectuation test starts
# its own on a loopback port). Starts only what is not already up.
set -uo pipefail

up() { (echo > "/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
wait_port() {
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done
  echo "ensure-services: $2 did not come up on port $1" >&2
  return 1
}
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
# shellcheck source=lib/new-processes.sh
. "$(dirname "$0")/lib/new-processes.sh"

if ! up 5432; then
  echo "ensure-services: starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432 PostgreSQL || exit 1
fi
if ! up 6379; then
  echo "ensure-services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  wait_port 6379 Redis || exit 1
fi
if ! up 4222; then
  echo "ensure-services: starting NATS with JetStream"
  mkdir -p /var/lib/nats-server 2>/dev/null || true
  nohup nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server >/tmp/nats-server.log 2>&1 &
  wait_port 4222 NATS || exit 1
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
install_packages() {
  ($SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$@") >/tmp/capstan-apt.log 2>&1
}
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-services: installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  # The prometheus package starts a server on :9090 and openssh-server one on :22 where an init system lets it; we
  # need neither: stop those the install started, by their pids, never one that was already running.
  run_then_stop_new prometheus run_then_stop_new sshd install_packages "${missing[@]}" \
    || echo "ensure-services: could not install ${missing[*]} (see /tmp/capstan-apt.log); tests needing them will say so" >&2
fi
exit 0
