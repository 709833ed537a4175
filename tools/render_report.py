#!/usr/bin/env python3
"""Render a report.html in headless Chromium to a PNG and list the page's console errors.

    python tools/render_report.py OUTDIR/report.html -o docs/images/report.png [--height 2200] [--at '#pairs']

Talks to Chromium over the DevTools protocol through a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4, no socket and no websocket library),
so it sees every console message with its level, uncaught exceptions, and the
browser's own log entries (a blocked fetch, a Content-Security-Policy violation).
Exit code 0 when the page logged no error, 1 when it did, 2 when Chromium could not
be run.  Needs the Debian package ``chromium`` (``apt-get install -y chromium``);
nothing is fetched: the browser runs with networking features off and a throwaway
profile.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--remote-debugging-pipe"]


class Browser:
    """A headless Chromium driven over the DevTools pipe."""

    def __init__(self, binary: str, profile: str) -> None:
        import fcntl

        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child's ends, moved above 4 so that putting them on 3 and 4 cannot clobber one another
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child_r, from_child_w)]
        os.close(to_child_r)
        os.close(from_child_w)

        def fds_3_and_4() -> None:  # where Chromium expects the pipe
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        # pass_fds: the descriptors the child keeps (the rest are closed after preexec_fn)
        self.process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        preexec_fn=fds_3_and_4, pass_fds=(3, 4),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in ends:
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and wait for its answer (events meanwhile go to :attr:`events`)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._read(deadline - time.monotonic()))

    def drain(self, seconds: float) -> None:
        """Collect the events of the next ``seconds`` (late console messages)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(self._read(deadline - time.monotonic()))
            except TimeoutError:
                return

    def _read(self, timeout: float = 60.0) -> dict:
        import select

        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_child], [], [], max(0.0, timeout))
            if not ready:
                raise TimeoutError("the browser did not answer")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_child)
        os.close(self._from_child)


def problems(events: list[dict]) -> list[str]:
    """The page's console errors and warnings, exceptions and browser log errors."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            found.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            found.append(f"{entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url', '')}".strip())
    return found


def render(page: Path, png: Path | None, width: int, height: int | None, binary: str,
           at: str | None = None) -> list[str]:
    """Load ``page``, write a PNG of ``height`` pixels of it (the whole page when None)
    from the top or from the element ``at`` (a CSS selector), return its problems."""
    with tempfile.TemporaryDirectory(prefix="render-report-") as profile:
        browser = Browser(binary, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height or 900, "deviceScaleFactor": 1, "mobile": False},
                         session=session)
            browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
            browser.wait_for("Page.loadEventFired", 60)
            browser.drain(0.5)
            if png is not None:
                size = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
                top = _top_of(browser, session, at) if at else 0.0
                clip = {"x": 0, "y": top, "width": width,
                        "height": min(size["height"] - top, height or size["height"]), "scale": 1}
                shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                               "captureBeyondViewport": True}, session=session)
                png.parent.mkdir(parents=True, exist_ok=True)
                png.write_bytes(base64.b64decode(shot["data"]))
            return problems(browser.events)
        finally:
            browser.close()


def _top_of(browser: Browser, session: str, selector: str) -> float:
    expression = f"(e => e ? e.getBoundingClientRect().top + window.scrollY : 0)(document.querySelector({json.dumps(selector)}))"
    found = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    return float(found.get("result", {}).get("value") or 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="the report.html (or a run folder holding one)")
    parser.add_argument("-o", "--output", type=Path, help="PNG to write (none: only check the console)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels (1280)")
    parser.add_argument("--height", type=int, default=None, help="height of the PNG (default: the whole page)")
    parser.add_argument("--at", help="start the PNG at this element (a CSS selector, e.g. '#pairs')")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "",
                        help="the browser binary (default: chromium on the PATH)")
    args = parser.parse_args(argv)
    page = args.page / "report.html" if args.page.is_dir() else args.page
    if not args.chromium:
        print("render_report: no chromium on the PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    try:
        found = render(page, args.output, args.width, args.height, args.chromium, args.at)
    except (OSError, RuntimeError, TimeoutError) as e:
        print(f"render_report: {e}", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    print(f"{page}: {len(found)} console errors or warnings" + (f"; wrote {args.output}" if args.output else ""),
          file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
