"""The typed dataset contract (renderer.io.records): datasets written by an earlier version (tests/data,
written by commit a1fc2af) read into DatasetHeader and FrameRecord with the values their files hold,
checked against the raw JSON read with the json module and the channel files decoded with numpy and
OpenCV; the records write back the stored bytes; the serialiser (renderer.scene.plain) refuses what does
not fit."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from renderer.channels import CHANNEL_NAMES
from renderer.io.dataset import Dataset, DatasetError
from renderer.io.records import DatasetHeader, FrameRecord, RunRecord
from renderer.io.writers import DatasetWriter
from renderer.scene.plain import OMIT_IF_NONE, array_shape, from_plain, to_plain

DATA = Path(__file__).resolve().parent / "data"
TABLETOP, FACES = DATA / "old_dataset_v5", DATA / "old_dataset_v5_faces"
FORMAT_4 = DATA / "old_dataset_v4"  # written by d67985d: no lens model, asset_bounds or classes yet


def _raw(path: Path) -> Any:
    return json.loads(path.read_text())


def _same(array: NDArray[Any], raw: Any) -> bool:
    return bool(np.array_equal(array, np.array(raw, dtype=array.dtype).reshape(array.shape)))


def test_an_old_header_reads_into_a_dataset_header() -> None:
    raw = _raw(TABLETOP / "dataset.json")
    header = Dataset(TABLETOP).header
    assert isinstance(header, DatasetHeader)
    assert (header.format, header.version, header.renderer_version, header.seed) == (
        raw["format"], raw["version"], raw["renderer_version"], raw["seed"])
    assert (header.image.width, header.image.height) == (raw["image"]["width"], raw["image"]["height"]) == (64, 48)
    assert [(c.id, c.name) for c in header.categories] == [(c["id"], c["name"]) for c in raw["categories"]]
    assert Dataset(TABLETOP).categories == {c["id"]: c["name"] for c in raw["categories"]}
    assert header.conventions == raw["conventions"] and header.scene == raw["scene"]
    assert header.scene_file == raw["scene_file"] and header.inputs == raw["inputs"]
    assert list(header.skipped_assets) == raw["skipped_assets"] and header.skeletons == raw["skeletons"]
    assert header.classes is not None
    assert list(header.classes.body_parts) == raw["classes"]["body_parts"]
    assert list(header.classes.face_segmentation) == raw["classes"]["face_segmentation"]
    assert list(header.outputs) == raw["outputs"] and header.layout == raw["layout"] and header.shard_size is None
    assert header.frames == raw["frames"] == 2
    assert [dataclasses.asdict(r) for r in header.runs] == [{**r, "ray_nodes": None} for r in raw["runs"]]
    assert Dataset(TABLETOP).channels == ("rgb", "depth", "instance")  # registry order of raw["outputs"]


@pytest.mark.parametrize("root", [TABLETOP, FACES], ids=["tabletop", "faces"])
def test_old_frames_read_into_frame_records(root: Path) -> None:
    ds = Dataset(root)
    assert len(ds) == len(list((root / "meta").glob("*.json")))
    for i in range(len(ds)):
        frame = ds[i]
        raw = _raw(root / "meta" / f"{frame.index:06d}.json")
        assert isinstance(frame.record, FrameRecord) and frame.record.index == raw["index"] == frame.index
        camera = raw["camera"]
        assert _same(frame.K, camera["K"]) and frame.K.shape == (3, 3)
        assert _same(frame.world_to_camera, camera["world_to_camera"]) and frame.world_to_camera.shape == (4, 4)
        assert frame.image_size == (camera["width"], camera["height"]) and frame.lens_model == camera["model"]
        assert (frame.record.camera.near, frame.record.camera.far) == (camera["near"], camera["far"])
        assert list(frame.record.camera.distortion) == camera["distortion"]
        assert len(frame.objects) == len(raw["objects"]) >= 1
        for obj, ref in zip(frame.objects, raw["objects"], strict=True):
            assert (obj.instance_id, obj.category, obj.category_id) == (
                ref["instance_id"], ref["category"], ref["category_id"])
            assert list(obj.bbox) == ref["bbox"] and isinstance(obj.bbox, tuple)
            assert (obj.visible_pixels, obj.unoccluded_pixels, obj.visible_fraction, obj.ignore) == (
                ref["visible_pixels"], ref["unoccluded_pixels"], ref["visible_fraction"], ref["ignore"])
            assert obj.object_to_world.shape == obj.object_to_camera.shape == (4, 4)
            assert _same(obj.object_to_world, ref["object_to_world"])
            assert _same(obj.object_to_camera, ref["object_to_camera"])
            assert obj.box3d_camera.shape == (8, 3) and _same(obj.box3d_camera, ref["box3d_camera"])
            assert obj.asset_bounds is not None and obj.asset_bounds.shape == (2, 3)
            assert _same(obj.asset_bounds, ref["asset_bounds"])
            lm, ref_lm = obj.landmarks, ref["landmarks"]
            n = len(ref_lm["names"])
            assert list(lm.names) == ref_lm["names"]
            assert lm.xyz_world.shape == lm.xyz_camera.shape == (n, 3) and lm.uv.shape == (n, 2)
            assert lm.in_frame.dtype == lm.visible.dtype == np.bool_ and lm.visible.shape == (n,)
            for name in ("xyz_world", "xyz_camera", "uv", "in_frame", "visible"):
                assert _same(getattr(lm, name), ref_lm[name]), name
            assert (obj.person is None) == ("person" not in ref) and (obj.face is None) == ("face" not in ref)
        description = raw["description"]
        assert frame.description.index == description["index"] and frame.description.seed == description["seed"]
        assert [(o.instance_id, o.asset_id, o.scale) for o in frame.description.objects] == [
            (o["instance_id"], o["asset_id"], o["scale"]) for o in description["objects"]]
        assert frame.description.camera.K == tuple(tuple(row) for row in description["camera"]["K"])
        assert frame.sequence_index == frame.index and frame.time_index == 0  # stills
        # The channel files, decoded here with OpenCV and numpy
        rgb = cv2.cvtColor(cv2.imread(str(root / "rgb" / f"{frame.index:06d}.png")), cv2.COLOR_BGR2RGB)
        instance = cv2.imread(str(root / "instance" / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
        with np.load(root / "depth" / f"{frame.index:06d}.npz") as npz:
            depth = npz["depth"]
        assert frame.rgb.dtype == np.uint8 and np.array_equal(frame.rgb, rgb)
        assert frame.instance.dtype == np.uint16 and np.array_equal(frame.instance, instance)
        assert frame.depth.dtype == np.float32 and np.array_equal(frame.depth, depth)
        assert rgb.shape[:2] == (camera["height"], camera["width"])


def test_an_old_person_keeps_its_person_and_face_records() -> None:
    frame = Dataset(FACES)[0]
    raw = _raw(FACES / "meta" / "000000.json")
    ref = next(o for o in raw["objects"] if "face" in o)
    person = next(o for o in frame.objects if o.face is not None)
    assert person.person is not None and dataclasses.asdict(person.person) == ref["person"]
    face, ref_face = person.face, ref["face"]
    assert face is not None
    assert face.head_euler_deg == tuple(ref_face["head_euler_deg"][k] for k in ("yaw", "pitch", "roll"))
    assert face.gaze_deg == (ref_face["gaze_deg"]["yaw"], ref_face["gaze_deg"]["pitch"])
    assert face.expression == ref_face["expression"]
    assert face.expression_weights == tuple(ref_face["expression_weights"].items())
    assert list(face.box) == ref_face["box"]
    assert face.head_rotation.shape == (3, 3) and _same(face.head_rotation, ref_face["head_rotation"])
    assert face.head_position.shape == (3,) and _same(face.head_position, ref_face["head_position"])
    assert face.gaze_camera.shape == (2, 3) and _same(face.gaze_camera, ref_face["gaze_camera"])
    assert face.landmarks.uv.shape == (68, 2) and _same(face.landmarks.uv, ref_face["landmarks"]["uv"])
    assert frame.description.objects[person.instance_id - 1].mesh.body is not None


@pytest.mark.parametrize("root", [TABLETOP, FACES], ids=["tabletop", "faces"])
def test_records_write_back_the_stored_bytes(root: Path) -> None:
    """The writer's serialiser on the records read from an old dataset gives the old files' bytes."""
    stored = (root / "dataset.json").read_text()
    assert json.dumps(Dataset(root).header.to_dict(), indent=1) + "\n" == stored
    for path in sorted((root / "meta").glob("*.json")):
        record = FrameRecord.from_dict(json.loads(path.read_text()))
        assert json.dumps(record.to_dict(), allow_nan=False) + "\n" == path.read_text(), path.name


def test_a_format_4_dataset_reads_with_what_format_4_meant() -> None:
    raw = _raw(FORMAT_4 / "dataset.json")
    ds = Dataset(FORMAT_4)
    assert ds.header.version == raw["version"] == 4 and ds.header.classes is None and "classes" not in raw
    assert ds.channels == tuple(raw["outputs"]) == ("rgb", "depth", "normals", "instance", "semantic")
    assert json.dumps(ds.header.to_dict(), indent=1) + "\n" == (FORMAT_4 / "dataset.json").read_text()
    for i in range(len(ds)):
        frame = ds[i]
        meta = _raw(FORMAT_4 / "meta" / f"{frame.index:06d}.json")
        assert "model" not in meta["camera"] and frame.lens_model == "pinhole"
        assert _same(frame.K, meta["camera"]["K"]) and _same(frame.world_to_camera, meta["camera"]["world_to_camera"])
        assert [(o.instance_id, o.category, o.bbox, o.ignore, o.asset_bounds) for o in frame.objects] == [
            (o["instance_id"], o["category"], tuple(o["bbox"]), o["ignore"], None) for o in meta["objects"]]
        for obj, ref in zip(frame.objects, meta["objects"], strict=True):
            assert _same(obj.object_to_camera, ref["object_to_camera"])
            assert _same(obj.landmarks.uv, ref["landmarks"]["uv"])
        with np.load(FORMAT_4 / "normals" / f"{frame.index:06d}.npz") as npz:
            assert np.array_equal(frame.normals, npz["normals"])
        semantic = cv2.imread(str(FORMAT_4 / "semantic" / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(frame.semantic, semantic)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    shutil.copytree(TABLETOP, root)
    return root


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_keys_older_versions_did_not_write_read_as_what_those_versions_meant(tmp_path: Path) -> None:
    root = _copy(tmp_path)

    def older_header(header: dict[str, Any]) -> None:
        for key in ("outputs", "layout", "skeletons", "inputs", "classes", "skipped_assets", "runs", "frames"):
            header.pop(key)

    def older_meta(meta: dict[str, Any]) -> None:
        for key in ("model", "distortion"):
            meta["camera"].pop(key)
        for obj in meta["objects"]:
            obj.pop("ignore")
            obj.pop("asset_bounds")

    _edit(root / "dataset.json", older_header)
    _edit(root / "meta" / "000000.json", older_meta)
    ds = Dataset(root)
    assert ds.channels == ("rgb", "depth", "normals", "instance", "semantic")  # all channels before outputs
    assert ds.layout == "files"
    assert ds.header.runs == () and ds.header.frames is None and ds.header.classes is None
    assert ds.header.skeletons == {} and ds.header.skipped_assets == ()
    frame = ds[0]
    assert frame.lens_model == "pinhole" and frame.record.camera.distortion == ()
    assert all(not o.ignore and o.asset_bounds is None for o in frame.objects)
    assert "ignore" not in json.dumps(ds.header.to_dict()) and "classes" not in ds.header.to_dict()


def test_finishing_a_run_appends_its_record_and_keeps_the_headers_keys(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "dataset.json", lambda header: header.pop("classes"))  # a format 5 header before classes
    before = _raw(root / "dataset.json")
    DatasetWriter(root).finish(RunRecord(frames_written=0, seconds=0.5, workers=2, executor="local",
                                         frames_per_second=0.0))
    after = _raw(root / "dataset.json")
    assert list(after) == list(before) and "classes" not in after
    assert after["runs"] == [*before["runs"], {"frames_written": 0, "seconds": 0.5, "workers": 2, "executor": "local",
                                              "frames_per_second": 0.0}]
    assert after["frames"] == 2
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["objects"][0].update(colour="red"), "unknown key 'colour'"),
    (lambda m: m["objects"][0].pop("bbox"), "missing key 'bbox'"),
    (lambda m: m["objects"][0].update(object_to_world=[[1, 0], [0, 1]]), "object_to_world"),
    (lambda m: m["camera"].update(K=[1, 2, 3]), "K"),
    (lambda m: m["camera"].update(K=[1, 0, 0, 0, 1, 0, 0, 0, 1]), "K: expected shape 3 x 3, got 9"),
    (lambda m: m["description"]["objects"][1].update(instance_id=7), "instance ids"),
])
def test_a_meta_file_that_does_not_fit_the_record_is_named(tmp_path: Path, change: Any, message: str) -> None:
    root = _copy(tmp_path)
    _edit(root / "meta" / "000001.json", change)
    frame = Dataset(root)[1]
    with pytest.raises(DatasetError, match="000001.json") as error:
        _ = frame.objects
    assert message in str(error.value)
    with pytest.raises(DatasetError, match="000001.json"):
        _ = frame.K  # the record is read whole


def test_a_header_that_does_not_fit_is_named(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "dataset.json", lambda header: header["image"].update(depth=3))
    with pytest.raises(DatasetError, match=r"dataset\.json.*unknown key 'depth'"):
        Dataset(root)
    _edit(root / "dataset.json", lambda header: header.update(image={"width": 64, "height": 48}, layout="zip"))
    with pytest.raises(DatasetError, match=r"dataset\.json.*layout"):
        Dataset(root)


def test_every_registered_channel_is_a_frame_attribute() -> None:
    frame = Dataset(TABLETOP)[0]
    for name in ("rgb", "depth", "instance"):
        assert getattr(frame, name) is frame.array(name)
    assert set(CHANNEL_NAMES) <= set(dir(frame))
    with pytest.raises(DatasetError, match="normals was not written"):
        _ = frame.normals
    with pytest.raises(AttributeError, match="no_such_channel"):
        _ = frame.no_such_channel  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Inner:
    name: str
    size: tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class _Outer:
    angles: tuple[float, float] = field(metadata={"keys": ("yaw", "pitch")})
    weights: tuple[tuple[str, float], ...] = field(metadata={"pairs": True})
    points: NDArray[np.float32] = field(metadata=array_shape(-1, 2))
    inner: tuple[_Inner, ...]
    table: dict[str, _Inner] = field(default_factory=dict)
    extra: _Inner | None = field(default=None, metadata=OMIT_IF_NONE)
    count: int = 0


def test_the_serialiser_follows_the_annotations_and_the_field_metadata() -> None:
    value = _Outer(angles=(1.5, -2.0), weights=(("smile", 0.25), ("blink", 1.0)),
                   points=np.array([[1, 2], [3, 4]], dtype=np.float32), inner=(_Inner("a", (1, 2)),),
                   table={"b": _Inner("b", (3, 4))})
    plain = to_plain(value)
    expected = {"angles": {"yaw": 1.5, "pitch": -2.0}, "weights": {"smile": 0.25, "blink": 1.0},
                "points": [[1.0, 2.0], [3.0, 4.0]], "inner": [{"name": "a", "size": [1, 2]}],
                "table": {"b": {"name": "b", "size": [3, 4]}}, "count": 0}
    assert json.loads(json.dumps(plain)) == expected and list(plain) == list(expected)
    back = from_plain(_Outer, json.loads(json.dumps(plain)))
    assert back.angles == (1.5, -2.0) and back.weights == (("smile", 0.25), ("blink", 1.0))
    assert back.points.dtype == np.float32 and back.points.shape == (2, 2)
    assert back.inner == (_Inner("a", (1, 2)),) and back.table == {"b": _Inner("b", (3, 4))}
    assert back.extra is None and back.count == 0
    empty = from_plain(_Outer, {**expected, "points": []})
    assert empty.points.shape == (0, 2)
    for broken, message in [({**expected, "angles": {"yaw": 1.0}}, "angles"),
                            ({**expected, "points": [1, 2, 3]}, "points: expected shape N x 2, got 3"),
                            ({**expected, "points": [1, 2, 3, 4]}, "points: expected shape N x 2, got 4"),
                            ({**expected, "inner": {"name": "a"}}, "expected a list"),
                            ({**expected, "count": {"n": 1}}, "an object where a value belongs"),
                            ({k: v for k, v in expected.items() if k != "inner"}, "missing key 'inner'")]:
        with pytest.raises(ValueError, match=message):
            from_plain(_Outer, broken)
