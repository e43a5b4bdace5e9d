"""Tasks defined outside selftt, loaded by class path (``mytasks.sentiment.SentimentTask``): the tests' plugins."""
