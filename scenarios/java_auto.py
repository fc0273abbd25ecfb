"""The built-in default scenario `java-automotive`: eight weeks of tier-2 work for Java's
carmakers, railway, power and steel companies across the island's metal IKM clusters,
spanning Idul Fitri 2027.

What makes it interesting to plan:
- the Idul Fitri week (period 2) leaves most workshops at 30-50% and the Ceper and
  Pasuruan cupolas cold, with a slow return the week after;
- the ADM cylinder-liner order asks for IATF 16949, which only one foundry holds;
- stainless sheet for car mufflers is imported and the Sidoarjo hub has too little of it;
- the transmission-cover and wheel-hub dies cost enough that buying abroad competes;
- state-owned buyers (KAI, INKA, PLN, Krakatau Steel) do not accept imports, and KAI's
  rush order in the last two weeks is more than the certified cupolas can pour, so a
  little of it goes unmet, with the reason.

The data are tuned so that the exact model proves optimal in well under a minute:
routing hours are whole pieces per hour, each step is open to a handful of shops (by
process, certification and offers), and fixed costs sit where the choice is clear-cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scenarios import catalog as cat

NAME = "java-automotive"
PERIODS = 8
STEP_LAG = 1


@dataclass(frozen=True)
class _Shop:
    cluster: str
    place: str
    name: str
    certs: tuple[str, ...]
    hours: dict[str, int]
    # share of normal capacity left in the Idul Fitri week
    lebaran: float
    engagement: int = 0
    rate_factor: float = 1.0


_ISO = ("SNI", "ISO9001")
_IATF = ("SNI", "ISO9001", "IATF16949")

# Hours per week each IKM offers the platform, per process. Foundries stop their cupolas
# over Idul Fitri (lebaran 0); larger shops keep a skeleton crew.
_SHOPS: tuple[_Shop, ...] = (
    # Ceper, Klaten: grey-iron foundries
    _Shop("ceper", "ceper", "CV Baja Kurnia", _ISO, {"casting": 105, "painting": 30}, 0.3),
    _Shop("ceper", "ceper", "UD Sumber Cor Batur", ("SNI",), {"casting": 80}, 0.0,
          rate_factor=0.95),
    _Shop("ceper", "ceper", "CV Logam Jaya Ceper", _ISO,
          {"casting": 90, "heat_treatment": 20}, 0.0),
    _Shop("ceper", "ceper", "CV Putra Cor Mandiri", ("SNI",), {"casting": 70}, 0.0),
    _Shop("ceper", "ceper", "UD Karya Logam Manunggal", ("SNI",), {"casting": 60}, 0.0,
          rate_factor=0.95),
    _Shop("ceper", "ceper", "CV Sinar Baja Klaten", _IATF,
          {"casting": 100, "heat_treatment": 30, "machining": 50}, 0.4,
          engagement=12_000_000, rate_factor=1.1),
    _Shop("ceper", "ceper", "CV Bintang Cor Abadi", ("SNI",), {"casting": 60}, 0.0),
    _Shop("ceper", "ceper", "UD Tunas Logam", (), {"casting": 50}, 0.0, rate_factor=0.9),
    _Shop("ceper", "ceper", "CV Mega Cor Sentosa", _ISO, {"casting": 75, "painting": 20}, 0.3),
    _Shop("ceper", "ceper", "CV Harapan Teknik Ceper", ("SNI",),
          {"machining": 60, "painting": 30}, 0.3),
    # Tegal: stamping, machining, welding for the carmakers
    _Shop("tegal", "adiwerna", "CV Karya Presisi Adiwerna", _ISO,
          {"stamping": 30, "welding": 45, "painting": 20}, 0.4),
    _Shop("tegal", "talang", "CV Mitra Logam Talang", _IATF,
          {"stamping": 40, "welding": 50, "machining": 60}, 0.5, rate_factor=1.1),
    _Shop("tegal", "adiwerna", "UD Sinar Teknik Adiwerna", ("SNI",),
          {"machining": 70, "welding": 40}, 0.3, rate_factor=0.95),
    _Shop("tegal", "adiwerna", "CV Duta Presisi Tegal", _ISO,
          {"machining": 80, "painting": 30}, 0.4),
    _Shop("tegal", "talang", "CV Surya Metal Talang", _ISO,
          {"stamping": 20, "welding": 40, "assembly": 30}, 0.4),
    _Shop("tegal", "adiwerna", "UD Jaya Mesin Adiwerna", ("SNI",),
          {"machining": 50, "stamping": 15}, 0.3, rate_factor=0.95),
    _Shop("tegal", "talang", "PT Prima Teknik Tegal", (*_ISO, "ISO14001"),
          {"machining": 75, "heat_treatment": 20, "assembly": 30}, 0.5, rate_factor=1.05),
    _Shop("tegal", "talang", "CV Cahaya Logam Takaru", ("ISO9001",),
          {"welding": 45, "painting": 40}, 0.3),
    # Purbalingga: exhaust mufflers
    _Shop("purbalingga", "purbalingga", "CV Sinar Knalpot Jaya", ("SNI",),
          {"stamping": 20, "welding": 60, "painting": 30}, 0.3),
    _Shop("purbalingga", "purbalingga", "UD Karya Knalpot Mandiri", ("SNI",),
          {"stamping": 15, "welding": 50}, 0.0, rate_factor=0.95),
    _Shop("purbalingga", "purbalingga", "CV Putra Knalpot Sejahtera", _ISO,
          {"stamping": 20, "welding": 70, "painting": 40}, 0.4),
    _Shop("purbalingga", "purbalingga", "UD Bina Las Purbalingga", (), {"welding": 45}, 0.0,
          rate_factor=0.9),
    _Shop("purbalingga", "purbalingga", "CV Mulia Knalpot Abadi", ("SNI",),
          {"stamping": 15, "welding": 45, "assembly": 20}, 0.3),
    # Sukabumi: aluminium casting
    _Shop("sukabumi", "sukabumi", "CV Cahaya Alumindo Sukabumi", ("SNI",),
          {"al_casting": 60, "machining": 50}, 0.4),
    _Shop("sukabumi", "sukabumi", "UD Sinar Aluminium Cisaat", ("SNI",),
          {"al_casting": 45, "machining": 30}, 0.3, rate_factor=0.95),
    _Shop("sukabumi", "sukabumi", "CV Mega Cor Aluminium", ("SNI",),
          {"al_casting": 50, "painting": 20}, 0.3),
    _Shop("sukabumi", "sukabumi", "CV Prima Presisi Sukabumi", _IATF,
          {"machining": 70, "al_casting": 40}, 0.5, rate_factor=1.1),
    # Pasuruan: castings for vehicles and diesel engines
    _Shop("pasuruan", "pasuruan", "CV Agung Cor Pasuruan", _ISO,
          {"casting": 80, "machining": 45}, 0.3),
    _Shop("pasuruan", "pasuruan", "UD Sumber Logam Bangil", ("SNI",), {"casting": 70}, 0.0,
          rate_factor=0.95),
    _Shop("pasuruan", "pasuruan", "CV Garuda Metal Pasuruan", ("SNI",),
          {"al_casting": 30, "heat_treatment": 20}, 0.4),
    _Shop("pasuruan", "pasuruan", "CV Nusa Mesin Bangil", ("SNI",), {"machining": 60}, 0.4),
    # Sidoarjo (Ngingas, Waru): machining and fabrication
    _Shop("sidoarjo", "waru", "CV Ngingas Teknik Mandiri", _ISO,
          {"machining": 75, "welding": 40}, 0.4),
    _Shop("sidoarjo", "waru", "UD Logam Waru Jaya", ("SNI",),
          {"machining": 50, "stamping": 15}, 0.3, rate_factor=0.95),
    _Shop("sidoarjo", "waru", "CV Wijaya Presisi Sidoarjo", _IATF,
          {"machining": 80, "heat_treatment": 30}, 0.5, rate_factor=1.1),
    _Shop("sidoarjo", "waru", "CV Sentosa Las Waru", ("SNI",),
          {"welding": 50, "painting": 30, "stamping": 20}, 0.3),
    _Shop("sidoarjo", "waru", "CV Rajawali Mesin Waru", ("SNI",),
          {"machining": 60, "assembly": 30}, 0.4),
    # Yogyakarta
    _Shop("yogyakarta", "yogyakarta", "CV Adi Cor Yogya", _ISO, {"casting": 60}, 0.3),
    _Shop("yogyakarta", "yogyakarta", "UD Karya Mesin Kotagede", ("SNI",),
          {"machining": 50}, 0.3),
    _Shop("yogyakarta", "yogyakarta", "CV Citra Logam Mataram", ("SNI",),
          {"casting": 45, "painting": 20}, 0.0),
    # Semarang
    _Shop("semarang", "semarang", "CV Semarang Presisi Utama", (*_ISO, "ISO14001"),
          {"machining": 75, "heat_treatment": 30}, 0.5),
    _Shop("semarang", "semarang", "CV Indo Teknik Genuk", ("SNI",),
          {"machining": 60, "painting": 40}, 0.4),
    _Shop("semarang", "semarang", "UD Makmur Las Semarang", ("SNI",), {"welding": 45}, 0.3),
    # Jabodetabek: close to the carmakers, dearest labour
    _Shop("jabodetabek", "bekasi", "CV Byakta Prakasa", _ISO,
          {"machining": 70, "heat_treatment": 20}, 0.5),
    _Shop("jabodetabek", "cikarang", "PT Mitra Presisi Cikarang", (*_IATF, "ISO14001"),
          {"machining": 90, "stamping": 30, "painting": 40}, 0.5),
    _Shop("jabodetabek", "bekasi", "CV Sukses Teknik Bekasi", ("SNI",),
          {"machining": 60, "welding": 40, "assembly": 30}, 0.4),
    _Shop("jabodetabek", "cikarang", "PT Duta Press Cikarang", _IATF,
          {"stamping": 40, "welding": 45, "painting": 30}, 0.5, engagement=12_000_000),
    # Majalengka and the IMC site in Plered, Purwakarta
    _Shop("majalengka", "majalengka", "CV Jatiwangi Teknik Mandiri", ("SNI",),
          {"welding": 45, "stamping": 15}, 0.3),
    _Shop("purwakarta", "plered", "CV Bina Presisi Plered", _ISO,
          {"machining": 60, "heat_treatment": 20, "assembly": 30}, 0.5),
)


def _shop_ids() -> list[str]:
    """`ikm-<cluster>-NNN`, numbered within each cluster in table order."""
    seen: dict[str, int] = {}
    ids: list[str] = []
    for s in _SHOPS:
        seen[s.cluster] = seen.get(s.cluster, 0) + 1
        ids.append(f"ikm-{s.cluster}-{seen[s.cluster]:03d}")
    return ids


def _factors(shop: _Shop) -> list[float]:
    """Per-period share of normal capacity for one workshop."""
    base = cat.calendar_factors(cat.DEFAULT_START, PERIODS)
    leb = cat.lebaran_period(cat.DEFAULT_START, PERIODS)
    assert leb is not None
    out = list(base)
    out[leb] = shop.lebaran
    # Workers travel home for mudik and come back over the following week; a cold cupola
    # also takes days to bring back.
    out[leb + 1] = 0.6 if shop.lebaran == 0.0 else 0.8
    return out


@dataclass(frozen=True)
class _Req:
    buyer: str
    component: str
    quantity: int
    release: int
    due: int
    site: str
    requires: tuple[str, ...] = ()
    max_suppliers: int | None = None
    allow_import: bool | None = None
    # Dual sourcing (SPEC 8.3): at least this many workshops per step.
    min_suppliers: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _shop_index() -> dict[str, int]:
    return {s.name: i for i, s in enumerate(_SHOPS)}


# Quotes of named workshops: (workshop name, component, step, price factor, hours or None
# for the routing's, tooling). The price factor scales rate x hours: a shop quoting for a
# tool it owns or will cut prices below its list rate.
_OFFERS: tuple[tuple[str, str, int, float, float | None, int], ...] = (
    # brake drum: a matchplate pattern moulds faster than loose patterns
    ("CV Baja Kurnia", "bd-12", 0, 0.9, 0.2, 18_000_000),
    # engine-mount bracket: only shops that own or will cut the progressive die
    ("CV Karya Presisi Adiwerna", "br-em", 0, 0.9, None, 55_000_000),
    ("CV Mitra Logam Talang", "br-em", 0, 0.85, 0.01, 65_000_000),
    ("PT Duta Press Cikarang", "br-em", 0, 0.95, 0.01, 60_000_000),
    ("CV Karya Presisi Adiwerna", "br-em", 1, 0.95, None, 0),
    ("CV Mitra Logam Talang", "br-em", 1, 0.9, None, 0),
    ("CV Surya Metal Talang", "br-em", 1, 0.95, None, 0),
    ("CV Cahaya Logam Takaru", "br-em", 1, 0.95, None, 0),
    ("PT Duta Press Cikarang", "br-em", 1, 1.0, None, 0),
    ("CV Karya Presisi Adiwerna", "br-em", 2, 0.95, None, 0),
    ("CV Duta Presisi Tegal", "br-em", 2, 0.95, None, 0),
    ("CV Cahaya Logam Takaru", "br-em", 2, 0.95, None, 0),
    ("PT Duta Press Cikarang", "br-em", 2, 1.0, None, 0),
    # car muffler: stainless forming and welding need qualified shops
    ("CV Mitra Logam Talang", "mf-4w", 0, 0.95, None, 85_000_000),
    ("PT Duta Press Cikarang", "mf-4w", 0, 1.0, 0.04, 95_000_000),
    ("CV Mitra Logam Talang", "mf-4w", 1, 0.95, None, 0),
    ("PT Duta Press Cikarang", "mf-4w", 1, 1.0, None, 0),
    ("CV Putra Knalpot Sejahtera", "mf-4w", 1, 0.9, None, 0),
    ("CV Ngingas Teknik Mandiri", "mf-4w", 1, 1.0, None, 0),
    ("CV Karya Presisi Adiwerna", "mf-4w", 2, 1.0, None, 0),
    ("PT Duta Press Cikarang", "mf-4w", 2, 1.0, None, 0),
    ("CV Putra Knalpot Sejahtera", "mf-4w", 2, 0.95, None, 0),
    # transmission cover: a high-pressure die per caster
    ("CV Cahaya Alumindo Sukabumi", "tc-adc", 0, 0.9, None, 180_000_000),
    ("CV Prima Presisi Sukabumi", "tc-adc", 0, 0.95, 0.04, 190_000_000),
    ("CV Garuda Metal Pasuruan", "tc-adc", 0, 0.9, None, 160_000_000),
    ("CV Cahaya Alumindo Sukabumi", "tc-adc", 1, 0.95, None, 0),
    ("UD Sinar Aluminium Cisaat", "tc-adc", 1, 0.9, None, 0),
    ("CV Prima Presisi Sukabumi", "tc-adc", 1, 1.0, 0.1, 0),
    ("CV Byakta Prakasa", "tc-adc", 1, 1.0, None, 0),
    ("CV Nusa Mesin Bangil", "tc-adc", 1, 0.9, None, 0),
    # wheel hub: a gravity die per caster
    ("UD Sinar Aluminium Cisaat", "wh-356", 0, 0.85, None, 110_000_000),
    ("CV Mega Cor Aluminium", "wh-356", 0, 0.9, None, 120_000_000),
    ("CV Cahaya Alumindo Sukabumi", "wh-356", 1, 0.95, None, 0),
    ("UD Sinar Aluminium Cisaat", "wh-356", 1, 0.9, None, 0),
    ("CV Prima Presisi Sukabumi", "wh-356", 1, 1.0, None, 0),
    ("PT Mitra Presisi Cikarang", "wh-356", 1, 1.0, None, 0),
    ("CV Mega Cor Aluminium", "wh-356", 2, 0.95, None, 0),
    ("PT Mitra Presisi Cikarang", "wh-356", 2, 1.0, None, 0),
)

_COMPONENTS: tuple[str, ...] = (
    "bd-12", "cs-80", "bb-k1", "gb-pl", "br-em", "mf-2w", "mf-4w", "tc-adc", "wh-356",
    "sh-ks", "kp-440", "bs-lt",
)

_REQUESTS: tuple[_Req, ...] = (
    _Req("hmmi", "bd-12", 1500, 0, 5, "kbi-purwakarta", ("ISO9001",)),
    _Req("isuzu", "bd-12", 1200, 1, 6, "karawang", ("ISO9001",)),
    _Req("mmki", "bd-12", 800, 2, 7, "cikarang", ("ISO9001",)),
    # Toyota dual-sources its liners: no single foundry carries a whole order.
    _Req("tmmin", "cs-80", 3000, 0, 5, "sunter", ("ISO9001",), min_suppliers=2),
    # ADM's engine line takes liners from IATF 16949 plants only
    _Req("adm", "cs-80", 2500, 2, 7, "karawang", ("IATF16949",)),
    _Req("kai", "bb-k1", 3000, 0, 4, "balai-yasa-yk", ("SNI",), allow_import=False),
    _Req("inka", "bb-k1", 2500, 1, 6, "madiun", ("SNI",), allow_import=False),
    _Req("pln", "gb-pl", 1800, 0, 7, "suralaya", ("ISO9001",), allow_import=False),
    _Req("adm", "br-em", 6000, 0, 5, "karawang", ("ISO9001",), 2),
    _Req("sim", "br-em", 4000, 1, 6, "tambun", ("ISO9001",)),
    _Req("mmki", "br-em", 2000, 3, 7, "cikarang", ("ISO9001",)),
    _Req("ahm", "mf-2w", 3000, 0, 5, "cikarang", ("SNI",)),
    _Req("yimm", "mf-2w", 2000, 2, 7, "pulogadung", ("SNI",)),
    _Req("tmmin", "mf-4w", 1200, 1, 7, "karawang", ("ISO9001",)),
    _Req("sim", "mf-4w", 800, 2, 7, "tambun", ("ISO9001",)),
    _Req("ahm", "tc-adc", 4000, 0, 6, "karawang", ("SNI",), 2),
    _Req("yimm", "tc-adc", 2000, 2, 7, "pulogadung", ("SNI",)),
    _Req("ahm", "wh-356", 3000, 1, 7, "sunter", ("SNI",)),
    _Req("ks", "sh-ks", 400, 0, 7, "cilegon", ("ISO9001",), allow_import=False),
    _Req("hmmi", "kp-440", 2000, 0, 6, "kbi-purwakarta", ("ISO9001",)),
    _Req("isuzu", "bs-lt", 3000, 0, 5, "karawang", ("ISO9001",)),
    _Req("hmmi", "bs-lt", 2000, 2, 7, "kbi-purwakarta", ("ISO9001",)),
    _Req("tmmin", "cs-80", 1500, 4, 7, "sunter", ("ISO9001",)),
    # KAI's rush order for the after-Lebaran freight season: blocks cast in week 7 and
    # painted in week 8 are more than Java's certified cupolas can pour in one week.
    # A missing block keeps a wagon in the depot: KAI prices that at 2.5 million IDR a
    # block, well above making one, far below the platform's default penalty.
    _Req("kai", "bb-k1", 4700, 6, 7, "balai-yasa-yk", ("SNI",), allow_import=False,
         extra={"unmet_penalty": 2.5e6}),
)


def _locations() -> list[dict[str, Any]]:
    used: set[str] = {s.place for s in _SHOPS}
    used.update(c.place for c in cat.MATERIAL_CENTERS)
    used.update(r.site for r in _REQUESTS)
    return [
        {"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon}
        for p in cat.PLACES
        if p.id in used
    ]


def _materials(component_ids: list[str]) -> list[str]:
    mats: list[str] = []
    for cid in component_ids:
        for step in cat.COMPONENT_BY_ID[cid].routing:
            if step.material is not None and step.material not in mats:
                mats.append(step.material)
    return mats


def _centers(materials: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for mc in cat.MATERIAL_CENTERS:
        held: dict[str, Any] = {}
        for mid, kg in mc.stock_kg.items():
            if mid not in materials:
                continue
            m = cat.MATERIAL_BY_ID[mid]
            # Sidoarjo's stainless for car mufflers is short this quarter: 12 t is 1,600
            # mufflers, 400 fewer than ordered.
            stock = 12_000 if (mc.id, mid) == ("mc-sidoarjo", "sus409l") else kg
            held[mid] = {"stock_kg": stock, "price_per_kg": m.price_per_kg,
                         "domestic": m.domestic}
        if held:
            out.append({"id": mc.id, "name": mc.name, "location": mc.place,
                        "materials": held})
    return out


# Minimum lots (SPEC 8.2): a foundry does not set up a pattern and melt a ladle for a few
# pieces. A green-sand line pours a grey-iron pattern for about a shift (100 pieces) at the
# least; a die-casting cell changes dies and warms them for 200 shots at the least.
_MIN_LOT = {"casting": 100, "al_casting": 200}


def _component_dict(cid: str) -> dict[str, Any]:
    c = cat.COMPONENT_BY_ID[cid]
    routing: list[dict[str, Any]] = []
    for s in c.routing:
        step: dict[str, Any] = {"process": s.process, "hours": s.hours}
        if s.material is not None:
            step["material"] = s.material
            step["material_kg"] = s.material_kg
        if s.process in _MIN_LOT:
            step["min_lot"] = _MIN_LOT[s.process]
        routing.append(step)
    d: dict[str, Any] = {"id": c.id, "name": c.name, "weight_kg": c.weight_kg}
    if c.import_price is not None:
        d["import"] = {"price": c.import_price, "lead_periods": c.lead_periods or 0}
    d["offers_only"] = c.offers_only
    d["routing"] = routing
    return d


def _unit_value(cid: str) -> float:
    c = cat.COMPONENT_BY_ID[cid]
    return float(c.import_price) if c.import_price else cat.domestic_unit_cost(c)


def build() -> dict[str, Any]:
    """The `java-automotive` scenario as a plain, JSON-serialisable document."""
    ids = _shop_ids()
    by_name = _shop_index()
    component_ids = list(_COMPONENTS)
    materials = _materials(component_ids)

    workshops: list[dict[str, Any]] = []
    for wid, shop in zip(ids, _SHOPS, strict=True):
        factors = _factors(shop)
        workshops.append({
            "id": wid,
            "name": shop.name,
            "location": shop.place,
            "certifications": list(shop.certs),
            "capacity": dict(shop.hours),
            "capacity_by_period": {
                p: [int(round(h * f)) for f in factors] for p, h in shop.hours.items()
            },
            "rate": {p: cat.workshop_rate(p, shop.cluster, shop.rate_factor)
                     for p in shop.hours},
            "engagement_cost": shop.engagement,
        })

    offers: list[dict[str, Any]] = []
    for name, cid, step, price_f, quoted_hours, tooling in _OFFERS:
        i = by_name[name]
        shop = _SHOPS[i]
        st = cat.COMPONENT_BY_ID[cid].routing[step]
        hours = st.hours if quoted_hours is None else quoted_hours
        rate = cat.workshop_rate(st.process, shop.cluster, shop.rate_factor)
        offers.append({
            "workshop": ids[i], "component": cid, "step": step,
            "unit_price": float(round(rate * hours * price_f)),
            "hours": hours,
            "tooling_cost": tooling,
        })

    requests: list[dict[str, Any]] = []
    for n, r in enumerate(_REQUESTS, start=1):
        buyer = cat.BUYER_BY_ID[r.buyer]
        req: dict[str, Any] = {
            "id": f"REQ-{n:04d}",
            "buyer": buyer.name,
            "component": r.component,
            "quantity": r.quantity,
            "release": r.release,
            "due": r.due,
            "destination": r.site,
            "requires": list(r.requires),
        }
        if r.max_suppliers is not None:
            req["max_suppliers_per_step"] = r.max_suppliers
        if r.min_suppliers is not None:
            req["min_suppliers_per_step"] = r.min_suppliers
        if r.allow_import is not None:
            req["allow_import"] = r.allow_import
        # A buyer charges about 1% of the part's value per week late.
        req["late_penalty"] = float(round(0.01 * _unit_value(r.component), -1))
        req.update(r.extra)
        requests.append(req)

    return {
        "name": NAME,
        "currency": "IDR",
        "horizon": {"periods": PERIODS, "period_days": 7, "start": cat.DEFAULT_START.isoformat()},
        # Part-load trucking on Java runs about 2 IDR per kg-km door to door.
        "transport": {"cost_per_kg_km": 2.0, "road_factor": 1.25},
        "policy": {
            "min_domestic_share": 0.0,
            "min_local_content": 0.0,
            "import_tariff": 0.1,
            "step_lag_periods": STEP_LAG,
            "unmet_penalty": 5.0e7,
            "late_penalty": 2500.0,
        },
        "locations": _locations(),
        "materials": [{"id": m, "name": cat.MATERIAL_BY_ID[m].name} for m in materials],
        "material_centers": _centers(materials),
        "workshops": workshops,
        "components": [_component_dict(cid) for cid in _COMPONENTS],
        "offers": offers,
        "requests": requests,
    }
