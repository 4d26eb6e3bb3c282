"""R-H7 as an administrator sees it: the High Availability page on each node shows
both statuses as big badges, the details, the history and what to do."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.ha.support import wait_healthy

pytestmark = [pytest.mark.ha, pytest.mark.browser]


def _log_in(browser, node, password: str) -> None:
    browser.get(f"{node.url}/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "logout")))


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_the_high_availability_page_shows_both_statuses_alive_on_each_node(pair, browser,
                                                                           role, tmp_path):
    wait_healthy(pair)
    node = getattr(pair, role)
    _log_in(browser, node, pair.primary.admin_password())
    browser.find_element(By.LINK_TEXT, "High Availability").click()
    wait = WebDriverWait(browser, 15)
    badge = wait.until(EC.presence_of_element_located((By.ID, "ha-status")))
    assert badge.text == "Alive" and "badge-alive" in badge.get_attribute("class")
    assert browser.find_element(By.ID, "replication-status").text == "Alive"
    details = browser.find_element(By.ID, "ha-details").text
    assert "gtid" in details and "peer" in details
    assert browser.find_element(By.ID, "error-log").text.endswith("error.log")
    assert "Failed → Alive" in browser.find_element(By.ID, "ha-history").text \
        or "Unknown → Alive" in browser.find_element(By.ID, "ha-history").text
    assert "ha_reconfigure" in browser.page_source and "ha_install_pack" in browser.page_source
    assert [entry["message"] for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"]] == []
    browser.save_screenshot(str(tmp_path / f"ha-{role}.png"))
    browser.save_screenshot(f"/tmp/strongroom-ha-{role}.png")
