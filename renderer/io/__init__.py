"""The dataset on disk: format constants and atomic writes shared by both sides (format), the typed
header and frame records both sides share (records), the writer, the reader (which never imports the
writer) and tar shards.
"""
