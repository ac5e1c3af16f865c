"""Before Qt starts on a desktop: name any missing system library its xcb
plugin needs, and how to install it, instead of Qt's plugin error.
Run as ``python -m billdesk.qtcheck`` (make run does) or from app.main."""

from __future__ import annotations

import ctypes
import os
import sys

# soname → Debian/Ubuntu package
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-image.so.0": "libxcb-image0",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
}


def missing_libraries() -> list[tuple[str, str]]:
    """(soname, package) for each library the xcb platform needs and lacks."""
    if not sys.platform.startswith("linux"):
        return []
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return []
    if not platform and os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return []
    missing = []
    for soname, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append((soname, package))
    return missing


def problem() -> str | None:
    """A message for the user, or None when Qt can start."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if (sys.platform.startswith("linux") and not platform
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        return ("billdesk needs a desktop session to open its window: no DISPLAY or "
                "WAYLAND_DISPLAY is set.\nOn a server, run it under Xvfb: xvfb-run -a billdesk")
    missing = missing_libraries()
    if not missing:
        return None
    names = "\n".join(f"  {soname}  (package {package})" for soname, package in missing)
    packages = " ".join(package for _, package in missing)
    return (f"Qt needs system libraries that this machine lacks:\n{names}\n"
            f"Install them, e.g. on Debian or Ubuntu:\n  sudo apt-get install -y {packages}")


def main() -> int:
    message = problem()
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
