#!/bin/sh
# Test certificates of the logstash output tests (tests/unit/outputs/logstash_test.cpp),
# generated once and committed; valid for 100 years. Run again only to replace them.
set -e
cd "$(dirname "$0")"
days=36500
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# The test CA, and a second CA nobody trusts (the "wrong CA" test).
openssl req -x509 $ec -keyout ca.key -out ca.pem -days $days -subj "/CN=sipbeat test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days $days \
    -subj "/CN=sipbeat other CA" -addext basicConstraints=critical,CA:TRUE
# Server certificate for 127.0.0.1 and localhost, and a client certificate.
openssl req $ec -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile server.ext -out server.pem
openssl req $ec -keyout client.key -out client.csr -subj "/CN=sipbeat test client"
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile client.ext -out client.pem
# A server certificate for another name only (host name verification tests).
openssl req $ec -keyout wrongname.key -out wrongname.csr -subj "/CN=example.invalid"
printf 'subjectAltName=DNS:example.invalid\nbasicConstraints=CA:FALSE\n' > wrongname.ext
openssl x509 -req -in wrongname.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile wrongname.ext -out wrongname.pem
# The server's chain as presented with the CA (ca_trusted_fingerprint tests).
cat server.pem ca.pem > server-chain.pem
rm -f ./*.csr ./*.ext ./*.srl
openssl x509 -in ca.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f > ca.sha256
