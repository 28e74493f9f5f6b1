"""renderer: procedural synthetic data with pixel-exact labels.

The pipeline, stage by stage, one subpackage each: ``config`` parses the scene file (``load_scene``) ->
``sampling.frame.sample_frame`` draws a frame description -> ``render.frame.FrameRenderer`` renders it
(an engine of ``render.engines`` for RGB, the GL label pass of ``render.gl`` for the label buffers) ->
``labels.objects.frame_labels`` and the label ``channels`` -> ``io.writers.DatasetWriter`` writes it;
``io.dataset.Dataset`` reads what the writer wrote; ``pipeline.run.generate`` runs them all.
"""

__version__ = "0.1.0"
