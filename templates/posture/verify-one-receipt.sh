#!/bin/sh
# Verifies one Warden receipt with OpenSSL alone — the steps of docs/evidence.md,
# "Verifying one receipt with openssl alone", for a receipt file of this pack.
#
# Usage:  sh verify-one-receipt.sh sample-1.json [public-key.pem]
# Needs:  jq, OpenSSL 3 (pkeyutl -rawin), coreutils (basenc, sha256sum), and Node only to produce
#         the RFC 8785 canonical bytes of the payload (any RFC 8785 implementation will do).
set -eu
RECEIPT=${1:?usage: verify-one-receipt.sh <receipt.json> [public-key.pem]}
PUB=${2:-$(dirname "$0")/public-key.pem}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. The public key's id, and the id the receipt names: both lines must be equal.
echo "key id:       ed25519:$(openssl pkey -pubin -in "$PUB" -outform DER | tail -c 32 | sha256sum | cut -c1-16)"
echo "receipt key:  $(jq -r '.signature.keyId' "$RECEIPT")"

# 2. The signed bytes: the RFC 8785 canonical form of the payload.
jq '.payload' "$RECEIPT" > "$WORK/payload.json"
node -e 'const c=v=>Array.isArray(v)?`[${v.map(c)}]`:v&&typeof v==="object"?`{${Object.keys(v).sort().map(k=>JSON.stringify(k)+":"+c(v[k]))}}`:JSON.stringify(v);process.stdout.write(c(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))))' "$WORK/payload.json" > "$WORK/payload.bin"

# 3. The signature as 64 raw bytes (base64url without padding: append ==).
printf '%s==' "$(jq -r '.signature.sig' "$RECEIPT")" | basenc --base64url -d > "$WORK/sig.bin"

# 4. Verify the signature, then the digest.
openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$WORK/payload.bin" -sigfile "$WORK/sig.bin"
COMPUTED="sha256:$(sha256sum "$WORK/payload.bin" | cut -d' ' -f1)"
LISTED=$(jq -r '.digest' "$RECEIPT")
echo "digest:       $COMPUTED"
if [ "$COMPUTED" != "$LISTED" ]; then
  echo "digest MISMATCH: the receipt lists $LISTED" >&2
  exit 1
fi
echo "Receipt verified: signature and digest match."
