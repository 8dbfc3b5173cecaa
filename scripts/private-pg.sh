# Sourced by scripts/test and scripts/bench: a private PostgreSQL for this
# run, so that the storage tests, the two-process tests and TLS to
# PostgreSQL run on any machine, whatever it has running.
#
#   start_private_pg   installs PostgreSQL's server from Debian's packages
#                      when missing; makes a cluster in a temporary folder
#                      (initdb, C locale, UTF-8) on a free loopback port with
#                      TLS on, under a certificate signed by a CA made here
#                      for this run only; exports FIELDWORK_TEST_PG (the
#                      cluster, user postgres, trust over loopback) and
#                      FIELDWORK_TEST_PG_ROOT_CERT (that CA's certificate).
#                      It is stopped and removed when the sourcing script
#                      exits, whether it passed, failed or was interrupted.
#
# PostgreSQL refuses to run as root: as root (CI) the cluster runs as the
# `postgres` user the package creates; otherwise as the caller.

PRIVATE_PG_DIR=""
PRIVATE_PG_BIN=""

private_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

private_pg_stop() {
  if [[ -n $PRIVATE_PG_DIR && -d $PRIVATE_PG_DIR ]]; then
    if [[ -f $PRIVATE_PG_DIR/data/postmaster.pid ]]; then
      private_pg_as_owner "$PRIVATE_PG_BIN/pg_ctl" -D "$PRIVATE_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PRIVATE_PG_DIR"
  fi
  PRIVATE_PG_DIR=""
}

# Sets PRIVATE_PG_BIN: the folder of initdb and pg_ctl (the newest installed).
need_pg_server() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -z $found || ! -x $found/initdb ]]; then
    echo "toolchain: installing Debian postgresql (the tests' private PostgreSQL)" >&2
    as_root apt-get update -qq
    # The package's own cluster is not needed: no service is started here.
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  fi
  [[ -n $found && -x $found/initdb ]] || { echo "toolchain: PostgreSQL's initdb still missing" >&2; return 1; }
  if ! command -v openssl >/dev/null 2>&1; then
    echo "toolchain: installing Debian openssl (the private PostgreSQL's certificate)" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openssl >/dev/null
  fi
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
  fi
  PRIVATE_PG_BIN="$found"
}

# A CA for this run and a certificate it signs for localhost (the name the
# TLS test connects by) and 127.0.0.1, in $1.
private_pg_certificates() {
  local d="$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Fieldwork tests CA" -keyout "$d/ca.key" -out "$d/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >/dev/null 2>&1
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/server.ext" -out "$d/server.crt" >/dev/null 2>&1
  rm -f "$d/ca.key" "$d/server.csr" "$d/server.ext" "$d/ca.srl"
  chmod 600 "$d/server.key"
}

private_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_private_pg() {
  need_pg_server
  PRIVATE_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fieldwork-pg.XXXXXX")"
  # The folder is the cluster's; stop and remove it on any exit.
  trap private_pg_stop EXIT
  trap 'private_pg_stop; exit 130' INT
  trap 'private_pg_stop; exit 143' TERM
  private_pg_certificates "$PRIVATE_PG_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$PRIVATE_PG_DIR"
  fi
  private_pg_as_owner "$PRIVATE_PG_BIN/initdb" -D "$PRIVATE_PG_DIR/data" -U postgres \
    --auth=trust --encoding=UTF8 --no-locale >"$PRIVATE_PG_DIR/initdb.log" 2>&1 \
    || { cat "$PRIVATE_PG_DIR/initdb.log" >&2; return 1; }
  local port tries
  for tries in 1 2 3 4 5; do
    port="$(private_pg_free_port)"
    if private_pg_as_owner "$PRIVATE_PG_BIN/pg_ctl" -D "$PRIVATE_PG_DIR/data" -w -t 60 \
        -l "$PRIVATE_PG_DIR/server.log" start -o "-c listen_addresses=127.0.0.1 -c port=$port \
-c unix_socket_directories=$PRIVATE_PG_DIR -c max_connections=300 -c ssl=on \
-c ssl_cert_file=$PRIVATE_PG_DIR/server.crt -c ssl_key_file=$PRIVATE_PG_DIR/server.key" >/dev/null; then
      export FIELDWORK_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
      export FIELDWORK_TEST_PG_ROOT_CERT="$PRIVATE_PG_DIR/ca.crt"
      echo "scripts: a private PostgreSQL for this run on 127.0.0.1:$port (TLS, its own CA), removed on exit" >&2
      return 0
    fi
    echo "scripts: the private PostgreSQL did not start on port $port (try $tries)" >&2
  done
  tail -20 "$PRIVATE_PG_DIR/server.log" >&2 || true
  return 1
}
