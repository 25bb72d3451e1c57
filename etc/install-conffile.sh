#!/bin/sh
# meson install script: install-conffile.sh SRC DEST [MODE]
# Installs SRC as $DESTDIR/DEST only when DEST does not exist yet, so that
# `meson install` never overwrites a configuration an operator has edited (as
# dpkg does with conffiles). An existing file is left alone and reported.
set -eu
src=$1
dest=${DESTDIR:-}$2
mode=${3:-0644}
if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
	echo "Would install $src to $dest unless it exists"
	exit 0
fi
if [ -e "$dest" ]; then
	echo "Keeping existing $dest (not overwritten; the new default is $src)"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest"
chmod "$mode" "$dest"
echo "Installing $src to $dest"
