# Idle footprint (sourced by bench.sh): the daemon with nothing to do, beside
# certmonger tracking one certificate file and a bare libuv loop, measured in the
# same windows: RSS / PSS from /proc, wakeups as context switches of every thread
# (/proc/PID/task/*/status) over WINDOW seconds, then each one's system calls over
# another WINDOW seconds under strace -f -c (a tracer adds switches of its own, so
# the two are not taken together).

# start_certmonger DIR CERT KEY: certmonger tracking CERT / KEY without renewing, on a
# private session bus, with every file it keeps (requests, CAs, local CA, lock, temporary
# files) under DIR: the system's certmonger state (/var/lib/certmonger) is never touched.
# The bus has no service folders, so that D-Bus activation starts nothing behind our back.
# CM_PID, CM_BUS_PID
start_certmonger() {
  local dir=$1
  mkdir -p "$dir/home" "$dir/run" "$dir/state/requests" "$dir/state/cas" "$dir/state/local" "$dir/state/config" \
    "$dir/tmp"
  res cm_version "$(dpkg-query -W -f='${Version}' certmonger 2>/dev/null || echo '?')"
  cp "$2" "$dir/cert.pem"
  cp "$3" "$dir/key.pem"
  chmod 600 "$dir/key.pem"
  {
    echo '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
    echo ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">'
    echo "<busconfig><type>session</type><listen>unix:path=$dir/bus</listen><auth>EXTERNAL</auth>"
    echo '  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>'
    echo '  <allow own="*"/></policy></busconfig>'
  } > "$dir/bus.conf"
  CM_ENV=(HOME="$dir/home" XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/home/.config"
          XDG_DATA_HOME="$dir/home/.local/share" DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/bus"
          CERTMONGER_REQUESTS_DIR="$dir/state/requests" CERTMONGER_CAS_DIR="$dir/state/cas"
          CERTMONGER_LOCAL_CA_DIR="$dir/state/local" CERTMONGER_CONFIG_DIR="$dir/state/config"
          CERTMONGER_SYSTEM_LOCK_FILE="$dir/state/lock" CERTMONGER_TMPDIR="$dir/tmp")
  env "${CM_ENV[@]}" dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile >"$dir/dbus.out" 2>&1 &
  CM_BUS_PID=$!
  started "$CM_BUS_PID"
  for _ in $(seq 50); do [ -S "$dir/bus" ] && break; sleep 0.1; done
  [ -S "$dir/bus" ] || die "the private D-Bus did not start: $(cat "$dir/dbus.out")"
  env "${CM_ENV[@]}" certmonger -s -n -B >"$dir/certmonger.out" 2>&1 &
  CM_PID=$!
  started "$CM_PID"
  for _ in $(seq 100); do env "${CM_ENV[@]}" getcert list -s >/dev/null 2>&1 && break; sleep 0.1; done
  kill -0 "$CM_PID" 2>/dev/null || die "certmonger exited: $(cat "$dir/certmonger.out")"
  env "${CM_ENV[@]}" getcert start-tracking -s -f "$dir/cert.pem" -k "$dir/key.pem" -R >"$dir/track.out" 2>&1 ||
    die "certmonger does not track the file: $(cat "$dir/track.out")"
  for _ in $(seq 100); do
    if env "${CM_ENV[@]}" getcert list -s 2>/dev/null | grep -q 'status: MONITORING'; then
      [ "$(env "${CM_ENV[@]}" getcert list -s | grep -c '^Request ID')" = 1 ] || die "certmonger tracks more than one request"
      [ -n "$(ls "$dir/state/requests")" ] || die "certmonger keeps its requests somewhere else than $dir/state"
      return 0
    fi
    sleep 0.1
  done
  die "certmonger never reached MONITORING: $(env "${CM_ENV[@]}" getcert list -s 2>&1)"
}

# idle_measure WINDOW NAME=PID...: results idle.NAME.{rss,pss,hwm,threads,switches,cpu_ms,syscalls}
idle_measure() {
  local window=$1 np name pid tps
  shift
  declare -A s0 c0
  tps=$(getconf CLK_TCK)
  for np in "$@"; do
    pid=${np#*=}
    kill -0 "$pid" 2>/dev/null || die "${np%%=*} (pid $pid) is not running"
    s0[$pid]=$(switches "$pid")
    c0[$pid]=$(cputicks "$pid")
  done
  log "idle window 1: /proc for $window s ($*)"
  sleep "$window"
  for np in "$@"; do
    name=${np%%=*} pid=${np#*=}
    res "idle.$name.switches" $(($(switches "$pid") - s0[$pid]))
    res "idle.$name.cpu_ms" $((($(cputicks "$pid") - c0[$pid]) * 1000 / tps))
    res "idle.$name.rss" "$(status_kib "$pid" VmRSS)"
    res "idle.$name.hwm" "$(status_kib "$pid" VmHWM)"
    res "idle.$name.pss" "$(pss_kib "$pid")"
    res "idle.$name.threads" "$(status_kib "$pid" Threads)"
  done
  log "idle window 2: strace -f -c for $window s"
  local tpids=()
  for np in "$@"; do
    name=${np%%=*} pid=${np#*=}
    timeout -s INT "$((window + 1))" strace -f -c -o "$W/idle-$name.strace" -p "$pid" 2>"$W/idle-$name.strace.err" &
    tpids+=($!)
  done
  for pid in "${tpids[@]}"; do wait "$pid" || true; done
  for np in "$@"; do
    name=${np%%=*}
    # strace -c: "% time, seconds, usecs/call, calls, [errors], syscall" rows, then "total"
    res "idle.$name.syscalls" "$(awk '$NF == "total" {n = $4} END {print n + 0}' "$W/idle-$name.strace")"
    res "idle.$name.calls" "$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" {printf "%s%s:%s", sep, $NF, $4; sep = " "}' \
      "$W/idle-$name.strace")"
  done
}
