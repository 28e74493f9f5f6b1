"""The scene file -> a frozen, validated SceneConfig (errors are one line naming the key path).

One module per group of sections: camera (image, camera, lens), objects (table, objects, distractors),
appearance (materials, lights, background, environment), conditions (sensor, fog, glare, night,
precipitation, edge cases, depth sensor), sequence (motion), people; scene holds SceneConfig with the
checks across sections and the render, constraints and outputs sections. parse is the generic parser
(type hints -> dataclasses, ``--set``, YAML text); checks and distributions the field types and ranges
every section shares. Parsing is pure; files loads a scene file and checks what it names on disk.
"""

from renderer.config.files import check_scene_files, load_scene
from renderer.config.parse import ConfigError
from renderer.config.scene import SceneConfig, apply_override, scene_from_dict, scene_to_dict

__all__ = ["ConfigError", "SceneConfig", "apply_override", "check_scene_files", "load_scene", "scene_from_dict",
           "scene_to_dict"]
