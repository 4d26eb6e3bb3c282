"""R-H3 as a person sees it: on the secondary every page shows the read-only banner
and no edit control is offered."""
import re
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.ha.support import WebClient
from tests.support import run_manage

pytestmark = [pytest.mark.ha, pytest.mark.browser]
EDIT_CONTROLS = ("new-resource", "new-account", "save")
# The texts of templates/**: links and buttons that change something.
EDIT_TEXTS = ("New resource", "New account", "Change password", "Edit", "Delete", "Share",
              "Create token", "New user", "New team", "Revoke", "turn it on")
# Shares and a token, so the pages have something to offer "Revoke" for.
SHARES = """
from django.contrib.auth.models import User
from accounts.services import team_save
from vault.models import Account
from vault.services import share_grant
admin = User.objects.get(username="admin")
team = team_save(admin=admin, name="{team}", members=[admin])
account = Account.objects.get(pk="{account}")
for target in (account, account.resource):
    share_grant(user=admin, target=target, permission="view", grantee_team=team)
"""


def pages(shared_account) -> list[str]:
    return ["/", f"/resources/{shared_account['resource_id']}/",
            f"/accounts/{shared_account['account_id']}/", "/accounts/profile/",
            "/accounts/users/"]


def offered_controls(html: str) -> set[str]:
    main = html.split("<main", 1)[-1]
    return {re.sub(r"<[^>]+>", "", text).strip()
            for text in re.findall(r"<(?:a|button)\b[^>]*>(.*?)</(?:a|button)>", main, re.S)}


@pytest.fixture
def everything_editable(pair, shared_account) -> None:
    """The primary offers every edit control of EDIT_TEXTS on these pages (so their
    absence on the secondary means something)."""
    result = run_manage("shell", "-c", SHARES.format(
        team=f"browser-{uuid.uuid4().hex[:6]}", account=shared_account["account_id"]),
        node=pair.primary.profile)
    assert result.returncode == 0, result.stderr
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    status, _, _ = admin.post("/accounts/tokens/new/", {"name": "browser-check"})
    assert status == 200
    offered = set().union(*(offered_controls(admin.get(page)[1])
                            for page in pages(shared_account)))
    assert set(EDIT_TEXTS) <= offered, set(EDIT_TEXTS) - offered
    pair.wait_replicated()


def test_the_secondary_shows_the_banner_and_no_edit_controls(pair, shared_account, browser,
                                                             everything_editable, tmp_path):
    wait = WebDriverWait(browser, 15)
    browser.get(f"{pair.secondary.url}/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys(pair.primary.admin_password())
    browser.find_element(By.ID, "login").click()
    wait.until(EC.presence_of_element_located((By.ID, "read-only-banner")))
    for page in pages(shared_account):
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
    assert [entry["message"] for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"]] == []
    browser.save_screenshot(str(tmp_path / "secondary.png"))
    browser.save_screenshot("/tmp/strongroom-secondary.png")
