#!/usr/bin/env bash
# The README's commands, run as a newcomer would on a fresh clone of this repository's HEAD (./dev test runs this
# first): every `./dev run` variant in its sh blocks must serve /health on its provider and, once stopped, leave the
# servers it started running; `./dev token` must print one token; `./dev servers` must return through a pipe. The commands that
# take minutes or more (test, bench, mutate, soak, the cluster) are named and skipped: ./dev test is the one running.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[readme]\033[0m %s\n' "$*" >&2; }
failures=()
fail() { failures+=("$1"); log "FAILED: $1"; }

clone=$(mktemp -d /tmp/monolith-readme.XXXXXX)
trap 'rm -rf "$clone"' EXIT
git clone --quiet "$PWD" "$clone"
logs=$PWD/artifacts/readme
rm -rf "$logs" && mkdir -p "$logs"

servers_answer() {
  pg_isready -q -h 127.0.0.1 -p 5432 && mysqladmin --protocol=socket ping >/dev/null 2>&1 &&
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1
}

stop_servers() {
  pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
  mysqladmin --protocol=socket shutdown >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do
    ! pg_isready -q -h 127.0.0.1 -p 5432 && ! mysqladmin --protocol=socket ping >/dev/null 2>&1 && return
    sleep 0.2
  done
}

# The sh blocks' lines, without comments and blank lines.
commands() {
  awk '/^```sh$/ { inside = 1; next } /^```$/ { inside = 0 } inside' README.md | sed -E 's/[[:space:]]+#.*$//; /^[[:space:]]*$/d'
}

# A `./dev run` line: started in a session of its own, as a terminal runs a foreground command; it must answer /health
# on its address within five minutes (a first build on a fresh clone included), on the provider it names, and after
# SIGTERM to its whole process group (what a supervisor or `timeout` sends; unlike Ctrl-C, it reaches background
# children too) the servers must still answer.
check_run() {
  local line=$1 n=$2 url out=$logs/run-$2.log pid started=$SECONDS provider=PostgreSql health=""
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' <<<"$line" || echo http://127.0.0.1:5080)
  [[ $line == *--mysql* ]] && provider=MySql
  (cd "$clone" && exec setsid bash -c "$line" </dev/null >"$out" 2>&1) &
  pid=$!
  until health=$(curl -fsS -m 2 "$url/health" 2>/dev/null); do
    if ! kill -0 "$pid" 2>/dev/null; then fail "'$line' exited before answering $url/health (log: $out)"; tail -n 20 "$out" >&2; return; fi
    if [ $((SECONDS - started)) -gt 300 ]; then fail "'$line' did not answer $url/health within 5 minutes (log: $out)"; break; fi
    sleep 1
  done
  [ -z "$health" ] || [[ $health == *"\"provider\":\"$provider\""* ]] || fail "'$line' serves another provider than $provider: $health"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then fail "'$line' was still running 30 s after SIGTERM"; kill -KILL -- "-$pid" 2>/dev/null || true; fi
  servers_answer || fail "the servers did not all survive stopping '$line'"
  [ ${#failures[@]} -gt 0 ] && [[ ${failures[-1]} == *"$line"* ]] || log "ok ($((SECONDS - started)) s): $line"
}

# First as a newcomer meets it: no server running, so that `./dev run` starts them and its stop must spare them.
stop_servers
n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in
    *"./dev test"*) log "skipped (it is what runs this check): $line" ;;
    *"./dev run"*) check_run "$line" "$n" ;;
    *"./dev token"*)
      if token=$(cd "$clone" && bash -c "$line" 2>"$logs/token.log") && [ "$(wc -l <<<"$token")" -eq 1 ] && [ -n "$token" ]; then
        log "ok: $line"
      else
        fail "'$line' did not print one token (log: $logs/token.log)"
      fi
      ;;
    *) log "skipped (minutes or more; not part of this check): $line" ;;
  esac
done < <(commands)

# A script that pipes ./dev's output must get its end: no server it starts may hold the pipe.
stop_servers
# The whole pipeline under one timeout, which signals its whole process group: tail waits as long as the pipe is open.
if (cd "$clone" && timeout 300 bash -c './dev servers 2>&1 | tail -n 1 >/dev/null'); then
  log "ok: ./dev servers | tail (the servers started, and the pipe ended)"
else
  fail "./dev servers | tail did not return within 5 minutes"
fi
servers_answer || fail "the servers do not answer after ./dev servers"

if [ ${#failures[@]} -gt 0 ]; then
  log "${#failures[@]} README command(s) failed:"
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
log "every README command checked works as written"
