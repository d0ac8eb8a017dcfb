"""The dashboard's sign-in and leads page, driven in Debian's Chromium: a signed-out visitor is
sent to sign in, a wrong password is refused without saying which part was wrong, a user
signs in and sees the leads ranked with names beside ids, and signs out. Forms without their
CSRF token are refused; passwords are kept only as argon2 hashes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from leadscore.app.report_page import chart_ids
from leadscore.app.users import create_user, sign_in
from leadscore.cli import app as cli
from leadscore.store import schema
from leadscore.store.predictions import keep_predictions
from tests.service.browser import check_page, screenshot_folder
from tests.service.serve import serving
from tests.service.test_ingestion import Service

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's Chromium is not installed (apt-get install -y chromium; .ci/run does)",
)


def chart_ids_of_a_report_with_drift() -> list[str]:
    """Every chart of the report page (its drift chart too: 90 days hold two periods)."""
    return chart_ids({"drift": {"available": True}})


def sign_in_as(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does, and land on the leads."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/leads")


def _leads(service: Service) -> None:
    """Three leads with names; Bo has the most engagement (webinars +10 each), then Ann; Ann
    and Cy work at Acme (one account, 10 points of engagement), Bo at Globex (30)."""
    people = {
        "L1": {
            "first_name": "Ann",
            "last_name": "Berg",
            "company": "Acme",
            "email": "ann@acme.example",
        },
        "L2": {
            "first_name": "Bo",
            "last_name": "Lund",
            "company": "Globex",
            "email": "bo@globex.example",
        },
        "L3": {
            "first_name": "Cy",
            "last_name": "Dahl",
            "company": "Acme",
            "email": "cy@acme.example",
        },
    }
    for lead_id, traits in people.items():
        assert (
            service.send("/v1/identify", {"userId": lead_id, "traits": traits}).status_code == 200
        )
    for lead_id, webinars in (("L1", 1), ("L2", 3)):
        for _ in range(webinars):
            service.send("/v1/track", {"userId": lead_id, "event": "Webinar Attended"})


def test_passwords_are_kept_as_argon2_hashes_only(service: Service) -> None:
    create_user(service.store, "ann@acme.example", PASSWORD, "sales")
    with service.store.engine.connect() as conn:
        (stored,) = conn.execute(schema.users.select()).all()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert sign_in(service.store, "ann@acme.example", "wrong password!") is None
    assert sign_in(service.store, "nobody@acme.example", PASSWORD) is None
    assert sign_in(service.store, "ANN@acme.example ", PASSWORD) is not None


def test_forms_without_their_csrf_token_are_refused(service: Service) -> None:
    create_user(service.store, "ann@acme.example", PASSWORD, "sales")
    form = {"email": "ann@acme.example", "password": PASSWORD, "csrf": "forged"}
    answer = service.client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 403 and "leadscore_session" not in answer.cookies
    page = service.client.get("/login")  # sets the sign-in token's cookie
    token = service.client.cookies["leadscore_login"]
    assert f'value="{token}"' in page.text
    signed = service.client.post("/login", data={**form, "csrf": token}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/leads"
    assert service.client.post("/logout", data={"csrf": "forged"}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(service: Service) -> None:
    answer = service.client.get("/leads?tier=hot", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fleads%3Ftier%3Dhot"
    # only a path on this site is followed after signing in
    page = service.client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/leads"' in page.text


def test_users_are_created_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    made = runner.invoke(
        cli, ["users", "create", "Ops@Acme.example", "--role", "ops", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    short = runner.invoke(cli, ["users", "create", "b@acme.example", "--password-stdin"],
                          input="short\n")  # fmt: skip
    assert short.exit_code == 1 and "at least 12 characters" in short.stderr
    listed = runner.invoke(cli, ["users", "list"])
    assert "ops@acme.example" in listed.stdout and "ops" in listed.stdout


@needs_chromium
def test_sign_in_see_the_ranked_leads_and_sign_out(
    service: Service, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import sync_playwright

    _leads(service)
    create_user(service.store, "ann@acme.example", PASSWORD, "sales")
    shots = screenshot_folder(request)
    with serving(service.app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/leads")
        assert page.url.startswith(f"{base}/login")
        check_page(page, shots, "login")
        page.get_by_label("Email").fill("ann@acme.example")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text() == "Wrong email or password."
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/leads")
        rows = page.locator("tbody tr")
        assert rows.count() == 3
        # Bo (3 webinars) first, then Ann (1), then Cy; names and companies beside the ids
        firsts = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
        assert [f.split("\n")[0] for f in firsts] == ["Bo Lund", "Ann Berg", "Cy Dahl"]
        assert rows.nth(0).locator("td").nth(1).inner_text() == "Globex"
        assert rows.nth(0).locator("td").nth(2).inner_text() == "30"
        cookie = next(c for c in page.context.cookies() if c["name"] == "leadscore_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        check_page(page, shots, "leads")
        page.get_by_label("Name, email or company").fill("globex")
        page.get_by_role("button", name="Filter").click()
        assert page.locator("tbody tr").count() == 1
        # the top lead: its rules' points add up to its score; feedback is recorded at once
        page.get_by_role("link", name="Bo Lund").click()
        page.wait_for_url(f"{base}/leads/L2?model=brief")
        assert page.get_by_role("heading", level=1).inner_text() == "Bo Lund"
        assert page.title() == "Bo Lund - leadscore"
        shown = [float(v) for v in page.locator("tbody tr[data-points]").evaluate_all(
            "rows => rows.map(r => r.dataset.points)")]  # fmt: skip
        total = float(page.locator("[data-total]").inner_text())
        assert total == 30 and sum(shown) == total
        # today's score on the chart, and the three webinars in the timeline with their rule
        assert page.locator("svg[data-chart='score-over-time'] path.mark").count() == 1
        events = page.locator("section[aria-labelledby='timeline-title'] tbody tr")
        assert events.count() == 3
        assert events.first.inner_text().split("\t")[1:] == [
            "Webinar Attended",
            "webinar attendance",
        ]
        check_page(page, shots, "lead")
        page.get_by_label("Note (optional)").fill("asked for a demo")
        page.get_by_role("button", name="Good fit").click()
        assert page.get_by_role("status").inner_text() == "Recorded: good fit."
        assert "asked for a demo" in page.locator("section", has_text="Sales feedback").inner_text()
        with service.store.engine.connect() as conn:
            (given,) = conn.execute(schema.feedback.select()).all()
        assert (given.lead_id, given.verdict, given.note) == ("L2", "good_fit", "asked for a demo")
        # accounts: Globex (30) before Acme (10), and Acme's leads, best first
        page.get_by_role("link", name="Accounts").click()
        page.wait_for_url(f"{base}/accounts")
        companies = page.locator("tbody tr td:first-child a").all_inner_texts()
        assert companies == ["Globex", "Acme"]
        check_page(page, shots, "accounts")
        page.get_by_role("link", name="Acme").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Acme"
        people = page.locator("tbody tr td:first-child a").all_inner_texts()
        assert people == ["Ann Berg", "Cy Dahl"]
        check_page(page, shots, "account")
        # the lab's report, every chart drawn, inside the dashboard
        page.get_by_role("link", name="Reports").click()
        page.wait_for_url(f"{base}/reports")
        for chart in chart_ids_of_a_report_with_drift():
            assert page.locator(f"svg[data-chart='{chart}']").count() == 1, chart
        check_page(page, shots, "reports")
        page.get_by_role("link", name="Leads").click()
        page.wait_for_url(f"{base}/leads")
        # Ann is sent back to marketing: her 10 points of engagement start again from zero
        page.get_by_role("link", name="Ann Berg").click()
        assert float(page.locator("[data-total]").inner_text()) == 10
        page.get_by_label("Note (optional)").fill("not before Q3")
        page.get_by_role("button", name="Recycle (back to marketing)").click()
        assert page.get_by_role("status").inner_text().startswith("Recycled")
        assert float(page.locator("[data-total]").inner_text()) == 0
        said = page.locator("section", has_text="Sales feedback").inner_text()
        assert "recycled under brief" in said and "ann@acme.example" in said
        page.get_by_role("button", name="Converted").click()
        assert page.get_by_role("status").inner_text() == "Recorded: converted."
        with service.store.engine.connect() as conn:
            (outcome,) = conn.execute(schema.outcomes.select()).all()
        assert (outcome.lead_id, outcome.outcome) == ("L1", "converted")
        page.get_by_role("link", name="Leads").first.click()
        page.wait_for_url(f"{base}/leads")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/leads")
        assert page.url.startswith(f"{base}/login")  # the session ended with the sign-out
        browser.close()


@needs_chromium
def test_the_open_leads_page_follows_new_events_and_shows_my_leads(
    service: Service, request: pytest.FixtureRequest
) -> None:
    """Five webinars for Cy sent through the Segment API while the leads page is open: Cy
    (then 50) comes first without a reload; "My leads" shows the leads the user owns."""
    import httpx2
    from playwright.sync_api import expect, sync_playwright

    _leads(service)
    owned = {"userId": "L3", "traits": {"owner": "cy.owner@acme.example"}}
    assert service.send("/v1/identify", owned).status_code == 200
    create_user(service.store, "cy.owner@acme.example", PASSWORD, "sales")
    shots = screenshot_folder(request)
    with serving(service.app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        sign_in_as(page, base, "cy.owner@acme.example")
        first = page.locator("tbody tr").first.locator("td").first
        assert first.inner_text().startswith("Bo Lund")
        page.evaluate("window.notReloaded = true")
        for number in range(5):
            sent = httpx2.post(
                f"{base}/v1/track",
                json={"userId": "L3", "event": "Webinar Attended", "messageId": f"cy-{number}"},
                auth=(service.ingest, ""),
            )
            assert sent.status_code == 200
        expect(first).to_contain_text("Cy Dahl", timeout=15_000)
        assert page.locator("tbody tr").first.locator("td").nth(2).inner_text() == "50"
        assert page.evaluate("window.notReloaded") is True
        assert page.get_by_role("status").inner_text().startswith("Updated at")
        check_page(page, shots, "leads-refreshed")
        page.get_by_label("My leads").check()
        page.get_by_role("button", name="Filter").click()
        names = page.locator("tbody tr td:first-child a").all_inner_texts()
        assert names == ["Cy Dahl"]
        browser.close()


@needs_chromium
def test_ops_change_the_model_safely_and_sales_cannot(
    service: Service, request: pytest.FixtureRequest
) -> None:
    """An ops user uploads a broken file (the problem with its line), then a candidate with
    webinars worth 20, compares and backtests it against the model in use, and activates it;
    a sales user is refused the model pages."""
    from playwright.sync_api import sync_playwright

    _leads(service)
    create_user(service.store, "ops@acme.example", PASSWORD, "ops")
    create_user(service.store, "ann@acme.example", PASSWORD, "sales")
    brief = (service.project.root / "models" / "brief.yaml").read_text()
    candidate = brief.replace(
        "  - name: webinar attendance\n    event: Webinar Attended\n    points: 10\n",
        "  - name: webinar attendance\n    event: Webinar Attended\n    points: 20\n",
    )
    assert candidate != brief

    shots = screenshot_folder(request)
    with serving(service.app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        sales = browser.new_page()
        sign_in_as(sales, base, "ann@acme.example")
        assert sales.get_by_role("link", name="Model").count() == 0
        answer = sales.goto(f"{base}/model")
        assert answer is not None and answer.status == 403
        assert "Your role (sales) cannot see models." in sales.content()
        page = browser.new_page()
        sign_in_as(page, base, "ops@acme.example")
        page.get_by_role("link", name="Model").click()
        page.wait_for_url(f"{base}/model")
        page.get_by_label("Model file (YAML)").fill(
            "name: broken\nfit:\n  - name: x\n    points: lots\n"
        )
        page.get_by_role("button", name="Check and keep as a new version").click()
        problem = page.get_by_role("alert").inner_text()
        assert "uploaded file:4:" in problem and "points" in problem
        page.get_by_label("Model file (YAML)").fill(candidate)
        page.get_by_role("button", name="Check and keep as a new version").click()
        assert (
            page.get_by_role("status").inner_text() == "Kept as v2: backtest it, then activate it."
        )
        page.get_by_role("link", name="What changes against the one in use").click()
        assert "webinar attendance" in page.locator("main").inner_text()
        assert "20" in page.locator("main li").first.inner_text()
        check_page(page, shots, "model-diff")
        page.go_back()
        page.get_by_role("button", name="Backtest v2").click()
        assert page.get_by_role("heading", level=1).inner_text().startswith("Backtest of v2")
        summary = page.locator("table").first
        assert summary.locator("thead th").count() == 3  # the row names, v2 and the one in use
        # Bo's 3 webinars are worth 60 under v2 (hot) and 30 in use (warm)
        bo = page.locator("tr", has_text="Bo Lund")
        assert "webinar attendance 60 vs 30" in bo.inner_text()
        check_page(page, shots, "backtest")
        page.go_back()
        page.get_by_role("button", name="Activate v2").click()
        assert page.get_by_role("status").inner_text().startswith("v2 is in use")
        mql = page.locator("li", has_text="MQL:").first.inner_text()
        assert "all of: " in mql and "company size is more than 10" in mql  # in words
        check_page(page, shots, "model")
        browser.close()
    webinar = next(
        r for r in service.app.state.runtime.models[0].engagement if r.name == "webinar attendance"
    )
    assert webinar.points == 20


def test_a_form_too_large_is_refused_before_it_is_read(service: Service) -> None:
    """2 MB posted to the sign-in form: 413, declared or streamed, and the service goes on."""
    big = {"email": "a@acme.example", "password": "x" * 2_000_000, "csrf": "t"}
    answer = service.client.post("/login", data=big)
    assert answer.status_code == 413 and "larger than 1,000,000 bytes" in answer.text

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 60_000

    streamed = service.client.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    assert service.client.get("/login").status_code == 200


@needs_chromium
def test_admins_manage_users_and_keys(service: Service, request: pytest.FixtureRequest) -> None:
    """An admin makes a sales user (the password shown once works), makes them ops, then
    disables them (their open session ends); makes an ingest key that the Segment API takes,
    never shown again, and revokes it. Others cannot open the page."""
    from playwright.sync_api import sync_playwright

    from leadscore.app.api_keys import key_scope

    create_user(service.store, "admin@acme.example", PASSWORD, "admin")
    shots = screenshot_folder(request)

    with serving(service.app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        admin = browser.new_page()
        sign_in_as(admin, base, "admin@acme.example", PASSWORD)
        admin.get_by_role("link", name="Admin").click()
        admin.wait_for_url(f"{base}/admin")
        admin.get_by_label("Email of a new user").fill("Rep@Acme.example")
        admin.get_by_role("button", name="Create the user").click()
        assert admin.get_by_role("status").inner_text() == "Created rep@acme.example (sales)."
        password = admin.locator("[data-secret]").inner_text()
        assert len(password) >= 12
        rep = browser.new_context().new_page()
        sign_in_as(rep, base, "rep@acme.example", password)
        assert rep.get_by_role("link", name="Admin").count() == 0
        refused = rep.goto(f"{base}/admin")
        assert refused is not None and refused.status == 403
        assert "Your role (sales) cannot manage users and API keys." in rep.content()
        admin.reload()  # the password is not shown again
        assert admin.locator("[data-secret]").count() == 0 and password not in admin.content()
        admin.get_by_label("Role of rep@acme.example").select_option("ops")
        admin.locator("tr[data-user='rep@acme.example']").get_by_role(
            "button", name="Change role").click()  # fmt: skip
        assert admin.get_by_role("status").inner_text() == "rep@acme.example is now ops."
        rep.goto(f"{base}/leads")
        assert rep.get_by_role("link", name="Model").count() == 1
        assert rep.get_by_role("link", name="Admin").count() == 0
        refused = rep.goto(f"{base}/admin")  # ops change models, not users
        assert refused is not None and refused.status == 403
        admin.get_by_role("button", name="Disable rep@acme.example").click()
        assert admin.get_by_role("status").inner_text() == "rep@acme.example can no longer sign in."
        rep.goto(f"{base}/leads")
        assert rep.url.startswith(f"{base}/login")  # the open session ended
        # an ingest key: shown once, taken by the Segment API, revoked
        admin.get_by_label("Scope").select_option("ingest")
        admin.get_by_label("What it is for").fill("landing pages")
        admin.get_by_role("button", name="Create a key").click()
        key = admin.locator("[data-secret]").inner_text()
        assert key_scope(service.store, key) == "ingest"
        assert service.send("/v1/track", {"userId": "L9", "event": "Webinar Attended"},
                            key=key).status_code == 200  # fmt: skip
        check_page(admin, shots, "admin")
        admin.reload()
        assert key not in admin.content()
        admin.get_by_role("button", name="Revoke landing pages").click()
        assert admin.get_by_role("status").inner_text().startswith("Revoked the key")
        assert key_scope(service.store, key) is None
        assert "revoked" in admin.locator("tr", has_text="landing pages").inner_text()
        browser.close()


@needs_chromium
def test_pages_fit_a_phone_and_work_from_the_keyboard(
    service: Service, request: pytest.FixtureRequest
) -> None:
    """On a phone's screen (390 x 844) no page is wider than the screen (wide tables scroll
    in their own box); signing in and opening the top lead take only the keyboard."""
    from playwright.sync_api import sync_playwright

    _leads(service)
    create_user(service.store, "ann@acme.example", PASSWORD, "admin")
    shots = screenshot_folder(request)
    with serving(service.app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(f"{base}/login")
        page.keyboard.press("Tab")  # the email field comes first
        page.keyboard.type("ann@acme.example")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/leads")
        for path in ("/leads", "/leads/L2", "/accounts", "/reports", "/model", "/admin"):
            page.goto(base + path)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, (path, wide)
            name = "phone-" + (path.strip("/").replace("/", "-") or "home")
            check_page(page, shots, name)
        page.goto(f"{base}/leads")
        page.locator("tbody a").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/leads/L2?model=brief")
        assert page.get_by_role("heading", level=1).inner_text() == "Bo Lund"
        browser.close()


def test_the_leads_page_ranks_by_the_kept_chance_to_convert(service: Service) -> None:
    _leads(service)  # by points: Bo (30), Ann (10), Cy (0)
    create_user(service.store, "ann@acme.example", PASSWORD, "sales")
    service.client.get("/login")
    token = service.client.cookies["leadscore_login"]
    form = {"email": "ann@acme.example", "password": PASSWORD, "csrf": token}
    assert service.client.post("/login", data=form, follow_redirects=False).status_code == 303
    plain = service.client.get("/leads").text
    assert "chance to convert" not in plain  # no trained model: no chance, no such order
    trained = service.project.root / "models" / "predictive" / "buyers"
    (trained / "v1").mkdir(parents=True)
    (trained / "ACTIVE").write_text("1\n", encoding="utf-8")
    chances = {"L1": 0.25, "L2": 0.07, "L3": 0.6}  # Cy, Ann, Bo by chance
    table = pa.table(
        {
            "lead_id": list(chances),
            "model": ["buyers"] * 3,
            "version": [1] * 3,
            "probability": list(chances.values()),
            "score": [100 * p for p in chances.values()],
            "reasons": ["[]"] * 3,
        }
    )
    keep_predictions(service.store, table, 1_000, model="buyers", lead_ids=None)
    page = service.client.get("/leads?sort=chance").text
    assert "Ranked by the trained model's chance to convert" in page
    names = [name for name in ("Cy Dahl", "Ann Berg", "Bo Lund") if name in page]
    assert sorted(names, key=page.index) == ["Cy Dahl", "Ann Berg", "Bo Lund"]
    assert [cell for cell in ("60%", "25%", "7%") if cell in page] == ["60%", "25%", "7%"]
    by_points = service.client.get("/leads").text
    assert by_points.index("Bo Lund") < by_points.index("Ann Berg") < by_points.index("Cy Dahl")
