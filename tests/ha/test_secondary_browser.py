"""R-H3 as a person sees it: on the secondary every page shows the read-only banner
and no edit control is offered."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.ha, pytest.mark.browser]
EDIT_CONTROLS = ("new-resource", "new-account", "save")
EDIT_TEXTS = ("New resource", "New account", "Change password", "Edit", "Delete", "Share",
              "Create token", "New user")


def test_the_secondary_shows_the_banner_and_no_edit_controls(pair, shared_account, browser,
                                                             tmp_path):
    wait = WebDriverWait(browser, 15)
    browser.get(f"{pair.secondary.url}/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys(pair.primary.admin_password())
    browser.find_element(By.ID, "login").click()
    wait.until(EC.presence_of_element_located((By.ID, "read-only-banner")))
    pages = ["/", f"/resources/{shared_account['resource_id']}/",
             f"/accounts/{shared_account['account_id']}/", "/accounts/profile/",
             "/accounts/users/"]
    for page in pages:
        browser.get(pair.secondary.url + page)
        banner = wait.until(EC.presence_of_element_located((By.ID, "read-only-banner")))
        assert "Read-only secondary" in banner.text and "secondary.strongroom.test" in banner.text
        assert "Data as of" in banner.text
        for control in EDIT_CONTROLS:
            assert browser.find_elements(By.ID, control) == [], f"{control} on {page}"
        buttons = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "main a, main button")]
        assert not set(buttons) & set(EDIT_TEXTS), f"{page}: {buttons}"
    browser.get(f"{pair.secondary.url}/accounts/{shared_account['account_id']}/")
    browser.find_element(By.ID, "reveal").click()
    revealed = wait.until(EC.presence_of_element_located((By.ID, "revealed-password")))
    assert revealed.get_attribute("value") == "Sw1tch-secret!"
    browser.save_screenshot(str(tmp_path / "secondary.png"))
    browser.save_screenshot("/tmp/strongroom-secondary.png")
