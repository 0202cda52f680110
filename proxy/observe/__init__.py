"""What operators watch: metrics, the access and decision logs, disk health."""
