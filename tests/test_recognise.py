"""Recognition by content: download names, several files per table, ambiguity, files that fit
nothing, canonical names and options that win, lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIVE_ACCOUNTS, FIVE_CONTRACTS, write
from csops_cli.errors import InputError, ProblemCode
from csops_cli.loading import find_exports, load_exports
from csops_cli.loading.recognise import recognise, tables_of

COMPANIES = ("Record ID,Company name,Company owner,Create Date,Lifecycle Stage\n"
             "11,Alpha,Ann Lee,2024-03-01 10:00,Customer\n")
DEALS = ("Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Company IDs (Primary)\n"
         "101,Alpha new,Closed Won,2025-01-15,120000,11\n")
CALLS = ("Record ID,Call Title,Activity date,Activity assigned to,Associated Company IDs\n"
         "501,Kickoff,2026-11-20 14:05,Ann Lee,11\n")
NOTES = ("Record ID,Note body,Activity date,Activity assigned to,Associated Company IDs\n"
         "701,Spoke to champion,2026-11-19 10:00,Ann Lee,11\n")


def folder_of(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        write(folder, name, text)
    return folder


def placed(matches) -> dict[str, tuple]:
    return {m.path.name: (m.kind, m.table, m.source_id) for m in matches}


def test_download_names_are_recognised_by_their_headers(tmp_path, default_config):
    folder = folder_of(tmp_path, **{
        "hubspot-crm-exports-all-companies-2026-11-20.csv": COMPANIES,
        "report1795166040202.csv": DEALS,  # any name: the headers decide
    })
    assert placed(recognise(folder, default_config)) == {
        "hubspot-crm-exports-all-companies-2026-11-20.csv": ("table", "accounts",
                                                             "hubspot_companies"),
        "report1795166040202.csv": ("table", "contracts", "hubspot_deals")}
    match = recognise(folder, default_config)[0]
    assert match.tool == "HubSpot" and match.preset == "hubspot"
    assert match.mapped["account_name"] == "Company name"


def test_several_files_feed_activities_each_with_its_own_source(tmp_path, default_config):
    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES, "deals.csv": DEALS,
                                    "calls.csv": CALLS, "notes.csv": NOTES})
    feeding = tables_of(recognise(folder, default_config), folder)
    assert [m.source_id for m in feeding["activities"]] == ["hubspot_calls", "hubspot_notes"]
    activities = load_exports(folder, default_config).activities
    assert sorted(activities.frame["activity_type"]) == ["call", "note"]
    assert {activities.file_of(p).name for p in activities.frame.index} == {"calls.csv",
                                                                              "notes.csv"}


def test_two_accounts_like_files_are_an_error_naming_both_and_the_way_out(tmp_path,
                                                                          default_config):
    folder = folder_of(tmp_path, **{"companies-a.csv": COMPANIES, "companies-b.csv": COMPANIES,
                                    "deals.csv": DEALS})
    with pytest.raises(InputError) as caught:
        recognise(folder, default_config)
    problem = caught.value.problems[0]
    assert problem.code == ProblemCode.AMBIGUOUS_EXPORT
    assert "companies-a.csv and companies-b.csv" in problem.message
    assert "--accounts FILE" in problem.fix and "files:" in problem.fix


def test_a_file_that_fits_nothing_is_reported_not_refused(tmp_path, default_config):
    folder = folder_of(tmp_path, accounts_csv=FIVE_ACCOUNTS, contracts_csv=FIVE_CONTRACTS,
                       **{"notes.csv": "Colour,Taste\nred,sweet\n"})
    folder = tmp_path / "data"
    for name in ("accounts_csv", "contracts_csv"):
        (folder / name).rename(folder / name.replace("_", "."))
    matches = recognise(folder, default_config)
    assert placed(matches)["notes.csv"] == ("unplaced", None, None)
    load_exports(folder, default_config)  # still loads


def test_a_required_table_left_without_a_file_names_the_unplaced_files(tmp_path,
                                                                       default_config):
    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES,
                                    "mystery.csv": "Colour,Taste\nred,sweet\n"})
    with pytest.raises(InputError) as caught:
        find_exports(folder, config=default_config)
    assert caught.value.problems[0].code == ProblemCode.MISSING_EXPORT
    assert "mystery.csv" in caught.value.message


def test_canonical_names_and_options_win_over_recognition(tmp_path, default_config):
    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES, "deals.csv": DEALS})
    write(folder, "accounts.csv", FIVE_ACCOUNTS)
    matches = placed(recognise(folder, default_config))
    assert matches["accounts.csv"] == ("table", "accounts", None)
    assert matches["companies.csv"][0:2] == ("unused", "accounts")
    other = write(tmp_path, "elsewhere.csv", COMPANIES)
    matches = placed(recognise(folder, default_config, {"accounts": other}))
    assert matches["elsewhere.csv"] == ("table", "accounts", "hubspot_companies")
    assert matches["accounts.csv"][0] == "unused"


def test_a_file_with_the_canonical_columns_is_that_table(tmp_path, default_config):
    folder = folder_of(tmp_path, **{"crm_dump_1.csv": FIVE_ACCOUNTS.lstrip("\n"),
                                    "crm_dump_2.csv": FIVE_CONTRACTS.lstrip("\n")})
    assert find_exports(folder, config=default_config) == {
        "accounts": folder / "crm_dump_1.csv", "contracts": folder / "crm_dump_2.csv"}


def test_a_lookup_file_is_recognised_as_a_lookup(tmp_path, default_config, monkeypatch):
    from csops_cli.loading import recognise as module

    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES, "deals.csv": DEALS,
                                    "features-2026.json": "[]"})
    real = module._read_headers
    monkeypatch.setattr(module, "_read_headers", lambda path: ["id", "name", "kind"]
                        if path.suffix == ".json" else real(path))
    match = next(m for m in recognise(folder, default_config)
                 if m.path.name == "features-2026.json")
    assert (match.kind, match.source_id) == ("lookup", "pendo_feature_events")


def test_preset_none_turns_the_packaged_presets_off(tmp_path, default_config):
    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES, "deals.csv": DEALS})
    config = default_config.model_copy(update={"inputs": default_config.inputs.model_copy(
        update={"preset": "none"})})
    assert {m.kind for m in recognise(folder, config)} == {"unplaced"}
    only_salesforce = default_config.model_copy(update={
        "inputs": default_config.inputs.model_copy(update={"preset": "salesforce"})})
    assert {m.kind for m in recognise(folder, only_salesforce)} == {"unplaced"}


def test_a_file_that_cannot_be_read_is_unplaced_not_a_crash(tmp_path, default_config):
    folder = folder_of(tmp_path, **{"companies.csv": COMPANIES, "deals.csv": DEALS})
    (folder / "broken.parquet").write_bytes(b"not parquet at all")
    match = next(m for m in recognise(folder, default_config)
                 if m.path.name == "broken.parquet")
    assert match.kind == "unplaced" and match.reason.startswith("cannot be read")


def test_a_match_lists_mapped_columns_and_useful_columns_nothing_reads(tmp_path,
                                                                       default_config):
    folder = folder_of(tmp_path, **{
        "companies.csv": COMPANIES,
        "deals.csv": "Record ID,Deal Name,Deal Stage,Close Date,Amount,Deal owner,"
                     "Associated Company IDs (Primary)\n101,A,Closed Won,2025-01-15,1,Ann,11\n"})
    match = next(m for m in recognise(folder, default_config) if m.path.name == "deals.csv")
    assert match.mapped == {"contract_id": "Record ID",
                            "account_id": "Associated Company IDs (Primary)",
                            "signed_date": "Close Date"}
    assert "Deal owner" in match.unmapped  # shown by init as a column the user may map
    assert not {"Deal Stage", "Amount", "Close Date"} & set(match.unmapped)  # read by rules
