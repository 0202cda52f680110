"""observe/metrics.py: labelled children remembered, counts where ``labels`` puts them."""

from __future__ import annotations

from pipgate.proxy.observe.metrics import Metrics, children


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_remembered_child_counts_where_labels_would():
    metrics = Metrics()
    requests = children(metrics.requests)
    assert requests("page", "200") is requests("page", "200")
    assert requests("page", "200") is metrics.requests.labels("page", "200")
    requests("page", "200").inc()
    requests("page", "200").inc()
    requests("file", "404").inc()
    assert _value(metrics, "pipgate_requests_total", route="page", status="200") == 2
    assert _value(metrics, "pipgate_requests_total", route="file", status="404") == 1


def test_page_results_are_counted_by_result():
    metrics = Metrics()
    for result in ("hit", "hit", "miss"):
        metrics.page_result(result)
    assert _value(metrics, "pipgate_cache_total", kind="page", result="hit") == 2
    assert _value(metrics, "pipgate_cache_total", kind="page", result="miss") == 1
