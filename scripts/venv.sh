# Sourced by scripts/main.sh and scripts/test.sh: run everything inside a virtual
# environment. An active one (VIRTUAL_ENV set) is used as it is; otherwise the project's own,
# .venv in the repository root, is created when missing and activated. (On current Debian
# and Ubuntu the system pip refuses installs (PEP 668) and `python` may not exist; inside
# the environment both `python` and `pip` are the environment's own.)
if [ -z "${VIRTUAL_ENV:-}" ]; then
    if ! .venv/bin/python -c "import sys" >/dev/null 2>&1; then
        base_python="$(command -v python3 || command -v python || true)"
        if [ -z "$base_python" ] || ! "$base_python" -c "import venv, ensurepip" >/dev/null 2>&1; then
            bash scripts/apt_install.sh python3 python3-venv    # Debian ships venv separately
            base_python="$(command -v python3)"
        fi
        rm -rf .venv
        "$base_python" -m venv .venv
    fi
    # shellcheck disable=SC1091
    source .venv/bin/activate
fi

# install_project EXTRAS: `pip install -e ".[EXTRAS]"` into the environment, skipped when this
# checkout with this pyproject.toml and these extras was installed there already.
install_project() {
    local stamp="$VIRTUAL_ENV/.minigrad-rnn-installed-${1//,/-}"
    local want
    want="$(pwd) $(sha256sum pyproject.toml | cut -c1-16)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        python -m pip install -q -e ".[$1]"
        echo "$want" > "$stamp"
    fi
}
