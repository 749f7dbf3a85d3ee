"""Writing the configuration file's YAML (pure): block style, plain scalars only where YAML reads them back as text.

Written by hand rather than through PyYAML's representer, which took seconds for
10,000 rules; ``alerts.config_file.parse`` (PyYAML) reads the result back.
"""

from __future__ import annotations

import json
import re

# Plain (unquoted) only when YAML cannot read it as anything but this text; else JSON-quoted,
# which YAML reads as a double-quoted scalar.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.@/-]*(?: [A-Za-z0-9_.@/()-]+)*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _scalar(value) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def emit_mapping(mapping: dict, pad: str, lines: list[str]) -> None:
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{_scalar(key)}:")
            emit_mapping(value, pad + "  ", lines)
        elif isinstance(value, list) and value:
            lines.append(f"{pad}{_scalar(key)}:")
            _emit_list(value, pad, lines)
        else:
            empty = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else _scalar(value)
            lines.append(f"{pad}{_scalar(key)}: {empty}")


def _emit_list(items: list, pad: str, lines: list[str]) -> None:
    for item in items:
        if isinstance(item, dict) and item:
            start = len(lines)
            emit_mapping(item, pad + "  ", lines)
            lines[start] = f"{pad}- {lines[start][len(pad) + 2 :]}"
        else:
            lines.append(f"{pad}- {_scalar(item)}")
