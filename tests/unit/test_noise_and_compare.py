from lockstep.compare import compare, host_leaks
from lockstep.noise import NoiseMask
from lockstep.views import view_of

from .helpers import answer

HEADERS = ["content-type", "cache-control", "etag", "location", "link"]


def view(a, base="http://127.0.0.1:1"):
    return view_of(a, base, HEADERS, 1_000_000)


def learned(first, second):
    mask = NoiseMask()
    assert mask.learn(view(first), view(second))
    return mask


def categories(diffs):
    return sorted((d.category, d.location) for d in diffs)


def test_values_that_differ_between_two_legacy_answers_are_noise_with_indices_generalised():
    mask = learned(answer(body={"items": [{"id": "a", "ts": 1}]}), answer(body={"items": [{"id": "a", "ts": 2}]}))
    legacy = view(answer(body={"items": [{"id": "a", "ts": 1}, {"id": "b", "ts": 5}]}))
    gateway = view(answer(body={"items": [{"id": "a", "ts": 9}, {"id": "b", "ts": 7}]}))
    assert compare(legacy, gateway, mask) == []


def test_masked_values_must_still_agree_in_type():
    mask = learned(answer(body={"ts": 1}), answer(body={"ts": 2}))
    diffs = compare(view(answer(body={"ts": 1})), view(answer(body={"ts": "1"})), mask)
    assert categories(diffs) == [("body-type", "body:/ts")]


def test_unmasked_value_key_and_null_differences_are_found_each_once():
    mask = learned(answer(body={"a": 1}), answer(body={"a": 1}))
    legacy = view(answer(body={"a": 1, "b": None, "c": "x"}))
    gateway = view(answer(body={"a": 2, "c": "x", "d": True}))
    assert categories(compare(legacy, gateway, mask)) == [
        ("body-value", "body:/a"), ("extra-key", "body:/d"), ("missing-key", "body:/b")]


def test_status_never_becomes_noise():
    mask = NoiseMask()
    assert mask.learn(view(answer(201, {"a": 1})), view(answer(200, {"a": 1}))) is False
    assert compare(view(answer(201, {})), view(answer(200, {})), mask)[0].category == "status"


def test_gateway_404_where_legacy_answers_is_route_missing():
    diffs = compare(view(answer(200, {"a": 1})), view(answer(404, {"error": {}})), NoiseMask())
    assert categories(diffs) == [("route-missing", "status")]
    assert compare(view(answer(404, {})), view(answer(404, {})), NoiseMask()) == []


def test_unstable_list_order_is_learned_and_compared_as_a_multiset():
    mask = learned(answer(body={"r": [{"id": 1}, {"id": 2}, {"id": 3}]}),
                   answer(body={"r": [{"id": 3}, {"id": 1}, {"id": 2}]}))
    same = compare(view(answer(body={"r": [{"id": 1}, {"id": 2}, {"id": 3}]})),
                   view(answer(body={"r": [{"id": 2}, {"id": 3}, {"id": 1}]})), mask)
    assert same == []
    other = compare(view(answer(body={"r": [{"id": 1}, {"id": 2}, {"id": 3}]})),
                    view(answer(body={"r": [{"id": 2}, {"id": 3}, {"id": 4}]})), mask)
    assert other, "a different member must still be a difference"


def test_headers_noise_learned_and_missing_header_reported():
    first = answer(body={}, headers={"etag": '"1"', "cache-control": "max-age=60"})
    second = answer(body={}, headers={"etag": '"2"', "cache-control": "max-age=60"})
    mask = learned(first, second)
    gateway = view(answer(body={}, headers={"etag": '"3"'}))
    assert categories(compare(view(first), gateway, mask)) == [("header", "header:cache-control")]


def test_content_type_is_parsed_not_compared_as_text():
    legacy = view(answer(raw=b"{}", headers={"content-type": "application/json; charset=UTF-8"}))
    gateway = view(answer(raw=b"{}", headers={"content-type": "Application/JSON;charset=utf-8"}))
    assert compare(legacy, gateway, NoiseMask()) == []


def test_json_that_became_html_is_a_body_type_difference():
    legacy = view(answer(404, {"error": {"code": "nf"}}))
    gateway = view(answer(404, raw=b"<h1>Not found</h1>", headers={"content-type": "text/html"}))
    diffs = compare(legacy, gateway, NoiseMask())
    assert ("body-type", "body:") in categories(diffs)
    assert ("header", "header:content-type") in categories(diffs)


def test_location_compared_after_base_mapping_and_legacy_host_leak_found():
    legacy = view_of(answer(201, {}, {"location": "http://127.0.0.1:1/subs/9"}), "http://127.0.0.1:1", HEADERS, 10**6)
    good = answer(201, {}, {"location": "http://127.0.0.1:2/api/subs/9"}, target="gateway")
    assert compare(legacy, view_of(good, "http://127.0.0.1:2/api", HEADERS, 10**6), NoiseMask()) == []
    leaky = answer(201, {}, {"location": "http://127.0.0.1:1/subs/9"}, target="gateway")
    assert [d.category for d in host_leaks(leaky, "http://127.0.0.1:1")] == ["host-leak"]
    assert host_leaks(good, "http://127.0.0.1:1") == []


def test_large_bodies_compare_by_digest_with_first_offset():
    big = b"x" * 2_000_000
    legacy = view_of(answer(raw=big, headers={"content-type": "application/octet-stream"}), "", HEADERS, 1000)
    same = view_of(answer(raw=big, headers={"content-type": "application/octet-stream"}), "", HEADERS, 1000)
    other = view_of(answer(raw=b"x" * 10 + b"y" + big[11:], headers={"content-type": "application/octet-stream"}),
                    "", HEADERS, 1000)
    assert compare(legacy, same, NoiseMask()) == []
    [diff] = compare(legacy, other, NoiseMask())
    assert diff.exact == "body:@10"


def test_invalid_json_under_json_content_type_is_not_a_crash():
    legacy = view(answer(raw=b"{oops", headers={"content-type": "application/json"}))
    gateway = view(answer(raw=b"{}", headers={"content-type": "application/json"}))
    assert [d.category for d in compare(legacy, gateway, NoiseMask())] == ["body-type"]


def test_equal_under_is_the_fast_path_and_never_hides_a_difference():
    mask = learned(answer(body={"id": "a", "ts": 1, "items": [{"v": 1}]}),
                   answer(body={"id": "a", "ts": 2, "items": [{"v": 1}]}))
    assert mask.equal_under({"id": "a", "ts": 9, "items": [{"v": 1}]}, {"id": "a", "ts": 7, "items": [{"v": 1}]})
    assert not mask.equal_under({"id": "a", "ts": 9}, {"id": "b", "ts": 9})  # unmasked value
    assert not mask.equal_under({"id": "a", "ts": 9}, {"id": "a", "ts": "9"})  # masked, but the type changed
    assert not mask.equal_under({"id": "a", "ts": 1}, {"id": "a"})  # a key went missing
    assert not mask.equal_under([True], [1])  # bool is not int


def test_a_reordered_unordered_list_is_equal_without_deepdiff(monkeypatch):
    mask = learned(answer(body={"r": [{"id": 1}, {"id": 2}]}), answer(body={"r": [{"id": 2}, {"id": 1}]}))
    import lockstep.compare as compare_module

    def no_deepdiff(*args, **kwargs):
        raise AssertionError("DeepDiff ran on a list that is only reordered (~3 ms a case)")

    monkeypatch.setattr(compare_module, "json_diff", no_deepdiff)
    same = compare(view(answer(body={"r": [{"id": 1}, {"id": 2}]})), view(answer(body={"r": [{"id": 2}, {"id": 1}]})), mask)
    assert same == []
    assert not mask.equal_under({"r": [{"id": 1}, {"id": 2}]}, {"r": [{"id": 2}, {"id": 2}]})
