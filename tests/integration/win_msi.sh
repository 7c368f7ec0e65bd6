#!/usr/bin/env bash
# The Windows installer under Wine's msiexec: certsteward-<version>-x64.msi (scripts/win-msi.sh)
# installs silently with HOST / BINDING_FILE, registers and starts the service (which runs
# without BOARD Connector, saying so with event 1003), registers the Event Log source, writes
# the first configuration from the properties; a major upgrade from an older build keeps an
# edited configuration (a HOST given then changes nothing) and the state; uninstall removes
# the service, the event source and the binaries and keeps configuration and state; a
# property with a control character is refused and nothing stays installed; the command
# line cannot move the program folder nor install per user; the custom action runs for an
# install, upgrade or repair and not for a removal; a same-version rebuild upgrades in
# place; and the MSI's tables hold no public property or directory a command line could
# use but HOST, BINDING_FILE and ENDPOINTS.
#
# Run by CTest in the Windows build (scripts/win-build.sh, which exports the private
# WINEPREFIX and makes the MSI before the tests), with: CS_WINE (the Wine runner), CS_MSI
# (the build's MSI), CS_BIN (the build's certsteward.exe), CS_BUILD_DIR and CS_SOURCE_DIR
# (to make the "older build": the same files and WiX source as version 0.0.1), all as
# Linux paths. Usage: win_msi.sh TEST_NAME.
#
# Wine runs the MSI's actions for real (files, registry, services, the deferred custom
# action, the upgrade's RemoveExistingProducts), but not what only Windows does: it runs
# every process as one user (the custom action's LocalSystem rights), keeps no ACLs and
# fakes ChangeServiceConfig2 (delayed start, failure actions).
set -euo pipefail

W=${CS_WINE:?}
MSI=${CS_MSI:?}
CS=${CS_BIN:?}
BUILD=${CS_BUILD_DIR:?}
SRC=${CS_SOURCE_DIR:?}
: "${WINEPREFIX:?run by scripts/win-build.sh, which makes a private Wine prefix}"
PD=$WINEPREFIX/drive_c/ProgramData/certsteward
PF=$WINEPREFIX/drive_c/Program\ Files/certsteward
EXE='C:\Program Files\certsteward\certsteward.exe'
SOURCE_KEY='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\certsteward'
SERVICE_KEY='HKLM\SYSTEM\CurrentControlSet\Services\certsteward'
UNINSTALL_KEY='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
BINDING='C:\BOARD Connector\config\servers\tls.json'
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-msi.XXXXXX")

fail() { echo "FAILED: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# win PROGRAM ARGS...: a Windows program, its output kept away from our pipes
win() { "$W" "$@" </dev/null 2>>"$T/wine.err"; }
win_err() { "$W" "$@" </dev/null 2>"$T/err"; } # standard error in $T/err (a file, never a pipe)
wpath() { printf 'Z:%s' "$1" | tr / '\\'; }
product_code() { msiinfo export "$1" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }'; }
# msiexec ARGS...: its exit status; a verbose log in $T/msi-N.log for a failure's message
N=0
msiexec() {
  N=$((N + 1))
  local rc=0
  win msiexec "$@" /qn /l*v "$(wpath "$T/msi-$N.log")" >/dev/null || rc=$?
  return $rc
}
# The MSI log is UTF-16 or not, depending on who wrote which part: read it as bytes
msi_log_has() { tr -d '\000' <"$T/msi-$N.log" >"$T/msi.txt"; grep -qa -- "$1" "$T/msi.txt"; }

svc_state() { win sc query certsteward | tr -d '\r' | awk '$1 == "STATE" { print $4 }'; }
reg_value() { win reg query "$1" /v "$2" 2>/dev/null | tr -d '\r' | awk -v n="$2" '$1 == n { $1 = ""; print substr($0, 2) }'; }
events() { [ -f "$PD/events.jsonl" ] && tr -d '\r' <"$PD/events.jsonl" || true; }
count_event() { events | jq -r .id | grep -cx "$1" || true; }
wait_event() { # ID COUNT SECONDS
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(count_event "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  events | jq -c '{id, message}' >&2 || true
  fail "event $1 not written $2 time(s) in $3 s"
}
# "host = ..." as certsteward.exe config prints the installed configuration
config_value() { win "$EXE" config | tr -d '\r' | sed -n "s/^$1 = //p"; }

cleanup() {
  set +e
  for code in ${OLD_CODE:-} ${NEW_CODE:-} ${SAME_CODE:-}; do win msiexec /x "$code" /qn >/dev/null; done
  win sc stop certsteward >/dev/null
  win sc delete certsteward >/dev/null
  win reg delete "$SOURCE_KEY" /f >/dev/null
  rm -rf "$PD" "$T" "$WINEPREFIX/drive_c/cs-open" "$WINEPREFIX/drive_c/cs-first"
}
trap cleanup EXIT

# A clean machine (the e2e tests leave a configuration and state), the build's MSI, and
# an older build of it.
setup() {
  local i
  [ -f "$MSI" ] || fail "$MSI is missing: make it with scripts/win-msi.sh (scripts/win-build.sh does)"
  [ "$MSI" -nt "$BUILD/service/certsteward.exe" ] ||
    fail "$MSI is older than certsteward.exe: make it again with scripts/win-msi.sh"
  win sc stop certsteward >/dev/null || true
  win sc delete certsteward >/dev/null || true
  win reg delete "$SOURCE_KEY" /f >/dev/null || true
  win reg delete 'HKLM\SOFTWARE\certsteward' /f >/dev/null 2>&1 || true
  rm -rf "$PD"
  # the uninstall that ended the test before may still be removing the files under Wine
  # (seen once in a while: its msiexec had returned 0), so they are given a few seconds
  for i in $(seq 50); do
    [ -e "$PF" ] || break
    sleep 0.2
  done
  [ ! -e "$PF" ] || fail "certsteward is installed already ($PF: $(ls "$PF"))"
  CS_WIN_BUILD_DIR=$BUILD CS_MSI_VERSION=0.0.1 CS_MSI_OUT=$T/old.msi CS_MSI_BUILD=0 \
    bash "$SRC/scripts/win-msi.sh" >/dev/null 2>"$T/win-msi.err" || { cat "$T/win-msi.err" >&2; fail "no older MSI"; }
  NEW_VERSION=$(msiinfo export "$MSI" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductVersion" { print $2 }')
  [ "$(printf '0.0.1\n%s\n' "$NEW_VERSION" | sort -V | head -n 1)" = 0.0.1 ] && [ "$NEW_VERSION" != 0.0.1 ] ||
    fail "the build's version $NEW_VERSION is not above the older build's 0.0.1"
  msiinfo export "$MSI" Property | tr -d '\r' >"$T/props"
  grep -Eq "^SecureCustomProperties"$'\t'"(.*;)?HOST(;|\$)" "$T/props" || fail "HOST is not a secure property"
  grep -Eq "^SecureCustomProperties"$'\t'"(.*;)?LEAVE_RENEWAL(;|\$)" "$T/props" || fail "LEAVE_RENEWAL is not a secure property"
  OLD_CODE=$(product_code "$T/old.msi")
  NEW_CODE=$(product_code "$MSI")
  [ -n "$OLD_CODE" ] && [ -n "$NEW_CODE" ] && [ "$OLD_CODE" != "$NEW_CODE" ] || fail "product codes '$OLD_CODE' '$NEW_CODE'"
}

# What an installed product looks like: files, service (running without the connector),
# event source, product registration.
check_installed() { # PRODUCT_CODE VERSION STARTS (how many times the service has started on this machine)
  local f i
  for f in certsteward.exe certsteward-worker.exe certsteward-msi.exe certsteward-default.ini; do
    [ -f "$PF/$f" ] || fail "$f is not in Program Files\\certsteward"
  done
  cmp -s "$PF/certsteward-default.ini" "$BUILD/certsteward-windows.ini" ||
    fail "certsteward-default.ini is not the build's certsteward-windows.ini"
  expect_eq "$(svc_state)" RUNNING "the service after the installation"
  # the service's configuration as the SCM keeps it (Wine's sc has no qc)
  expect_eq "$(reg_value "$SERVICE_KEY" Start)" "REG_DWORD 0x2" "the service's start type (2: automatic)"
  expect_eq "$(reg_value "$SERVICE_KEY" ImagePath | sed 's/^REG_[A-Z_]* //')" "\"$EXE\" service" "ImagePath"
  expect_eq "$(reg_value "$SERVICE_KEY" ObjectName)" "REG_SZ LocalSystem" "the service's account"
  expect_eq "$(reg_value "$SOURCE_KEY" EventMessageFile)" "REG_EXPAND_SZ $EXE" "EventMessageFile"
  expect_eq "$(reg_value "$SOURCE_KEY" TypesSupported)" "REG_DWORD 0x7" "TypesSupported"
  expect_eq "$(reg_value "$UNINSTALL_KEY\\$1" DisplayVersion)" "REG_SZ $2" "the installed product's version"
  # no BOARD Connector on this machine: the service runs and says so, once per start
  wait_event 1000 "$3" 20
  for i in $(seq 200); do
    [ "$(events | jq -r 'select(.id == 1003) | .message' | grep -c "missing (BOARD Connector Service)")" -ge "$3" ] &&
      break
    [ "$i" -lt 200 ] || fail "no event 1003 naming BOARD Connector Service after start $3"
    sleep 0.1
  done
  expect_eq "$(svc_state)" RUNNING "the service without BOARD Connector"
}

# The log of the last certsteward install (install_log.h), in the temporary folder
newest_install_log() { ls -t "$WINEPREFIX"/drive_c/users/*/Temp/certsteward-install-*.log | head -n 1; }
# How many logs certsteward uninstall wrote (install_log.h) in the temporary folder
uninstall_logs() { find "$WINEPREFIX/drive_c/users" -path '*/Temp/certsteward-uninstall-*.log' -newer "$T/started" | wc -l; }

test_install_upgrade_uninstall() {
  local sum n
  setup
  touch "$T/started"
  # first install (the older build): the properties go into the new configuration
  msiexec /i "$(wpath "$T/old.msi")" HOST=board.example.test "BINDING_FILE=$BINDING" ||
    fail "msiexec /i (older build) exit status $?"
  check_installed "$OLD_CODE" 0.0.1 1
  # install listed what it made under the run's token (the rollback's, too)
  reg_value 'HKLM\SOFTWARE\certsteward\InstallRun' Run | grep -Eq "^REG_SZ $OLD_CODE [^ ]+ [0-9:]+$" ||
    fail "no run token with the list: $(reg_value 'HKLM\SOFTWARE\certsteward\InstallRun' Run)"
  # the MSI log says where what certsteward install said goes
  msi_log_has 'CS_Install\. certsteward install: what it says is in a new certsteward-install-\*\.log in %WINDIR%\\SystemTemp, or %WINDIR%\\Temp where Windows has no SystemTemp, .*open the file those events name, and trust it only when its owner is SYSTEM or Administrators' ||
    fail "the MSI log does not say where install's own log is"
  [ -f "$PD/certsteward.ini" ] || fail "no configuration written"
  expect_eq "$(config_value host)" board.example.test "host from HOST"
  expect_eq "$(config_value binding_files)" "$BINDING" "binding_files from BINDING_FILE"
  expect_eq "$(config_value endpoints)" "127.0.0.1:8197, 127.0.0.1:8096" "endpoints (ENDPOINTS not given)"

  # an admin edits it; the state has a file of its own
  sed -i 's/^settle_seconds = .*/settle_seconds = 7\r/' "$PD/certsteward.ini"
  expect_eq "$(config_value settle_seconds)" 7 "the edited value"
  echo kept >"$PD/state-marker"
  sum=$(sha256sum <"$PD/certsteward.ini")

  # major upgrade to the build's MSI: a HOST given now changes nothing
  msiexec /i "$(wpath "$MSI")" HOST=other.example.test || fail "msiexec /i (upgrade) exit status $?"
  check_installed "$NEW_CODE" "$NEW_VERSION" 2
  [ -z "$(reg_value "$UNINSTALL_KEY\\$OLD_CODE" DisplayVersion)" ] || fail "the older build is still registered"
  expect_eq "$(sha256sum <"$PD/certsteward.ini")" "$sum" "the configuration after the upgrade (byte for byte)"
  expect_eq "$(config_value host)" board.example.test "host after an upgrade with HOST=other.example.test"
  [ -f "$PD/state-marker" ] || fail "the upgrade removed the state"

  # (Wine's RemoveExistingProducts leaves UPGRADINGPRODUCTCODE unset in the older version's
  # removal, so there its CS_Uninstall runs too, harmlessly: the new version's CS_Install
  # registers the service again; Windows sets it, and skips it)
  n=$(uninstall_logs)

  # uninstall: service, event source, binaries and registration gone; configuration and state kept;
  # certsteward uninstall ran (its log), finding no renewal to finish; the remembered values
  # forgotten (the commit action CS_Forget: Wine runs commit actions, measured here)
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d board.example.test /f >/dev/null
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
  expect_eq "$(uninstall_logs)" $((n + 1)) "certsteward uninstall's logs after the removal"
  expect_eq "$(svc_state)" "" "the service after uninstall"
  win reg query "$SOURCE_KEY" >/dev/null 2>&1 && fail "the event source is still registered"
  [ ! -e "$PF" ] || fail "Program Files\\certsteward is still there: $(ls "$PF")"
  [ -z "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" DisplayVersion)" ] || fail "the product is still registered"
  expect_eq "$(sha256sum <"$PD/certsteward.ini")" "$sum" "the configuration after uninstall"
  [ -f "$PD/state-marker" ] && [ -f "$PD/events.jsonl" ] || fail "uninstall removed the state"
  if win reg query 'HKLM\SOFTWARE\certsteward' >/dev/null 2>&1; then fail "the remembered values are left after the removal"; fi

  # installed again over the kept configuration: it stays as it is
  msiexec /i "$(wpath "$MSI")" HOST=third.example.test || fail "msiexec /i (again) exit status $?"
  expect_eq "$(svc_state)" RUNNING "the service installed again"
  expect_eq "$(sha256sum <"$PD/certsteward.ini")" "$sum" "the kept configuration after a new installation"
  # LEAVE_RENEWAL=0 is no "1": the removal finishes the renewal (certsteward uninstall runs)
  n=$(uninstall_logs)
  msiexec /x "$(wpath "$MSI")" LEAVE_RENEWAL=0 || fail "msiexec /x LEAVE_RENEWAL=0 exit status $?"
  msi_log_has "Action start [0-9:]*: CS_Uninstall" || fail "CS_Uninstall did not run with LEAVE_RENEWAL=0"
  expect_eq "$(uninstall_logs)" $((n + 1)) "certsteward uninstall's logs after a removal with LEAVE_RENEWAL=0"
  msiexec /i "$(wpath "$MSI")" || fail "msiexec /i (after LEAVE_RENEWAL=0) exit status $?"
  # a removal told to leave an unfinished renewal runs no certsteward uninstall
  n=$(uninstall_logs)
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d board.example.test /f >/dev/null
  msiexec /x "$(wpath "$MSI")" LEAVE_RENEWAL=1 || fail "msiexec /x LEAVE_RENEWAL=1 (again) exit status $?"
  ! msi_log_has "Action start [0-9:]*: CS_Uninstall" || fail "CS_Uninstall ran with LEAVE_RENEWAL=1"
  expect_eq "$(uninstall_logs)" "$n" "certsteward uninstall's logs after a removal with LEAVE_RENEWAL=1"
  expect_eq "$(svc_state)" "" "the service after a removal with LEAVE_RENEWAL=1"
  # the commit action CS_Forget forgets the remembered values, LEAVE_RENEWAL or not
  if win reg query 'HKLM\SOFTWARE\certsteward' >/dev/null 2>&1; then
    fail "the remembered values are left after a removal with LEAVE_RENEWAL=1: $(win reg query 'HKLM\SOFTWARE\certsteward' /s | tr -d '\r')"
  fi
}

# What a command line can change, read from the MSI's tables: no directory but TARGETDIR
# (the root, which holds no file itself) is public, the program's folder is the private
# InstallFolder under Program Files; the launch conditions, the sequence's conditions
# and the custom actions read no public property but HOST, BINDING_FILE, ENDPOINTS and
# FindRelatedProducts' WIX_DOWNGRADE_DETECTED (the guards against quotes and line breaks
# are private); the public properties the MSI itself sets are ALLUSERS and Programs and
# Features' ARP* only. CS_Install runs only when certsteward.exe is installed (action
# state 3, local); Programs and Features offers no Change, shows the install location
# (set after CostFinalize) and links to the project only when it names a home page; the
# upgrade includes the same version.
test_tables() {
  local t url msg
  [ -f "$MSI" ] || fail "$MSI is missing"
  for t in Directory Property LaunchCondition CustomAction InstallExecuteSequence Upgrade File; do
    msiinfo export "$MSI" "$t" | tr -d '\r' | tail -n +4 >"$T/$t" || fail "cannot read the $t table"
  done
  public() { grep -o '[A-Za-z_][A-Za-z0-9_.]*' | grep -v '[a-z]' | grep -vx 'NOT\|AND\|OR\|XOR\|EQV\|IMP' | sort -u | paste -sd' '; }
  expect_eq "$(cut -f1 "$T/Directory" | public)" TARGETDIR "the public directories"
  expect_eq "$(awk -F'\t' '$1 == "InstallFolder" { print $2 "|" $3 }' "$T/Directory")" "ProgramFiles64Folder|certsteward" \
    "the program's folder"
  # (CS_NoRollback's Target is a message, which reads nothing)
  expect_eq "$({ cut -f1 "$T/LaunchCondition"; awk -F'\t' '$1 != "CS_NoRollback"' "$T/CustomAction" | cut -f4
    cut -f2 "$T/InstallExecuteSequence"; } |
    sed 's/\[[#!$][^]]*\]//g; s/\$[A-Za-z0-9_.]*//g; s/"[^"]*"//g' | public)" "ALLUSERS BINDING_FILE ENDPOINTS HOST LEAVE_RENEWAL REMOVE UPGRADINGPRODUCTCODE WIX_DOWNGRADE_DETECTED" \
    "the public properties read by conditions and custom actions"
  # every custom action that runs a program runs certsteward-msi.exe (no console window)
  expect_eq "$(awk -F'\t' '$1 ~ /^CS_(Install|InstallRollback|Uninstall)$/ { print $3 }' "$T/CustomAction" | sort -u)" \
    certsteward_msi.exe "the program the custom actions run"
  # CS_InstallRollback: deferred (0x400), rollback (0x100), no impersonation (0x800), just before CS_Install
  t=$(awk -F'\t' '$1 == "CS_InstallRollback" { print $2 }' "$T/CustomAction")
  [[ $t =~ ^[0-9]+$ ]] && [ $((t & 0xD00)) = $((0xD00)) ] || fail "CS_InstallRollback's type $t is not a deferred rollback without impersonation"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_InstallRollback"] > seq["InstallServices"] &&
    seq["CS_InstallRollback"] < seq["CS_Install"]) }' "$T/InstallExecuteSequence" ||
    fail "CS_InstallRollback is not between InstallServices and CS_Install"
  # both read one token, set once, so that the rollback takes back that run's list only
  expect_eq "$(awk -F'\t' '$1 == "CS_InstallRollback" { print $4 }' "$T/CustomAction")" 'install --undo --run "[CsRun]"' \
    "CS_InstallRollback's command"
  awk -F'\t' '$1 == "CS_Install" { exit !($4 ~ /--run "\[CsRun\]"$/) }' "$T/CustomAction" || fail "CS_Install is given no run token"
  expect_eq "$(awk -F'\t' '$1 == "CS_SetRun" { print $2 " " $3 "=" $4 }' "$T/CustomAction")" \
    "51 CsRun=[ProductCode] [Date] [Time]" "the custom action that sets the run's token"
  expect_eq "$(awk -F'\t' '$1 == "CS_Uninstall" { print $2 }' "$T/InstallExecuteSequence")" \
    '$certsteward.exe=2 AND NOT UPGRADINGPRODUCTCODE AND NOT (LEAVE_RENEWAL = "1")' "CS_Uninstall's condition (only LEAVE_RENEWAL=1 skips it)"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_Uninstall"] > seq["StopServices"] &&
    seq["CS_Uninstall"] < seq["DeleteServices"]) }' "$T/InstallExecuteSequence" ||
    fail "CS_Uninstall is not between StopServices and DeleteServices"
  expect_eq "$(awk -F'\t' '$1 == "CS_Uninstall" { print $4 }' "$T/CustomAction")" "uninstall --finish-renewal" \
    "CS_Uninstall's command"
  # the values given reach CS_Install on a first installation only: CsSets (private) holds
  # them when NOT Installed and nothing when Installed, and CS_Install reads no public property
  expect_eq "$(awk -F'\t' '$1 == "CS_Install" { print $4 }' "$T/CustomAction")" \
    'install --config-template "[#certsteward_default.ini]" [CsSets] --run "[CsRun]"' "CS_Install's command"
  expect_eq "$(awk -F'\t' '$3 == "CsSets" { print $1 " " $2 "=" $4 }' "$T/CustomAction" | sort | paste -sd'|')" \
    'CS_SetSetsFirst 51=--set "host=[HOST]" --set "binding_files=[BINDING_FILE]" --set "endpoints=[ENDPOINTS]"|CS_SetSetsMaintenance 51=--ignored "HOST=[HOST]" --ignored "BINDING_FILE=[BINDING_FILE]" --ignored "ENDPOINTS=[ENDPOINTS]"' \
    "the custom actions that set CsSets"
  expect_eq "$(awk -F'\t' '$1 ~ /^CS_SetSets/ { print $1 ":" $2 }' "$T/InstallExecuteSequence" | sort | paste -sd'|')" \
    "CS_SetSetsFirst:NOT Installed|CS_SetSetsMaintenance:Installed" "the conditions of the actions that set CsSets"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_SetSetsFirst"] > 0 && seq["CS_SetSetsMaintenance"] > 0 &&
    seq["CS_SetSetsFirst"] < seq["InstallInitialize"] && seq["CS_SetSetsMaintenance"] < seq["InstallInitialize"]) }' \
    "$T/InstallExecuteSequence" || fail "CsSets is not set before the script is made (InstallInitialize)"
  # CS_Forget: an EXE from the Binary table (2), deferred (0x400), commit (0x200), no
  # impersonation (0x800), failure ignored (0x40), on removal only (LEAVE_RENEWAL or not);
  # CS_ForgetNoRollback the same without the commit bit, when rollback (and so commit) is disabled
  expect_eq "$(awk -F'\t' '$1 ~ /^CS_Forget/ { print $1 " " $2 " " $3 " " $4 }' "$T/CustomAction" | sort | paste -sd'|')" \
    "CS_Forget $((2 | 0x40 | 0x200 | 0x400 | 0x800)) CsMsiShim --forget|CS_ForgetNoRollback $((2 | 0x40 | 0x400 | 0x800)) CsMsiShim --forget" \
    "the custom actions that forget the remembered values"
  expect_eq "$(awk -F'\t' '$1 ~ /^CS_Forget/ { print $1 ":" $2 }' "$T/InstallExecuteSequence" | sort | paste -sd'|')" \
    'CS_Forget:REMOVE~="ALL" AND NOT UPGRADINGPRODUCTCODE AND NOT RollbackDisabled|CS_ForgetNoRollback:REMOVE~="ALL" AND NOT UPGRADINGPRODUCTCODE AND RollbackDisabled' \
    "the conditions of the actions that forget the remembered values"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_Forget"] > seq["InstallInitialize"] &&
    seq["CS_Forget"] < seq["InstallFinalize"] && seq["CS_ForgetNoRollback"] < seq["InstallFinalize"]) }' \
    "$T/InstallExecuteSequence" || fail "CS_Forget is not in the script (between InstallInitialize and InstallFinalize)"
  msiinfo streams "$MSI" | grep -qx 'Binary.CsMsiShim' || fail "no certsteward-msi.exe in the Binary table"
  # no first installation or upgrade while rollback is disabled: a launch condition, and the
  # same refusal (its message) as an error action (19) between InstallValidate and
  # InstallInitialize; maintenance runs pass
  msg=$(awk -F'\t' '$1 == "Installed OR NOT RollbackDisabled" { print $2 }' "$T/LaunchCondition")
  grep -q "^certsteward is not installed while the rollback of Windows Installer is disabled .*Nothing was installed\.$" <<<"$msg" ||
    fail "no launch condition on RollbackDisabled: $(cat "$T/LaunchCondition")"
  expect_eq "$(awk -F'\t' '$1 == "CS_NoRollback" { print $2 "|" $3 "|" $4 }' "$T/CustomAction")" "19||$msg" "CS_NoRollback"
  expect_eq "$(awk -F'\t' '$1 == "CS_NoRollback" { print $2 }' "$T/InstallExecuteSequence")" 'NOT Installed AND RollbackDisabled' \
    "CS_NoRollback's condition"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_NoRollback"] > seq["InstallValidate"] &&
    seq["CS_NoRollback"] < seq["InstallInitialize"]) }' "$T/InstallExecuteSequence" ||
    fail "CS_NoRollback is not between InstallValidate and InstallInitialize"
  # Programs and Features' help: the README installed with the program, or CS_HELP_URL
  url=$(sed -n 's/^CS_HELP_URL:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  expect_eq "$(awk -F'\t' '$1 == "README.txt" { print $3 }' "$T/File")" README.txt "the README in the File table"
  expect_eq "$(awk -F'\t' '$1 ~ /^CS_Set(Readme|HelpLink)$/ { print $1 " " $2 " " $3 "=" $4 }' "$T/CustomAction" | sort | paste -sd'|')" \
    "${url:+"CS_SetReadme 51 ARPREADME=[#README.txt]"}${url:-"CS_SetHelpLink 51 ARPHELPLINK=[#README.txt]|CS_SetReadme 51 ARPREADME=[#README.txt]"}" \
    "the custom actions that point Programs and Features to the README"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_SetReadme"] > seq["CostFinalize"] && seq["CS_SetReadme"] < seq["InstallValidate"]) }' \
    "$T/InstallExecuteSequence" || fail "CS_SetReadme is not between CostFinalize and InstallValidate"
  expect_eq "$(awk -F'\t' '$1 == "REINSTALLMODE" { print $2 }' "$T/Property")" emus \
    "REINSTALLMODE (a same-version upgrade replaces files of an equal version)"
  expect_eq "$(cut -f1 "$T/Property" | public)" "ALLUSERS ARPNOMODIFY${url:+ ARPHELPLINK ARPURLINFOABOUT} REINSTALLMODE" \
    "the public properties in the Property table"
  for t in CsQuote CsCr CsLf CsTab CsBackslash; do
    grep -q "^$t"$'\t' "$T/Property" || fail "no private guard property $t"
  done
  expect_eq "$(awk -F'\t' '$1 == "ARPNOMODIFY" { print $2 }' "$T/Property")" 1 "ARPNOMODIFY"
  expect_eq "$(awk -F'\t' '$1 == "ARPHELPLINK" || $1 == "ARPURLINFOABOUT" { print $2 }' "$T/Property" | sort -u)" "$url" \
    "ARPHELPLINK and ARPURLINFOABOUT (CMake's CS_HELP_URL: '$url')"
  expect_eq "$(awk -F'\t' '$1 == "CS_Install" { print $2 }' "$T/InstallExecuteSequence")" '$certsteward.exe=3' \
    "CS_Install's condition"
  expect_eq "$(awk -F'\t' '$3 == "ARPINSTALLLOCATION" { print $1 " " $2 " " $3 "=" $4 }' "$T/CustomAction")" \
    "CS_SetInstallLocation 51 ARPINSTALLLOCATION=[InstallFolder]" "the custom action that sets ARPINSTALLLOCATION"
  awk -F'\t' '{ seq[$1] = $3 } END { exit !(seq["CS_SetInstallLocation"] > seq["CostFinalize"] &&
    seq["CS_SetInstallLocation"] < seq["InstallValidate"]) }' "$T/InstallExecuteSequence" ||
    fail "CS_SetInstallLocation is not between CostFinalize and InstallValidate"
  # VersionMax is this version and 0x200 (msidbUpgradeAttributesVersionMaxInclusive) is set
  NEW_VERSION=$(awk -F'\t' '$1 == "ProductVersion" { print $2 }' "$T/Property")
  awk -F'\t' -v v="$NEW_VERSION" '$7 == "WIX_UPGRADE_DETECTED" && $2 == "" && $3 == v && int($5 / 512) % 2 == 1 { n++ }
    END { exit n != 1 }' "$T/Upgrade" || fail "the upgrade does not include $NEW_VERSION: $(cat "$T/Upgrade")"
  awk -F'\t' -v v="$NEW_VERSION" '$7 == "WIX_DOWNGRADE_DETECTED" && $2 == v && int($5 / 256) % 2 == 0 { n++ }
    END { exit n != 1 }' "$T/Upgrade" || fail "the same version counts as a downgrade: $(cat "$T/Upgrade")"
}

# INSTALLDIR (public before) or InstallFolder given on the command line moves nothing:
# the files go to Program Files\certsteward, which Programs and Features names as the
# install location (without Change), and certsteward doctor finds that folder and the
# programs in it changeable by administrators only (under Wine: the DACL Wine makes up).
# A per-user installation (ALLUSERS empty) is refused.
test_install_folder_fixed() {
  local url
  setup
  msiexec /i "$(wpath "$MSI")" 'INSTALLDIR=C:\cs-elsewhere' 'InstallFolder=C:\cs-elsewhere2' HOST=board.example.test ||
    fail "msiexec /i exit status $?"
  check_installed "$NEW_CODE" "$NEW_VERSION" 1
  [ ! -e "$WINEPREFIX/drive_c/cs-elsewhere" ] && [ ! -e "$WINEPREFIX/drive_c/cs-elsewhere2" ] ||
    fail "the command line moved the installation"
  expect_eq "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" InstallLocation)" 'REG_SZ C:\Program Files\certsteward\' \
    "the install location in Programs and Features"
  expect_eq "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" NoModify)" "REG_DWORD 0x1" "NoModify"
  # Programs and Features' help is the README installed with the program (no Internet needed)
  expect_eq "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" Readme)" 'REG_SZ C:\Program Files\certsteward\README.txt' "Readme"
  url=$(sed -n 's/^CS_HELP_URL:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  expect_eq "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" HelpLink)" "REG_SZ ${url:-C:\Program Files\certsteward\README.txt}" "HelpLink"
  cmp -s <(tail -c +4 "$PF/README.txt" | tr -d '\r') "$SRC/README.md" || fail "README.txt is not README.md"
  cmp -s "$PF/ca-helpers/adcs-certreq.ps1" "$SRC/conf/ca-helpers/adcs-certreq.ps1" ||
    fail "the AD CS helper is not installed in the program folder"
  [ "$(head -c 3 "$PF/README.txt" | od -An -tx1 | tr -d ' ')" = efbbbf ] || fail "README.txt has no UTF-8 byte order mark"
  win "$EXE" doctor | tr -d '\r' >"$T/doctor.out" || true
  grep -qx 'ok  *program_folder  *C:\\Program Files\\certsteward, the folders above it, certsteward.exe and certsteward-worker.exe can be changed by Administrators and SYSTEM only' \
    "$T/doctor.out" || fail "doctor on the program's folder: $(grep program_folder "$T/doctor.out")"
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
  rm -rf "$WINEPREFIX/drive_c/cs-elsewhere" "$WINEPREFIX/drive_c/cs-elsewhere2"
  # a per-user installation is refused by the launch conditions: nothing is installed.
  # (ALLUSERS=2 MSIINSTALLPERUSER=1, for which Windows puts Program Files in the user's
  # profile and sets ALLUSERS to "", is installed for the machine by Wine, which does
  # not know MSIINSTALLPERUSER: Windows only.)
  if msiexec /i "$(wpath "$MSI")" ALLUSERS=; then fail "msiexec /i accepted ALLUSERS="; fi
  msi_log_has "Action start [0-9:]*: LaunchConditions" || fail "the installation did not start (ALLUSERS=)"
  ! msi_log_has "Action start [0-9:]*: InstallFiles" || fail "ALLUSERS= passed the launch conditions"
  [ ! -e "$PF" ] && [ -z "$(svc_state)" ] || fail "something was installed with ALLUSERS="
}

# CS_Install runs when certsteward.exe is installed or reinstalled (a repair:
# REINSTALL=ALL, which keeps the configuration), not when it is removed while the
# product stays in maintenance (REMOVE=Complete: the feature removed, which the former
# condition NOT REMOVE~="ALL" let it run after the program was gone). Wine's msiexec
# has no /f and runs an ARP Change (/i of the installed product) as a reinstallation:
# that the custom action does not run then is proven on Windows only.
test_custom_action_condition() {
  local sum
  setup
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test || fail "msiexec /i exit status $?"
  msi_log_has "Action start [0-9:]*: CS_Install" || fail "CS_Install did not run on the installation"
  sum=$(sha256sum <"$PD/certsteward.ini")
  msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus HOST=other.example.test || fail "repair exit status $?"
  msi_log_has "Action start [0-9:]*: CS_Install" || fail "CS_Install did not run on the repair"
  check_installed "$NEW_CODE" "$NEW_VERSION" 2
  expect_eq "$(sha256sum <"$PD/certsteward.ini")" "$sum" "the configuration after the repair"
  msiexec /i "$(wpath "$MSI")" REMOVE=Complete || fail "REMOVE=Complete exit status $?"
  msi_log_has "Action start [0-9:]*: RemoveFiles" || fail "REMOVE=Complete removed nothing"
  ! msi_log_has "Action start [0-9:]*: CS_Install" || fail "CS_Install ran while certsteward.exe was removed"
  [ ! -e "$PF" ] || fail "files left after REMOVE=Complete: $(ls "$PF")"
  expect_eq "$(svc_state)" "" "the service after REMOVE=Complete"
  [ -z "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" DisplayVersion)" ] || fail "the product is still registered"
}

# A rebuild of the same version (another ProductCode: wixl makes one per build) installed
# over the build's MSI replaces it: one certsteward in Programs and Features, its files
# in place, the service running with the kept configuration.
test_same_version_upgrade() {
  local same same_code sum
  setup
  same=$T/same.msi
  CS_WIN_BUILD_DIR=$BUILD CS_MSI_OUT=$same CS_MSI_BUILD=0 bash "$SRC/scripts/win-msi.sh" >/dev/null 2>"$T/win-msi.err" ||
    { cat "$T/win-msi.err" >&2; fail "no rebuild"; }
  same_code=$(product_code "$same")
  SAME_CODE=$same_code
  [ -n "$same_code" ] && [ "$same_code" != "$NEW_CODE" ] || fail "the rebuild's product code '$same_code'"
  expect_eq "$(msiinfo export "$same" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductVersion" { print $2 }')" \
    "$NEW_VERSION" "the rebuild's version"
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test || fail "msiexec /i exit status $?"
  check_installed "$NEW_CODE" "$NEW_VERSION" 1
  sum=$(sha256sum <"$PD/certsteward.ini")
  msiexec /i "$(wpath "$same")" || fail "msiexec /i (rebuild) exit status $?"
  msi_log_has "Action start [0-9:]*: RemoveExistingProducts" || fail "no RemoveExistingProducts"
  check_installed "$same_code" "$NEW_VERSION" 2
  [ -z "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" DisplayVersion)" ] || fail "the first build is still registered"
  expect_eq "$(win reg query "$UNINSTALL_KEY" /s | tr -d '\r' | grep -c '^ *DisplayName  *REG_SZ  *certsteward')" 1 \
    "certsteward entries in Programs and Features"
  expect_eq "$(sha256sum <"$PD/certsteward.ini")" "$sum" "the configuration after the upgrade"
  msiexec /x "$(wpath "$same")" || fail "msiexec /x exit status $?"
  [ ! -e "$PF" ] || fail "files left after uninstall"
}

# A first installation that fails after certsteward install made everything leaves
# nothing: Windows Installer runs the rollback custom action CS_InstallRollback
# ("certsteward.exe install --undo", its type checked in test_tables) and takes back its
# own work. Wine's msiexec runs no rollback script (a failed installation keeps what its
# deferred actions did), so the command is run here as Windows Installer runs it, after
# an install that fails at its end (the test build's fault point): the configuration,
# %ProgramData%\certsteward and the remembered values go. After an install that found
# them in place (a repair), the undo removes nothing.
test_failed_first_install_leaves_nothing() {
  local tpl
  setup
  tpl=$(wpath "$BUILD/certsteward-windows.ini")
  if CERTSTEWARD_TEST_FAULT=install_end CERTSTEWARD_TEST_FAULT_MODE=fail win_err "$CS" install \
    --config-template "$tpl" --set host=wrong.example.test >/dev/null; then
    fail "install did not fail at install_end"
  fi
  [ -f "$PD/certsteward.ini" ] && [ -d "$PD/drop" ] || fail "the failed install made nothing to take back"
  # the list is that run's: an undo for another run removes nothing
  win_err "$CS" install --undo --run other >"$T/undo0.out" || fail "install --undo --run other failed: $(cat "$T/err")"
  grep -q "another run's" "$T/undo0.out" || fail "an undo for another run: $(cat "$T/undo0.out")"
  [ -f "$PD/certsteward.ini" ] || fail "an undo for another run removed the configuration"
  win_err "$CS" install --undo >"$T/undo.out" || fail "install --undo failed: $(cat "$T/err")"
  [ ! -e "$PD" ] || fail "%ProgramData%\\certsteward is left: $(find "$PD" | head -20)"
  if win reg query 'HKLM\SOFTWARE\certsteward' >/dev/null 2>&1; then fail "the remembered values are left"; fi
  grep -q "^removed " "$T/undo.out" || fail "install --undo does not say what it removed: $(cat "$T/undo.out")"

  win_err "$CS" install --config-template "$tpl" --set host=board.example.test >/dev/null ||
    fail "install failed: $(cat "$T/err")"
  if CERTSTEWARD_TEST_FAULT=install_end CERTSTEWARD_TEST_FAULT_MODE=fail win_err "$CS" install \
    --config-template "$tpl" >/dev/null; then
    fail "the second install did not fail at install_end"
  fi
  # a run refused before it begins (a value install refuses) leaves no list behind either
  if win_err "$CS" install --config-template "$tpl" --set "host=a ;b" >/dev/null; then fail "install accepted 'a ;b'"; fi
  win_err "$CS" install --undo >"$T/undo2.out" || fail "install --undo failed: $(cat "$T/err")"
  grep -q "nothing to take back" "$T/undo2.out" || fail "the undo after a repair removed: $(cat "$T/undo2.out")"
  expect_eq "$(win "$CS" config | tr -d '\r' | sed -n 's/^host = //p')" board.example.test \
    "host after the undo of a repair"
  win "$CS" uninstall >/dev/null || fail "uninstall exit status $?"
}

# A repair that must write the configuration again (an admin deleted it) writes it with
# the HOST and BINDING_FILE given at the installation (remembered in
# HKLM\SOFTWARE\certsteward\Install), not the template's empty lines nor a HOST given to
# the repair (CS_Install gets no --set on a maintenance run); a remembered value that
# --set would refuse is refused, and one in spaces trimmed; the removal forgets them.
test_repair_writes_a_deleted_configuration_again() {
  setup
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test "BINDING_FILE=$BINDING" || fail "msiexec /i exit status $?"
  expect_eq "$(reg_value 'HKLM\SOFTWARE\certsteward\Install' host)" "REG_SZ board.example.test" "the remembered host"
  rm -f "$PD/certsteward.ini"
  # a maintenance run passes no value it is given to install: the remembered ones are used
  msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus HOST=other.example.test || fail "repair exit status $?"
  msi_log_has "Action start [0-9:]*: CS_Install" || fail "CS_Install did not run on the repair"
  [ -f "$PD/certsteward.ini" ] || fail "the repair wrote no configuration"
  expect_eq "$(config_value host)" board.example.test "host after a repair given HOST=other.example.test"
  expect_eq "$(config_value binding_files)" "$BINDING" "binding_files after the repair"
  # install was told, and said it, as a warning (event 1017), and used it nowhere else
  grep -q "stderr certsteward install: warning: HOST=other\.example\.test was given to a repair or other maintenance run of the installed product and is not used: a repair keeps the values of the configuration" \
    "$(newest_install_log)" || fail "the repair did not say HOST was not used: $(cat "$(newest_install_log)")"
  expect_eq "$(grep -c other.example.test "$(newest_install_log)")" 1 "lines naming the HOST given to the repair"
  ! grep -q "BINDING_FILE=\|ENDPOINTS=" "$(newest_install_log)" || fail "install named values the repair was not given"
  # a remembered value install would refuse on its command line is refused: nothing is written
  rm -f "$PD/certsteward.ini"
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d 'board.example.test ;x' /f >/dev/null
  if msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus; then fail "a repair used a remembered 'host ;x'"; fi
  [ ! -e "$PD/certsteward.ini" ] || fail "a configuration was written with a refused remembered value"
  grep -q 'the host remembered from the installation (HKLM\\SOFTWARE\\certsteward\\Install): the value holds " ;"' \
    "$(newest_install_log)" || fail "install did not say why: $(cat "$(newest_install_log)")"
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d '  board.example.test ' /f >/dev/null
  win_err "$EXE" install --config-template 'C:\Program Files\certsteward\certsteward-default.ini' >/dev/null ||
    fail "install with a remembered value in spaces: $(cat "$T/err")"
  expect_eq "$(config_value host)" board.example.test "a remembered host, trimmed as --set trims"
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
  if win reg query 'HKLM\SOFTWARE\certsteward' >/dev/null 2>&1; then fail "the remembered values are still there"; fi
}

# install --undo removes only what install makes: a list (HKLM, admin-only, but checked all
# the same) naming another path, or a path with ".." that leads out of
# %ProgramData%\certsteward, is refused whole and nothing is removed; a list of paths below
# it is taken back.
test_undo_removes_only_what_install_makes() {
  local victim bad
  setup
  victim=$WINEPREFIX/drive_c/cs-victim
  mkdir -p "$victim" "$PD/drop"
  echo keep >"$victim/file"
  for bad in 'C:\cs-victim' 'C:\ProgramData\certsteward\..\..\cs-victim' 'C:\ProgramData\certsteward-other' 'drop'; do
    win reg add 'HKLM\SOFTWARE\certsteward\InstallRun' /v Made /t REG_MULTI_SZ /d "C:\ProgramData\certsteward\drop\0$bad" /f >/dev/null
    win reg add 'HKLM\SOFTWARE\certsteward\InstallRun' /v Run /t REG_SZ /d t1 /f >/dev/null
    if win_err "$CS" install --undo --run t1 >/dev/null; then fail "install --undo took a list naming $bad"; fi
    grep -qF "which is not a path install makes" "$T/err" || fail "install --undo did not say why ($bad): $(cat "$T/err")"
    [ -f "$victim/file" ] && [ -d "$PD/drop" ] || fail "install --undo removed something from a list naming $bad"
  done
  win reg add 'HKLM\SOFTWARE\certsteward\InstallRun' /v Made /t REG_MULTI_SZ /d 'C:\ProgramData\certsteward\drop' /f >/dev/null
  win_err "$CS" install --undo --run t1 >"$T/undo.out" || fail "install --undo of a list below ProgramData: $(cat "$T/err")"
  [ ! -e "$PD/drop" ] || fail "install --undo left the drop folder"
  [ -f "$victim/file" ] || fail "install --undo removed the victim"
  rm -rf "$victim"
}

# certsteward-msi.exe --forget, the command of the commit action CS_Forget (run from the
# MSI's Binary table, where no certsteward.exe is beside it): forgets the remembered values
# and the run's list, and HKLM\SOFTWARE\certsteward with them; a key something else put
# under HKLM\SOFTWARE\certsteward stays, and the command still succeeds; with nothing
# there, it succeeds. certsteward-msi.exe given a command runs certsteward.exe beside it
# and ends with its exit code; without certsteward.exe beside it, it fails (exit code 1).
test_msi_shim_forgets_and_runs() {
  local shim=$BUILD/service/certsteward-msi.exe alone=$T/alone
  setup
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d board.example.test /f >/dev/null
  win reg add 'HKLM\SOFTWARE\certsteward\InstallRun' /v Run /t REG_SZ /d t1 /f >/dev/null
  mkdir -p "$alone"
  cp "$shim" "$alone/"
  win "$alone/certsteward-msi.exe" --forget || fail "certsteward-msi.exe --forget exit status $?"
  if win reg query 'HKLM\SOFTWARE\certsteward' >/dev/null 2>&1; then fail "HKLM\SOFTWARE\certsteward is left"; fi
  win "$alone/certsteward-msi.exe" --forget || fail "certsteward-msi.exe --forget with nothing to forget: exit status $?"
  win reg add 'HKLM\SOFTWARE\certsteward\Install' /v host /t REG_SZ /d board.example.test /f >/dev/null
  win reg add 'HKLM\SOFTWARE\certsteward\Other' /v x /t REG_SZ /d y /f >/dev/null
  win "$alone/certsteward-msi.exe" --forget || fail "certsteward-msi.exe --forget beside another key: exit status $?"
  if win reg query 'HKLM\SOFTWARE\certsteward\Install' >/dev/null 2>&1; then fail "the remembered values are left"; fi
  win reg query 'HKLM\SOFTWARE\certsteward\Other' >/dev/null 2>&1 || fail "another key under HKLM\SOFTWARE\certsteward was removed"
  win reg delete 'HKLM\SOFTWARE\certsteward' /f >/dev/null
  # a command: certsteward.exe beside it runs it (version), and its exit code comes back
  win "$shim" version || fail "certsteward-msi.exe version exit status $?"
  if win "$shim" no-such-command; then fail "certsteward-msi.exe passed no exit code on"; fi
  if win "$alone/certsteward-msi.exe" version; then fail "certsteward-msi.exe without certsteward.exe succeeded"; fi
}

# Untrusted property values. A line break, a tab, a double quote or a final backslash
# (the last two would end the custom action's quoting of the value) are refused by the
# MSI's launch conditions before anything is done; any other control character by
# certsteward install in the custom action, which rolls the installation back. Nothing
# stays. (Wine's msiexec cannot take a double quote in a property on its command line:
# that case is left to the launch condition's twin, the final backslash.)
test_refuses_control_characters() {
  local prop
  setup
  for prop in HOST=$'board\nexample.test' $'HOST=board\texample.test' 'BINDING_FILE=C:\BOARD Connector\' \
    HOST=$'board\x01example.test' $'ENDPOINTS=127.0.0.1:8197\x1b'; do
    : >"$T/wine.err"
    if msiexec /i "$(wpath "$MSI")" "$prop"; then
      fail "msiexec /i accepted $(printf %q "$prop")"
    fi
    msi_log_has "Action start [0-9:]*: LaunchConditions" || fail "the installation did not start"
    case $prop in
      *$'\n'* | *$'\t'* | *\\)
        ! msi_log_has "Action start [0-9:]*: InstallFiles" || fail "$(printf %q "$prop") passed the launch conditions" ;;
      *)
        msi_log_has "Action start [0-9:]*: CS_Install" || fail "the custom action did not run for $(printf %q "$prop")"
        # what install said is in its log (certsteward-msi.exe runs it without a console)
        grep -q "the value holds a control character" "$(newest_install_log)" ||
          fail "install did not refuse the value: $(cat "$(newest_install_log)")" ;;
    esac
    [ ! -e "$PD/certsteward.ini" ] || fail "a configuration was written for $(printf %q "$prop")"
    expect_eq "$(svc_state)" "" "the service after a refused installation"
    [ ! -e "$PF" ] || fail "files left in Program Files\\certsteward after a refused installation"
    win reg query "$SOURCE_KEY" >/dev/null 2>&1 && fail "the event source is registered after a refused installation"
    [ -z "$(reg_value "$UNINSTALL_KEY\\$NEW_CODE" DisplayVersion)" ] || fail "the refused product is registered"
  done
  # and the same MSI installs once the values are fine
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test "BINDING_FILE=$BINDING" || fail "msiexec /i exit status $?"
  expect_eq "$(config_value host)" board.example.test "host after the refused attempts"
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
}

# certsteward install --config-template --set, as the MSI runs it and as an admin may: the
# first configuration is the template with the given lines replaced and nothing else; a
# value that is refused, a key the template does not have, or a result the loader refuses
# writes nothing; an existing file is kept as it is.
test_install_writes_first_configuration() {
  local cfg tpl out d=$WINEPREFIX/drive_c/cs-first
  setup
  # in a folder only administrators can change (Wine's made-up DACL from mode 755): a
  # configuration below the host's /tmp is below Z:\tmp, which Everyone may rename
  # entries in, and is refused (platform.h: the folders above a configuration)
  mkdir -m 755 "$d"
  cfg='C:\cs-first\first.ini'
  tpl=$(wpath "$BUILD/certsteward-windows.ini")
  for bad in $'host=a\tb:control character' $'host=a\x7fb:control character' 'host=a"b:double quote' \
    'host=a ;b:starts a comment' 'hst=board.example.test:no "hst =" line' 'endpoints=nonsense:not host:port' \
    'host:expected KEY=VALUE'; do
    if win_err "$CS" install --config "$cfg" --config-template "$tpl" --set "${bad%%:*}" >/dev/null; then
      fail "install accepted --set $(printf %q "${bad%%:*}")"
    fi
    [ ! -e "$d/first.ini" ] || fail "--set $(printf %q "${bad%%:*}") wrote a configuration"
    grep -qF "${bad#*:}" "$T/err" || { cat "$T/err" >&2; fail "install did not say \"${bad#*:}\""; }
  done
  expect_eq "$(svc_state)" "" "the service after refused values"

  win_err "$CS" install --config "$cfg" --config-template "$tpl" --set host=board.example.test \
    --set "connector.binding_files=$BINDING" --set endpoints= >"$T/out" ||
    { cat "$T/err" >&2; fail "install --set exit status $?"; }
  grep -q "^configuration .* written from" "$T/out" || fail "install did not say it wrote the configuration"
  [ -f "$d/first.ini" ] || fail "no configuration written"
  # the template with exactly the two lines replaced, CRLF kept
  diff <(tr -d '\r' <"$BUILD/certsteward-windows.ini") <(tr -d '\r' <"$d/first.ini") | grep '^[<>]' >"$T/diff" || true
  expect_eq "$(cat "$T/diff")" "< host =
> host = board.example.test
< binding_files =
> binding_files = $BINDING" "the lines install changed"
  expect_eq "$(grep -c $'\r$' "$d/first.ini")" "$(wc -l <"$d/first.ini")" "CRLF line ends"
  out=$(win "$CS" config --config "$cfg" | tr -d '\r')
  grep -qx "host = board.example.test" <<<"$out" || fail "config does not read the host back"
  # again, with another value: the file is kept, with a warning
  cp "$d/first.ini" "$T/first.before"
  win_err "$CS" install --config "$cfg" --config-template "$tpl" --set host=other.example.test >/dev/null ||
    fail "install over an existing configuration exit status $?"
  grep -q "kept as it is" "$T/err" || fail "no warning that --set is not applied"
  cmp -s "$d/first.ini" "$T/first.before" || fail "install changed an existing configuration"
  win "$CS" uninstall >/dev/null || fail "uninstall exit status $?"
  rm -rf "$d"
}

# Rollback disabled (DISABLEROLLBACK=1, as the DisableRollback policy does; Wine's
# msiexec sets RollbackDisabled from it before LaunchConditions, measured): a first
# installation is refused by the launch condition, and nothing is installed; an MSI
# without that launch condition is refused by CS_NoRollback (after InstallValidate), and
# nothing is installed either; a repair of the installed product passes.
test_refused_without_rollback() {
  local bare=$T/bare.msi
  setup
  if msiexec /i "$(wpath "$MSI")" DISABLEROLLBACK=1 HOST=board.example.test; then fail "installed with DISABLEROLLBACK=1"; fi
  msi_log_has "Action start [0-9:]*: LaunchConditions" || fail "the installation did not start"
  ! msi_log_has "Action start [0-9:]*: InstallFiles" || fail "DISABLEROLLBACK=1 passed the launch conditions"
  [ ! -e "$PF" ] && [ -z "$(svc_state)" ] && [ ! -e "$PD" ] || fail "something was installed with DISABLEROLLBACK=1"
  cp "$MSI" "$bare"
  msibuild "$bare" -q "DELETE FROM \`LaunchCondition\` WHERE \`Condition\` = 'Installed OR NOT RollbackDisabled'" ||
    fail "cannot remove the launch condition from a copy"
  if msiexec /i "$(wpath "$bare")" DISABLEROLLBACK=1; then fail "installed with DISABLEROLLBACK=1 without the launch condition"; fi
  msi_log_has "Action start [0-9:]*: CS_NoRollback" || fail "CS_NoRollback did not run"
  ! msi_log_has "Action start [0-9:]*: InstallFiles" || fail "CS_NoRollback did not stop the installation"
  [ ! -e "$PF" ] && [ -z "$(svc_state)" ] && [ ! -e "$PD" ] || fail "something was installed past CS_NoRollback"
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test || fail "msiexec /i exit status $?"
  msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus DISABLEROLLBACK=1 || fail "a repair with DISABLEROLLBACK=1: exit status $?"
  msi_log_has "Action start [0-9:]*: CS_Install" || fail "CS_Install did not run on the repair"
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
}

# certsteward install refuses to register a program others can change (doctor's
# program_folder judgement): Wine makes up a DACL from the Unix mode, Everyone's write for
# mode 777 (as doctor's own tests use it). A copy in C:\cs-open (777) refuses and makes
# nothing; the MSI's repair of an installed product whose program folder others may
# change fails, its install log and standard error saying why; made private again, it passes.
test_install_refuses_a_program_others_can_change() {
  local open=$WINEPREFIX/drive_c/cs-open
  setup
  mkdir -p "$open"
  cp "$CS" "$BUILD/service/certsteward-worker.exe" "$open/"
  chmod 777 "$open"
  if win_err "$open/certsteward.exe" install --config-template "$(wpath "$BUILD/certsteward-windows.ini")" >/dev/null; then
    fail "install from a folder others can change succeeded"
  fi
  grep -q "certsteward install: C:.cs-open, the folder of certsteward\.exe or one above it, can be changed by .*S-1-1-0.*: whoever can change it would run code as LocalSystem .*nothing was installed" "$T/err" ||
    fail "install did not say why: $(cat "$T/err")"
  [ ! -e "$PD" ] && [ -z "$(svc_state)" ] || fail "install made something from a folder others can change"
  chmod 755 "$open"
  chmod 666 "$open/certsteward-worker.exe"
  if win_err "$open/certsteward.exe" install >/dev/null; then fail "install with a worker others can change succeeded"; fi
  grep -q "certsteward-worker\.exe can be changed by .*S-1-1-0" "$T/err" || fail "install did not name the worker: $(cat "$T/err")"
  rm -rf "$open"
  msiexec /i "$(wpath "$MSI")" HOST=board.example.test || fail "msiexec /i exit status $?"
  chmod 777 "$PF"
  if msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus; then fail "a repair with Program Files\\certsteward open to others passed"; fi
  grep -q "stderr certsteward install: C:.Program Files.certsteward, the folder of certsteward\.exe or one above it, can be changed by .*S-1-1-0" \
    "$(newest_install_log)" || fail "install's log does not say why: $(cat "$(newest_install_log)")"
  chmod 755 "$PF"
  msiexec /i "$(wpath "$MSI")" REINSTALL=ALL REINSTALLMODE=vomus || fail "the repair, the folder private again: exit status $?"
  msiexec /x "$(wpath "$MSI")" || fail "msiexec /x exit status $?"
}

name=${1:?test name}
declare -F "test_$name" >/dev/null || fail "no test named $name"
t0=$SECONDS
"test_$name"
echo "ok: $name ($((SECONDS - t0)) s)"
