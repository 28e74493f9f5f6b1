"""renderer: procedural synthetic data with pixel-exact labels.

The pipeline, stage by stage: ``config.load_scene`` -> ``sampling.sample_frame`` ->
``backends.pyrender_backend.PyrenderBackend.render`` -> ``labels.frame_labels`` ->
``writers.DatasetWriter``; ``dataset.Dataset`` reads what the writer wrote; ``pipeline.generate`` runs
them all.
"""

__version__ = "0.1.0"
