import datetime as dt

from lockstep.contract import IgnoreRule, KnownDifference
from lockstep.findings import Finding, FindingBook, Rules

TODAY = dt.date(2026, 11, 28)


def finding(location="header:cache-control", operation="GET /menus/{week}") -> Finding:
    return Finding("parity", operation, "header", location, "max-age=60", None)


def test_ignore_rules_match_by_glob_and_unused_ones_are_reported():
    rules = Rules([IgnoreRule(operation="GET /menus*", where="header:*"), IgnoreRule(where="body:/never")], [], TODAY)
    assert rules.ignored("GET /menus/{week}", "header:cache-control")
    assert not rules.ignored("GET /recipes", "header:cache-control")
    assert rules.unused_ignores() == ["compare.ignore[1] * body:/never"]


def test_known_difference_until_a_date_then_it_fails_again():
    entry = KnownDifference(operation="GET /menus/{week}", where="header:cache-control", reason="CDN", until=TODAY)
    assert Rules([], [entry], TODAY).apply_known(finding()).known
    late = Rules([], [entry], TODAY + dt.timedelta(days=1)).apply_known(finding())
    assert not late.known and late.failing and "expired on 2026-11-28" in late.message


def test_known_difference_of_another_flow_or_operation_does_not_apply():
    entry = KnownDifference(operation="GET /menus/{week}", where="header:*", reason="x", until=TODAY, flow="cors")
    assert not Rules([], [entry], TODAY).apply_known(finding()).known
    other = KnownDifference(operation="GET /recipes", where="header:*", reason="x", until=TODAY)
    assert not Rules([], [other], TODAY).apply_known(finding()).known


def test_book_reports_each_distinct_finding_once_and_counts_the_rest():
    book = FindingBook()
    assert book.add(finding()) and not book.add(finding()) and book.add(finding("header:etag"))
    assert [f.count for f in book.all()] == [2, 1]
