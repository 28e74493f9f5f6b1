"""Per-object labels from label buffers (boxes, poses, landmarks with visibility), motion labels,
and the scene's constraints on them. Pure functions; the label pass is handed in.
"""
