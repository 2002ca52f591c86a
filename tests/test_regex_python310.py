"""Every regex nooverfit compiles at import parses under Python 3.10, the oldest it
supports: no possessive quantifier (``a*+``) and no atomic group (``(?>...)``), which
3.11 added and 3.10's ``re`` refuses at import ("multiple repeat"). s32: a possessive
name pattern in ``logs/console.py`` passed on 3.11 and would have broken ``import
nooverfit.logs`` on 3.10."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys

import pytest

import nooverfit

if sys.version_info < (3, 11):  # 3.10's parser refuses them itself, at import
    pytest.skip("the 3.11 constructs are refused by this Python's re", allow_module_level=True)

from re import _constants, _parser

_NEW = {_constants.POSSESSIVE_REPEAT, _constants.POSSESSIVE_REPEAT_ONE, _constants.ATOMIC_GROUP}


def _ops(parsed: object) -> set[object]:
    """Every opcode of a parsed pattern, nested ones too."""
    found: set[object] = set()
    items = parsed if isinstance(parsed, (list, tuple, _parser.SubPattern)) else ()
    for item in items:
        if isinstance(item, tuple) and item and isinstance(item[0], _constants._NamedIntConstant):
            found.add(item[0])
            for arg in item[1:]:
                found |= _ops(arg)
        elif isinstance(item, (list, tuple, _parser.SubPattern)):
            found |= _ops(item)
    return found


def _patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    """(module, name, pattern) of every compiled regex at the top of nooverfit's modules."""
    out = []
    for info in pkgutil.walk_packages(nooverfit.__path__, "nooverfit."):
        if info.name.endswith(".__main__"):  # runs the command line
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                out.append((info.name, name, value))
    return out


def test_the_check_sees_a_possessive_quantifier_and_an_atomic_group():
    assert _ops(_parser.parse(r"a*+")) & _NEW
    assert _ops(_parser.parse(r"x(?:(?>b)|c)")) & _NEW
    assert not _ops(_parser.parse(r"(?<![\w-])[A-Za-z_][\w./()]*(?:-[\w]+)*")) & _NEW


def test_no_regex_uses_what_python_3_10_lacks():
    patterns = _patterns()
    assert len(patterns) > 20  # the readers' patterns are among them
    assert any(m == "nooverfit.logs.console" and n == "_PAIR" for m, n, _ in patterns)
    used = [
        f"{m}.{n}"
        for m, n, p in patterns
        if _ops(_parser.parse(p.pattern, p.flags & ~re.UNICODE)) & _NEW
    ]
    assert used == []
