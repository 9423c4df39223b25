#!/usr/bin/env bash
# make demo: the main job end to end on local defaults. Starts gearmand on
# 127.0.0.1:4730 (or a free port if that one is taken), the example PHP
# endpoint contrib/endpoint/job.php under `php -S`, and driveshaft with two
# pools (one per request format); submits jobs through gearmand, shows the
# answers and the status port, reloads with SIGHUP, then stops everything
# with SIGTERM. Interrupted (Ctrl-C), it stops what it started all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/driveshaft-demo.XXXXXX)
pids=()
cleanup() {
	trap - EXIT INT TERM
	# the last started first: the master, whose workers go with it
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
	done
	for ((n = 0; n < 100; n++)); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_busy() {
	python3 -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1', $1)) == 0 else 1)"
}
wait_port() {
	for ((n = 0; n < 100; n++)); do port_busy "$1" && return 0; sleep 0.1; done
	echo "demo: nothing listens on port $1" >&2; exit 1
}
say() { printf '\n== %s\n' "$*"; }

gm_port=4730
port_busy $gm_port && gm_port=$(free_port)
ep_port=$(free_port)
st_port=$(free_port)

say "gearmand on 127.0.0.1:$gm_port, php -S contrib/endpoint/job.php on 127.0.0.1:$ep_port"
# gearmand and php in sessions of their own: a Ctrl-C reaches the demo
# and its foreground step, which stops, rather than gearmand under that
# step first (its client would fail and the demo exit 1, not 130);
# cleanup stops them by pid either way
setsid /usr/sbin/gearmand -L 127.0.0.1 -p "$gm_port" --log-file=none >/dev/null 2>&1 &
pids+=("$!")
# the demo's pools carry no credentials: a secret set in this shell would
# have job.php refuse every job
setsid env -u DRIVESHAFT_ENDPOINT_SECRET php -S "127.0.0.1:$ep_port" \
	contrib/endpoint/job.php >"$work/php.log" 2>&1 &
pids+=("$!")
wait_port "$gm_port"
wait_port "$ep_port"

cat > "$work/jobs.json" <<JSON
{
  "gearman_servers_list": ["127.0.0.1:$gm_port"],
  "pools_list": {
    "Regular": {
      "job_processing_uri": "http://127.0.0.1:$ep_port/job.php",
      "worker_count": 3,
      "jobs_list": ["Sum", "Sum2"]
    },
    "Forms": {
      "job_processing_uri": "http://127.0.0.1:$ep_port/job.php",
      "request_format": "form",
      "worker_count": 1,
      "jobs_list": ["FormSum"]
    }
  }
}
JSON

say "driveshaft --check"
build/driveshaft --jobsconfig "$work/jobs.json" --check

say "driveshaft running (its log follows on stderr)"
printf 'stderr = 1\nlevel = info\n' > "$work/log.conf"
build/driveshaft --jobsconfig "$work/jobs.json" --status_port "$st_port" \
	--logconfig "$work/log.conf" --loop_timeout 1 \
	--pid_file "$work/driveshaft.pid" 2> "$work/driveshaft.log" &
master=$!
pids+=("$master")
wait_port "$st_port"
status() { build/driveshaft --query "$1" --status_port "$st_port"; }
for ((n = 0; n < 100; n++)); do
	[ "$(status threads | grep -c 'Waiting for work')" = 4 ] && break
	sleep 0.1
done
status threads

say "200 jobs through gearmand: Sum, Sum2 and FormSum of 'i i+1 i+2'"
for ((i = 1; i <= 200; i++)); do
	fn=Sum; [ $((i % 3)) = 1 ] && fn=Sum2; [ $((i % 3)) = 2 ] && fn=FormSum
	printf '%s\t%d %d %d\n' "$fn" "$i" $((i + 1)) $((i + 2))
done > "$work/jobs.txt"
start=$(date +%s.%N)
build/t/gmclient -s "127.0.0.1:$gm_port" < "$work/jobs.txt" > "$work/results.txt"
end=$(date +%s.%N)
ok=0; bad=0; i=1
while IFS=$'\t' read -r _ st hex; do
	want=$((3 * i + 3))
	got=$(printf '%s' "$hex" | xxd -r -p 2>/dev/null || python3 -c "import sys; print(bytes.fromhex('$hex').decode(), end='')")
	if [ "$st" = OK ] && [ "$got" = "$want" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	i=$((i + 1))
done < "$work/results.txt"
printf 'answers: %d right, %d wrong, in %.2f s\n' "$ok" "$bad" "$(echo "$end - $start" | bc 2>/dev/null || python3 -c "print($end - $start)")"
say "status: pools (name, configured, running, busy, idle, completed, failed, timed out)"
status pools

say "reload: Regular from 3 to 5 workers with kill -HUP"
sed -i 's/"worker_count": 3/"worker_count": 5/' "$work/jobs.json"
kill -HUP "$master"
for ((n = 0; n < 100; n++)); do
	[ "$(status threads | grep -c 'Regular')" = 5 ] && break
	sleep 0.1
done
status threads
status metrics | grep -E '^driveshaft_(jobs_completed_total|reloads_total|workers\{pool="Regular",state="idle"\})'

say "stop with SIGTERM"
kill -TERM "$master"
wait "$master" && echo "driveshaft exited 0; pid file left: $(ls "$work/driveshaft.pid" 2>/dev/null || echo none)"
say "driveshaft's log (start, reload, stop)"
grep -E 'event=(start|reload|stopping|stop) ' "$work/driveshaft.log" || true
[ "$bad" = 0 ]
