# Sourced by scripts/main.sh and scripts/test.sh: choose the Python everything is installed
# into and run with, so that afterwards your own `python` runs the README's snippet.
#   1. An active virtual environment (VIRTUAL_ENV set), as it is.
#   2. Else the `python` on PATH, when it takes `pip install`: it has pip, its site-packages
#      is writable, and it is not marked externally managed (PEP 668).
#   3. Else (current Debian and Ubuntu: the system pip refuses installs, and `python` may not
#      exist) the project's own environment, .venv in the repository root, created when
#      missing and activated; then `source .venv/bin/activate` before using minigrad.
# Either way `python` and `pip` below are that Python's own.
_takes_pip_installs() {
    "$1" - <<'EOF' >/dev/null 2>&1
import importlib.util, os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
writable = os.access(sysconfig.get_path("purelib"), os.W_OK)
sys.exit(0 if sys.version_info >= (3, 9) and not managed and writable
         and importlib.util.find_spec("pip") else 1)
EOF
}

if [ -z "${VIRTUAL_ENV:-}" ] && ! { command -v python >/dev/null 2>&1 && _takes_pip_installs python; }; then
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

# install_project EXTRAS: `pip install -e ".[EXTRAS]"` into that Python, skipped when this
# checkout, with this pyproject.toml, was installed there with these extras already. The
# stamp file beside the installed packages (site-packages, which pip writes to anyway) keeps
# one line per extras installed from the checkout the editable install points at;
# installing from another checkout starts it afresh.
install_project() {
    local stamp want
    stamp="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/.minigrad-rnn-installed"
    want="$(pwd) $(sha256sum pyproject.toml | cut -c1-16)"
    if ! grep -qxF "$want $1" "$stamp" 2>/dev/null; then
        python -m pip install -q --root-user-action=ignore -e ".[$1]"
        { grep -F "$want " "$stamp" 2>/dev/null || true; echo "$want $1"; } > "$stamp.new"
        mv "$stamp.new" "$stamp"
    fi
}
