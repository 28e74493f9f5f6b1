"""Frame description -> render buffers: engines for RGB, the GL context and label pass, backgrounds,
the sensor stage.
"""
