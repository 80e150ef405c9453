"""prompt_answer_cost_per_request: prompt and answer tokens priced at their own throughput."""

import numpy as np
import pytest

from course_utils.business import inference_cost_per_request, prompt_answer_cost_per_request


@pytest.mark.parametrize("prompt, answer", [(0, 0), (2500, 500), (1, 4000), (12_345, 1)])
@pytest.mark.parametrize("prefill, decode", [(73_700, 14_800), (2000, 400), (400, 400)])
@pytest.mark.parametrize("gpus, utilization", [(1, 1.0), (8, 0.5), (4, 0.05)])
def test_matches_gpu_seconds_by_hand(prompt, answer, prefill, decode, gpus, utilization):
    usd_per_gpu_hour = 3.0
    prompt_cost, answer_cost = prompt_answer_cost_per_request(prompt, answer, prefill, decode, usd_per_gpu_hour,
                                                              gpus=gpus, utilization=utilization)
    # paid deployment-seconds for each phase, times the deployment's price per second
    usd_per_second = usd_per_gpu_hour * gpus / 3600
    assert prompt_cost == pytest.approx(prompt / prefill / utilization * usd_per_second, rel=1e-12, abs=0)
    assert answer_cost == pytest.approx(answer / decode / utilization * usd_per_second, rel=1e-12, abs=0)


def test_equal_rates_reduce_to_the_single_rate_formula():
    prompt_cost, answer_cost = prompt_answer_cost_per_request(2500, 500, 400, 400, 3.62, utilization=0.5)
    assert prompt_cost + answer_cost == pytest.approx(inference_cost_per_request(3000, 400, 3.62, utilization=0.5))


def test_an_answer_token_costs_more_than_a_prompt_token_when_decode_is_slower():
    prompt_cost, answer_cost = prompt_answer_cost_per_request(1000, 1000, 5000, 1000, 2.0)
    assert answer_cost == pytest.approx(5 * prompt_cost)


def test_vectorised_over_answer_length():
    answers = np.array([100, 500, 2000])
    prompt_cost, answer_cost = prompt_answer_cost_per_request(2500, answers, 2000, 400, 3.0)
    assert np.shape(answer_cost) == (3,) and np.all(np.diff(answer_cost) > 0)
    assert np.allclose(answer_cost / answers, answer_cost[0] / answers[0])


@pytest.mark.parametrize("bad, name", [
    (dict(prompt_tokens=-1), "tokens_per_request"), (dict(answer_tokens=-5), "tokens_per_request"),
    (dict(prefill_tokens_per_second=0), "tokens_per_second"), (dict(decode_tokens_per_second=-400), "tokens_per_second"),
    (dict(usd_per_gpu_hour=-1.0), "usd_per_gpu_hour"), (dict(gpus=0), "gpus"),
    (dict(utilization=0.0), "utilization"), (dict(utilization=1.5), "utilization"),
])
def test_each_bad_argument_is_named(bad, name):
    arguments = dict(prompt_tokens=2500, answer_tokens=500, prefill_tokens_per_second=2000,
                     decode_tokens_per_second=400, usd_per_gpu_hour=3.0, gpus=1, utilization=0.5)
    arguments.update(bad)
    with pytest.raises(ValueError, match=name):
        prompt_answer_cost_per_request(**arguments)
