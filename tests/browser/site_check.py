"""Drive the web explorer in headless Chromium (Debian's chromium + chromium-driver, Python's
selenium) and check what a reader sees. Called by tests/site_cli.rs with a JSON spec:

  site        the site directory (file:// URLs are made from it)
  codes       every county code the overview must list
  county      {"code", "index", "rank"}: what that county's page must show
  prefecture  {"code", "count"}: a filter and the rows it must leave
  compare     four codes for the comparison
  literal     a name with markup characters that must print literally
  shots       directory for the screenshots

Prints "ok" and exits 0, or prints what failed and exits 1.
"""
import json
import pathlib
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

spec = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
site = pathlib.Path(spec["site"]).resolve()
shots = pathlib.Path(spec["shots"])
shots.mkdir(parents=True, exist_ok=True)
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def url(page):
    return (site / page).as_uri()


options = Options()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600", "--disable-dev-shm-usage"]:
    options.add_argument(a)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def console_errors():
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def index_column_values():
    return [r.find_elements(By.TAG_NAME, "td")[2].get_attribute("data-v") for r in driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")]


try:
    # The overview from file://: no console error, every county listed.
    driver.get(url("index.html"))
    check(console_errors() == [], f"console errors on the overview: {console_errors()}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")
    listed = sorted(r.get_attribute("data-code") for r in rows)
    check(listed == sorted(spec["codes"]), f"overview lists {len(listed)} counties, want {len(spec['codes'])}")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "lang is not zh-CN")
    check(spec["literal"] in driver.find_element(By.ID, "ranking").text, "the markup name is not printed literally in the ranking")
    driver.save_screenshot(str(shots / "overview.png"))

    # Sorting by the index column reorders the rows; a second press reverses them.
    first_before = rows[0].get_attribute("data-code")
    button = driver.find_element(By.XPATH, "//table[@id='ranking']/thead/tr/th[4]/button")
    button.click()
    values = [float(v) for v in index_column_values() if v]
    check(values == sorted(values), "sorting by the index did not order the rows ascending")
    first_after = driver.find_element(By.CSS_SELECTOR, "#ranking tbody tr").get_attribute("data-code")
    check(first_after != first_before, "sorting did not reorder the rows")
    check(button.find_element(By.XPATH, "..").get_attribute("aria-sort") == "ascending", "aria-sort not set")
    # By keyboard: Enter on the focused heading button sorts the other way.
    button.send_keys(Keys.ENTER)
    values = [float(v) for v in index_column_values() if v]
    check(values == sorted(values, reverse=True), "Enter on the heading did not sort descending")

    # Filtering by prefecture.
    select = driver.find_element(By.CSS_SELECTOR, "form[data-filters] select[name=pref]")
    for option in select.find_elements(By.TAG_NAME, "option"):
        if option.get_attribute("value") == spec["prefecture"]["code"]:
            option.click()
    visible = [r for r in driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr") if r.is_displayed()]
    check(len(visible) == spec["prefecture"]["count"], f"prefecture filter shows {len(visible)} rows, want {spec['prefecture']['count']}")

    # A county page shows the index and rank index.parquet holds.
    c = spec["county"]
    driver.get(url(f"county/{c['code']}.html"))
    check(console_errors() == [], f"console errors on the county page: {console_errors()}")
    check(driver.find_element(By.ID, "county-index").text == c["index"], f"county index {driver.find_element(By.ID, 'county-index').text!r}, want {c['index']!r}")
    check(c["rank"] in driver.find_element(By.ID, "county-rank").text, f"county rank {driver.find_element(By.ID, 'county-rank').text!r} lacks {c['rank']!r}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "svg.chart title")) >= 2, "charts without a text alternative")
    driver.save_screenshot(str(shots / "county.png"))

    # The comparison shows four counties, from the link's codes.
    driver.get(url("compare.html") + "?c=" + ",".join(spec["compare"]))
    check(console_errors() == [], f"console errors on the comparison: {console_errors()}")
    heads = driver.find_elements(By.CSS_SELECTOR, "#compare-table thead th a")
    shown = [h.get_attribute("href").rsplit("/", 1)[-1].removesuffix(".html") for h in heads]
    check(shown == spec["compare"], f"comparison shows {shown}, want {spec['compare']}")
    check(spec["literal"] in driver.find_element(By.ID, "compare-table").text, "the markup name is not printed literally in the comparison")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#compare-chart rect")) >= 4, "no comparison chart")
    driver.save_screenshot(str(shots / "compare.png"))

    # The English pages.
    driver.get(url("en/index.html"))
    check(console_errors() == [], f"console errors on the English overview: {console_errors()}")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "English page lang")
finally:
    driver.quit()

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
