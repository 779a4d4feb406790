# Shared by scripts/test, scripts/demo and scripts/bench: make sure Debian's packages that the
# local mail servers need, and the extras named (the tests' PostgreSQL among them), are
# installed. Installs them with apt-get when running as root; otherwise prints the one command
# to run and fails. The PostgreSQL package may set up a system cluster of its own; nothing here
# starts or uses it.
ensure_packages() {
    local missing=()
    command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
    /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
    for extra in "$@"; do
        case "$extra" in
            systemd) command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd) ;;
            # The server binaries, which the tests start themselves; psql alone may be there
            # without them.
            postgresql) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql) ;;
            *) dpkg -s "$extra" >/dev/null 2>&1 || missing+=("$extra") ;;
        esac
    done
    ((${#missing[@]})) || return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing packages: ${missing[*]}. Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "==> installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
