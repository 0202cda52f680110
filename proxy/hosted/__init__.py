"""Hosted indexes: distributions uploaded to pipgate itself (``twine upload``,
``uv publish``) and served beside, or instead of, what upstreams offer."""
