# Shared by the benchmark's parts (sourced by bench.sh): logging, the processes it
# starts (ended by PID at exit), statistics, /proc readings, a local nginx.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- processes: every one the benchmark starts is recorded and ended by PID ----------
STARTED=()
# started PID: recorded with its start time, so that a PID the system gave to another
# process meanwhile is never signalled
started() { STARTED+=("$1:$(starttime "$1")"); }
starttime() { awk '{print $22}' /proc/"$1"/stat 2>/dev/null || echo gone; }

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; reaped when it is our child
stop_pid() {
  local pid=$1 i e keep=()
  for e in "${STARTED[@]}"; do
    if [ "${e%%:*}" = "$pid" ]; then
      [ "$(starttime "$pid")" = "${e#*:}" ] || pid= # gone, and the PID may be another's now
    else
      keep+=("$e")
    fi
  done
  STARTED=("${keep[@]}")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[i]%%:*}"; done
  STARTED=()
}

# ---- numbers ---------------------------------------------------------------------------
# stats FILE [COLUMN]: "n median p95 min max" of the numbers in that column of FILE
# (default the first; benchtool spawn writes wall time, then CPU time); nearest-rank p95
stats() {
  awk -v c="${2:-1}" '{print $c}' "$1" | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "0 - - - -"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    k = int(NR * 0.95); if (k < NR * 0.95) k++
    printf "%d %.6g %.6g %.6g %.6g\n", NR, m, v[k], v[1], v[NR] }'
}
median() { stats "$1" "${2:-1}" | awk '{print $2}'; }
# calc EXPR: awk arithmetic, printed with %.4g unless a format is given
calc() { awk "BEGIN { printf \"${2:-%.4g}\", $1 }"; }

# Results: key = value, in $W/results and the array R
declare -A R
res() { R[$1]=$2; printf '%s=%s\n' "$1" "$2" >> "$W/results"; }
r() { printf '%s' "${R[$1]:-}"; }
have() { [ -n "${R[$1]:-}" ]; }

# ---- /proc ----------------------------------------------------------------------------
# context switches (voluntary + involuntary) of every thread of PID: each is a wakeup
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {s += $2} END {print s + 0}'; }
# user + system CPU time of PID in clock ticks
cputicks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }
pss_kib() { awk '$1 == "Pss:" {print $2}' /proc/"$1"/smaps_rollup; }
mib() { calc "$1 / 1024" "%.2f"; }

# ---- nginx on 127.0.0.1 (as tests/integration/lib.sh runs it) --------------------------
# start_nginx DIR CERT KEY: serves CERT on a free port (NGINX_PORT), master pid NGINX_PID
start_nginx() {
  local dir=$1 cert=$2 key=$3
  mkdir -p "$dir/logs" "$dir/tmp"
  NGINX_PID=
  for _ in 1 2 3 4 5; do
    NGINX_PORT=$((20000 + RANDOM % 12000))
    cat > "$dir/nginx.conf" <<EOF
worker_processes 1; pid $dir/nginx.pid; error_log $dir/logs/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  server { listen 127.0.0.1:$NGINX_PORT ssl; ssl_certificate $cert; ssl_certificate_key $key; return 200; } }
EOF
    if /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" 2>"$dir/start.err"; then
      NGINX_PID=$(cat "$dir/nginx.pid")
      break
    fi
    grep -q "Address already in use" "$dir/start.err" || { cat "$dir/start.err" >&2; die "nginx did not start"; }
  done
  [ -n "$NGINX_PID" ] || die "no free port for nginx"
  started "$NGINX_PID" # nginx's master: not our child, ended by PID all the same
}

# served PORT HOST: the SHA-1 thumbprint served there
served() {
  openssl s_client -connect "127.0.0.1:$1" -servername "$2" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g'
}
# thumbprint FILE (PEM certificate)
thumbprint() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
