"""Finding the IANA timezone a person means: by name, abbreviation, offset or location.

`match_timezone` answers with one zone (`exact`) or a short ranked list to offer
as buttons (`candidates`). Its knowledge is offline: the zone and country tables
shipped with tzdata, a curated table of big cities in bot/schedule/cities.py (the
places people name that are not zone names: Munich, San Francisco, Odesa...), and
timezonefinder's bundled polygons for a shared location.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.schedule.cities import ABBREVIATIONS as _ABBREVIATIONS
from bot.schedule.cities import CITIES as _CITIES
from bot.schedule.cities import COUNTRY_ALIASES as _COUNTRY_ALIASES
from bot.schedule.cities import MAIN_ZONE as _MAIN_ZONE
from bot.schedule.cities import RENAMED as _RENAMED
from bot.schedule.localtime import zone_names
from bot.schedule.parse import abbreviation, utc_offset, zone

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

#: At most this many candidates: they become buttons.
MAX_CANDIDATES = 6

_UTC_NAMES = frozenset({"utc", "z", "zulu", "uct", "etc/utc", "utc+0", "gmt+0", "utc 0"})
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:[:.h]?(\d{2}))?$")


@dataclass(frozen=True, kw_only=True)
class TimezoneMatch:
    """What a typed place, abbreviation or offset means."""

    #: The one zone meant, when there is no doubt.
    exact: str | None = None
    #: Otherwise the zones to offer, most likely first (at most MAX_CANDIDATES).
    candidates: list[str] = field(default_factory=list)
    #: For the user, when there is no exact match: why they are asked to pick.
    hint: str = ""
    #: A button label per candidate when a place name says more than the zone
    #: ("Portland (Oregon)" for America/Los_Angeles).
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Place:
    zone: str
    name: str
    region: str = ""  #: "Oregon", shown to tell namesakes apart
    region_keys: tuple[str, ...] = ()
    population: float = 0.0
    country: bool = False


def match_timezone(text: str, now: datetime | None = None) -> TimezoneMatch:
    """The zone meant by "berlin", "Europe/Berlin", "Berlin, Germany", "CET" or "UTC+2"."""
    moment = now or datetime.now(UTC)
    typed = " ".join(text.strip().split())
    key = _key(typed)
    if not key:
        return TimezoneMatch(hint="Send a city, like “Berlin”, or share your location.")
    if key in _UTC_NAMES:
        return TimezoneMatch(exact="UTC")
    # Only "Area/City" names: bare legacy links ("CET", "Poland", "GMT") read better as
    # abbreviations and countries.
    by_zone_name = "/" in typed and _zone_names().get(typed.lower().replace(" ", "_"))
    if by_zone_name:
        return TimezoneMatch(exact=_RENAMED.get(by_zone_name.lower(), by_zone_name))
    offset = _OFFSET.match(typed.lower())
    if offset:
        return _by_offset(offset, moment)
    if typed.isalpha() and typed.upper() in _abbreviations(moment.year):
        return _by_abbreviation(typed.upper(), moment)
    return _by_place(typed, key)


def _by_offset(match: re.Match[str], moment: datetime) -> TimezoneMatch:
    sign = -1 if match.group(1) in "-−" else 1
    wanted = sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    if wanted == timedelta(0):
        return TimezoneMatch(exact="UTC")
    if abs(wanted) > timedelta(hours=14):
        return TimezoneMatch(hint="No place on Earth is that far from UTC. Send a city instead.")
    zones = [
        name for name in _ranked_zones() if moment.astimezone(zone(name)).utcoffset() == wanted
    ]
    shown = utc_offset(moment.astimezone(zone(zones[0]))) if zones else "that offset"
    return TimezoneMatch(
        candidates=zones[:MAX_CANDIDATES],
        hint=(
            f"{shown} is an offset, not a timezone: places change offset when their clocks "
            f"change, and the zone keeps track. These are at {shown} now — pick yours, "
            "or send your city."
        ),
    )


def _by_abbreviation(abbr: str, moment: datetime) -> TimezoneMatch:
    zones = list(
        dict.fromkeys([*_curated_abbreviations().get(abbr, []), *_abbreviations(moment.year)[abbr]])
    )
    return TimezoneMatch(
        candidates=zones[:MAX_CANDIDATES],
        hint=(
            f"{abbr} is used by several places whose clocks may change on different days. "
            "Pick the one you live in, or send your city."
        ),
    )


def _by_place(typed: str, key: str) -> TimezoneMatch:
    places = _places().get(key)
    if not places:
        place_text, qualifier = _split_qualifier(typed)
        if qualifier:
            named = _places().get(_key(place_text), [])
            # "Portland, Oregon" narrows; "Dresden, Germany" falls back on the country;
            # "Washington, D.C." has a qualifier we don't know and keeps the place.
            places = _qualified(named, _key(qualifier)) or _places().get(_key(qualifier)) or named
    if places:
        return _from_places(places, f"Several places are called “{typed}”. Which one is yours?")
    close = _close_keys(key)
    if close:
        found = [place for name in close for place in _places()[name]]
        return _from_places(
            found, "I'm not sure which place you mean. Is it one of these?", fuzzy=True
        )
    return TimezoneMatch(
        hint=f"I don't know “{typed[:40]}”. Send a bigger city nearby, or share your location."
    )


def _from_places(places: list[_Place], hint: str, *, fuzzy: bool = False) -> TimezoneMatch:
    ranked = sorted(places, key=lambda place: -place.population)
    zones = list(dict.fromkeys(place.zone for place in ranked))
    if len(zones) == 1 and not fuzzy:
        return TimezoneMatch(exact=zones[0])
    country_zones = {place.zone for place in places if place.country}
    labels: dict[str, str] = {}
    for place in ranked:
        if place.zone not in labels and not place.country:
            labels[place.zone] = f"{place.name} ({place.region})" if place.region else place.name
    if len(country_zones) > 1 and len(zones) == len(country_zones):
        hint = "That country has several timezones. Which one is yours?"
    return TimezoneMatch(candidates=zones[:MAX_CANDIDATES], hint=hint, labels=labels)


def _split_qualifier(typed: str) -> tuple[str, str]:
    """("Portland", "Oregon") from "Portland, Oregon" or "portland oregon"."""
    if "," in typed:
        place, _, qualifier = typed.partition(",")
        return place.strip(), qualifier.strip()
    words = typed.split()
    for cut in range(len(words) - 1, 0, -1):
        place = " ".join(words[:cut])
        if _key(place) in _places():
            return place, " ".join(words[cut:])
    return typed, ""


def _qualified(places: list[_Place], qualifier: str) -> list[_Place]:
    """The places whose region or country the qualifier names ("Oregon", "Germany", "US")."""
    countries = {place.zone for place in _places().get(qualifier, []) if place.country}
    return [
        place
        for place in places
        if qualifier in place.region_keys or (countries and place.zone in countries)
    ]


def _close_keys(key: str) -> list[str]:
    if len(key) < 3:
        return []
    names = _places()
    starting = [name for name in names if name.startswith(key)]
    if starting:
        best = sorted(starting, key=lambda name: -max(p.population for p in names[name]))
        return best[:MAX_CANDIDATES]
    return difflib.get_close_matches(key, names, n=MAX_CANDIDATES, cutoff=0.72)


def timezone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a shared location, offline; None at sea or for impossible input."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    found = _finder().timezone_at(lng=longitude, lat=latitude)
    if not found or found.startswith("Etc/"):
        return None  # the open sea has only nautical offsets: ask for a city instead
    return _RENAMED.get(found.lower(), found)


def describe(tz: str, now: datetime) -> str:
    """'Europe/Berlin (CET, UTC+01:00, 14:05 now)'."""
    local = now.astimezone(zone(tz))
    parts = [utc_offset(local), f"{local:%H:%M} now"]
    name = abbreviation(local)
    if name and name != tz:
        parts.insert(0, name)
    return f"{tz} ({', '.join(parts)})"


# --- the tables, read once ---------------------------------------------------------------


def _key(text: str) -> str:
    """'sao paulo' from 'São Paulo', 'st johns' from "St. John's": accents and marks go."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[\s_.'’\-]+", " ", plain).split())


def _tab(name: str) -> list[list[str]]:
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        text = (Path("/usr/share/zoneinfo") / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _zone_countries() -> dict[str, str]:
    """Zone -> ISO country code, one zone per country-region (zone.tab)."""
    return {row[2]: row[0] for row in _tab("zone.tab")}


def _zone_names() -> dict[str, str]:
    return zone_names()


def _entries(text: str) -> Iterable[tuple[str, list[str]]]:
    """("Europe/London", ["London|Лондон 14.8", ...]) from the indented table format."""
    joined = re.sub(r"\n\s+", " ", text.strip())
    for line in joined.splitlines():
        head, _, rest = line.partition(": ")
        yield head, [item for item in re.split(r"\s*;\s*", rest) if item]


_CITY = re.compile(r"^(?P<names>.+?)(?:\s*\((?P<region>[^)]*)\))?\s+(?P<population>[\d.]+)$")


@cache
def _places() -> dict[str, list[_Place]]:
    """Every name we know -> the places it may mean."""
    index: dict[str, list[_Place]] = {}

    def add(name: str, place: _Place) -> None:
        bucket = index.setdefault(_key(name), [])
        if all(known.zone != place.zone or known.region != place.region for known in bucket):
            bucket.append(place)

    for zone_name, cities in _entries(_CITIES):
        for city in cities:
            match = _CITY.match(city)
            assert match, city
            names = match.group("names").split("|")
            regions = (match.group("region") or "").split("|")
            place = _Place(
                zone=zone_name,
                name=names[0],
                region=regions[0],
                region_keys=tuple(_key(region) for region in regions if region),
                population=float(match.group("population")),
            )
            for name in names:
                add(name, place)
    populations = _zone_populations()
    for zone_name in _zone_countries():
        city = zone_name.rsplit("/", 1)[-1].replace("_", " ")
        add(city, _Place(zone=zone_name, name=city, population=populations.get(zone_name, 0)))
    for name, code in _country_names().items():
        for zone_name in _country_zones(code):
            place = _Place(
                zone=zone_name, name=name, population=populations.get(zone_name, 0), country=True
            )
            add(name, place)
    return index


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name, *_ in _tab("iso3166.tab"):
        names[_key(name)] = code
        names[_key(name.split("(")[0])] = code  # "Britain (UK)" -> "britain" too
    return names | {_key(alias): code for alias, code in _COUNTRY_ALIASES.items()}


def _country_zones(code: str) -> list[str]:
    if code in _MAIN_ZONE:
        return [_MAIN_ZONE[code]]
    zones = [name for name, country in _zone_countries().items() if country == code]
    populations = _zone_populations()
    zones.sort(key=lambda name: -populations.get(name, 0))
    if len({_yearly_offsets(name) for name in zones}) == 1:
        return zones[:1]  # all keep the same time all year (Germany with Büsingen)
    return zones


def _yearly_offsets(name: str) -> tuple[timedelta | None, ...]:
    # Winter and summer of a fixed recent year: enough to tell zones that differ today.
    info = zone(name)
    return tuple(
        datetime(2026, month, 15, tzinfo=UTC).astimezone(info).utcoffset() for month in (1, 7)
    )


@cache
def _zone_populations() -> dict[str, float]:
    totals: dict[str, float] = {}
    for zone_name, cities in _entries(_CITIES):
        for city in cities:
            match = _CITY.match(city)
            assert match, city
            totals[zone_name] = totals.get(zone_name, 0) + float(match.group("population"))
    return totals


@cache
def _ranked_zones() -> list[str]:
    """Every current zone, the most populous first (then by name, for a stable order)."""
    populations = _zone_populations()
    return sorted(_zone_countries(), key=lambda name: (-populations.get(name, 0), name))


@cache
def _curated_abbreviations() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for names, zones in _entries(_ABBREVIATIONS):
        for name in names.split():
            table[name] = " ".join(zones).split()
    return table


@cache
def _abbreviations(year: int) -> dict[str, list[str]]:
    """Abbreviation -> zones using it in winter or summer of `year`, most populous first."""
    found: dict[str, list[str]] = {name: [] for name in _curated_abbreviations()}
    for name in _ranked_zones():
        info = zone(name)
        for month in (1, 7):
            label = abbreviation(datetime(year, month, 15, tzinfo=UTC).astimezone(info))
            if label and name not in found.setdefault(label, []):
                found[label].append(name)
    return found


@cache
def _finder() -> TimezoneFinder:
    from timezonefinder import TimezoneFinder  # numpy and the polygons load on first use

    return TimezoneFinder()
