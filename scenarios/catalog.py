"""Domain data for the built-in and generated scenarios: places, processes, materials,
material centers, components, buyers and holidays of Java's metal-working IKM.

Figures follow the project's domain notes (DOMAIN.md) where those give them (cluster sizes of
Ceper, Purbalingga and Sidoarjo, the Tegal and Majalengka material centers, the named IKM
and their state-owned partners). Everything else is a plausible estimate for 2027 and is
marked `estimate` where a reader might take it for a reported figure. Coordinates are
approximate town or industrial-estate centres, good to a few kilometres, which is all a
great-circle distance times a road factor needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Literal

Sector = Literal["automotive", "motorcycle", "rail", "power", "steel"]


@dataclass(frozen=True)
class Place:
    """A location of a scenario: a cluster village, a material center or a buyer's plant."""

    id: str
    name: str
    lat: float
    lon: float
    province: str


@dataclass(frozen=True)
class Process:
    """A manufacturing process with its going machine-hour rate on Java in 2027.

    `rate_idr` is the national base rate (labour, machine and overhead) per process-hour;
    clusters scale it by their `rate_factor`, which tracks the regional minimum wage.
    `hours_per_week` is the range of process-hours a single IKM typically offers to the
    platform: spare capacity on top of its own customers, not its whole shop floor.
    """

    id: str
    name: str
    rate_idr: int
    hours_per_week: tuple[int, int]


@dataclass(frozen=True)
class Cluster:
    """An IKM center ("sentra"): a group of similar workshops sharing labour and supplies.

    `process_share` is the chance that one workshop of the cluster runs a process; the
    first processes listed are the cluster's specialities. `typical_workshops` is the
    number of metal IKM in the cluster (`count_source` says whether that is the reported
    figure or an estimate).
    """

    id: str
    name: str
    province: str
    places: tuple[str, ...]
    process_share: MappingProxyType[str, float]
    typical_workshops: int
    count_source: Literal["reported", "estimate"]
    hours_per_week: int
    rate_factor: float
    certification_share: MappingProxyType[str, float]
    note: str = ""

    @property
    def specialities(self) -> tuple[str, ...]:
        return tuple(p for p, share in self.process_share.items() if share >= 0.5)


@dataclass(frozen=True)
class Material:
    id: str
    name: str
    price_per_kg: int
    domestic: bool
    source: str


@dataclass(frozen=True)
class MaterialCenter:
    id: str
    name: str
    place: str
    opened: int | None
    # material id -> typical stock on hand in kg for an 8-week horizon
    stock_kg: MappingProxyType[str, int]
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One routing step. Hours per unit are whole fractions of an hour (1/2, 1/8, 1/80):
    IKM quote output in pieces per hour, and with whole hours of capacity a full period
    is then a whole number of pieces, which keeps exact solvers from chasing fractions."""

    process: str
    hours: float
    material: str | None = None
    material_kg: float | None = None


@dataclass(frozen=True)
class Component:
    """A part with its routing. `tooling_idr` is the typical cost of the dedicated tool
    (pattern, die, fixture) for a step, quoted by workshops in their offers."""

    id: str
    name: str
    sector: Sector
    weight_kg: float
    routing: tuple[Step, ...]
    import_price: int | None = None
    lead_periods: int | None = None
    offers_only: bool = False
    tooling_idr: MappingProxyType[int, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    buyers: tuple[str, ...] = ()
    lot: tuple[int, int] = (500, 3000)


@dataclass(frozen=True)
class Buyer:
    id: str
    name: str
    sector: Sector
    sites: tuple[str, ...]
    # certifications this buyer usually asks of its tier-2 suppliers
    requires: tuple[str, ...] = ()
    # state-owned buyers follow the domestic-preference rules of public procurement
    state_owned: bool = False


@dataclass(frozen=True)
class NamedWorkshop:
    """An IKM named in the sources; other workshops get generated names."""

    name: str
    cluster: str
    place: str
    certifications: tuple[str, ...]
    partner: str
    note: str


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    cuti_bersama: bool = False


def _ro(d: dict[str, float]) -> MappingProxyType[str, float]:
    return MappingProxyType(d)


# --- Places --------------------------------------------------------------------------

PLACES: tuple[Place, ...] = (
    # metal-working clusters
    Place("ceper", "Ceper, Klaten", -7.672, 110.676, "Central Java"),
    Place("klaten", "Klaten", -7.706, 110.601, "Central Java"),
    Place("adiwerna", "Adiwerna, Tegal", -6.936, 109.131, "Central Java"),
    Place("talang", "Talang, Tegal (LIK Takaru)", -6.908, 109.160, "Central Java"),
    Place("tegal", "Tegal", -6.869, 109.125, "Central Java"),
    Place("purbalingga", "Purbalingga", -7.388, 109.364, "Central Java"),
    Place("sukabumi", "Sukabumi", -6.921, 106.927, "West Java"),
    Place("cisaat", "Cisaat, Sukabumi", -6.906, 106.886, "West Java"),
    Place("pasuruan", "Pasuruan", -7.645, 112.907, "East Java"),
    Place("bangil", "Bangil, Pasuruan", -7.600, 112.782, "East Java"),
    Place("waru", "Waru (Ngingas), Sidoarjo", -7.357, 112.728, "East Java"),
    Place("sidoarjo", "Sidoarjo", -7.447, 112.718, "East Java"),
    Place("yogyakarta", "Yogyakarta", -7.797, 110.370, "Yogyakarta"),
    Place("semarang", "Semarang (Genuk)", -6.960, 110.470, "Central Java"),
    Place("bekasi", "Bekasi", -6.238, 106.975, "West Java"),
    Place("cikarang", "Cikarang, Bekasi", -6.307, 107.152, "West Java"),
    Place("tangerang", "Tangerang", -6.178, 106.630, "Banten"),
    Place("majalengka", "Majalengka", -6.836, 108.227, "West Java"),
    Place("plered", "Plered, Purwakarta (IMC site)", -6.633, 107.383, "West Java"),
    # buyers' plants and depots
    Place("sunter", "Sunter, North Jakarta", -6.139, 106.867, "Jakarta"),
    Place("pulogadung", "Pulogadung, East Jakarta", -6.191, 106.905, "Jakarta"),
    Place("tambun", "Tambun, Bekasi", -6.261, 107.063, "West Java"),
    Place("karawang", "Karawang (KIIC)", -6.361, 107.288, "West Java"),
    Place("kbi-purwakarta", "Kota Bukit Indah, Purwakarta", -6.468, 107.420, "West Java"),
    Place("madiun", "Madiun", -7.625, 111.523, "East Java"),
    Place("balai-yasa-yk", "Balai Yasa Pengok, Yogyakarta", -7.785, 110.387, "Yogyakarta"),
    Place("surabaya", "Surabaya", -7.257, 112.752, "East Java"),
    Place("cilegon", "Cilegon", -6.002, 106.019, "Banten"),
    Place("suralaya", "Suralaya, Cilegon", -5.890, 106.030, "Banten"),
)
PLACE_BY_ID: MappingProxyType[str, Place] = MappingProxyType({p.id: p for p in PLACES})

# The ports through which imported steel, stainless and aluminium grades arrive; generated
# scenarios of the scarce-material profile stock imported grades there.
PORTS: tuple[Place, ...] = (
    Place("tanjung-priok", "Tanjung Priok, North Jakarta", -6.104, 106.886, "Jakarta"),
    Place("tanjung-perak", "Tanjung Perak, Surabaya", -7.199, 112.733, "East Java"),
)

# --- Processes -----------------------------------------------------------------------

PROCESSES: tuple[Process, ...] = (
    Process("casting", "Grey-iron sand casting (cupola / induction)", 100_000, (40, 160)),
    Process("al_casting", "Aluminium die casting", 115_000, (40, 120)),
    Process("machining", "CNC and conventional machining", 160_000, (40, 180)),
    Process("stamping", "Press stamping", 140_000, (20, 80)),
    Process("welding", "MIG/spot welding", 110_000, (40, 160)),
    Process("painting", "Painting and surface finishing", 85_000, (30, 120)),
    Process("heat_treatment", "Heat treatment (hardening, tempering)", 130_000, (20, 80)),
    Process("assembly", "Assembly and riveting", 75_000, (40, 160)),
)
PROCESS_BY_ID: MappingProxyType[str, Process] = MappingProxyType({p.id: p for p in PROCESSES})

CERTIFICATIONS: tuple[str, ...] = ("SNI", "ISO9001", "ISO14001", "IATF16949")

# --- Clusters ------------------------------------------------------------------------

CLUSTERS: tuple[Cluster, ...] = (
    Cluster(
        "ceper", "Ceper, Klaten", "Central Java", ("ceper", "klaten"),
        _ro({"casting": 0.95, "painting": 0.35, "machining": 0.3, "heat_treatment": 0.1}),
        300, "reported", 48, 0.90,
        _ro({"SNI": 0.6, "ISO9001": 0.35, "ISO14001": 0.05, "IATF16949": 0.05}),
        "grey-iron foundries, about 4,000 workers; cylinder sleeves, rail brake blocks",
    ),
    Cluster(
        "tegal", "Tegal (Adiwerna, Talang)", "Central Java", ("adiwerna", "talang", "tegal"),
        _ro({"stamping": 0.6, "machining": 0.6, "welding": 0.55, "painting": 0.35,
             "assembly": 0.25}),
        400, "estimate", 48, 0.90,
        _ro({"SNI": 0.4, "ISO9001": 0.45, "ISO14001": 0.1, "IATF16949": 0.1}),
        "tier-2 supplier to Astra Honda, Toyota, Daihatsu and Suzuki",
    ),
    Cluster(
        "purbalingga", "Purbalingga", "Central Java", ("purbalingga",),
        _ro({"welding": 0.9, "stamping": 0.7, "painting": 0.6, "assembly": 0.2}),
        175, "reported", 48, 0.88,
        _ro({"SNI": 0.5, "ISO9001": 0.25, "ISO14001": 0.0, "IATF16949": 0.0}),
        "exhaust mufflers, 150 to 200 IKM",
    ),
    Cluster(
        "sukabumi", "Sukabumi", "West Java", ("sukabumi", "cisaat"),
        _ro({"al_casting": 0.9, "machining": 0.55, "painting": 0.2}),
        120, "estimate", 48, 0.95,
        _ro({"SNI": 0.5, "ISO9001": 0.35, "ISO14001": 0.05, "IATF16949": 0.05}),
        "aluminium casting, about half of it automotive spare parts",
    ),
    Cluster(
        "pasuruan", "Pasuruan", "East Java", ("pasuruan", "bangil"),
        _ro({"casting": 0.85, "machining": 0.5, "al_casting": 0.2, "heat_treatment": 0.15,
             "painting": 0.2}),
        150, "estimate", 48, 1.00,
        _ro({"SNI": 0.55, "ISO9001": 0.4, "ISO14001": 0.1, "IATF16949": 0.05}),
        "castings for two- and four-wheeler parts and diesel engines",
    ),
    Cluster(
        "sidoarjo", "Sidoarjo (Ngingas, Waru)", "East Java", ("waru", "sidoarjo"),
        _ro({"machining": 0.75, "welding": 0.5, "stamping": 0.35, "heat_treatment": 0.2,
             "painting": 0.25, "assembly": 0.2}),
        320, "reported", 48, 1.05,
        _ro({"SNI": 0.45, "ISO9001": 0.45, "ISO14001": 0.1, "IATF16949": 0.1}),
        "about 320 metal-working IKM",
    ),
    Cluster(
        "yogyakarta", "Yogyakarta", "Yogyakarta", ("yogyakarta",),
        _ro({"casting": 0.5, "machining": 0.6, "welding": 0.3, "painting": 0.2}),
        80, "estimate", 44, 0.88,
        _ro({"SNI": 0.45, "ISO9001": 0.35, "ISO14001": 0.05, "IATF16949": 0.0}),
    ),
    Cluster(
        "semarang", "Semarang", "Central Java", ("semarang",),
        _ro({"machining": 0.7, "heat_treatment": 0.35, "painting": 0.4, "welding": 0.3}),
        90, "estimate", 48, 0.95,
        _ro({"SNI": 0.45, "ISO9001": 0.5, "ISO14001": 0.15, "IATF16949": 0.1}),
    ),
    Cluster(
        "jabodetabek", "Jabodetabek", "West Java", ("bekasi", "cikarang", "tangerang"),
        _ro({"machining": 0.75, "stamping": 0.45, "painting": 0.4, "heat_treatment": 0.25,
             "welding": 0.4, "assembly": 0.35}),
        250, "estimate", 48, 1.20,
        _ro({"SNI": 0.5, "ISO9001": 0.7, "ISO14001": 0.3, "IATF16949": 0.3}),
        "near the carmakers; highest wages",
    ),
    Cluster(
        "majalengka", "Majalengka", "West Java", ("majalengka",),
        _ro({"welding": 0.6, "machining": 0.5, "stamping": 0.3, "painting": 0.3}),
        40, "estimate", 48, 0.90,
        _ro({"SNI": 0.4, "ISO9001": 0.25, "ISO14001": 0.0, "IATF16949": 0.0}),
        "served by the 2022 material center",
    ),
    Cluster(
        "purwakarta", "Plered, Purwakarta", "West Java", ("plered",),
        _ro({"machining": 0.8, "heat_treatment": 0.4, "assembly": 0.5, "welding": 0.3}),
        20, "estimate", 48, 1.10,
        _ro({"SNI": 0.5, "ISO9001": 0.6, "ISO14001": 0.2, "IATF16949": 0.2}),
        "around the physical IMC site (groundbreaking 5 December 2022)",
    ),
)
CLUSTER_BY_ID: MappingProxyType[str, Cluster] = MappingProxyType({c.id: c for c in CLUSTERS})

# --- Materials -----------------------------------------------------------------------

MATERIALS: tuple[Material, ...] = (
    Material("fc200", "Grey cast iron FC200", 13_200, True, "pig iron and scrap, domestic"),
    Material("fc230", "Grey cast iron FC230", 14_000, True, "pig iron and scrap, domestic"),
    Material("fc250", "Grey cast iron FC250", 14_800, True, "pig iron and scrap, domestic"),
    Material("adc12", "Aluminium die-casting alloy ADC12", 48_500, True,
             "secondary ingot from domestic smelters"),
    Material("a356", "Aluminium casting alloy A356 (AC4CH)", 56_000, False, "imported ingot"),
    Material("spcc", "Cold-rolled steel sheet SPCC", 15_500, True, "domestic mill"),
    Material("sphc", "Hot-rolled pickled steel sheet SPHC", 13_000, True, "domestic mill"),
    Material("s45c", "Carbon-steel bar S45C", 18_000, True, "domestic mill"),
    Material("scm440", "Cr-Mo alloy steel bar SCM440", 26_000, False, "imported bar"),
    Material("sus409l", "Ferritic stainless sheet SUS409L", 38_000, False, "imported coil"),
)
MATERIAL_BY_ID: MappingProxyType[str, Material] = MappingProxyType(
    {m.id: m for m in MATERIALS}
)

# --- Material centers ----------------------------------------------------------------

MATERIAL_CENTERS: tuple[MaterialCenter, ...] = (
    MaterialCenter(
        "mc-tegal", "Material Center IKM Logam Tegal", "talang", 2019,
        MappingProxyType({"spcc": 120_000, "sphc": 150_000, "s45c": 60_000}),
        "opened 2019; steel plate from domestic mills",
    ),
    MaterialCenter(
        "mc-majalengka", "Material Center Majalengka", "majalengka", 2022,
        MappingProxyType({"spcc": 80_000, "sphc": 80_000, "s45c": 40_000}),
        "opened 2022",
    ),
    MaterialCenter(
        "mc-ceper", "Ceper foundry supply (pig iron and scrap)", "ceper", None,
        MappingProxyType({"fc200": 250_000, "fc230": 150_000, "fc250": 300_000}),
        "illustrative: charge material for the Ceper cupolas",
    ),
    MaterialCenter(
        "mc-sidoarjo", "Sidoarjo metal supply hub", "waru", None,
        MappingProxyType({"fc250": 120_000, "adc12": 30_000, "s45c": 60_000,
                          "scm440": 15_000, "sus409l": 20_000}),
        "illustrative: East Java hub, also stocks imported grades",
    ),
    MaterialCenter(
        "mc-sukabumi", "Sukabumi aluminium supply", "sukabumi", None,
        MappingProxyType({"adc12": 60_000, "a356": 20_000}),
        "illustrative: aluminium ingot for the Sukabumi die casters",
    ),
)

# --- Components ----------------------------------------------------------------------

COMPONENTS: tuple[Component, ...] = (
    Component(
        "bd-12", "Brake drum BD-12, light truck (FC250)", "automotive", 9.5,
        (Step("casting", 0.25, "fc250", 11.8), Step("machining", 0.5),
         Step("painting", 0.05)),
        import_price=420_000, lead_periods=5,
        tooling_idr=MappingProxyType({0: 18_000_000}),
        buyers=("hmmi", "isuzu", "mmki"), lot=(600, 2000),
    ),
    Component(
        "cs-80", "Cylinder liner 80 mm, centrifugally cast (FC250)", "automotive", 1.6,
        (Step("casting", 0.1, "fc250", 2.2), Step("heat_treatment", 0.02),
         Step("machining", 0.2)),
        import_price=110_000, lead_periods=4,
        buyers=("tmmin", "adm"), lot=(1500, 5000),
    ),
    Component(
        "bb-k1", "Rail brake block, freight wagon (FC200)", "rail", 11.0,
        (Step("casting", 0.2, "fc200", 12.5), Step("painting", 0.02)),
        import_price=260_000, lead_periods=6,
        buyers=("kai", "inka"), lot=(1000, 3500),
    ),
    Component(
        "gb-pl", "Boiler grate bar, coal-fired power plant (FC230)", "power", 6.5,
        (Step("casting", 0.125, "fc230", 7.6), Step("machining", 0.1)),
        import_price=190_000, lead_periods=8,
        buyers=("pln",), lot=(800, 2500),
    ),
    Component(
        "br-em", "Engine-mount bracket, stamped and welded (SPCC 2.3 mm)", "automotive", 0.85,
        (Step("stamping", 0.0125, "spcc", 1.15), Step("welding", 0.04),
         Step("painting", 0.0125)),
        import_price=48_000, lead_periods=3, offers_only=True,
        tooling_idr=MappingProxyType({0: 60_000_000, 1: 8_000_000}),
        buyers=("adm", "sim", "mmki"), lot=(2000, 8000),
    ),
    Component(
        "mf-2w", "Motorcycle muffler (silencer), 110-125 cc", "motorcycle", 2.8,
        (Step("stamping", 0.04, "spcc", 3.4), Step("welding", 0.125),
         Step("painting", 0.05)),
        import_price=210_000, lead_periods=4,
        tooling_idr=MappingProxyType({0: 25_000_000}),
        buyers=("ahm", "yimm"), lot=(1000, 4000),
    ),
    Component(
        "mf-4w", "Car rear muffler (SUS409L)", "automotive", 6.2,
        (Step("stamping", 0.05, "sus409l", 7.5), Step("welding", 0.25),
         Step("painting", 0.04)),
        import_price=600_000, lead_periods=5, offers_only=True,
        tooling_idr=MappingProxyType({0: 90_000_000}),
        buyers=("adm", "tmmin", "sim"), lot=(500, 2000),
    ),
    Component(
        "tc-adc", "Transmission side cover, die cast (ADC12)", "motorcycle", 1.9,
        (Step("al_casting", 0.05, "adc12", 2.5), Step("machining", 0.125)),
        import_price=215_000, lead_periods=4, offers_only=True,
        tooling_idr=MappingProxyType({0: 180_000_000, 1: 12_000_000}),
        buyers=("ahm", "yimm", "sim"), lot=(2000, 6000),
    ),
    Component(
        "wh-356", "Motorcycle rear wheel hub (A356)", "motorcycle", 1.4,
        (Step("al_casting", 0.1, "a356", 1.9), Step("machining", 0.2),
         Step("painting", 0.025)),
        import_price=230_000, lead_periods=4, offers_only=True,
        tooling_idr=MappingProxyType({0: 120_000_000}),
        buyers=("ahm", "yimm"), lot=(1500, 5000),
    ),
    Component(
        "sh-ks", "Conveyor roller shaft, mill line (S45C)", "steel", 14.0,
        (Step("machining", 1.0, "s45c", 16.5), Step("heat_treatment", 0.125),
         Step("machining", 0.25)),
        import_price=800_000, lead_periods=6,
        buyers=("ks",), lot=(150, 600),
    ),
    Component(
        "kp-440", "Steering knuckle king pin (SCM440)", "automotive", 1.3,
        (Step("machining", 0.2, "scm440", 1.6), Step("heat_treatment", 0.05),
         Step("machining", 0.1)),
        import_price=150_000, lead_periods=4,
        buyers=("hmmi", "isuzu"), lot=(800, 3000),
    ),
    Component(
        "bs-lt", "Brake shoe, welded steel with riveted lining (SPHC)", "automotive", 2.1,
        (Step("stamping", 0.02, "sphc", 2.4), Step("welding", 0.05),
         Step("assembly", 0.025)),
        import_price=75_000, lead_periods=3,
        tooling_idr=MappingProxyType({0: 30_000_000}),
        buyers=("isuzu", "hmmi", "mmki"), lot=(1000, 4000),
    ),
)
COMPONENT_BY_ID: MappingProxyType[str, Component] = MappingProxyType(
    {c.id: c for c in COMPONENTS}
)

# --- Buyers --------------------------------------------------------------------------

BUYERS: tuple[Buyer, ...] = (
    Buyer("adm", "PT Astra Daihatsu Motor", "automotive", ("sunter", "karawang"),
          ("ISO9001",)),
    Buyer("tmmin", "PT Toyota Motor Manufacturing Indonesia", "automotive",
          ("sunter", "karawang"), ("ISO9001",)),
    Buyer("sim", "PT Suzuki Indomobil Motor", "automotive", ("tambun", "cikarang"),
          ("ISO9001",)),
    Buyer("mmki", "PT Mitsubishi Motors Krama Yudha Indonesia", "automotive",
          ("cikarang",), ("ISO9001",)),
    Buyer("hmmi", "PT Hino Motors Manufacturing Indonesia", "automotive",
          ("kbi-purwakarta",), ("ISO9001",)),
    Buyer("isuzu", "PT Isuzu Astra Motor Indonesia", "automotive", ("karawang",),
          ("ISO9001",)),
    Buyer("ahm", "PT Astra Honda Motor", "motorcycle", ("sunter", "cikarang", "karawang"),
          ("SNI",)),
    Buyer("yimm", "PT Yamaha Indonesia Motor Manufacturing", "motorcycle", ("pulogadung",),
          ("SNI",)),
    Buyer("inka", "PT INKA (Persero)", "rail", ("madiun",), ("SNI",), state_owned=True),
    Buyer("kai", "PT Kereta Api Indonesia (Persero)", "rail", ("balai-yasa-yk",), ("SNI",),
          state_owned=True),
    Buyer("pln", "PT PLN (Persero)", "power", ("suralaya",), (), state_owned=True),
    Buyer("ks", "PT Krakatau Steel (Persero) Tbk", "steel", ("cilegon",), (),
          state_owned=True),
)
BUYER_BY_ID: MappingProxyType[str, Buyer] = MappingProxyType({b.id: b for b in BUYERS})

# --- Named IKM -----------------------------------------------------------------------

NAMED_WORKSHOPS: tuple[NamedWorkshop, ...] = (
    NamedWorkshop("CV Baja Kurnia", "ceper", "ceper", ("SNI", "ISO9001"), "pln",
                  "metal foundry in partnership with PLN"),
    # Where this workshop sits is not in the sources; Jabodetabek is an assumption.
    NamedWorkshop("CV Byakta Prakasa", "jabodetabek", "bekasi", ("SNI", "ISO9001"), "ks",
                  "repair and manufacture of mechanical parts, partner of Krakatau Steel"),
)

# Word lists for plausible workshop names ("CV Logam Jaya Abadi", "UD Sinar Teknik").
NAME_PREFIXES: tuple[str, ...] = ("CV", "CV", "CV", "UD", "UD", "PT")
NAME_WORDS_A: tuple[str, ...] = (
    "Logam", "Sinar", "Karya", "Mitra", "Cahaya", "Putra", "Bintang", "Surya", "Mega",
    "Jaya", "Sumber", "Tunas", "Baja", "Prima", "Indo", "Teknik", "Duta", "Harapan",
    "Makmur", "Agung", "Gemilang", "Mulia", "Sentosa", "Bina", "Citra", "Rajawali",
    "Garuda", "Nusa", "Wijaya", "Adi",
)
NAME_WORDS_B: tuple[str, ...] = (
    "Jaya", "Teknik", "Presisi", "Mandiri", "Abadi", "Makmur", "Sejahtera", "Utama",
    "Perkasa", "Sakti", "Metal", "Cor", "Manunggal", "Lestari", "Sentosa", "Santoso",
    "Engineering", "Mesin", "Kencana", "Baru", "Bersama", "Raya", "Indah", "Sukses",
)

# --- Calendar ------------------------------------------------------------------------

# Idul Fitri 1448 H is expected around 9-10 March 2027; the government decree that fixes
# it and the cuti bersama days is issued the year before, so these dates are provisional.
HOLIDAYS: tuple[Holiday, ...] = (
    Holiday(date(2027, 1, 1), "New Year"),
    Holiday(date(2027, 3, 8), "Cuti bersama Idul Fitri", cuti_bersama=True),
    Holiday(date(2027, 3, 9), "Idul Fitri 1448 H"),
    Holiday(date(2027, 3, 10), "Idul Fitri 1448 H"),
    Holiday(date(2027, 3, 11), "Cuti bersama Idul Fitri", cuti_bersama=True),
    Holiday(date(2027, 3, 12), "Cuti bersama Idul Fitri", cuti_bersama=True),
    Holiday(date(2027, 3, 26), "Good Friday"),
    Holiday(date(2027, 5, 1), "Labour Day"),
    Holiday(date(2027, 5, 6), "Ascension of Jesus Christ"),
    Holiday(date(2027, 6, 1), "Pancasila Day"),
    Holiday(date(2027, 8, 17), "Independence Day"),
    Holiday(date(2027, 12, 25), "Christmas"),
)
IDUL_FITRI_2027 = date(2027, 3, 10)
# Ramadan 1448 H is expected to start around 8 February 2027; shifts are shorter then.
RAMADAN_2027 = (date(2027, 2, 8), date(2027, 3, 8))
DEFAULT_START = date(2027, 2, 22)  # a Monday, two weeks before Idul Fitri

WORKDAYS_PER_WEEK = 6  # most IKM work Monday to Saturday


# Pieces-per-hour rates a workshop would quote, as hours per piece.
NICE_HOURS: tuple[float, ...] = (
    2.0, 1.0, 0.5, 0.25, 0.2, 0.125, 0.1, 0.05, 0.04, 0.025, 0.02, 0.0125, 0.01, 0.008,
    0.005,
)


def snap_hours(hours: float) -> float:
    """The nearest (in ratio) of `NICE_HOURS` to `hours`."""
    return min(NICE_HOURS, key=lambda n: max(n / hours, hours / n))


def period_start(start: date, period: int, period_days: int = 7) -> date:
    return start + timedelta(days=period * period_days)


def lebaran_period(start: date, periods: int, period_days: int = 7) -> int | None:
    """Index of the period holding Idul Fitri 2027, or None when outside the horizon."""
    for t in range(periods):
        first = period_start(start, t, period_days)
        if first <= IDUL_FITRI_2027 < first + timedelta(days=period_days):
            return t
    return None


def calendar_factors(start: date, periods: int, period_days: int = 7) -> list[float]:
    """Share of a normal period's working time left after holidays and Ramadan hours.

    A holiday on a working day (Monday to Saturday) takes one working day away. Ramadan
    days count at 90% because IKM shorten their shifts during the fasting month. This is
    the calendar alone; how far a workshop shuts around Idul Fitri varies by workshop.
    """
    holidays = {h.day for h in HOLIDAYS}
    factors: list[float] = []
    for t in range(periods):
        first = period_start(start, t, period_days)
        work = 0.0
        normal = 0
        for d in range(period_days):
            day = first + timedelta(days=d)
            if day.weekday() == 6:
                continue
            normal += 1
            if day in holidays:
                continue
            work += 0.9 if RAMADAN_2027[0] <= day < RAMADAN_2027[1] else 1.0
        factors.append(round(work / normal, 3) if normal else 1.0)
    return factors


def workshop_rate(process: str, cluster: str, factor: float = 1.0) -> int:
    """Hourly rate in IDR, rounded to 1,000, for a process in a cluster."""
    base = PROCESS_BY_ID[process].rate_idr * CLUSTER_BY_ID[cluster].rate_factor * factor
    return int(round(base / 1000.0)) * 1000


def domestic_unit_cost(component: Component, cluster: str = "tegal") -> float:
    """Rough cost of making one unit at home at cluster rates, without transport or
    tooling: what an import price is compared against."""
    cost = 0.0
    for step in component.routing:
        cost += step.hours * workshop_rate(step.process, cluster)
        if step.material is not None and step.material_kg is not None:
            cost += step.material_kg * MATERIAL_BY_ID[step.material].price_per_kg
    return cost
