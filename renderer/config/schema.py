"""The scene file's schema under its former module name: every public name, from where it lives now.

renderer.config.scene (SceneConfig, checks across sections, scene_from_dict), the sections beside it
(camera, objects, appearance, conditions, sequence, people), renderer.config.parse (the generic parser,
``--set``, ConfigError) and renderer.config.files (load_scene, what a scene names on disk).
"""

from renderer.config.appearance import (
    BACKGROUND_KINDS,
    ENVIRONMENT_KINDS,
    LIGHT_TYPES,
    TEXTURE_KINDS,
    BackgroundConfig,
    EnvironmentConfig,
    LightsConfig,
    MaterialsConfig,
)
from renderer.config.camera import (
    CAMERA_AIMS,
    MAX_DISTORTION,
    MAX_SUPERSAMPLING,
    CameraConfig,
    ImageConfig,
    IntrinsicsConfig,
    LensConfig,
)
from renderer.config.checks import (
    MAX_DEPTH_RATIO,
    MAX_FAR,
    MAX_INTENSITY,
    MAX_LENGTH,
    MAX_LIGHTS,
    MAX_OBJECTS,
    MAX_PIXELS,
    MAX_SCALE,
    MAX_SETTLE_SECONDS,
    MIN_NEAR,
    RASTER_MAX_LIGHTS,
)
from renderer.config.conditions import (
    DEPTH_SENSOR_KINDS,
    DEPTH_SENSOR_NOISE,
    MAX_NIGHT_LAMPS,
    PRECIPITATION_KINDS,
    DepthSensorConfig,
    EdgeCaseConfig,
    FogConfig,
    GlareConfig,
    NightConfig,
    PrecipitationConfig,
    SensorConfig,
)
from renderer.config.files import (
    HDR_SUFFIXES,
    IMAGE_SUFFIXES,
    MESH_SUFFIXES,
    check_scene_files,
    load_scene,
    resolve_asset_paths,
    resolve_image_files,
)
from renderer.config.objects import (
    BALANCES,
    PLACEMENTS,
    POSES,
    AirConfig,
    AssetSource,
    DistractorsConfig,
    ObjectsConfig,
    PhysicsConfig,
    TableConfig,
)
from renderer.config.parse import ConfigError
from renderer.config.people import MAX_PEOPLE, PeopleConfig
from renderer.config.scene import (
    DEFAULT_OUTPUTS,
    ENGINES,
    ConstraintsConfig,
    RenderConfig,
    SceneConfig,
    apply_override,
    scene_from_dict,
    scene_to_dict,
)
from renderer.config.sequence import (
    CAMERA_MOTIONS,
    LIGHT_MOTIONS,
    MAX_SEQUENCE_LENGTH,
    MAX_SPEED,
    MAX_SPIN_DEG,
    MAX_WALK_SPEED,
    OBJECT_MOTIONS,
    PEOPLE_MOTIONS,
    CameraMotionConfig,
    LightMotionConfig,
    ObjectMotionConfig,
    PeopleMotionConfig,
    SequenceConfig,
)
from renderer.scene.camera import LENS_MODELS

__all__ = [
    "BACKGROUND_KINDS", "BALANCES", "CAMERA_AIMS", "CAMERA_MOTIONS", "DEFAULT_OUTPUTS", "DEPTH_SENSOR_KINDS",
    "DEPTH_SENSOR_NOISE", "ENGINES", "ENVIRONMENT_KINDS", "HDR_SUFFIXES", "IMAGE_SUFFIXES", "LENS_MODELS",
    "LIGHT_MOTIONS", "LIGHT_TYPES", "MAX_DEPTH_RATIO", "MAX_DISTORTION", "MAX_FAR", "MAX_INTENSITY", "MAX_LENGTH",
    "MAX_LIGHTS", "MAX_NIGHT_LAMPS", "MAX_OBJECTS", "MAX_PEOPLE", "MAX_PIXELS", "MAX_SCALE", "MAX_SEQUENCE_LENGTH",
    "MAX_SETTLE_SECONDS", "MAX_SPEED", "MAX_SPIN_DEG", "MAX_SUPERSAMPLING", "MAX_WALK_SPEED", "MESH_SUFFIXES",
    "MIN_NEAR", "OBJECT_MOTIONS", "PEOPLE_MOTIONS", "PLACEMENTS", "POSES", "PRECIPITATION_KINDS",
    "RASTER_MAX_LIGHTS", "TEXTURE_KINDS", "AirConfig", "AssetSource", "BackgroundConfig", "CameraConfig",
    "CameraMotionConfig", "ConfigError", "ConstraintsConfig", "DepthSensorConfig", "DistractorsConfig",
    "EdgeCaseConfig", "EnvironmentConfig", "FogConfig", "GlareConfig", "ImageConfig", "IntrinsicsConfig",
    "LensConfig", "LightMotionConfig", "LightsConfig", "MaterialsConfig", "NightConfig", "ObjectMotionConfig",
    "ObjectsConfig", "PeopleConfig", "PeopleMotionConfig", "PhysicsConfig", "PrecipitationConfig",
    "RenderConfig", "SceneConfig", "SensorConfig", "SequenceConfig", "TableConfig", "apply_override",
    "check_scene_files", "load_scene", "resolve_asset_paths", "resolve_image_files", "scene_from_dict",
    "scene_to_dict",
]
