"""The data that passes between stages, and pure maths on it: frame descriptions, camera models, label
records, render buffers, geometry, colour, environment light, procedural textures. No GL, no config.
"""
