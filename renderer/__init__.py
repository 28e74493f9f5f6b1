"""renderer: procedural synthetic data with pixel-exact labels.

The pipeline, stage by stage: ``config.load_scene`` -> ``sampling.sample_frame`` ->
``rendering.FrameRenderer.render`` (an engine from ``engines`` for RGB, ``backends.label_pass`` for the
label buffers) -> ``labels.frame_labels`` ->
``writers.DatasetWriter``; ``dataset.Dataset`` reads what the writer wrote; ``pipeline.generate`` runs
them all.
"""

__version__ = "0.1.0"
