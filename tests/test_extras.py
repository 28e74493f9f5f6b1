"""The one optional-dependency guard (renderer.errors.require_extra): a missing extra is one
RendererError line naming the extra to install, the people extra included."""

from __future__ import annotations

import subprocess
import sys

import pytest

from renderer.errors import MissingExtraError, RendererError, require_extra


def test_a_missing_module_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyoidn", None)  # as if not installed
    with pytest.raises(MissingExtraError) as caught:
        require_extra("pyoidn", "path", "denoising", package="Intel Open Image Denoise",
                      hint="(or set render.denoise: false)")
    assert str(caught.value) == ("denoising needs Intel Open Image Denoise: pip install 'renderer[path]' "
                                 "(or set render.denoise: false)")
    assert isinstance(caught.value, RendererError) and isinstance(caught.value, ImportError)
    assert require_extra("json", "none", "nothing").dumps([]) == "[]"


def test_people_without_anny_name_the_people_extra() -> None:
    code = ("import sys; sys.modules['anny'] = None\n"  # as if the people extra were not installed
            "from renderer.humans.model import body_model\n"
            "from renderer.errors import MissingExtraError\n"
            "try:\n    body_model()\nexcept MissingExtraError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "people needs anny: pip install 'renderer[people]'"
