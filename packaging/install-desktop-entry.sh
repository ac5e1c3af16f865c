#!/usr/bin/env sh
# Put billdesk in the desktop's application menu (per user, freedesktop.org).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
mkdir -p "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
cp "$here/billdesk.png" "$icons/256x256/apps/billdesk.png"
cp "$here/billdesk.svg" "$icons/scalable/apps/billdesk.svg"
sed "s|^Exec=billdesk-gui|Exec=${BILLDESK_GUI:-billdesk-gui}|" "$here/billdesk.desktop" > "$apps/billdesk.desktop"
echo "Installed $apps/billdesk.desktop"
