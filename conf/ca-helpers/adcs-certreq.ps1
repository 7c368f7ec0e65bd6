<#
certsteward CA helper for Active Directory Certificate Services through certreq.exe,
with certmonger's helper contract: certsteward runs it (as LocalSystem: the request is
made in the name of this computer's account) with CERTMONGER_OPERATION=SUBMIT or POLL,
the request in CERTMONGER_CSR, the template in CERTMONGER_CA_PROFILE and, on a poll,
the CA's request id in CERTMONGER_CA_COOKIE; it answers with its exit code and output:

  0  issued: the certificate and its chain, PEM, on standard output
  1  pending (a CA manager must approve it): the request id on standard output
  2  denied by the CA: its message
  3  the CA cannot be reached: why
  4  this helper is not set up, or failed: what is wrong
  6  another operation

[request]
route = command
template = BoardWebServer
submit_command = "%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\Program Files\certsteward\ca-helpers\adcs-certreq.ps1" -Config "ca01.corp.example.com\Corp Issuing CA"

-Config takes what certutil -dump / certreq -config name: "host\CA Name", or the URL of a
certificate enrollment web service. Never put a CERTMONGER_ variable on that line: the
helper reads them from its environment (cmd.exe would put a CA's cookie into the line).

Its three files (request.csr, issued.cer, chain.p7b) go to the folder certsteward makes
for each run and removes after it, CERTSTEWARD_WORK_DIR (under its state folder, which
only administrators can change); the helper refuses to run without it, or when that
folder is a link or junction or is not owned by SYSTEM or Administrators, and removes
only those three files. Every failure, an unexpected one too, answers 3 (the CA or the
network) or 4 with the reason: never powershell's own exit 1, which the contract reads
as "wait".
#>
param(
  [string]$Config,
  [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest
)
$ErrorActionPreference = 'Stop'

# Who may own the work folder: SYSTEM, Administrators
$AdminSids = @('S-1-5-18', 'S-1-5-32-544')
# certreq's and .NET's words for a CA or network that cannot be reached
$Unreachable = 'RPC server is unavailable|0x800706ba|0x800706be|0x80072ee7|0x80072efd|0x80070035|could not be contacted|cannot be reached|network path was not found'
# The files this run makes, removed at its end (and nothing else)
$script:Made = @()

function ConvertTo-OneLine([string]$Text) { ($Text -replace '\s+', ' ').Trim() }

function New-Answer([int]$Code, [string[]]$Out) { @{ Code = $Code; Out = @($Out) } }

function Write-Pem([byte[]]$Der) {
  "-----BEGIN CERTIFICATE-----"
  [Convert]::ToBase64String($Der, [Base64FormattingOptions]::InsertLineBreaks)
  "-----END CERTIFICATE-----"
}

# The folder certsteward made for this run, or why it cannot be used
function Test-WorkFolder([string]$Dir) {
  if (-not $Dir) { return 'no CERTSTEWARD_WORK_DIR: certsteward makes a work folder for each run (is this certsteward running it?)' }
  $item = Get-Item -LiteralPath $Dir -Force
  if (-not $item.PSIsContainer -or ($item.Attributes -band [IO.FileAttributes]::ReparsePoint)) {
    return "the work folder $Dir is not a plain folder (a file, link or junction)"
  }
  $owner = (Get-Acl -LiteralPath $Dir).GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($AdminSids -notcontains $owner) { return "the work folder $Dir is owned by $owner, not by SYSTEM or Administrators" }
  return $null
}

function Invoke-Request {
  if ($Rest) { return New-Answer 4 "unknown argument $($Rest[0]): this helper takes -Config (its files go to CERTSTEWARD_WORK_DIR)" }
  $op = $env:CERTMONGER_OPERATION
  if ($op -ne 'SUBMIT' -and $op -ne 'POLL') { return New-Answer 6 @() }
  if (-not $Config) { return New-Answer 4 'no -Config: name the CA as certutil -dump does (host\CA Name) or its enrollment URL' }
  $certreq = Join-Path $env:SystemRoot 'System32\certreq.exe'
  if (-not (Test-Path -LiteralPath $certreq -PathType Leaf)) { return New-Answer 4 "certreq.exe is not in $env:SystemRoot\System32" }
  $dir = $env:CERTSTEWARD_WORK_DIR
  $bad = Test-WorkFolder $dir
  if ($bad) { return New-Answer 4 $bad }
  $csr = Join-Path $dir 'request.csr'
  $cer = Join-Path $dir 'issued.cer'
  $p7b = Join-Path $dir 'chain.p7b'
  foreach ($f in @($csr, $cer, $p7b)) {
    if (Test-Path -LiteralPath $f) { return New-Answer 4 "the work folder $dir is not new: $f is already there" }
  }
  $script:Made = @($csr, $cer, $p7b)
  $id = $null
  if ($op -eq 'SUBMIT') {
    if (-not $env:CERTMONGER_CSR) { return New-Answer 4 'no request in CERTMONGER_CSR' }
    [IO.File]::WriteAllText($csr, $env:CERTMONGER_CSR, [Text.Encoding]::ASCII)
    $attrib = @()
    if ($env:CERTMONGER_CA_PROFILE) { $attrib = @('-attrib', "CertificateTemplate:$($env:CERTMONGER_CA_PROFILE)") }
  } else {
    $id = "$env:CERTMONGER_CA_COOKIE".Trim()
    # the cookie is what this helper printed; anything else is not echoed back
    if ($id -notmatch '^\d{1,10}$') { return New-Answer 4 "the cookie is not a CA request id ($($id.Length) characters)" }
  }
  # certreq's standard error is text to read: PowerShell 5.1 makes each of its lines an
  # error record, which 'Stop' would throw on
  $ErrorActionPreference = 'Continue'
  if ($op -eq 'SUBMIT') {
    $out = & $certreq -q -submit -config $Config @attrib $csr $cer $p7b 2>&1
  } else {
    $out = & $certreq -q -retrieve -config $Config $id $cer $p7b 2>&1
  }
  $ErrorActionPreference = 'Stop'
  $text = ConvertTo-OneLine ($out | Out-String)
  if (Test-Path -LiteralPath $cer -PathType Leaf) {
    $leaf = New-Object Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $cer
    $pem = @(Write-Pem $leaf.RawData)
    if (Test-Path -LiteralPath $p7b -PathType Leaf) {
      $chain = New-Object Security.Cryptography.X509Certificates.X509Certificate2Collection
      $chain.Import($p7b)
      foreach ($c in $chain) { if ($c.Thumbprint -ne $leaf.Thumbprint) { $pem += @(Write-Pem $c.RawData) } }
    }
    return New-Answer 0 $pem
  }
  if ($text -match 'pending|Taken Under Submission') {
    $rid = $null
    if ($text -match 'RequestId:\s*"?(\d+)') { $rid = $Matches[1] }
    elseif ($op -eq 'POLL') { $rid = $id }
    if (-not $rid) { return New-Answer 4 "certreq gave no request id: $text" }
    return New-Answer 1 $rid
  }
  if ($text -match $Unreachable) { return New-Answer 3 "the CA $Config cannot be reached: $text" }
  if ($text -match 'template|0x80094800|0x80094801|0x80094012|0x80094011|0x80070005|Access is denied') {
    # no such template, not allowed to enroll: what an administrator must set up, and
    # the request may be submitted again with the same key once it is: misconfigured (4),
    # not rejected (2, which ends the request and deletes its key), as route adcs says
    return New-Answer 4 "the CA $Config refused: $text"
  }
  return New-Answer 2 "certreq: $text"
}

$answer = New-Answer 4 'the helper did not finish'
try {
  $answer = Invoke-Request
} catch {
  # anything unexpected (a file that cannot be written, a certificate that cannot be
  # read): 3 when it is the network's, else 4, never powershell's exit 1 ("wait")
  $e = $_.Exception
  $msg = ConvertTo-OneLine $e.Message
  if ("$msg 0x$('{0:x8}' -f $e.HResult)" -match $Unreachable) {
    $answer = New-Answer 3 "the CA $Config cannot be reached: $msg"
  } else {
    $answer = New-Answer 4 "adcs-certreq.ps1 failed: $msg"
  }
} finally {
  # only the files this run made: never a folder, never recursively
  foreach ($f in $script:Made) {
    if (Test-Path -LiteralPath $f -PathType Leaf) { Remove-Item -LiteralPath $f -Force -ErrorAction SilentlyContinue }
  }
}
if ($answer -isnot [hashtable]) { $answer = New-Answer 4 'adcs-certreq.ps1 gave no answer of its own' }
$answer.Out | Where-Object { $_ -ne $null } | ForEach-Object { $_ }
exit $answer.Code
