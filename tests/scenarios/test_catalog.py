"""The catalog: internally consistent and true to the domain figures."""

from __future__ import annotations

import re
from datetime import date

import pytest

from scenarios import catalog as cat

ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def _unique(ids: list[str]) -> bool:
    return len(ids) == len(set(ids))


def test_ids_are_valid_and_unique() -> None:
    for name, ids in [
        ("places", [p.id for p in cat.PLACES]),
        ("processes", [p.id for p in cat.PROCESSES]),
        ("clusters", [c.id for c in cat.CLUSTERS]),
        ("materials", [m.id for m in cat.MATERIALS]),
        ("centers", [c.id for c in cat.MATERIAL_CENTERS]),
        ("components", [c.id for c in cat.COMPONENTS]),
        ("buyers", [b.id for b in cat.BUYERS]),
    ]:
        assert _unique(ids), name
        assert all(ID.match(i) for i in ids), name


def test_references_resolve() -> None:
    for c in cat.CLUSTERS:
        assert all(p in cat.PLACE_BY_ID for p in c.places), c.id
        assert all(p in cat.PROCESS_BY_ID for p in c.process_share), c.id
        assert all(0 <= s <= 1 for s in c.process_share.values()), c.id
        assert set(c.certification_share) == set(cat.CERTIFICATIONS), c.id
        assert c.specialities, f"{c.id} has no speciality"
    for mc in cat.MATERIAL_CENTERS:
        assert mc.place in cat.PLACE_BY_ID
        assert all(m in cat.MATERIAL_BY_ID for m in mc.stock_kg)
    for comp in cat.COMPONENTS:
        assert all(b in cat.BUYER_BY_ID for b in comp.buyers), comp.id
        assert all(0 <= s < len(comp.routing) for s in comp.tooling_idr), comp.id
        for st in comp.routing:
            assert st.process in cat.PROCESS_BY_ID
            if st.material is not None:
                assert st.material in cat.MATERIAL_BY_ID
                assert st.material_kg is not None and st.material_kg > 0
    for b in cat.BUYERS:
        assert b.sites and all(s in cat.PLACE_BY_ID for s in b.sites), b.id
    for nw in cat.NAMED_WORKSHOPS:
        assert nw.cluster in cat.CLUSTER_BY_ID
        assert nw.place in cat.CLUSTER_BY_ID[nw.cluster].places
        assert nw.partner in cat.BUYER_BY_ID


def test_places_are_on_java() -> None:
    for p in cat.PLACES:
        assert -9.0 < p.lat < -5.5 and 105.0 < p.lon < 115.0, p.id


def test_every_material_is_held_somewhere_and_some_are_imported() -> None:
    held = {m for mc in cat.MATERIAL_CENTERS for m in mc.stock_kg}
    used = {st.material for c in cat.COMPONENTS for st in c.routing if st.material}
    assert used <= held
    assert any(not m.domestic for m in cat.MATERIALS)
    tegal = next(mc for mc in cat.MATERIAL_CENTERS if mc.id == "mc-tegal")
    assert tegal.opened == 2019
    assert any(mc.opened == 2022 and mc.place == "majalengka" for mc in cat.MATERIAL_CENTERS)


@pytest.mark.parametrize(("ids", "lo", "hi"), [
    (("fc200", "fc230", "fc250"), 12_000, 16_000),
    (("adc12",), 45_000, 55_000),
    (("spcc",), 13_000, 17_000),
    (("s45c",), 16_000, 20_000),
])
def test_material_prices_are_plausible(ids: tuple[str, ...], lo: int, hi: int) -> None:
    for mid in ids:
        assert lo <= cat.MATERIAL_BY_ID[mid].price_per_kg <= hi, mid


def test_rates_are_plausible() -> None:
    for c in cat.CLUSTERS:
        for proc in c.process_share:
            rate = cat.workshop_rate(proc, c.id)
            assert 60_000 <= rate <= 220_000, (c.id, proc, rate)
        if "casting" in c.process_share:
            assert 80_000 <= cat.workshop_rate("casting", c.id) <= 120_000
        if "machining" in c.process_share:
            assert 120_000 <= cat.workshop_rate("machining", c.id) <= 200_000


def test_components_have_multi_step_routings_and_casting_yield() -> None:
    assert len(cat.COMPONENTS) >= 6
    for comp in cat.COMPONENTS:
        assert len(comp.routing) >= 2, comp.id
        for st in comp.routing:
            # Whole pieces per hour: see catalog.Step.
            assert st.hours in cat.NICE_HOURS, (comp.id, st)
            if st.material is not None and st.process.endswith("casting"):
                assert st.material_kg is not None and st.material_kg > comp.weight_kg
        if comp.import_price is not None:
            assert comp.lead_periods is not None and comp.lead_periods >= 1
            # Buying abroad must cost more than making at home, or nothing would be made.
            assert comp.import_price > cat.domestic_unit_cost(comp), comp.id


def test_snap_hours() -> None:
    assert cat.snap_hours(0.4) == 0.5
    assert cat.snap_hours(0.24) == 0.25
    assert cat.snap_hours(0.012) == 0.0125
    assert all(cat.snap_hours(h) == h for h in cat.NICE_HOURS)


def test_named_ikm_from_the_sources() -> None:
    names = {nw.name: nw for nw in cat.NAMED_WORKSHOPS}
    assert names["CV Baja Kurnia"].cluster == "ceper"
    assert names["CV Baja Kurnia"].partner == "pln"
    assert names["CV Byakta Prakasa"].partner == "ks"


def test_calendar_around_idul_fitri() -> None:
    start = cat.DEFAULT_START
    assert start == date(2027, 2, 22) and start.weekday() == 0
    assert cat.lebaran_period(cat.DEFAULT_START, 8) == 2
    assert cat.lebaran_period(cat.DEFAULT_START, 2) is None
    f = cat.calendar_factors(cat.DEFAULT_START, 8)
    assert len(f) == 8
    assert f[0] < 1.0 and f[1] < 1.0  # Ramadan hours
    assert f[2] < 0.5  # Idul Fitri and cuti bersama
    assert f[4] < 1.0  # Good Friday
    assert f[5:] == [1.0, 1.0, 1.0]
    assert all(0.0 <= x <= 1.0 for x in f)
    idul = [h.day for h in cat.HOLIDAYS if "Idul Fitri" in h.name and not h.cuti_bersama]
    assert idul and all(d.month == 3 and 9 <= d.day <= 10 for d in idul)
