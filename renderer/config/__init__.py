"""The scene file: its schema (SceneConfig and its sections, limits, vocabularies), parsing and
validation (one error line naming the key path), and distributions over values.
"""
