"""A DCI search request's criteria as the registry's read takes them, and the standard's reason code for one it
cannot run — whatever JSON another system sends in the query (no value reaches the registry unchecked); where a
subscriber's notifications may be pushed."""

from __future__ import annotations

import pytest

from services.gateway.dci import Rejected, check_notify_uri, criteria_of, standard_code
from services.gateway.dci_models import SearchCriteria
from services.gateway.jobs import DciPush


def expression(name: str, operator: str, value) -> dict:
    return {"attribute_name": name, "operator": operator, "attribute_value": value}


def criteria(*query, **options):
    return criteria_of(SearchCriteria(query_type=options.pop("query_type", "predicate"), query=list(query),
                                      **options), "18.01")


def test_predicates_narrow_region_deciles_and_statuses_together():
    found = criteria({"expression1": expression("region_code", "eq", "18.01.06")},
                     {"expression1": expression("poverty_decile", "ge", 3), "condition": "and",
                      "expression2": expression("poverty_decile", "lt", 6)},
                     {"expression1": expression("bdt_status", "in", ["active", "graduated"])},
                     sort=[{"attribute_name": "poverty_decile", "sort_order": "desc"}],
                     pagination={"page_size": 20, "page_number": 3})
    assert (found.region, sorted(found.deciles), sorted(found.statuses)) == ("18.01.06", [3, 4, 5],
                                                                            ["active", "graduated"])
    assert (found.sort, found.page_number, found.page_size) == ([["decile", "desc"]], 3, 20)


def test_no_predicate_is_every_household_of_the_clients_region():
    found = criteria()
    assert (found.region, sorted(found.deciles), found.page_size) == ("18.01", list(range(1, 11)), 50)


@pytest.mark.parametrize("query, options, code", [
    ([{"expression1": expression("name", "eq", "Siti")}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("region_code", "eq", "18.01'; --")}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("poverty_decile", "in", 5)}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("poverty_decile", "eq", True)}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("poverty_decile", "eq", 11)}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("bdt_status", "eq", {"$ne": "x"})}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("bdt_status", "in", ["active", ["removed"]])}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": expression("poverty_decile", "eq", 1), "condition": "or",
       "expression2": expression("poverty_decile", "eq", 2)}], {}, "rjct.search_criteria.invalid"),
    ([{"expression1": "not an expression"}], {}, "rjct.search_criteria.invalid"),
    ([], {"query_type": "idtype-value"}, "rjct.search_criteria.invalid"),
    ([], {"reg_type": "ns:org:RegistryType:Civil"}, "rjct.search_criteria.invalid"),
    ([], {"pagination": {"page_size": 0}}, "rjct.pagination.invalid"),
    ([], {"pagination": {"page_size": 501}}, "rjct.pagination.invalid"),
    ([], {"pagination": {"page_size": 10, "page_number": 10**20}}, "rjct.pagination.invalid"),
    ([], {"sort": [{"attribute_name": "name", "sort_order": "asc"}]}, "rjct.sort.invalid"),
    ([], {"sort": [{"attribute_name": "poverty_decile", "sort_order": "up"}]}, "rjct.sort.invalid"),
])
def test_a_request_it_cannot_run_is_rejected_with_the_standards_reason_code(query, options, code):
    with pytest.raises(Rejected) as rejected:
        criteria(*query, **options)
    assert rejected.value.code == code


def test_the_gateways_refusals_are_named_in_the_standards_codes():
    assert [standard_code(code, status) for code, status in [
        ("invalid", 400), ("unauthenticated", 401), ("forbidden", 403), ("out_of_region", 403),
        ("rule_violated", 403), ("not_found", 404), ("too_many_attempts", 429), ("unavailable", 503),
        ("upstream_error", 502), ("conflict", 409), ("too_large", 413), ("err.version.not_supported", 400)]] == [
        "err.request.bad", "err.request.unauthorized", "err.request.forbidden", "err.request.forbidden",
        "err.request.forbidden", "err.request.not_found", "err.request.too_many_requests", "err.service.unavailable",
        "err.service.unavailable", "err.request.bad", "err.request.bad", "err.version.not_supported"]


@pytest.mark.parametrize("uri", ["https://bansos.example.org/dci/notify", "https://10.0.0.5:8443/notify?k=v",
                                 "http://intranet.lamsel:8080/notify"])
def test_a_notify_uri_is_https_or_plain_http_to_a_listed_host(uri):
    check_notify_uri(uri, DciPush.from_config({"DCI_NOTIFY_HTTP_HOSTS": " Intranet.Lamsel, 127.0.0.1 "}).http_hosts)


@pytest.mark.parametrize("uri", ["http://bansos.example.org/notify", "http://127.0.0.1/notify",
                                 "https://user:secret@bansos.example.org/notify", "https://bansos.example.org:x/",
                                 "ftp://bansos.example.org/notify", "/notify", "https:///notify", ""])
def test_any_other_notify_uri_is_rejected_with_the_standards_reason_code(uri):
    with pytest.raises(Rejected) as rejected:  # no host is listed for plain http by default
        check_notify_uri(uri, DciPush.from_config({}).http_hosts)
    assert rejected.value.code == "rjct.notify_details.invalid" and "secret" not in rejected.value.message


@pytest.mark.parametrize("setting", [{"DCI_PUSH_MAX_EVENTS": "0"}, {"DCI_PUSH_MAX_EVENTS": "501"},
                                     {"DCI_PUSH_ATTEMPTS": "0"}, {"DCI_PUSH_TIMEOUT_S": "0"}])
def test_push_settings_out_of_range_stop_the_gateway(setting):
    with pytest.raises(ValueError, match="DCI push"):
        DciPush.from_config(setting)
