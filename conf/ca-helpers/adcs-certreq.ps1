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
  4  this helper is not set up: what is missing
  6  another operation

[request]
route = command
template = BoardWebServer
submit_command = "%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\Program Files\certsteward\ca-helpers\adcs-certreq.ps1" -Config "ca01.corp.example.com\Corp Issuing CA"

-Config takes what certutil -dump / certreq -config name: "host\CA Name", or the URL of a
certificate enrollment web service. Its files go to a new folder under -WorkFolder
(default: certsteward's state folder, which only administrators can change), removed
when it ends.
#>
param(
  [Parameter(Mandatory = $true)][string]$Config,
  [string]$WorkFolder = (Join-Path $env:ProgramData 'certsteward\request')
)
$ErrorActionPreference = 'Stop'

function Write-Pem([byte[]]$Der) {
  "-----BEGIN CERTIFICATE-----"
  [Convert]::ToBase64String($Der, [Base64FormattingOptions]::InsertLineBreaks)
  "-----END CERTIFICATE-----"
}

$op = $env:CERTMONGER_OPERATION
if ($op -ne 'SUBMIT' -and $op -ne 'POLL') { exit 6 }
$certreq = Join-Path $env:SystemRoot 'System32\certreq.exe'
if (-not (Test-Path -LiteralPath $certreq)) { "certreq.exe is not in $env:SystemRoot\System32"; exit 4 }
$dir = Join-Path $WorkFolder ('certreq-' + [guid]::NewGuid().ToString('N'))
try {
  New-Item -ItemType Directory -Path $dir | Out-Null
} catch {
  "cannot make a work folder in ${WorkFolder}: $($_.Exception.Message)"; exit 4
}
try {
  $cer = Join-Path $dir 'issued.cer'
  $p7b = Join-Path $dir 'chain.p7b'
  if ($op -eq 'SUBMIT') {
    if (-not $env:CERTMONGER_CSR) { 'no request in CERTMONGER_CSR'; exit 4 }
    $csr = Join-Path $dir 'request.csr'
    [IO.File]::WriteAllText($csr, $env:CERTMONGER_CSR, [Text.Encoding]::ASCII)
    $attrib = @()
    if ($env:CERTMONGER_CA_PROFILE) { $attrib = @('-attrib', "CertificateTemplate:$($env:CERTMONGER_CA_PROFILE)") }
    $out = & $certreq -q -submit -config $Config @attrib $csr $cer $p7b 2>&1
  } else {
    $id = "$env:CERTMONGER_CA_COOKIE".Trim()
    if ($id -notmatch '^\d+$') { "the cookie is not a CA request id: '$id'"; exit 4 }
    $out = & $certreq -q -retrieve -config $Config $id $cer $p7b 2>&1
  }
  $text = (($out | Out-String) -replace '\s+', ' ').Trim()
  if (Test-Path -LiteralPath $cer) {
    $leaf = New-Object Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $cer
    Write-Pem $leaf.RawData
    if (Test-Path -LiteralPath $p7b) {
      $chain = New-Object Security.Cryptography.X509Certificates.X509Certificate2Collection
      $chain.Import($p7b)
      foreach ($c in $chain) { if ($c.Thumbprint -ne $leaf.Thumbprint) { Write-Pem $c.RawData } }
    }
    exit 0
  }
  $rid = $null
  if ($text -match 'RequestId:\s*"?(\d+)') { $rid = $Matches[1] }
  elseif ($op -eq 'POLL') { $rid = $id }
  if ($text -match 'pending|Taken Under Submission' -and $rid) { $rid; exit 1 }
  if ($text -match 'RPC server is unavailable|0x800706ba|0x800706be|0x80072ee7|0x80072efd|could not be contacted|cannot be reached') {
    "the CA $Config cannot be reached: $text"; exit 3
  }
  if ($text -match 'template|0x80094800|0x80094801|0x80070005|Access is denied') {
    # no such template, not allowed to enroll: what an administrator must set up
    "the CA $Config refused: $text"; exit 2
  }
  "certreq: $text"; exit 2
} finally {
  Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
}
