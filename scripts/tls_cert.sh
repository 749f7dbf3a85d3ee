#!/usr/bin/env bash
# A local certificate authority and a server certificate it signs, for
# `MUTT_TLS=1 make run` and the TLS tests (never for production: use your
# organisation's CA there).
#
#   scripts/tls_cert.sh DIR [NAME...]
#
# Writes DIR/ca.crt (what senders trust: rsyslog tls.cacert, syslog-ng
# ca-file, curl --cacert), DIR/server.crt (chain: server then CA) and
# DIR/server.key (PKCS#8, mode 600). Names: localhost, 127.0.0.1 and this
# host's name, plus any given. Kept if already there (delete DIR to renew).
set -euo pipefail
dir=${1:?directory}
shift
mkdir -p "$dir"
if [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && [ -s "$dir/ca.crt" ]; then
  exit 0
fi
command -v openssl >/dev/null || { echo "tls_cert: openssl is needed (apt-get install openssl)" >&2; exit 1; }
san="DNS:localhost,IP:127.0.0.1,DNS:$(hostname)"
for name in "$@"; do
  if [[ $name =~ ^[0-9.]+$ ]]; then san="$san,IP:$name"; else san="$san,DNS:$name"; fi
done
umask 077
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/ca.key" 2>/dev/null
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 825 -subj "/CN=MUTT local CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.crt"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/server.key" 2>/dev/null
openssl req -new -key "$dir/server.key" -subj "/CN=localhost" -out "$dir/server.csr"
printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 825 -sha256 \
  -extfile "$dir/server.ext" -out "$dir/server.leaf.crt" 2>/dev/null
cat "$dir/server.leaf.crt" "$dir/ca.crt" > "$dir/server.crt"
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/server.leaf.crt" "$dir/ca.srl"
chmod 644 "$dir/ca.crt" "$dir/server.crt"
echo "tls_cert: CA $dir/ca.crt, certificate $dir/server.crt ($san)" >&2
