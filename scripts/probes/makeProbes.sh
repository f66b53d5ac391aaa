#!/usr/bin/env bash
# Fetches the sources of the bundled probe images (Debian packages via apt-get download, @pmndrs/assets
# and three via npm, all into a scratch folder) and writes media/probes/ with makeProbes.py.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "${here}/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
cd "${work}"
mkdir -p debs x hdri npm
(cd debs && apt-get download python3-skimage python3-sklearn python3-pywt python-matplotlib-data lomiri-wallpapers-16.04)
for d in debs/*.deb; do n=$(basename "${d}"); n=${n%%_*}; mkdir -p "x/${n}"; dpkg-deb -x "${d}" "x/${n}"; done
(cd npm && echo '{"private":true}' > package.json && npm install --no-audit --no-fund --ignore-scripts three@0.187 >/dev/null \
  && npm pack @pmndrs/assets@1.7.0 >/dev/null && tar xzf pmndrs-assets-1.7.0.tgz)
node "${here}/decodeHdri.mjs" npm/package hdri npm
/usr/bin/python3 "${here}/makeProbes.py" x hdri "${root}/media/probes"
