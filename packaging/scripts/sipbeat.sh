#!/bin/sh
# /usr/bin/sipbeat: run sipbeat with the same paths as the systemd service, e.g.
#   sipbeat test config
#   sipbeat test output
#   sipbeat export template
# The service runs as the "sipbeat" user. Run commands that create files in
# /var/lib/sipbeat (keystore, meta.json) as that user too, so that the service
# can read them:  sudo -u sipbeat sipbeat keystore add ES_PWD
exec /usr/share/sipbeat/bin/sipbeat \
  --path.home /usr/share/sipbeat \
  --path.config /etc/sipbeat \
  --path.data /var/lib/sipbeat \
  --path.logs /var/log/sipbeat \
  "$@"
