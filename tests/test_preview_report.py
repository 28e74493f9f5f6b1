"""Preview contact sheets and the HTML report, the report loaded in headless Chromium."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from renderer.cli import main
from renderer.inspect.preview import LABEL_HEIGHT, contact_sheet, frame_panels, instance_colors, panel_channels
from renderer.io.dataset import Dataset


def test_contact_sheet_layout(tabletop_dataset: Path) -> None:
    ds = Dataset(tabletop_dataset)
    sheet = contact_sheet(ds, [0, 2], scale=1.0)
    w, h = ds[0].image_size
    panels = [p for p in panel_channels() if p in ("rgb", "depth", "normals", "instance")]  # a still: no flow, no NOCS
    assert sheet.shape == (2 * (h + LABEL_HEIGHT), len(panels) * w, 3) and sheet.dtype == np.uint8
    half = contact_sheet(ds, [1], scale=0.5)
    assert half.shape == (h // 2 + LABEL_HEIGHT, len(panels) * w // 2, 3)
    # the first frame's instances panel sits at row LABEL_HEIGHT, column 3 * w (below the title strip)
    panel = sheet[LABEL_HEIGHT + 20:LABEL_HEIGHT + h, 3 * w:4 * w]
    expected = frame_panels(ds[0])["instance"][20:]
    assert np.array_equal(panel, expected)


def test_instances_panel_tints_masks_and_leaves_background(tabletop_dataset: Path) -> None:
    frame = Dataset(tabletop_dataset)[0]
    panel = frame_panels(frame)["instance"]
    rgb, instance = frame.rgb, frame.instance
    objects = instance > 0
    assert np.mean(np.any(panel[objects] != rgb[objects], axis=-1)) > 0.97
    far_from_objects = ~cv2.dilate(objects.astype(np.uint8), np.ones((161, 161), np.uint8)).astype(bool)
    far_from_objects[:24] = False  # the panel title
    assert far_from_objects.sum() > 100
    np.testing.assert_array_equal(panel[far_from_objects], rgb[far_from_objects])
    colors = instance_colors(int(instance.max())).astype(int)
    for obj in frame.objects:  # the tint moves every object's pixels towards its own colour
        inside = cv2.erode((instance == obj.instance_id).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if inside.sum() < 4000:  # category labels (dark boxes) cover much of a small mask
            continue
        before = np.median(np.abs(rgb[inside].astype(int) - colors[obj.instance_id]).sum(-1))
        after = np.median(np.abs(panel[inside].astype(int) - colors[obj.instance_id]).sum(-1))
        # 1 - OVERLAY_ALPHA = 0.45 of the way is left
        assert after < 0.6 * before + 2, (obj.category, inside.sum())


def test_rgb_panel_draws_boxes_and_landmarks(tabletop_dataset: Path) -> None:
    frame = Dataset(tabletop_dataset)[1]
    panel = frame_panels(frame)["rgb"]
    colors = instance_colors(max(o.instance_id for o in frame.objects))
    for obj in frame.objects:
        x, y, w, h = obj.bbox
        if w < 10 or y < 24:
            continue
        top_edge = panel[y, x:x + w]
        assert np.mean(np.all(top_edge == colors[obj.instance_id], axis=-1)) > 0.5
    changed = np.any(panel != frame.rgb, axis=-1)
    for obj in frame.objects:
        for (u, v), in_frame in zip(obj.landmarks.uv, obj.landmarks.in_frame, strict=True):
            r, c = int(round(v)), int(round(u))
            if in_frame and 24 < r < panel.shape[0] - 3 and 3 < c < panel.shape[1] - 3:
                assert changed[r - 3:r + 4, c - 3:c + 4].any()  # a dot or a ring is drawn there


def test_depth_panel_scale_runs_near_blue_to_far_red(tabletop_dataset: Path) -> None:
    frame = Dataset(tabletop_dataset)[0]
    panel = frame_panels(frame)["depth"].astype(int)
    depth = frame.depth
    h = depth.shape[0]
    body = np.zeros(depth.shape, bool)
    body[:h - 60] = True  # above the scale bar
    surface = (depth > 0) & body
    near = surface & (depth < np.quantile(depth[surface], 0.05))
    far = surface & (depth > np.quantile(depth[surface], 0.95))
    assert panel[near][:, 2].mean() > panel[near][:, 0].mean()  # blue
    assert panel[far][:, 0].mean() > panel[far][:, 2].mean()  # red
    assert np.all(panel[(depth == 0) & body] == 0)


def test_preview_cli(tabletop_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sheet.png"
    assert main(["preview", str(tabletop_dataset), "--frames", "1:3", "-o", str(out), "--scale", "0.5"]) == 0
    image = cv2.imread(str(out))
    assert image.shape == (2 * (240 + LABEL_HEIGHT), 4 * 320, 3)
    assert main(["preview", str(tabletop_dataset), "--frames", "7:9", "-o", str(out)]) == 2
    assert main(["preview", str(tabletop_dataset), "-o", str(tmp_path / "missing" / "x.png")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("renderer: error: ") for e in errors)


@pytest.fixture(scope="module")
def report_page(tabletop_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(tabletop_dataset), "-o", str(out), "--samples", "3"]) == 0
    return out


def test_report_tables_match_the_meta_files(tabletop_dataset: Path, report_page: Path) -> None:
    page = report_page.read_text()
    counts: dict[str, list[int]] = {}
    for meta_file in sorted((tabletop_dataset / "meta").glob("*.json")):
        for obj in json.loads(meta_file.read_text())["objects"]:
            entry = counts.setdefault(obj["category"], [0, 0])
            entry[0] += 1
            entry[1] += obj["visible_pixels"] > 0
    table = page[page.index('id="categories"'):page.index("</table>", page.index('id="categories"'))]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class='num'>(\d+)</td><td class='num'>(\d+)</td>", table)
    assert {name: [int(a), int(b)] for name, a, b in rows} == counts
    assert page.count("<img") == 3 + 5  # sample frames + plots
    assert "src=\"http" not in page and "src='http" not in page  # self-contained


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("headless Chromium is needed: scripts/setup.sh --browser installs chromium and chromium-driver")
    return browser, driver


def test_report_loads_in_headless_chromium(report_page: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    browser, driver_path = _chromium()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(report_page.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/{report_page.name}")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
        assert len(images) == 8
        assert all(complete and width > 0 for complete, width, _ in images), images
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        assert driver.title.startswith("renderer dataset report")
    finally:
        driver.quit()
        server.shutdown()
