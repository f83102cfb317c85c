"""A minimal Chrome DevTools Protocol client over a pipe, for the browser end-to-end test.

Why not selenium: headless Chromium speaks the DevTools protocol itself over two file
descriptors (``--remote-debugging-pipe``: it reads commands on fd 3 and writes replies and
events on fd 4, each message JSON ended by a NUL byte). That needs only the standard library and
Debian's ``chromium`` package: no driver, no websocket library, nothing more to pin.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

SKIP_ENV = "SPINE_AUDIT_SKIP_BROWSER"  # "1": the browser test is skipped, on purpose
BINARIES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM, else the first of BINARIES on PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        return given if shutil.which(given) else None
    return next((b for b in map(shutil.which, BINARIES) if b), None)


def _above_4(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or went away."""


class Browser:
    """One headless Chromium; :meth:`open` gives a page (a DevTools session)."""

    def __init__(self, binary: str, profile_dir: Path, timeout: float = 60.0) -> None:
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # above 4, so that moving one end to fd 3 or 4 can never overwrite the other
        to_child_r, from_child_w = _above_4(to_child_r), _above_4(from_child_w)

        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={profile_dir}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
        # the child must find its ends on fds 3 and 4: a small Python moves them, then execs
        trampoline = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execv(sys.argv[3], sys.argv[3:])"
        )
        self.proc = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [sys.executable, "-c", trampoline, str(to_child_r), str(from_child_w)]
            + [*args, "about:blank"],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self._replies: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                buf += chunk
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            box = self._replies.get(message["id"])
                        if box is not None:
                            box.put(message)
                    else:
                        self.events.append(message)
        with self._lock:
            for box in self._replies.values():
                box.put({"error": {"message": "the browser closed the pipe"}})

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its reply (events keep arriving meanwhile)."""
        with self._lock:
            self._next += 1
            ident = self._next
            box: queue.Queue = queue.Queue()
            self._replies[ident] = box
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        try:
            reply = box.get(timeout=self.timeout)
        except queue.Empty:
            raise BrowserError(f"{method}: no reply in {self.timeout:.0f} s") from None
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, width: int, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.resize(width, height)
        return page

    def close(self) -> None:
        with contextlib.suppress(BrowserError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)


class Page:
    """One tab: navigate, evaluate, screenshot, print; its console errors and requests."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def _events(self, method: str) -> list[dict]:
        return [
            e["params"]
            for e in self.browser.events
            if e.get("sessionId") == self.session and e.get("method") == method
        ]

    def resize(self, width: int, height: int = 900) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def goto(self, url: str) -> None:
        before = len(self._events("Page.loadEventFired"))
        self.send("Page.navigate", {"url": url})
        deadline = threading.Event()
        for _ in range(int(self.browser.timeout * 20)):
            if len(self._events("Page.loadEventFired")) > before:
                return
            deadline.wait(0.05)
        raise BrowserError(f"{url}: not loaded in {self.browser.timeout:.0f} s")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP violations, failed
        loads) of this page so far."""
        out = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
            for e in self._events("Runtime.consoleAPICalled")
            if e.get("type") in ("error", "assert")
        ]
        out += [str(e["exceptionDetails"]) for e in self._events("Runtime.exceptionThrown")]
        out += [
            f"{e['entry'].get('source')}: {e['entry'].get('text')} {e['entry'].get('url', '')}"
            for e in self._events("Log.entryAdded")
            if e["entry"].get("level") == "error"
        ]
        return out

    def requests(self) -> list[str]:
        """Every URL this page asked for (the pages themselves included)."""
        return [e["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def screenshot(self, path: Path) -> None:
        """The whole page, not only the viewport, as PNG."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
        )["data"]
        path.write_bytes(base64.b64decode(data))

    def print_pdf(self, path: Path, paper: tuple[float, float]) -> None:
        """Print as the browser's print dialog would (the page's @page rule decides the
        orientation); ``paper`` is (width, height) in inches, portrait."""
        data = self.send(
            "Page.printToPDF",
            {"paperWidth": paper[0], "paperHeight": paper[1], "preferCSSPageSize": True},
        )["data"]
        path.write_bytes(base64.b64decode(data))
