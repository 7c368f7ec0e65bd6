#!/usr/bin/env bash
# The Windows installer: certsteward-<version>-x64.msi from a Windows build folder, made by
# wixl (Debian's msitools) from installer/windows/certsteward.wxs. Prints the MSI's path.
#
#   bash scripts/win-msi.sh                          # from build/win64 (scripts/win-build.sh's)
#   CS_WIN_BUILD_DIR=build/w2 bash scripts/win-msi.sh
#   CS_MSI_VERSION=0.0.1 CS_MSI_OUT=/tmp/old.msi CS_MSI_BUILD=0 bash scripts/win-msi.sh
#       # the same files as another version, without building (tests/integration/win_msi.sh's
#       # "older build")
#
# It packs certsteward.exe, certsteward-worker.exe and certsteward-msi.exe (stripped), certsteward-windows.ini
# (the shipped configuration, installed as certsteward-default.ini) and README.md (as
# README.txt, Programs and Features' help: CMake's CS_HELP_URL gives a URL instead), building them first
# (cmake --build; CS_MSI_BUILD=0: take them as they are). The version is the project's
# (CMakeCache.txt); a build with CS_TEST_HOOKS or CS_SANITIZE is named "certsteward (TEST
# BUILD)" in Programs and Features, as its Debian package says it is not for production.
# Signed (Authenticode, scripts/win-sign.sh) when a code-signing certificate is given:
#   CS_SIGN_PFX=codesign.pfx CS_SIGN_PASSWORD_FILE=codesign.pass [CS_SIGN_TIMESTAMP_URL=...]
#   bash scripts/win-msi.sh   # (or CS_SIGN_PKCS11_*: see scripts/win-sign.sh)
# the executables before wixl packs them, the MSI after its last edit; without one, unsigned.
# Installs wixl and msitools with apt when missing (Debian 12, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${CS_WIN_BUILD_DIR:-build/win64}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
WXS=$ROOT/installer/windows/certsteward.wxs
export DEBIAN_FRONTEND=noninteractive

log() { printf '[win-msi] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bash "$ROOT/scripts/deps.sh" msi # wixl, msitools

[ -f "$B/CMakeCache.txt" ] || die "$B is not a build folder (make it with scripts/win-build.sh)"
grep -qs 'CMAKE_SYSTEM_NAME "Windows"' "$B"/CMakeFiles/*/CMakeSystem.cmake || die "$B is not a Windows build folder"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt" | head -n 1; }
VERSION=${CS_MSI_VERSION:-$(cache CMAKE_PROJECT_VERSION)}
# ProductVersion: major.minor.build, at most 255.255.65535
[[ $VERSION =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,5}$ ]] || die "version '$VERSION' is not major.minor.build"
NAME=certsteward
[ "$(cache CS_TEST_HOOKS)" != ON ] && [ "$(cache CS_SANITIZE)" != ON ] || NAME="certsteward (TEST BUILD)"
OUT=${CS_MSI_OUT:-$B/certsteward-$VERSION-x64.msi}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

bash "$ROOT/scripts/win-sign.sh" --check # an incomplete signing configuration stops here

t0=$SECONDS
if [ "${CS_MSI_BUILD:-1}" != 0 ]; then
  # certsteward is not in the default target while the Windows half is being completed
  cmake --build "$B" --target certsteward certsteward-worker certsteward-msi cs_windows_ini >/dev/null ||
    die "cannot build certsteward.exe, certsteward-worker.exe, certsteward-msi.exe and certsteward-windows.ini in $B"
fi
EXE=$B/service/certsteward.exe WORKER=$B/service/certsteward-worker.exe SHIM=$B/service/certsteward-msi.exe
INI=$B/certsteward-windows.ini
for f in "$EXE" "$WORKER" "$SHIM" "$INI"; do [ -f "$f" ] || die "$f is missing (build $B first)"; done

# wixl finds files relative to the folder it runs in: a private staging folder
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/cs-msi.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
x86_64-w64-mingw32-strip -o "$STAGE/certsteward.exe" "$EXE"
x86_64-w64-mingw32-strip -o "$STAGE/certsteward-worker.exe" "$WORKER"
x86_64-w64-mingw32-strip -o "$STAGE/certsteward-msi.exe" "$SHIM"
cp "$INI" "$STAGE/certsteward-default.ini"
mkdir "$STAGE/ca-helpers"
cp "$ROOT/conf/ca-helpers/adcs-certreq.ps1" "$STAGE/ca-helpers/adcs-certreq.ps1"
# the README, as text with CRLF line ends (Notepad before Windows 10 1809 shows LF as one
# line) and a UTF-8 byte order mark (Notepad then reads UTF-8 on every Windows)
{ printf '\357\273\277'; sed 's/\r*$/\r/' "$ROOT/README.md"; } >"$STAGE/README.txt"
bash "$ROOT/scripts/win-sign.sh" -n "$NAME" "$STAGE/certsteward.exe" "$STAGE/certsteward-worker.exe" "$STAGE/certsteward-msi.exe"
(cd "$STAGE" && wixl -a x64 -D Version="$VERSION" -D ProductName="$NAME" -o "$STAGE/out.msi" "$WXS") ||
  die "wixl failed on $WXS"
# The public properties the custom action reads ([HOST] ... in its ExeCommand) must be
# secure, or Windows Installer does not pass them to the elevated part of an installation
# started without elevation (UAC consent) or managed; wixl 0.101 cannot mark a property
# Secure and writes SecureCustomProperties itself (MajorUpgrade's), so they are added to it.
public=$(grep -o "\(ExeCommand\|Value\)=.*" "$WXS" | grep -o '\[[A-Z][A-Z_]*\]' | tr -d '[]' | sort -u | paste -sd ';')
public="$public;LEAVE_RENEWAL" # read by CS_Uninstall's condition, passed to the elevated part too
secure=$(msiinfo export "$STAGE/out.msi" Property | tr -d '\r' | awk -F'\t' '$1 == "SecureCustomProperties" { print $2 }')
[ -n "$public" ] && [ -n "$secure" ] || die "no public properties in $WXS, or no SecureCustomProperties from wixl"
msibuild "$STAGE/out.msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure;$public' WHERE \`Property\` = 'SecureCustomProperties'" ||
  die "cannot set SecureCustomProperties"
# A rebuild of the same version upgrades in place (WiX's MajorUpgrade
# AllowSameVersionUpgrades="yes", which wixl 0.101 does not know): the row that finds
# the older versions (VersionMax = this version, WIX_UPGRADE_DETECTED) includes this
# version too, msidbUpgradeAttributesVersionMaxInclusive (0x200). Its Attributes is part
# of the Upgrade table's key, which libmsi's UPDATE cannot change: the row is put back.
row=$(msiinfo export "$STAGE/out.msi" Upgrade | tr -d '\r' | awk -F'\t' '$7 == "WIX_UPGRADE_DETECTED"')
field() { awk -F'\t' -v i="$1" '{ print $i }' <<<"$row"; } # (read would merge empty fields)
ucode=$(field 1) vmax=$(field 3) attrs=$(field 5)
[ "$(wc -l <<<"$row")" = 1 ] && [ -z "$(field 2)$(field 4)$(field 6)" ] && [ "$vmax" = "$VERSION" ] &&
  [[ $attrs =~ ^[0-9]+$ ]] && [ $((attrs & 0x200)) = 0 ] ||
  die "wixl's Upgrade row for WIX_UPGRADE_DETECTED is not the one expected: '$row'"
msibuild "$STAGE/out.msi" -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'" \
  -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$ucode', '$vmax', $((attrs | 0x200)), 'WIX_UPGRADE_DETECTED')" ||
  die "cannot make the upgrade include the same version"
# CS_InstallRollback is the rollback of CS_Install and CS_Forget a commit action: wixl 0.101
# writes every custom action deferred (0x400), and the rollback flag
# (msidbCustomActionTypeRollback, 0x100) or the commit flag (msidbCustomActionTypeCommit,
# 0x200) is added here
for ca in CS_InstallRollback:256 CS_Forget:512; do
  type=$(msiinfo export "$STAGE/out.msi" CustomAction | tr -d '\r' | awk -F'\t' -v a="${ca%:*}" '$1 == a { print $2 }')
  [[ $type =~ ^[0-9]+$ ]] && [ $((type & 0x400)) != 0 ] || die "${ca%:*} is not a deferred custom action: '$type'"
  msibuild "$STAGE/out.msi" -q "UPDATE \`CustomAction\` SET \`Type\` = $((type | ${ca#*:})) WHERE \`Action\` = '${ca%:*}'" ||
    die "cannot set the type of ${ca%:*}"
done
# CS_Forget and CS_ForgetNoRollback run the copy of certsteward-msi.exe in the Binary table
# with the command line "--forget" (custom action type 2, an EXE stored in a Binary table
# stream), which wixl 0.101 cannot write: it knows BinaryKey only with DllEntry, type 1 (a
# DLL), and writes Source = the Binary key and Target = the entry; the base type (the low
# six bits) becomes 2, the DLL's entry the EXE's command line
for ca in CS_Forget CS_ForgetNoRollback; do
  row=$(msiinfo export "$STAGE/out.msi" CustomAction | tr -d '\r' | awk -F'\t' -v a="$ca" '$1 == a')
  type=$(cut -f2 <<<"$row")
  [[ $type =~ ^[0-9]+$ ]] && [ $((type & 0x3F)) = 1 ] && [ "$(cut -f3,4 <<<"$row")" = "CsMsiShim"$'\t'"--forget" ] ||
    die "wixl's $ca is not the DLL custom action expected: '$row'"
  msibuild "$STAGE/out.msi" -q "UPDATE \`CustomAction\` SET \`Type\` = $(((type & ~0x3F) | 2)) WHERE \`Action\` = '$ca'" ||
    die "cannot make $ca an EXE custom action"
done
# What the MSI log says as each custom action starts (the ActionText table, which wixl 0.101
# does not write): where certsteward install and uninstall leave what they said, which
# Windows Installer does not log
# (both folders: SystemTemp where Windows has it, else Temp, where any user may create
# files, a planted certsteward-*.log among them: the events name the exact file)
say='what it says is in a new certsteward-COMMAND-*.log in %WINDIR%\SystemTemp, or %WINDIR%\Temp where Windows has no SystemTemp, and in the Application event log (source certsteward, events 1016 and 1017): open the file those events name, and trust it only when its owner is SYSTEM or Administrators'
msibuild "$STAGE/out.msi" -q "CREATE TABLE \`ActionText\` (\`Action\` CHAR(72) NOT NULL, \`Description\` LONGCHAR LOCALIZABLE, \`Template\` LONGCHAR LOCALIZABLE PRIMARY KEY \`Action\`)" \
  -q "INSERT INTO \`ActionText\` (\`Action\`, \`Description\`) VALUES ('CS_Install', 'certsteward install: ${say//COMMAND/install}')" \
  -q "INSERT INTO \`ActionText\` (\`Action\`, \`Description\`) VALUES ('CS_InstallRollback', 'certsteward install --undo (takes back what certsteward install made): ${say//COMMAND/install}')" \
  -q "INSERT INTO \`ActionText\` (\`Action\`, \`Description\`) VALUES ('CS_Uninstall', 'certsteward uninstall --finish-renewal: ${say//COMMAND/uninstall}')" \
  -q "INSERT INTO \`ActionText\` (\`Action\`, \`Description\`) VALUES ('CS_Forget', 'certsteward-msi.exe --forget (the values remembered for a repair, once the removal is committed)')" ||
  die "cannot write the ActionText table"
# CS_NoRollback: the launch condition "Installed OR NOT RollbackDisabled" again, as an
# error custom action (type 19, msidbCustomActionTypeError: its Target is the message,
# and the installation ends with it), after InstallValidate and before InstallInitialize:
# Microsoft does not document when RollbackDisabled is set, and rollback disabled for too
# little disk space (PROMPTROLLBACKCOST) is known only once costing is done (wixl 0.101
# has no Error custom action). The message is the launch condition's.
seqof() { msiinfo export "$STAGE/out.msi" InstallExecuteSequence | tr -d '\r' | awk -F'\t' -v a="$1" '$1 == a { print $3 }'; }
msg=$(msiinfo export "$STAGE/out.msi" LaunchCondition | tr -d '\r' | awk -F'\t' '$1 == "Installed OR NOT RollbackDisabled" { print $2 }')
validate=$(seqof InstallValidate) initialize=$(seqof InstallInitialize)
[ -n "$msg" ] && [[ $msg != *"'"* ]] && [[ $validate =~ ^[0-9]+$ ]] && [[ $initialize =~ ^[0-9]+$ ]] &&
  [ $((validate + 1)) -lt "$initialize" ] &&
  ! msiinfo export "$STAGE/out.msi" InstallExecuteSequence | tr -d '\r' | awk -F'\t' '{ print $3 }' | grep -qx $((validate + 1)) ||
  die "no launch condition on RollbackDisabled, or no free sequence number after InstallValidate ($validate, $initialize)"
msibuild "$STAGE/out.msi" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Target\`) VALUES ('CS_NoRollback', 19, '$msg')" \
  -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Condition\`, \`Sequence\`) VALUES ('CS_NoRollback', 'NOT Installed AND RollbackDisabled', $((validate + 1)))" ||
  die "cannot add CS_NoRollback"
# Programs and Features' help link is the README installed with the program (CS_SetHelpLink),
# or the URL the build was given (CMake's CS_HELP_URL), with ARPURLINFOABOUT
url=$(cache CS_HELP_URL)
if [ -n "$url" ]; then
  [[ $url =~ ^https://[A-Za-z0-9./_~%#?=+:-]+$ ]] || die "CS_HELP_URL '$url' is not a plain https URL"
  msibuild "$STAGE/out.msi" -q "DELETE FROM \`InstallExecuteSequence\` WHERE \`Action\` = 'CS_SetHelpLink'" \
    -q "DELETE FROM \`CustomAction\` WHERE \`Action\` = 'CS_SetHelpLink'" \
    -q "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('ARPHELPLINK', '$url')" \
    -q "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('ARPURLINFOABOUT', '$url')" ||
    die "cannot set ARPHELPLINK and ARPURLINFOABOUT"
fi
# wixl leaves the File table's Version empty: Windows Installer would then take the packed
# executables for unversioned, and in a major upgrade (RemoveExistingProducts before
# InstallFiles, costed earlier) keep out a component whose installed key file has a version,
# which the removal of the old product then deletes. Their FILEVERSION goes there, as WiX's
# light writes it.
for f in certsteward.exe certsteward-worker.exe certsteward-msi.exe; do
  v=$(x86_64-w64-mingw32-windres -i "$STAGE/$f" -O rc | tr -d '\r' |
    sed -n 's/^ *FILEVERSION \([0-9]*\), *\([0-9]*\), *\([0-9]*\), *\([0-9]*\)$/\1.\2.\3.\4/p' | head -n 1)
  [ -n "$v" ] || die "$f has no VERSIONINFO"
  msibuild "$STAGE/out.msi" -q "UPDATE \`File\` SET \`Version\` = '$v', \`Language\` = '1033' WHERE \`FileName\` = '$f'" ||
    die "cannot set the version of $f in the File table"
  # msibuild succeeds when no row matches (a FileName that is not plain '$f'): read it back
  msiinfo export "$STAGE/out.msi" File | tr -d '\r' |
    awk -F'\t' -v n="$f" -v v="$v" '$3 == n { rows++; ok += ($5 == v) } END { exit !(rows == 1 && ok == 1) }' ||
    die "the File table does not give $f the version $v (no row with FileName '$f' in $(basename "$WXS")'s MSI?)"
done
# the last edit is above: a signature covers the MSI as it is now
bash "$ROOT/scripts/win-sign.sh" -n "$NAME" "$STAGE/out.msi"
mv "$STAGE/out.msi" "$OUT"
log "$(basename "$OUT") ($NAME $VERSION, $(($(stat -c %s "$OUT") / 1024)) KiB) in $((SECONDS - t0)) s"
echo "$OUT"
