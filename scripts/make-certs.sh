#!/usr/bin/env bash
# Makes a CA and a certificate per node for a cluster, with the openssl command (ECDSA P-256,
# SHA-256). Each node's certificate names it as a DNS name and names localhost, 127.0.0.1 and ::1,
# so a local cluster's nodes verify each other and curl verifies them (curl --cacert DIR/ca.pem).
#   scripts/make-certs.sh DIR [NAME...]   (default names: node1 node2 node3)
# Writes DIR/ca.pem and DIR/ca.key (keep ca.key away from the nodes), and DIR/NAME.pem and
# DIR/NAME.key per node, for --tls-cert, --tls-key and --tls-ca DIR/ca.pem. An existing CA in DIR is
# reused, so more nodes can be added later; an existing node certificate is made again (renewed:
# SIGHUP makes a running node take it).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [NAME...]" >&2; exit 2; }
dir=$1
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(node1 node2 node3)
mkdir -p "$dir"
umask 077  # private keys readable by their owner only
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 3650 \
    -subj "/CN=Mini Dynamo cluster CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
for name in "${names[@]}"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 825 \
    -sha256 -out "$dir/$name.pem" -extfile <(printf '%s\n' \
      "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1" \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
  rm -f "$dir/$name.csr"
done
chmod 644 "$dir"/*.pem
echo "certificates in $dir: ca.pem (the CA); NAME.pem and NAME.key for ${names[*]}" >&2
