"""The label pass's caches: passes kept per lookup object (never per id()), least recently used first out."""

from __future__ import annotations

import gc

import numpy as np

from renderer.render.gl.caches import KeptPass, RecentPasses
from renderer.scene.buffers import LabelBuffers
from renderer.scene.description import BackgroundDescription, CameraDescription, FrameDescription


class _Lookup:
    def mesh(self, source):  # pragma: no cover - never called here
        raise AssertionError


def _frame(index: int) -> FrameDescription:
    eye = tuple(tuple(float(v) for v in row) for row in np.eye(4))
    camera = CameraDescription(width=4, height=3, K=((1.0, 0.0, 1.5), (0.0, 1.0, 1.0), (0.0, 0.0, 1.0)),
                               world_to_camera=eye, near=0.1, far=10.0)
    return FrameDescription(index, 0, camera, (), (), 0.3, BackgroundDescription("solid", ((0.0, 0.0, 0.0),)))


def _kept(value: int) -> KeptPass:
    buffers = LabelBuffers(depth=np.full((3, 4), value, np.float32), normals=np.zeros((3, 4, 3), np.float32),
                           instance=np.zeros((3, 4), np.uint16), unoccluded_pixels=np.zeros(0, np.int64))
    return KeptPass(buffers)


def test_a_new_lookup_never_gets_the_passes_of_a_gone_one() -> None:
    recent = RecentPasses(3)
    frame = _frame(0)
    addresses: set[int] = set()
    for _ in range(12):  # new lookups, many at an address a gone one had (gc.collect is slow in a big heap)
        lookup = _Lookup()
        addresses.add(id(lookup))
        assert recent.get(lookup, frame) is None
        recent.put(lookup, frame, _kept(1))
        assert recent.get(lookup, frame) is not None
        del lookup
        gc.collect()
    assert len(addresses) < 12  # some lookups did get a gone one's address: what the test is about


def test_least_recently_used_pass_goes_first() -> None:
    recent = RecentPasses(2)
    lookup = _Lookup()
    recent.put(lookup, _frame(0), _kept(0))
    recent.put(lookup, _frame(1), _kept(1))
    assert recent.get(lookup, _frame(0)) is not None  # frame 0 used again: frame 1 is now the oldest
    recent.put(lookup, _frame(2), _kept(2))
    assert recent.get(lookup, _frame(1)) is None and len(recent) == 2
    assert recent.get(lookup, _frame(0)) is not None
    kept = recent.get(lookup, _frame(2))
    assert kept is not None and kept.buffers.depth[0, 0] == 2


def test_decoders_turn_motion_targets_into_typed_buffers() -> None:
    from renderer.channels import CHANNELS
    from renderer.render.gl.decoders import TARGET_OF, motion_buffers

    flags = np.array([[0, 1, 3, 5, 7]], np.uint8)  # nothing, surface, +forward, +backward, both
    motion = motion_buffers({"flags": flags})
    assert motion.flow_forward_valid[0].tolist() == [False, False, True, False, True]
    assert motion.flow_backward_valid[0].tolist() == [False, False, False, True, True]
    assert motion.flow_forward.shape == (0, 0, 2) and motion.scene_flow_forward.shape == (0, 0, 3)
    # Every motion channel of the registry has its target, and only those do.
    assert set(TARGET_OF) == {name for name, channel in CHANNELS.items() if channel.motion}
