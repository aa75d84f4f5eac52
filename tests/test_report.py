"""HTML reports (compliance, drop, study) and the export's spec sheet, opened in headless
Chromium: no console error, every figure loaded, and a screenshot saved."""

import json
import os
import shutil

import pytest
from conftest import REFERENCE_DESIGNS
from helpers import well_cushioned

import packsim
from packsim.cli import main
from packsim.export import export_design
from packsim.report import write_report

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                   reason="no headless Chromium: run .ci/chromium.sh")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _open(browser, page, screenshot):
    """Open ``page``; returns the number of figures. Fails on a console error or a broken image."""
    browser.get(page.resolve().as_uri())
    loaded = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    assert loaded and all(loaded), loaded
    folder = os.environ.get("PACKSIM_SCREENSHOTS")
    target = screenshot if folder is None else os.path.join(folder, screenshot.name)
    assert browser.save_screenshot(str(target))
    return len(loaded)


@needs_browser
def test_a_compliance_report_with_its_design(browser, tmp_path):
    design = packsim.load_design(REFERENCE_DESIGNS[0])
    report = packsim.check(design)
    page = write_report(report, tmp_path / "check.html", design)
    text = page.read_text()
    assert "FAIL" in text and "Bill of materials" in text and "cushion curves" in text
    assert text.count("<tr>") >= len(report.rows) + 1
    # Margins, cushion curves, stack load against strength.
    assert _open(browser, page, tmp_path / "check.png") == 3


@needs_browser
def test_a_drop_report_from_the_saved_json(browser, tmp_path, capsys):
    design = tmp_path / "block.toml"
    well_cushioned().save(design)
    saved = tmp_path / "drop.json"
    assert main(["drop", str(design), "--height", "0.3", "--mesh-size", "0.03",
                 "--save", str(saved)]) == 0
    assert main(["report", str(saved), "--out", str(tmp_path / "drop.html"),
                 "--design", str(design)]) == 0
    text = (tmp_path / "drop.html").read_text()
    assert "Peaks per cell" in text and "cell-006" in text
    assert _open(browser, tmp_path / "drop.html", tmp_path / "drop.png") == 2


@needs_browser
def test_a_study_report(browser, tmp_path):
    from test_optimize import _study_files

    path = _study_files(tmp_path, name="report", objectives='["packaging_mass_kg", "co2e_kg"]',
                        sampler="nsga2", trials=10)
    packsim.optimize(path)
    assert main(["report", str(path), "--out", str(tmp_path / "study.html")]) == 0
    text = (tmp_path / "study.html").read_text()
    assert "Best designs" in text and "pareto-front" in text
    assert _open(browser, tmp_path / "study.html", tmp_path / "study.png") >= 3


@needs_browser
def test_the_spec_sheet_of_an_export(browser, tmp_path):
    files = export_design(packsim.load_design(REFERENCE_DESIGNS[2]), tmp_path / "c")
    assert _open(browser, files["spec.html"], tmp_path / "spec.png") >= 4


def test_report_refuses_what_it_cannot_read(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"something": 1}))
    assert main(["report", str(bad), "--out", str(tmp_path / "x.html")]) == 2
    assert "neither a compliance report" in capsys.readouterr().err
    (tmp_path / "garbage.json").write_text("not json")
    assert main(["report", str(tmp_path / "garbage.json"), "--out", str(tmp_path / "y.html")]) == 2
    from test_optimize import _study_files

    path = _study_files(tmp_path, name="never")  # a study not run yet
    assert main(["report", str(path), "--out", str(tmp_path / "z.html")]) == 2
    assert "packsim optimize" in capsys.readouterr().err
    assert main(["report", str(REFERENCE_DESIGNS[0]), "--out", str(tmp_path / "d.html")]) == 2
    assert "packsim check" in capsys.readouterr().err and not (tmp_path / "d.html").exists()
