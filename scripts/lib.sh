# Shared by scripts/up and scripts/test: make this machine able to run controlroom.
# Every step checks first and changes nothing that is already right, so running it twice is harmless.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONTROLROOM_VENV:-$ROOT/.venv}"
APT_UPDATED=0

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
    # apt_install PACKAGE... : install what is missing, or name exactly what to install.
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} = 0 ] && return 0
    if ! can_apt; then
        printf 'error: missing packages: %s (install them with: sudo apt-get install -y %s)\n' \
            "${missing[*]}" "${missing[*]}" >&2
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_python() {
    command -v python3 >/dev/null || apt_install python3 python3-venv || exit 1
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "controlroom needs Python 3.11 or newer (found $(python3 --version 2>&1))"
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv || exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
    local port=$1 what=$2
    for _ in $(seq 1 120); do
        port_open "$port" && return 0
        sleep 0.5
    done
    die "$what did not start listening on port $port"
}

ensure_postgresql() {
    command -v pg_ctlcluster >/dev/null || apt_install postgresql || exit 1
    if ! port_open 5432; then
        say "starting PostgreSQL"
        local version
        version="$(ls /etc/postgresql | sort -V | tail -n 1)"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
        wait_for_port 5432 PostgreSQL
    fi
    # The default database URL connects over the local socket as this user: give it a role.
    if ! psql "postgresql:///postgres" -tAc 'select 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            say "creating a PostgreSQL role for $(id -un)"
            su postgres -c "createuser --superuser $(id -un)"
        else
            say "no PostgreSQL role for $(id -un): run: sudo -u postgres createuser --superuser $(id -un)"
        fi
    fi
}

ensure_rabbitmq() {
    command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server || exit 1
    if ! port_open 5672; then
        say "starting RabbitMQ"
        rabbitmq-server -detached >/dev/null 2>&1 || true
        wait_for_port 5672 RabbitMQ
    fi
    # A node that is up but whose app was stopped (rabbitmqctl stop_app) refuses connections.
    if command -v rabbitmqctl >/dev/null && ! rabbitmqctl -q status >/dev/null 2>&1; then
        rabbitmqctl -q start_app >/dev/null 2>&1 || true
    fi
}

ensure_venv() {
    # ensure_venv EXTRAS : the project installed (editable) into the virtualenv.
    local extras=${1:-}
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.controlroom-installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        say "installing controlroom${extras:+[$extras]} into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}"
        touch "$stamp"
    fi
}

ensure_canvasjs() {
    # The browser view's chart library comes from npm at set-up time (see README: licence).
    [ -f "$ROOT/workers/bridge/web/vendor/canvasjs.min.js" ] && return 0
    [ -x "$ROOT/scripts/fetch-canvasjs" ] || return 0
    command -v npm >/dev/null || apt_install npm || true
    "$ROOT/scripts/fetch-canvasjs" || say "could not fetch CanvasJS; the browser view will say how"
}
