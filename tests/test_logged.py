"""logged_warnings keeps the library's warnings of a block, each once, as logged."""

from __future__ import annotations

import logging

from nooverfit.logged import AUDITED, logged_warnings


def test_logged_warnings_keeps_each_warning_once_in_order():
    log = logging.getLogger("nooverfit.data.sources")
    with logged_warnings() as kept:
        log.warning("column %r is odd", "a")
        log.info("not a warning")
        log.warning("column %r is odd", "a")
        log.error("worse")
        log.warning("a leak", extra={AUDITED: True})  # the audit's to say
    log.warning("after the block")
    assert kept == ["column 'a' is odd", "worse"]


def test_logged_warnings_keeps_them_when_quiet_without_printing(caplog):
    logger = logging.getLogger("nooverfit")
    before = logger.level
    logger.setLevel(logging.ERROR)  # the CLI's --quiet
    try:
        with caplog.at_level(logging.WARNING), logged_warnings() as kept:
            logging.getLogger("nooverfit.data").warning("dates read as categories")
        assert kept == ["dates read as categories"]
        assert not caplog.records  # not printed
        assert logger.level == logging.ERROR and logger.propagate
    finally:
        logger.setLevel(before)
