"""Reading wrk's output."""

import pytest

from bench.throughput import parse_wrk

OUTPUT = """Running 5s test @ http://127.0.0.1:8000/accounts/login/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    48.58ms   12.37ms 215.67ms   78.64%
    Req/Sec   660.16    136.82     1.02k    80.00%
  Latency Distribution
     50%   46.68ms
     75%   54.79ms
     90%   62.83ms
     99%    1.20s
  3301 requests in 5.00s, 12.60MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:    659.87
Transfer/sec:      2.52MB
"""


def test_it_reads_requests_per_second_latency_and_errors():
    run = parse_wrk(OUTPUT, url="u", seconds=5, connections=32)

    assert run.requests_per_second == 659.87
    assert run.requests == 3301
    assert run.p50_ms == 46.68
    assert run.p99_ms == 1200
    assert run.socket_errors == 5
    assert run.non_2xx == 4


def test_it_refuses_output_without_a_rate():
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused", url="u", seconds=5, connections=1)
