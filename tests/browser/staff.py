"""Who works in the console in the browser tests: (username, role, region). Their password is
tests.support.households.PASSWORD."""

STAFF = {
    "operator": ("operator.kalianda", "operator", "18.01"),
    "operator_2": ("operator2.kalianda", "operator", "18.01"),
    "verifier": ("verifikator.lamsel", "verifier", "18.01"),
    "province": ("dinsos.lampung", "province", "18"),
    "ministry": ("kemensos.pusat", "ministry", ""),
    "treasurer": ("bendahara.lamsel", "treasurer", "18.01"),
    "treasurer_2": ("bendahara2.lamsel", "treasurer", "18.01"),  # confirms what the treasurer instructs
    "facilitator": ("pendamping.rina", "facilitator", "18.01"),
    "auditor": ("inspektorat.pusat", "auditor", ""),
    "admin": ("admin.pusat", "admin", ""),
    "admin_2": ("admin2.pusat", "admin", ""),  # approves what the admin asks to erase (maker–checker)
    "head": ("kadis.lamsel", "head", "18.01"),
    "operator_elsewhere": ("operator.lamteng", "operator", "18.02"),
}
