"""Where pipgate keeps what outlives a request: two small interfaces and their backends.

    config.py     ``[storage]`` parsed: embedded (no configuration) or shared stores
    sql.py        one SQL text for SQLite and PostgreSQL: placeholders, rows, the
                  few dialect differences (``Dialect``), transactions (``Database``)
    postgres.py   the PostgreSQL ``Database`` (psycopg 3 + psycopg-pool)
    schema.py     PostgreSQL migrations, run under an advisory lock (``migrate``)
    blobs.py      ``BlobStore``: content-addressed, write-once files; local or S3
    s3.py         the S3 ``BlobStore`` (obstore)
    leases.py     cluster-wide single flight: a lease row with an expiry
    changes.py    LISTEN/NOTIFY: rules and pages changed elsewhere
    pages.py      project pages shared through PostgreSQL (``PageState``)
    facts.py      per-file facts shared through PostgreSQL (URL -> sha256, metadata hash)
    health.py     is each store up: probes, metrics and /readyz lines
    cluster.py    the shared stores of one replica, built from ``[storage]``
    transfer.py   ``pipgate storage import``: a data directory into PostgreSQL + S3

With no ``[storage]`` section nothing here is used beyond ``sql.py``'s SQLite
``Database``: SQLite and diskcache in one data directory, exactly as before.
"""
