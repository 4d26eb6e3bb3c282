"""In headless Chromium: a revealed password leaves the screen again after
STRONGROOM_REVEAL_HIDE_SECONDS, its copy button with it, and the pages run under the
Content-Security-Policy (their own script from 'self' works, an inline one is refused)
with no violation of their own (issue 19, item 8)."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.test_browser import ACCOUNT_PASSWORD, _log_in_and_reveal, _wait

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__", serialized_rollback=True),
]


def _csp_violations(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"]]


def test_a_revealed_password_is_hidden_again_with_its_copy_button(browser, live_server,
                                                                  alice, settings):
    settings.REVEAL_HIDE_SECONDS = 2
    _log_in_and_reveal(browser, live_server.url)
    shown = browser.find_element(By.ID, "revealed-password")
    assert shown.get_attribute("value") == ACCOUNT_PASSWORD
    assert browser.find_element(By.ID, "copy-password").is_displayed()

    _wait(browser).until(EC.presence_of_element_located((By.ID, "password-hidden")))
    assert browser.find_elements(By.ID, "revealed-password") == []
    assert browser.find_elements(By.ID, "copy-password") == []
    assert ACCOUNT_PASSWORD not in browser.page_source
    assert "Reveal it again" in browser.find_element(By.ID, "password-hidden").text


def test_the_pages_run_under_the_content_security_policy(browser, live_server, alice):
    _log_in_and_reveal(browser, live_server.url)  # login, forms, reveal: our own pages
    assert _csp_violations(browser) == []
    # The policy is honoured: an inline script does not run, and Chromium says why.
    browser.execute_script("""
        const inline = document.createElement("script");
        inline.textContent = "document.body.dataset.inlineRan = 'yes';";
        document.head.appendChild(inline);""")
    assert browser.execute_script("return document.body.dataset.inlineRan") is None
    assert any("script-src" in message for message in _csp_violations(browser))
