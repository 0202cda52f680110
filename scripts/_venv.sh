# Sourced by scripts/serve and scripts/test: make .venv hold pipgate with the given extra.
# Installs only when the venv is new or pyproject.toml (or the extra) changed since the last
# install, so a restart takes a second and needs no index. Prints what it does, since the
# first install takes about a minute.
# Usage: ensure_venv [extra]
ensure_venv() {
  local extra="${1:-}" spec="." stamp=".venv/.pipgate-installed" want
  [ -n "$extra" ] && spec=".[$extra]"
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extra"
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && grep -qxF "$want" "$stamp" \
     && .venv/bin/python -c "import pipgate.proxy.cli.main" 2>/dev/null; then
    return 0
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "pipgate: creating .venv with ${PYTHON:-python3}" >&2
    "${PYTHON:-python3}" -m venv .venv
  fi
  echo "pipgate: installing pipgate${extra:+ with its $extra extra} into .venv (the first time takes about a minute)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  # An install with an extra also satisfies a plain one.
  echo "$want" > "$stamp"
  if [ -n "$extra" ]; then
    echo "$(sha256sum pyproject.toml | cut -d' ' -f1) " >> "$stamp"
  fi
}
