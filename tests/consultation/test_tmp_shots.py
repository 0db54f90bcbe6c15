from tests.consultation.test_browser import *  # noqa

def test_shots(browser, live):
    p = new_page(browser, live, viewport={"width": 1280, "height": 900})
    sign_in(p, live.email("probatoire_avec_infraction"))
    p.screenshot(path="/tmp/shot_desktop.png", full_page=True)
    sign_out(p)
    sign_in(p, live.email("solde_en_ecart"))
    p.screenshot(path="/tmp/shot_ecart.png", full_page=True)
    q = new_page(browser, live, viewport={"width": 360, "height": 740}, is_mobile=True, device_scale_factor=1)
    sign_in(q, live.email("longue_histoire"))
    q.screenshot(path="/tmp/shot_phone.png", full_page=True)
    q.goto("/verifier"); q.screenshot(path="/tmp/shot_verifier.png", full_page=True)
