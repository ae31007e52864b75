#!/usr/bin/env bash
# Set up the PostgreSQL database that several youju app servers share (docs/scale.md):
# a new cluster in CLUSTER_FOLDER, started on PORT, listening on LISTEN (an address of this
# machine), accepting the role `youju` by password from the network ALLOW (CIDR), and a
# database `youju` it owns. Prints the YOUJU_DATABASE_URL to give every app server.
#
#   scripts/postgres-setup.sh /srv/youju-pg 5432 10.0.0.5 10.0.0.0/24
#
# Needs Debian's `postgresql` package (its binaries; the cluster is ours, not the
# package's). Run as root, the cluster belongs to the package's `postgres` user. Start it
# again after a reboot with: pg_ctl -D CLUSTER_FOLDER/data -l CLUSTER_FOLDER/server.log start
# (as that user). Tables are created by the first app server that connects.
set -euo pipefail

if [ $# -lt 1 ]; then
  sed -n '2,7p' "$0" >&2
  exit 2
fi
folder=$1
port=${2:-5432}
listen=${3:-127.0.0.1}
allow=${4:-127.0.0.1/32}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql" >&2
  exit 1
fi
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
fi
run() { (cd / && "${as_owner[@]}" "$bin/$1" "${@:2}"); }

mkdir -p "$folder"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$folder"
fi
chmod 700 "$folder"
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

run initdb -D "$folder/data" -U postgres -E UTF8 --no-locale \
  --auth-local=peer --auth-host=scram-sha-256 >/dev/null
echo "host youju youju $allow scram-sha-256" | "${as_owner[@]}" tee -a "$folder/data/pg_hba.conf" >/dev/null
run pg_ctl -D "$folder/data" -l "$folder/server.log" -w \
  -o "-p $port -k $folder -c listen_addresses=$listen" start >/dev/null
run psql -h "$folder" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE youju LOGIN PASSWORD '$password'" \
  -c "CREATE DATABASE youju OWNER youju ENCODING 'UTF8' TEMPLATE template0"

echo "export YOUJU_DATABASE_URL=postgresql://youju:$password@$listen:$port/youju"
