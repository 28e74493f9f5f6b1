"""``renderer report`` and ``renderer preview`` on any subset of channels (issue 37): over the channel
registry, each channel left out in turn, and a few one-channel datasets. The report leaves out only the
plots that need what is missing and says so on the page; the preview shows the panels there are."""

from __future__ import annotations

import html
import re
from pathlib import Path

import cv2
import pytest

from renderer.channels import CHANNELS
from renderer.cli import main
from renderer.config.schema import scene_from_dict
from renderer.pipeline.run import generate

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCENE = {
    "image": {"width": 64, "height": 48},
    "objects": {"count": [2, 3], "assets": [{"path": str(ROOT / "assets" / "meshes" / "cone.obj")},
                                            {"path": str(ROOT / "assets" / "meshes" / "mug.obj")}]},
    "camera": {"distance": [0.6, 0.8]},
    "sequence": {"length": 2, "camera": {"kind": "orbit", "orbit_speed_deg": [20, 30]}},
}
SUBSETS = [[c for c in CHANNELS if c != left_out] for left_out in CHANNELS] + [
    ["rgb"], ["instance"], ["depth"], ["rgb", "instance"], ["flow_forward"]]  # flow only: a last frame has no panel


@pytest.mark.parametrize("outputs", SUBSETS, ids=lambda outputs: "-".join(
    ["without", *sorted(set(CHANNELS) - set(outputs))] if len(outputs) > 4 else outputs))
def test_report_and_preview_read_any_subset_of_channels(outputs: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    generate(scene_from_dict({**SCENE, "outputs": outputs}), root, frames=2, seed=4, workers=1)
    assert main(["report", str(root), "-o", str(tmp_path / "r.html"), "--samples", "2"]) == 0
    assert main(["preview", str(root), "-o", str(tmp_path / "p.png")]) == 0
    assert main(["preview", str(root), "--sequence", "0", "-o", str(tmp_path / "s.gif")]) == 0
    assert capsys.readouterr().err == ""
    page = html.unescape((tmp_path / "r.html").read_text())
    assert len(re.findall(r'<img alt="frame \d+"', page)) == 2  # the sample frames
    assert "Instances per category" in page and "Visible fraction" in page
    if "depth" in outputs:
        assert 'id="left-out"' not in page and re.search(r'alt="Depth \(\d+ frames sampled\)"', page)
    else:  # the one plot that needs a channel: left out, and the page says why
        assert "alt=\"Depth" not in page
        assert re.search(r'id="left-out".*Depth: depth was not written', page, re.S)
    sheet = cv2.imread(str(tmp_path / "p.png"))
    assert sheet is not None and sheet.shape[0] > 2 * 48 * 0.5 and sheet.shape[1] >= 64 * 0.5
