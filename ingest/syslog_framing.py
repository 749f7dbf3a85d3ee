"""Syslog over a TCP stream into messages (RFC 6587): pure, no sockets.

A connection's first byte decides its framing for the rest of the connection:
a digit means octet counting (``LEN SP MSG``), anything else means one message
per line (LF, with an optional CR before it). ``Framer.feed(data)`` returns the
complete messages so far and what went wrong (``errors``, metric reasons);
``fatal`` means the stream cannot be followed any more and the receiver closes
the connection (a count that is not a number, or above the maximum: skipping
an unbounded count would read a stranger's bytes as messages).

An over-long line is discarded up to its LF (``too_large``) and the
connection goes on; ``close()`` at end of stream returns a last line sent
without its LF, or names a truncated octet-counted frame (``truncated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OCTET = "octet_counting"
LINE = "lf"
_MAX_COUNT_DIGITS = 10


@dataclass
class Framer:
    max_bytes: int
    mode: str | None = None
    fatal: bool = False
    _buffer: bytearray = field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> tuple[list[bytes], list[str]]:
        if self.fatal:
            return [], []
        self._buffer += data
        if self.mode is None:
            stripped = self._buffer.lstrip(b"\r\n\x00 ")
            if not stripped:
                self._buffer.clear()
                return [], []
            self._buffer = bytearray(stripped)
            self.mode = OCTET if stripped[:1].isdigit() else LINE
        return self._octets() if self.mode == OCTET else self._lines()

    def _lines(self) -> tuple[list[bytes], list[str]]:
        frames: list[bytes] = []
        errors: list[str] = []
        buf = self._buffer
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            if self._discarding:
                self._discarding = False
            else:
                line = bytes(buf[start:end]).rstrip(b"\r")
                if len(line) > self.max_bytes:
                    errors.append("too_large")
                elif line.strip():
                    frames.append(line)
            start = end + 1
        del buf[:start]
        if len(buf) > self.max_bytes:
            if not self._discarding:
                errors.append("too_large")
            self._discarding = True
            buf.clear()
        elif self._discarding:
            buf.clear()
        return frames, errors

    def _octets(self) -> tuple[list[bytes], list[str]]:
        frames: list[bytes] = []
        errors: list[str] = []
        buf = self._buffer
        pos = 0
        while True:
            while pos < len(buf) and buf[pos] in b"\r\n":  # stray line ends between frames
                pos += 1
            space = buf.find(b" ", pos, pos + _MAX_COUNT_DIGITS + 1)
            if space < 0:
                if len(buf) - pos > _MAX_COUNT_DIGITS or not bytes(buf[pos:]).isdigit() and len(buf) > pos:
                    errors.append("bad_octet_count")
                    self.fatal = True
                break
            digits = bytes(buf[pos:space])
            if not digits.isdigit() or digits.startswith(b"0"):
                errors.append("bad_octet_count")
                self.fatal = True
                break
            count = int(digits)
            if count > self.max_bytes:
                errors.append("octet_count_too_large")
                self.fatal = True
                break
            if len(buf) < space + 1 + count:
                break
            frame = bytes(buf[space + 1 : space + 1 + count])
            if frame.strip():
                frames.append(frame.rstrip(b"\r\n"))
            pos = space + 1 + count
        del buf[:pos]
        if self.fatal:
            buf.clear()
        return frames, errors

    def close(self) -> tuple[list[bytes], list[str]]:
        """End of stream: a last unterminated line is a message; a partial frame is ``truncated``."""
        rest = bytes(self._buffer).strip(b"\r\n\x00 ")
        self._buffer.clear()
        if self.fatal or not rest:
            return [], []
        if self.mode == LINE:
            if self._discarding:
                return [], []
            return ([rest], []) if len(rest) <= self.max_bytes else ([], ["too_large"])
        return [], ["truncated"]
