"""A one-line progress bar on a terminal; occasional plain lines otherwise (logs, CI)."""
import sys
import time


class Progress:
    def __init__(self, total, label="", stream=None, width=28, min_interval=0.1):
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.min_interval = min_interval if self.tty else 10.0
        self._last = 0.0

    def update(self, done, extra="", force=False):
        now = time.monotonic()
        if not force and now - self._last < self.min_interval and done < self.total:
            return
        self._last = now
        frac = done / self.total if self.total else 1.0
        filled = int(self.width * frac)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        line = f"{self.label} [{bar[:self.width]}] {done}/{self.total} {extra}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()
