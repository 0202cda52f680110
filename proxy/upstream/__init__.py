"""The upstream index: the HTTP client, the origins it may fetch from, its circuit breaker."""
