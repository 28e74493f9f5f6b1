#!/usr/bin/env bash
# Idempotent set-up on Debian/Ubuntu with Python >= 3.11: the system GL packages for offscreen EGL
# rendering (installed if missing), a virtual environment in .venv, and the package with its test
# extras (editable). Quick when everything is already there.
#   --browser   also headless Chromium and its WebDriver (chromium, chromium-driver), which the test of
#               the HTML report needs; scripts/test.sh passes it.
set -euo pipefail
cd "$(dirname "$0")/.."

# libllvm19: Mitsuba's fast CPU variant (llvm_ad_rgb) needs libLLVM >= 16; Debian 12's default is 14/15.
system_packages=(libegl1 libegl-mesa0 libgl1-mesa-dri libllvm19)
for arg in "$@"; do
  case "$arg" in
    --browser) system_packages+=(chromium chromium-driver) ;;
    *) echo "setup: unknown option $arg (known: --browser)" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; exit 2; fi
}

apt_missing=()
if command -v dpkg >/dev/null; then
  for pkg in "${system_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_missing+=("$pkg")
  done
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null; then PYTHON=$candidate; break; fi
  done
fi
if [ ! -x .venv/bin/python ] && ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  apt_missing+=("python3-venv")
fi

if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${apt_missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi

stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing renderer and its dependencies into .venv" >&2
  log=.venv/pip-install.log
  # ultralytics (the YOLO export's reference reader, tests only) without its dependencies: it asks for
  # opencv-python, which would clash with our opencv-python-headless; what it imports is already here.
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]' \
         && .venv/bin/python -m pip install --no-deps 'ultralytics==8.4.190'; } >"$log" 2>&1
  then
    tail -20 "$log" >&2
    echo "setup: pip install failed (full log: $log)" >&2
    exit 2
  fi
  .venv/bin/python -c "import renderer, pyrender, trimesh, embreex, pybullet_data, torch, pycocotools, matplotlib, selenium, mitsuba, pyoidn, OpenEXR, webdataset, anny" \
    || { echo "setup: installation into .venv failed" >&2; exit 2; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The body model (anny, with its facial actions) builds its data once, ~1.5 min and ~1.3 GB under ~/.cache/anny ($ANNY_CACHE_DIR):
# done here so that no render waits for it. Later loads take well under a second.
anny_stamp="${ANNY_CACHE_DIR:-$HOME/.cache/anny}/.renderer-built-anny-0.6.2-faces"
if [ ! -f "$anny_stamp" ]; then
  echo "setup: building the body model's cache (once, about a minute)" >&2
  .venv/bin/python -c "from renderer.humans.model import body_model; body_model()" >/dev/null 2>&1 \
    || { echo "setup: building the body model (anny) failed; run: .venv/bin/python -c 'from renderer.humans.model import body_model; body_model()'" >&2; exit 2; }
  touch "$anny_stamp"
fi
