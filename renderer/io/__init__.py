"""The dataset on disk: format constants and atomic writes shared by both sides (format), the writer,
the reader (which never imports the writer) and tar shards.
"""
