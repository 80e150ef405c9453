"""Chapter 06 -> chapter 09: the measured-throughput note (course_utils.serving)."""

import json
import math

import pytest

from course_utils import serving
from course_utils.business import cost_per_request

PRICE_SOURCE = "AWS EC2 Auto Scaling User Guide, example pricing"


@pytest.mark.parametrize("requests_per_s", [0.5, 37.0, 1234.5])
@pytest.mark.parametrize("smoke", [True, False])
def test_round_trip_keeps_the_measurement(tmp_path, requests_per_s, smoke):
    path = serving.save_throughput_note(requests_per_s, usd_per_hour=0.34, price_source=PRICE_SOURCE, smoke=smoke,
                                        clients=4, logical_cpus=2, path=tmp_path / "t.json")
    note, description = serving.read_throughput_note(path)
    assert note["requests_per_s"] == requests_per_s and note["usd_per_hour"] == 0.34 and note["smoke"] is smoke
    assert "measured by chapter 06" in description and PRICE_SOURCE in description
    assert ("smoke mode" if smoke else "full mode") in description
    # what chapter 09 does with it: one request's cost at 50 % utilisation, by hand
    assert math.isclose(cost_per_request(note["requests_per_s"], note["usd_per_hour"], 0.5),
                        0.34 / (requests_per_s * 3600 * 0.5))


def test_missing_file_says_how_to_get_one(tmp_path):
    note, reason = serving.read_throughput_note(tmp_path / "absent.json")
    assert note is None and "run chapter 06" in reason


@pytest.mark.parametrize("content", ["not json", json.dumps({"requests_per_s": 10}),
                                     json.dumps({"requests_per_s": -3, "usd_per_hour": 0.3}),
                                     json.dumps({"requests_per_s": "nan", "usd_per_hour": 0.3}),
                                     json.dumps({"requests_per_s": 10, "usd_per_hour": None})])
def test_damaged_or_impossible_file_is_refused_with_a_reason(tmp_path, content):
    path = tmp_path / "t.json"
    path.write_text(content, encoding="utf-8")
    note, reason = serving.read_throughput_note(path)
    assert note is None and path.name in reason


@pytest.mark.parametrize("bad", [dict(requests_per_s=0.0), dict(requests_per_s=-1.0), dict(requests_per_s=float("inf")),
                                 dict(requests_per_s=True), dict(usd_per_hour=-0.1), dict(usd_per_hour=float("nan")),
                                 dict(price_source="  "), dict(clients=0)])
def test_save_refuses_each_bad_argument(tmp_path, bad):
    arguments = dict(requests_per_s=10.0, usd_per_hour=0.34, price_source=PRICE_SOURCE, smoke=False, clients=4,
                     logical_cpus=2, path=tmp_path / "t.json")
    arguments.update(bad)
    with pytest.raises(ValueError, match=next(iter(bad))):
        serving.save_throughput_note(arguments.pop("requests_per_s"), **arguments)
    assert not (tmp_path / "t.json").exists()
