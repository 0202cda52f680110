"""Advisory intelligence: OSV feeds read from a directory, a zip or a URL, kept fresh.

``sources`` reads records from disk into advisory indexes, ``download`` keeps
the last good copy of a URL feed under the data directory, ``feeds`` refreshes
every configured feed on its schedule, and ``wiring`` hands each new snapshot
to the gates and purges cached files a refreshed feed condemns.
"""
