"""The /models preflight leaves a trace: one line on what the listing held, against the demo gateway."""

from __future__ import annotations

from routing_guard import report
from routing_guard.check import CheckOptions, run_check
from routing_guard.demo import DEMO_ROUTING, demo_gateway
from routing_guard.redact import Redactor, markdown_cell
from routing_guard.routing import load_routing_text


def test_the_preflight_says_how_many_models_and_which_routed_ids_are_missing() -> None:
    with demo_gateway() as base_url:
        text = DEMO_ROUTING.format(base_url=base_url) + "  docs:\n    model: gpt-9-unlisted\n"
        config = load_routing_text(text, "model-routing.yml")
        run = run_check(config, "", CheckOptions(models="with", retries=0), Redactor([]))
        plain = run_check(config, "", CheckOptions(retries=0), Redactor([]))
    assert run.listing_summary == (
        "GET /models: 3 model(s) listed; 3 of 4 routed model ID(s) listed (not listed: gpt-9-unlisted)"
    )
    assert plain.listing_summary == ""  # no preflight, no line
    table = report.render_table(run)
    assert run.listing_summary + "\n" in table
    assert report.report_document(run)["models_preflight"] == run.listing_summary
    assert report.report_document(plain)["models_preflight"] is None
    summary = report.render_summary(run)
    assert markdown_cell(run.listing_summary, 1000) in summary  # escaped as every gateway-derived cell
    assert "GET /models&#58; 3 model" in summary
    assert "GET /models" not in report.render_summary(plain)
