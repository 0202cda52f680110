"""Project pages: parse upstream's, judge and render ours, cache both."""
