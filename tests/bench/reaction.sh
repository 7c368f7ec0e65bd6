# Reaction (sourced by bench.sh): the daemon against nginx on 127.0.0.1, renewed N
# times by dropping a PFX (each expiring a day later than the one in service).
# Times come from the daemon's own event lines (--foreground writes them to stderr,
# which benchtool ts stamps to the microsecond as they arrive; events.jsonl has
# milliseconds), the drop time from benchtool drop (the rename), and the connector's
# restart time from the restart command itself, which reloads nginx and returns once
# nginx serves the new certificate. reaction = COMMIT - drop - restart command; the
# settle window is 0 ([watch] settle_seconds = 0).

HOST=board.example.test
PFX_PASS=bench-pass

# react_setup DIR N [M]: PKI (N renewals to drop, M more to adopt), the files in service,
# a certbot-style folder ([store] adopt_from: live/site links into archive/site, version 0
# the certificate in service), nginx, the restart command, the configuration
react_setup() {
  local d=$1 n=$2 m=${3:-0} old
  mkdir -p "$d/pki" "$d/store" "$d/state" "$d/stage"
  mkdir -m 700 "$d/drop" "$d/le" "$d/le/live" "$d/le/archive" "$d/le/live/site" "$d/le/archive/site"
  "$TOOLS/gencerts" renewals "$d/pki" "$((n + m))" "$HOST" "$PFX_PASS" || die "gencerts renewals"
  cp "$d/pki/current.pem" "$d/le/archive/site/cert0.pem"
  cp "$d/pki/inter.pem" "$d/le/archive/site/chain0.pem"
  cat "$d/pki/current.pem" "$d/pki/inter.pem" > "$d/le/archive/site/fullchain0.pem"
  install -m 600 "$d/pki/key.pem" "$d/le/archive/site/privkey0.pem"
  adopt_point "$d" 0
  (umask 077 && printf '%s\n' "$PFX_PASS" > "$d/pki/pass.txt")
  cat "$d/pki/current.pem" "$d/pki/inter.pem" > "$d/store/cert.pem"
  install -m 600 "$d/pki/key.pem" "$d/store/key.pem"
  old=$(thumbprint "$d/pki/current.pem")
  printf '{\r\n  "webServer": { "port": 8197, "thumbprint": "%s" },\r\n  "configurationServer": { "port": 8096, "thumbprint": "%s" }\r\n}\r\n' \
    "$old" "$old" > "$d/tls.json"
  start_nginx "$d/nginx" "$d/store/cert.pem" "$d/store/key.pem"
  [ "$(served "$NGINX_PORT" "$HOST")" = "$old" ] || die "nginx does not serve the certificate in service"
  cat > "$d/restart.sh" <<EOF
#!/bin/bash
# The connector's restart, timed by itself: nginx reloads, and the restart is over
# once nginx serves the certificate now in store/cert.pem (at most 10 s).
t0=\$EPOCHREALTIME
/usr/sbin/nginx -p "$d/nginx" -c "$d/nginx/nginx.conf" -s reload 2>>"$d/nginx/reload.log" || exit 1
want=\$(openssl x509 -in "$d/store/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
for _ in \$(seq 1000); do
  got=\$(openssl s_client -connect 127.0.0.1:$NGINX_PORT -servername $HOST </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g')
  [ "\$got" = "\$want" ] && break
  sleep 0.01
done
echo "\$t0 \$EPOCHREALTIME" >> "$d/restart.log"
EOF
  chmod 755 "$d/restart.sh"
  cat > "$d/cs.ini" <<EOF
[connector]
host = $HOST
account = nobody
endpoints = 127.0.0.1:$NGINX_PORT
binding_files = tls.json
restart_command = $d/restart.sh
restart_timeout = 20

[store]
state_dir = state
cert_file = store/cert.pem
key_file = store/key.pem

adopt_from = le/live/site

[watch]
folder = drop
settle_seconds = 0
rescan_interval = 300
password_file = pki/pass.txt

[policy]
ca_file = pki/ca.pem
EOF
}

# react_start DIR: the daemon in the foreground, its event lines stamped into DIR/events.log;
# returns once its start-up jobs (recovery, expiry check) are done. DAEMON_PID
react_start() {
  local d=$1 i
  mkfifo "$d/events.fifo"
  "$TOOLS/benchtool" ts < "$d/events.fifo" > "$d/events.log" &
  started $!
  "$CS" run --config "$d/cs.ini" --foreground 2>"$d/events.fifo" >"$d/daemon.out" &
  DAEMON_PID=$!
  started "$DAEMON_PID"
  # the expiry check is the last start-up job: the metrics then name the certificate in service
  for i in $(seq 300); do
    grep -qs '^certsteward_certificate_not_after_seconds{' "$d/state/certsteward.prom" && break
    kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon exited: $(cat "$d/events.log")"
    sleep 0.1
  done
  grep -qs '^certsteward_certificate_not_after_seconds{' "$d/state/certsteward.prom" ||
    die "the daemon's start-up did not finish in 30 s: $(cat "$d/events.log")"
  [ "$(cat /proc/"$DAEMON_PID"/comm)" = certsteward ] || die "pid $DAEMON_PID is not the daemon"
}

count_id() { grep -c "^[0-9.]* certsteward\[$2\]" "$1/events.log" || true; }

# react_run DIR N: N renewals, one after the other
react_run() {
  local d=$1 n=$2 i k name
  : > "$d/drops"
  for i in $(seq "$n"); do
    name=$(printf 'renew-%03d.pfx' "$i")
    cp "$d/pki/$name" "$d/stage/$name"
    "$TOOLS/benchtool" drop "$d/stage/$name" "$d/drop/$name" >> "$d/drops" || die "drop $name"
    for k in $(seq 3000); do # 60 s at most
      [ "$(count_id "$d" 4007)" -ge "$i" ] && break
      if grep -q "^[0-9.]* certsteward\[\(1005\|3002\|3004\|5000\|5002\)\]" "$d/events.log"; then
        die "renewal $i failed: $(grep -v '^[0-9.]* certsteward\[4' "$d/events.log" | tail -5)"
      fi
      sleep 0.02
    done
    [ "$(count_id "$d" 4007)" -ge "$i" ] || die "renewal $i did not commit within 60 s"
    # the commit queues an expiry check (a worker): let it end before the next drop
    sleep 0.7
  done
  local want; want=$(openssl pkcs12 -in "$d/pki/$name" -passin "pass:$PFX_PASS" -nokeys -clcerts 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
  [ "$(served "$NGINX_PORT" "$HOST")" = "$want" ] || die "nginx does not serve the last renewal"
  grep -q "$want" "$d/tls.json" || die "the binding file does not name the last renewal"
  [ "$(wc -l < "$d/restart.log")" -eq "$n" ] || die "the restart command ran $(wc -l < "$d/restart.log") times for $n renewals"
}

# react_analyse DIR: DIR/reaction.tsv, one renewal a line (ms), and the results
react_analyse() {
  local d=$1 col
  awk -v drops="$d/drops" -v restarts="$d/restart.log" '
    BEGIN { while ((getline l < drops) > 0) drop[++nd] = l
            while ((getline l < restarts) > 0) { split(l, a, " "); rs[++nr] = a[1]; re[nr] = a[2] } }
    match($2, /^certsteward\[[0-9]+\]/) { id = substr($2, 13, RLENGTH - 13); t[id, ++c[id]] = $1 }
    END {
      print "renewal\treaction\tdetect\tvalidate\tvalidate_again\tinstall\tgrant\tbindings\trestart_other\trestart_cmd\tprobe\tcommit"
      for (i = 1; i <= nd; i++) {
        cmd = re[i] - rs[i]
        printf "%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", i,
          (t[4006, i] - drop[i] - cmd) * 1000, (t[3000, i] - drop[i]) * 1000, (t[3001, i] - t[3000, i]) * 1000,
          (t[4000, i] - t[3001, i]) * 1000, (t[4001, i] - t[4000, i]) * 1000, (t[4002, i] - t[4001, i]) * 1000,
          (t[4003, i] - t[4002, i]) * 1000, (t[4004, i] - t[4003, i] - cmd) * 1000, cmd * 1000,
          (t[4005, i] - t[4004, i]) * 1000, (t[4006, i] - t[4005, i]) * 1000
      } }' "$d/events.log" > "$d/reaction.tsv"
  for col in $(head -1 "$d/reaction.tsv" | cut -f2-); do
    local k; k=$(head -1 "$d/reaction.tsv" | tr '\t' '\n' | grep -nx "$col" | cut -d: -f1)
    tail -n +2 "$d/reaction.tsv" | cut -f"$k" > "$d/col.txt"
    read -r _n med p95 _min _max < <(stats "$d/col.txt")
    res "react.$col.median" "$med"
    res "react.$col.p95" "$p95"
  done
  res react.n "$(($(wc -l < "$d/reaction.tsv") - 1))"
}

# adopt_point DIR V: the live links flipped to version V one at a time, as certbot does
adopt_point() {
  local f
  for f in cert chain fullchain privkey; do
    ln -s "../../archive/site/$f$2.pem" "$1/le/live/site/.$f.new"
    mv -T "$1/le/live/site/.$f.new" "$1/le/live/site/$f.pem"
  done
}

# adopt_run DIR N M: M renewals by certbot (after the N dropped ones), one after the other:
# version J's files written into the archive (from renew-(N+J).pfx), then, timed, the
# links flipped to it; each must commit before the next. DIR/flips: the time before the
# first link moved.
adopt_run() {
  local d=$1 n=$2 m=$3 j k a=$1/le/archive/site pfx
  : > "$d/flips"
  for j in $(seq "$m"); do
    pfx=$(printf '%s/pki/renew-%03d.pfx' "$d" "$((n + j))")
    openssl pkcs12 -in "$pfx" -passin "pass:$PFX_PASS" -nokeys -clcerts 2>/dev/null | openssl x509 -out "$a/cert$j.pem" ||
      die "cannot read $pfx"
    cp "$d/pki/inter.pem" "$a/chain$j.pem"
    cat "$a/cert$j.pem" "$a/chain$j.pem" > "$a/fullchain$j.pem"
    (umask 077 && openssl pkcs12 -in "$pfx" -passin "pass:$PFX_PASS" -nocerts -nodes 2>/dev/null |
      openssl pkey -out "$a/privkey$j.pem") || die "cannot read the key of $pfx"
    echo "$EPOCHREALTIME" >> "$d/flips"
    adopt_point "$d" "$j"
    for k in $(seq 3000); do # 60 s at most
      [ "$(count_id "$d" 4007)" -ge "$((n + j))" ] && break
      if grep -q "^[0-9.]* certsteward\[\(1005\|3102\|3004\|5000\|5002\)\]" "$d/events.log"; then
        die "adoption $j failed: $(grep -v '^[0-9.]* certsteward\[4' "$d/events.log" | tail -5)"
      fi
      sleep 0.02
    done
    [ "$(count_id "$d" 4007)" -ge "$((n + j))" ] || die "adoption $j did not commit within 60 s"
    sleep 0.7 # the commit's expiry check
  done
  [ "$(served "$NGINX_PORT" "$HOST")" = "$(thumbprint "$a/cert$m.pem")" ] || die "nginx does not serve the last adoption"
  [ "$(count_id "$d" 3101)" -eq "$m" ] || die "$(count_id "$d" 3101) adoptions said for $m"
}

# adopt_analyse DIR N: DIR/adopt.tsv, one adoption a line (ms): flip -> COMMIT less the
# restart command, and the part of it before the daemon said it found the version (3100:
# the change notification, settle_seconds 0 and the two looks that find it unchanged)
adopt_analyse() {
  local d=$1 n=$2 col k
  awk -v flips="$d/flips" -v restarts="$d/restart.log" -v n="$n" '
    BEGIN { while ((getline l < flips) > 0) flip[++nf] = l
            while ((getline l < restarts) > 0) { split(l, a, " "); rs[++nr] = a[1]; re[nr] = a[2] } }
    match($2, /^certsteward\[[0-9]+\]/) { id = substr($2, 13, RLENGTH - 13); t[id, ++c[id]] = $1 }
    END {
      print "adoption\treaction\tfound"
      for (j = 1; j <= nf; j++)
        printf "%d\t%.3f\t%.3f\n", j, (t[4006, n + j] - flip[j] - (re[n + j] - rs[n + j])) * 1000,
          (t[3100, j] - flip[j]) * 1000
    }' "$d/events.log" > "$d/adopt.tsv"
  for col in reaction found; do
    k=$(head -1 "$d/adopt.tsv" | tr '\t' '\n' | grep -nx "$col" | cut -d: -f1)
    tail -n +2 "$d/adopt.tsv" | cut -f"$k" > "$d/col.txt"
    read -r _n med p95 _min _max < <(stats "$d/col.txt")
    res "adopt.$col.median" "$med"
    res "adopt.$col.p95" "$p95"
  done
  res adopt.n "$(($(wc -l < "$d/adopt.tsv") - 1))"
}
