#!/bin/sh
# Installs, from Debian 12 packages only, whatever sipbeat needs to build, test and run.
# Idempotent: packages already present are not touched, so `make` stays fast after the
# first run. Needs root (or sudo) only when something is missing.
set -eu

PACKAGES="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev libfuzzer-14-dev
clang-format
libpcap-dev librdkafka-dev libcurl4-openssl-dev rapidjson-dev libyaml-cpp-dev libssl-dev
kcat zlib1g-dev libgtest-dev libgmock-dev libcli11-dev libcpp-httplib-dev
python3 python3-yaml
tshark sip-tester kamailio kamailio-extra-modules sngrep"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
