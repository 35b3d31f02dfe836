"""Pattern detection over precursor notifications and incidents (pure; rapidfuzz, no Django).

Company shopping: the same consignee or importer approached through several exporting countries.
Names and addresses are normalised (legal suffixes such as Ltd/LLC/GmbH/S.A., punctuation, case,
accents), candidate pairs are found by blocking on (party country, name or address token) so that
30,000 notifications a year compare only a few neighbours each, and pairs are scored with rapidfuzz.

Surges: counts of events per (substance, route) and period against the mean of the preceding
periods, with a minimum count so that 1 → 3 is not an alarm.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

# Legal-form words dropped from company names (after dotted initials are joined, so "S.A." → "sa",
# "S. de R.L." → "s de rl").
LEGAL_FORMS = frozenset(
    {
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "sl",
        "bv",
        "nv",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "kft",
        "zrt",
        "sro",
        "doo",
        "ood",
        "ooo",
        "zao",
        "oao",
        "pjsc",
        "jsc",
        "pte",
        "pty",
        "pvt",
        "private",
        "sdn",
        "bhd",
        "tbk",
        "kk",
        "cv",
        "sde",
        "rl",
        "de",
        "fze",
        "fzco",
        "fzc",
        "fzllc",
        "lda",
        "ltda",
        "eirl",
        "sac",
        "saa",
        "spzoo",
        "sp",
        "zoo",
    }
)
_ADDRESS_WORDS = {
    "st": "street",
    "str": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "bldg": "building",
    "no": "",
    "nr": "",
    "fl": "floor",
    "flr": "floor",
    "ste": "suite",
    "apt": "",
    "dist": "district",
    "ind": "industrial",
    "est": "estate",
    "po": "po",
    "box": "box",
}
_NON_WORD = re.compile(r"[^0-9a-z]+")
_DOTTED_INITIALS = re.compile(r"\b(?:[^\W\d_]\.\s?)+[^\W\d_]\b\.?")


def _ascii_words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def _join_initials(run: str) -> str:
    """'S. A.' → 'SA' (spaced initials are one word), but 'S.A. S.A.' → 'SA SA' (two words)."""
    chunks = run.split()
    if all(len(chunk.rstrip(".")) == 1 for chunk in chunks):
        return "".join(chunk.rstrip(".") for chunk in chunks)
    return " ".join(chunk.replace(".", "") for chunk in chunks)


def normalise_company_name(name: str) -> str:
    """'ALPHA-Chem. Trading (Pvt.) Ltd.' → 'alpha chem trading'. Idempotent."""
    joined = _DOTTED_INITIALS.sub(lambda match: _join_initials(match.group(0)), name)
    words = _ascii_words(joined)
    tokens = [token for token in words.split() if token not in LEGAL_FORMS]
    if not tokens:  # a name made only of legal-form words keeps them rather than vanishing
        tokens = words.split()
    return " ".join(tokens)


def normalise_address(address: str) -> str:
    """'No. 12, Harbour Rd., Apt 4' → '12 harbour road 4'."""
    tokens = (_ADDRESS_WORDS.get(token, token) for token in _ascii_words(address).split())
    return " ".join(token for token in tokens if token)


@dataclass(frozen=True, slots=True)
class PartyMention:
    """A company named on a notification or an incident, in a role such as consignee or importer."""

    record_id: str
    record_kind: str  # "notification" | "incident"
    role: str  # "consignee" | "importer" | …
    name: str
    address: str
    party_country: str  # ISO3 of the company's address
    exporting_country: str  # ISO3 of the country the goods came (or were to come) from
    substance: str | None = None


@dataclass(frozen=True, slots=True)
class PairEvidence:
    record_a: str
    record_b: str
    name_similarity: float
    address_similarity: float


@dataclass(frozen=True, slots=True)
class CompanyShoppingCase:
    party_country: str
    names: tuple[str, ...]  # spellings seen, as reported
    record_ids: tuple[str, ...]
    record_kinds: tuple[str, ...]
    exporting_countries: tuple[str, ...]
    pairs: tuple[PairEvidence, ...]  # the matches that joined the records into one party
    min_name_similarity: float


@dataclass(frozen=True, slots=True)
class MatchRule:
    """Two mentions are one party if the names agree strongly, or agree fairly and the addresses agree."""

    strong_name: float = 92.0
    name_with_address: float = 80.0
    address: float = 85.0
    # Blocking: each mention is compared only within its rarest few (country, token) blocks;
    # common tokens ("chemical", "road") would compare everyone with everyone and add no signal.
    keys_per_mention: int = 3
    max_block_size: int = 200

    def matches(self, name_similarity: float, address_similarity: float) -> bool:
        return name_similarity >= self.strong_name or (
            name_similarity >= self.name_with_address and address_similarity >= self.address
        )


def _block_keys(country: str, name: str, address: str) -> set[tuple[str, str, str]]:
    keys = {(country, "n", token) for token in name.split() if len(token) >= 3}
    keys |= {(country, "a", token) for token in address.split() if len(token) >= 4 or token.isdigit()}
    return keys


def detect_company_shopping(
    mentions: Sequence[PartyMention],
    *,
    min_exporting_countries: int = 2,
    rule: MatchRule | None = None,
) -> list[CompanyShoppingCase]:
    """Group mentions of the same party and report the parties approached from at least
    `min_exporting_countries` exporting countries, with the evidence."""
    rule = rule or MatchRule()
    names = [normalise_company_name(mention.name) for mention in mentions]
    addresses = [normalise_address(mention.address) for mention in mentions]
    keys = [
        _block_keys(mention.party_country, names[index], addresses[index])
        for index, mention in enumerate(mentions)
    ]
    key_sizes: Counter[tuple[str, str, str]] = Counter(key for mention_keys in keys for key in mention_keys)
    blocks: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, mention_keys in enumerate(keys):
        rarest = sorted(mention_keys, key=lambda key: (key_sizes[key], key))[: rule.keys_per_mention]
        for key in rarest:
            blocks[key].append(index)

    parent = list(range(len(mentions)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    evidence: list[tuple[int, int, float, float]] = []
    compared: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > rule.max_block_size:
            continue
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                pair = (first, second) if first < second else (second, first)
                if pair in compared:
                    continue
                compared.add(pair)
                name_score = fuzz.token_sort_ratio(names[first], names[second])
                if name_score < rule.name_with_address:
                    continue
                address_score = fuzz.token_set_ratio(addresses[first], addresses[second])
                if rule.matches(name_score, address_score):
                    evidence.append((pair[0], pair[1], name_score, address_score))
                    parent[find(pair[0])] = find(pair[1])

    clusters: dict[int, list[int]] = defaultdict(list)
    for index in range(len(mentions)):
        clusters[find(index)].append(index)
    pairs_by_root: dict[int, list[PairEvidence]] = defaultdict(list)
    for first, second, name_score, address_score in evidence:
        pairs_by_root[find(first)].append(
            PairEvidence(mentions[first].record_id, mentions[second].record_id, name_score, address_score)
        )
    cases = []
    for root, members in clusters.items():
        exporting = sorted({mentions[index].exporting_country for index in members})
        if len(exporting) < min_exporting_countries:
            continue
        pairs = tuple(sorted(pairs_by_root[root], key=lambda pair: (pair.record_a, pair.record_b)))
        cases.append(
            CompanyShoppingCase(
                party_country=mentions[members[0]].party_country,
                names=tuple(sorted({mentions[index].name for index in members})),
                record_ids=tuple(sorted(mentions[index].record_id for index in members)),
                record_kinds=tuple(sorted({mentions[index].record_kind for index in members})),
                exporting_countries=tuple(exporting),
                pairs=pairs,
                min_name_similarity=min((pair.name_similarity for pair in pairs), default=100.0),
            )
        )
    return sorted(cases, key=lambda case: (-len(case.exporting_countries), case.record_ids))


@dataclass(frozen=True, slots=True)
class SubstanceEvent:
    """One notification or incident moving a substance along a route in a period ("2024-03")."""

    record_id: str
    substance: str
    origin_country: str
    destination_country: str
    period: str  # sortable label of the period the event falls in


@dataclass(frozen=True, slots=True)
class Surge:
    substance: str
    route: Hashable
    period: str
    count: int
    baseline_mean: float  # mean count over the baseline periods (zeros included)
    baseline_periods: tuple[str, ...]
    ratio: float | None  # count / baseline_mean; None when the baseline is zero
    record_ids: tuple[str, ...]


def route_origin_destination(event: SubstanceEvent) -> Hashable:
    return (event.origin_country, event.destination_country)


def detect_surges(
    events: Iterable[SubstanceEvent],
    *,
    periods: Sequence[str] | None = None,
    baseline_length: int = 3,
    ratio_threshold: float = 2.0,
    min_count: int = 5,
    route_of: Callable[[SubstanceEvent], Hashable] = route_origin_destination,
) -> list[Surge]:
    """A (substance, route) surges in a period when its count reaches `min_count` and is at least
    `ratio_threshold` times the mean of the `baseline_length` periods before it. Periods with no
    events count as zero; pass `periods` to fix the calendar (default: every period seen, sorted)."""
    counts: dict[tuple[str, Hashable], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    seen_periods: set[str] = set()
    for event in events:
        counts[(event.substance, route_of(event))][event.period].append(event.record_id)
        seen_periods.add(event.period)
    calendar = list(periods) if periods is not None else sorted(seen_periods)
    surges = []
    for (substance, route), by_period in counts.items():
        for position in range(baseline_length, len(calendar)):
            period = calendar[position]
            records = by_period.get(period, [])
            if len(records) < min_count:
                continue
            baseline = calendar[position - baseline_length : position]
            mean = sum(len(by_period.get(label, [])) for label in baseline) / baseline_length
            ratio = len(records) / mean if mean else None
            if ratio is None or ratio >= ratio_threshold:
                surges.append(
                    Surge(
                        substance,
                        route,
                        period,
                        len(records),
                        mean,
                        tuple(baseline),
                        ratio,
                        tuple(sorted(records)),
                    )
                )
    return sorted(surges, key=lambda surge: (surge.period, surge.substance, str(surge.route)))
