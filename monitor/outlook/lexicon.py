"""The words the grader reads: actors, places, dates and verbs, in English and Russian (pure).

Everything is matched on folded text (`fold`): NFKC, case folded, ё→е, dashes and
quotes unified. Patterns are small, bounded alternations of words (no nested
repeats), anchored at word starts so that a Russian stem covers its case forms
(`путин\\w*` matches Путина, Путиным) without running into other words.

Actors are canonical lowercase names ("putin", "witkoff"); a leader also gives its
side's role ("leader:ru", "leader:us"), so "the Russian President" and "Putin"
overlap. Places are canonical lowercase names ("abu dhabi", "anchorage").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

_FOLD: Final = MappingProxyType(str.maketrans(
    {
        "ё": "е",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u02bc": "'",
        "\u00ab": '"', "\u00bb": '"', "\u201c": '"', "\u201d": '"', "\u00a0": " ",
    }
))  # fmt: skip


def fold(text: str) -> str:
    """Text as the patterns read it: NFKC, case folded, ё→е, one dash, one apostrophe."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


# ---- people --------------------------------------------------------------------------
LEADERS: Final = MappingProxyType(
    {
        "putin": ("ru", _rx(r"\bputin\w*", r"\bпутин\w*")),
        "trump": ("us", _rx(r"\btrump(?:'s)?\b", r"\bтрамп\w*")),
        "biden": ("us", _rx(r"\bbiden\w*", r"\bбайден\w*")),
    }
)
LEADER_ROLES: Final = MappingProxyType({
    "ru": _rx(
        r"\b(?:russian president|president of russia|president of the russian federation)\b",
        r"\bпрезидент\w* (?:росси\w*|рф)\b", r"\bроссийск\w* президент\w*",
        r"\bглав\w* российского государства",
    ),
    "us": _rx(
        r"\b(?:us|u\.s\.|american) president\b", r"\bpresident of the united states\b",
        r"\bпрезидент\w* (?:сша|соединенн\w* штат\w*)", r"\bамериканск\w* президент\w*",
        r"\bглав\w* белого дома",
    ),
})  # fmt: skip
# Both leaders at once: "the two presidents", "лидеры двух стран", a bilateral summit.
BOTH_LEADERS = _rx(
    r"\b(?:two|both) (?:presidents|leaders|heads of state)\b",
    r"\bthe (?:presidents|leaders)\b(?! of)",
    r"\b(?:оба|обоих) (?:президент|лидер)\w*",
    r"\b(?:президенты|лидеры) (?:договорились|условились|решили|согласились|обсудили)",
    r"\bпрезидент(?:ы|ов|ами|ам) (?:россии|рф|двух)\b",
    r"\bлидер(?:ы|ов|ами|ам) (?:россии|двух)\b",
    r"\bдвух (?:президентов|лидеров)\b",
    r"\bглав(?:ы|ами|ам)? двух государств",
)
OFFICIALS: Final = MappingProxyType(
    {
        name: (side, _rx(*patterns))
        for name, side, patterns in (
            ("witkoff", "us", (r"\bwitkoff\w*", r"\b(?:уиткофф|виткофф)\w*")),
            ("kushner", "us", (r"\bkushner\w*", r"\bкушнер\w*")),
            ("rubio", "us", (r"\brubio\w*", r"\bрубио\b")),
            ("waltz", "us", (r"\bwaltz\b", r"\bуолтц\w*")),
            ("vance", "us", (r"\bvance\b", r"\bвэнс\w*")),
            ("kellogg", "us", (r"\bkellogg\w*", r"\bкеллог\w*")),
            ("driscoll", "us", (r"\bdriscoll\w*", r"\bдрисколл\w*")),
            ("sullivan", "us", (r"\bsullivan\w*", r"\bсалливан\w*")),
            ("blinken", "us", (r"\bblinken\w*", r"\bблинкен\w*")),
            ("burns", "us", (r"\bburns\b", r"\bбернс\w*")),
            ("sherman", "us", (r"\bsherman\w*", r"\bшерман\w*")),
            ("bolton", "us", (r"\bbolton\w*", r"\bболтон\w*")),
            ("tillerson", "us", (r"\btillerson\w*", r"\bтиллерсон\w*")),
            ("billingslea", "us", (r"\bbillingslea\w*", r"\bбиллингсли\b")),
            ("lavrov", "ru", (r"\blavrov\w*", r"\bлавров\w*")),
            ("ushakov", "ru", (r"\bushakov\w*", r"\bушаков\w*")),
            ("peskov", "ru", (r"\bpeskov\w*", r"\bпесков\w*")),
            ("dmitriev", "ru", (r"\bdmitriev\w*", r"\bдмитриев\w*")),
            ("ryabkov", "ru", (r"\bryabkov\w*", r"\bрябков\w*")),
            ("patrushev", "ru", (r"\bpatrushev\w*", r"\bпатрушев\w*")),
            ("medinsky", "ru", (r"\bmedinsky\w*", r"\bмединск\w*")),
            ("darchiev", "ru", (r"\bdarchiev\w*", r"\bдарчиев\w*")),
            ("zakharova", "ru", (r"\bzakharova\b", r"\bзахаров(?:а|ой|у)\b")),
            ("shoigu", "ru", (r"\bshoigu\b", r"\bшойгу\b")),
        )
    }
)
# Leaders of third countries: a meeting of one of ours with one of them is not ours.
THIRD_LEADERS = _rx(
    r"\bzelensk\w*",
    r"\bзеленск\w*",
    r"\borban\w*",
    r"\bорбан\w*",
    r"\berdogan\w*",
    r"\bэрдоган\w*",
    r"\bmacron\w*",
    r"\bмакрон\w*",
    r"\bmerz\b",
    r"\bмерц\w*",
    r"\bstarmer\w*",
    r"\bстармер\w*",
    r"\bxi jinping\b",
    r"\bси цзиньпин\w*",
    r"\bmodi\b",
    r"\bмоди\b",
    r"\blukashenko\b",
    r"\bлукашенко\b",
    r"\bstubb\b",
    r"\bстубб\w*",
    r"\bbin salman\b",
    r"\bбин сальман\w*",
    r"\bcrown prince\b",
    r"\bнаследн\w* принц\w*",
    # "the Brazilian president", "the Kazakh leader", "the President of Ukraine"
    r"\b(?:(?!russian\b|american\b)[a-z]+(?:ian|ese|ish|an)|saudi|emirati|iraqi|israeli|qatari"
    r"|kuwaiti|omani|pakistani|thai|kazakh|uzbek|czech|greek|swiss|dutch|french|irish)"
    r" (?:president|leader|prime minister|premier|pm|king|emir|chancellor)\b",
    r"\b(?:president|prime minister|leader|king|emir|chancellor) of (?!russia\b|the russian\b"
    r"|the united states\b|the us\b|america\b)[a-z]+",
    r"\b(?:президент|премьер|лидер|глав|король|эмир|канцлер)\w*(?:-министр\w*)? "
    r"(?!росси|рф|сша|соедин|америк|путин|трамп|байден|двух|стран)[а-я]{3,}(?:и|ы|а)\b",
)
# Speakers who are neither side: they can report or hope, not announce.
THIRD_SPEAKERS = _rx(
    THIRD_LEADERS.pattern, r"\bszijjarto\b", r"\bсийярто\b", r"\bfidan\b", r"\bфидан\b",
    r"\b(?:hungarian|turkish|finnish|swiss|saudi|emirati|ukrainian|chinese|indian|british|"
    r"french|german|european|polish)\b", r"\b(?:eu|nato|un)\b", r"\bexperts?\b",
    r"\bвенгерск\w*", r"\bтурецк\w*", r"\bукраинск\w*", r"\bевропейск\w*", r"\bэксперт\w*",
    r"\bнато\b", r"\bоон\b",
)  # fmt: skip

# ---- places ----------------------------------------------------------------------------
PLACES: Final = MappingProxyType(
    {
        name: _rx(*patterns)
        for name, patterns in (
            ("moscow", (r"\bmoscow\b", r"\bмоскв(?:а|е|у|ы|ой)\b")),
            ("washington", (r"\bwashington\b", r"\bвашингтон(?:а|е|у|ом)?\b")),
            ("geneva", (r"\bgeneva\b", r"\bженев(?:а|е|у|ы|ой)\b")),
            ("helsinki", (r"\bhelsinki\b", r"\bхельсинки\b")),
            ("budapest", (r"\bbudapest\b", r"\bбудапешт(?:а|е|у|ом)?\b")),
            ("alaska", (r"\balaska\b", r"\bаляск(?:а|е|у|и|ой)\b")),
            ("anchorage", (r"\banchorage\b", r"\bанкоридж(?:а|е|у|ем)?\b")),
            ("riyadh", (r"\briyadh\b", r"\b(?:эр-)?рияд(?:а|е|у|ом)?\b")),
            ("saudi arabia", (r"\bsaudi arabia\b", r"\bсаудовск\w* арави\w*")),
            ("abu dhabi", (r"\babu[- ]dhabi\b", r"\bабу[- ]даби\b")),
            ("istanbul", (r"\bistanbul\b", r"\bстамбул(?:а|е|у|ом)?\b")),
            ("vienna", (r"\bvienna\b", r"\bвен(?:а|е|у|ы)\b")),
            ("jeddah", (r"\bjeddah\b", r"\bджидд\w*")),
            ("doha", (r"\bdoha\b", r"\bдох(?:а|е|у)\b")),
            ("miami", (r"\bmiami\b", r"\bмайами\b")),
            ("st petersburg", (r"\b(?:st\.?|saint) petersburg\b", r"\b(?:санкт-)?петербург\w*")),
            ("hamburg", (r"\bhamburg\b", r"\bгамбург\w*")),
            ("third country", (r"\bthird country\b", r"\bтреть(?:ей|ья|ью) стран\w*")),
        )
    }
)
# "Moscow and Washington agreed": the capitals as the two governments, not as a place.
CAPITAL_PAIRS = _rx(
    r"\b(?:moscow|washington)(?:'s)? and (?:moscow|washington)\b",
    r"\b(?:москв|вашингтон)\w* и (?:москв|вашингтон)\w*",
)
# A news wire's dateline ("MOSCOW, November 5. /TASS/."): where it was filed, not news.
DATELINE = re.compile(
    r"^\s*[A-ZА-ЯЁ][A-ZА-ЯЁ.' -]{1,40}, (?:[A-Za-zА-Яа-яё]+ \d{1,2}|\d{1,2} [A-Za-zА-Яа-яё]+)"
    r"\.\s*(?:/[^/\n]{1,20}/\.?)?\s*"
)

# ---- dates -----------------------------------------------------------------------------
MONTHS_EN = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
MONTHS_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)  # fmt: skip
MONTHS_RU_IN = (
    "январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре",
    "октябре", "ноябре", "декабре",
)  # fmt: skip
_EN_MONTH = "|".join(MONTHS_EN)
DAY_MONTH = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?: of)? (?P<m1>{_EN_MONTH}|{'|'.join(MONTHS_RU)})"
    rf"(?:,? (?P<y1>\d{{4}}))?\b"
    rf"|\b(?P<m2>{_EN_MONTH})\.? (?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (?P<y2>\d{{4}}))?"
)
MONTH_ONLY = re.compile(
    rf"\b(?:in|in early|in mid|in late|by|by the end of|next) (?P<m1>{_EN_MONTH})\b"
    rf"|\bв (?:начале |середине |конце )?(?P<m2>{'|'.join(MONTHS_RU_IN)})\b"
)
NEAR_DATE = _rx(
    r"\b(?:tomorrow|tonight|next week|this week|this weekend|next month|in the coming days"
    r"|in coming days|in a few days|within days|in a week|in (?:two|three|2|3) weeks"
    r"|in the next (?:few )?(?:days|weeks)|before the end of the (?:week|month))\b",
    r"\bon (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    r"\b(?:завтра|на (?:следующей|этой|будущей) неделе|в ближайшие (?:дни|недели)"
    r"|через (?:неделю|две недели|несколько дней)|до конца (?:недели|месяца)"
    r"|в следующем месяце)\b",
    r"\bв (?:понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)\b",
)

# ---- what a clause says about a meeting ------------------------------------------------
SUMMIT = _rx(
    r"\bsummit\w*", r"\bface-to-face\b", r"\bin-person meeting", r"\bсаммит\w*",
    r"\bвстреч\w* на высшем уровне", r"\bвстреч\w* в верхах", r"\bличн\w* встреч\w*",
    r"\bочн\w* встреч\w*",
)  # fmt: skip
MEETING = _rx(
    r"\bmeet(?:s|ing|ings)?\b",
    r"\bmet\b",
    r"\bvisit\w*",
    r"\bвстреч\w*",
    r"\bвстрет\w*",
    r"\bвизит\w*",
    r"\bпосет\w*",
)
# Talks of the leaders themselves ("Putin-Trump talks"), not talks they agreed to hold.
PAIR_TALKS = _rx(
    r"\b(?:putin|trump|biden)-(?:putin|trump|biden) (?:talks|negotiations)\b",
    r"\b(?:talks|negotiations) between (?:presidents? )?(?:putin|trump|biden) and\b",
    r"\b(?:putin|trump|biden)\w*,? (?:and )?(?:putin|trump|biden)\w* (?:\w+ ){0,2}talks\b",
    r"\bпереговор\w* (?:путин|трамп|байден)\w* (?:и|с)\b",
    r"\bпереговор\w* (?:президентов|лидеров)\b",
)
# Each side named by its country, capital or government.
COUNTRY: Final = MappingProxyType(
    {
        "us": _rx(
            r"\b(?:us|u\.s\.?|usa|united states|america|american|americans|"
            r"washington|white house)\b",
            r"\bсша\b",
            r"\bамерик\w*",
            r"\bвашингтон\w*",
            r"\bбел\w* дом\w*",
            r"\bсоединенн\w* штат\w*",
        ),
        "ru": _rx(
            r"\b(?:russia|russian|russians|moscow|kremlin)\b",
            r"\bросси\w*",
            r"\bмоскв\w*",
            r"\bкремл\w*",
        ),
    }
)
BILATERAL = _rx(
    r"\b(?:us|u\.s\.|russia|russian|american)-(?:russia|russian|us|u\.s\.|american)\b",
    r"\b(?:российско|русско)-американск\w*",
    r"\bамерикано-российск\w*",
)
# Words for a working contact, for telling a refusal of talks from any other refusal.
CONTACT_WORDS = _rx(
    r"\b(?:talks|consultations|negotiations|dialogue|contacts?|meetings?|visit\w*|calls?"
    r"|round|session|treaty|new start)\b",
    r"\b(?:переговор\w*|консультаци\w*|диалог\w*|контакт\w*|встреч\w*|визит\w*|раунд\w*"
    r"|заседани\w*|договор\w*|дснв|снв)",
)
CALL = _rx(
    r"\b(?:phone|telephone|video) (?:call|conversation|talks)\b",
    r"\bspoke\b",
    r"\bby phone\b",
    r"\bтелефонн\w* (?:разговор|переговор)\w*",
    r"\bпо телефону\b",
    r"\bсозвон\w*",
)
AGREEMENT = _rx(
    r"\b(?:agreed|agree|agrees|agreement to|decided|decide|accepted|accepts?|confirmed"
    r"|confirms?|announced|announces?|will meet|to meet|set to|will hold|to hold|will be held"
    r"|to be held|will take place|to take place|takes place|scheduled|set for|slated"
    r"|arranged|finali[sz]ed|planned for|due to meet|are to meet|will convene|to convene)\b",
    r"\b(?:договорил\w*|договоренност\w*|согласова\w*|согласил\w*|условил\w*|решил\w*"
    r"|решено|подтверди\w*|подтвержд\w*|объяви\w*|объявл\w*|анонсир\w*|состоится|состоятся"
    r"|пройдет|пройдут|проведут|проведет|встретятся|встретится|назначен\w*"
    r"|запланирован\w*|намечен\w*)",
)
PREPARATION = _rx(
    r"\b(?:prepar\w*|invit\w*|organi[sz]\w*|groundwork|arrangements?|logistics|propos\w*"
    r"|offer\w*|plans?|planned|planning|agenda)\b",
    r"\b(?:подготов\w*|готовит\w*|готовят\w*|готовя\w*|приглас\w*|приглаш\w*|организ\w*"
    r"|проработ\w*|предлож\w*|планир\w*|повестк\w*)",
)
INVITATION = _rx(r"\binvit\w*", r"\bприглас\w*", r"\bприглаш\w*")
HEDGE = _rx(
    r"\b(?:could|may|might|possibl\w*|potential\w*|perhaps|probabl\w*|likely|unlikely|if|once"
    r"|unless|whether|hopes?|hoped|hoping|hopeful|believ\w*|think\w*|feasible|preferabl\w*"
    r"|prefer\w*|would|should|ready|readiness|willing\w*|open to|not ruled out|not excluded"
    r"|idea|consider\w*|conditions?|premature|unfounded|speculat\w*|predict(?:s|ed|ing|ions?)?|rumou?r\w*"
    r"|still|wants?|wanted|wish\w*|seek\w*|chances?|depend\w*|sometime|at some point"
    r"|eventually|when the time is right|at the right time|in due course|at an appropriate time"
    r"|yet)\b",
    r"\b(?:может|могут|могл\w*|мог|возможн\w*|вероятн\w*|если|как только|когда-нибудь"
    r"|надежд\w*|надеет\w*|надеют\w*|надеемся|считает|считают|полагает|полагают|думает"
    r"|готов|готова|готовы|готовность\w*|не исключ\w*|предпочтительн\w*|теоретическ\w*"
    r"|гипотетическ\w*|при условии|услови\w*|преждевременн\w*|хотел\w*|хочет|хотят|хотим"
    r"|рассчитыва\w*|идея|пока|еще|по-прежнему|бы|в свое время|когда придет время)\b",
    r"\?",
)
PAST = _rx(
    r"\b(?:took place|(?<!be )held|met|have met|had met|has met|last (?:week|month|year)"
    r"|earlier this|previous|former|following the|after the|results? of|outcomes? of"
    r"|at the (?:summit|meeting)|reached (?:in|at)|spirit of)\b",
    # an agreement named after where it was reached is history: "agreed in Anchorage"
    r"\b(?:agreed|agreements?|understandings?|arrangements?) (?:reached )?(?:in|at) "
    r"(?:anchorage|alaska|helsinki|geneva|budapest)\b",
    r"\b(?:anchorage|alaska|helsinki|geneva)[ -](?:understandings?|agreements?|formula|spirit)\b",
    r"\b(?:договоренност\w*|договорил\w*|понимани\w*),? (?:достигнут\w* )?(?:в|на) "
    r"(?:анкоридж|аляск|хельсинки|женев|будапешт)\w*",
    r"\b(?:дух|формул\w*|договоренност\w*) (?:анкориджа|аляски)\b",
    r"\b(?:состоял\w*|прошл\w*|прошедш\w*|провели|провел|провела|встретились|встречались"
    r"|встречался|по итогам|в ходе|итог\w*|достигнут\w*|бывш\w*)\b",
)
REFUSAL = _rx(
    r"\b(?:cancel\w*|called off|call off|calls off|postpon\w*|suspend\w*|suspension|shelved"
    r"|no plans?|not plann\w*|no intention|not going to (?:meet|hold)|won't meet"
    r"|will not meet|not meet|no meeting|ruled out|rules out|rule out|no need|not in the cards"
    r"|pointless|wasted|waste of time|blocked(?! out)|stalled|frozen|halted|off the table"
    r"|not on the agenda|broke off|walked out|not (?:take|taking) place)\b",
    r"\b(?:отмен\w*|отлож\w*|перенес\w*|перенос\w*|приостанов\w*|приостанавлив\w*"
    r"|не планиру\w*|нет планов|не состоится|не состоятся|не будет|сорван\w*|заморож\w*"
    r"|прерва\w*|прекращ\w*|нет необходимости|не стоит|бессмысленн\w*|исключен\w*"
    r"|снят\w* с повестки)",
)
# A question or a condition refuses nothing ("will the summit be cancelled?").
QUESTION_OR_CONDITION = _rx(r"\?", r"\b(?:if|whether|unless)\b", r"\b(?:если|ли)\b")
NOT_REFUSAL = _rx(
    r"\b(?:not|never|no|n't) (?:been |be |being |yet )?(?:cancel\w*|postpon\w*|disrupt\w*"
    r"|derail\w*|shelved|called off|off the table|frozen|buried)\b",
    r"\bне (?:был\w* )?(?:отмен\w*|отлож\w*|сорван\w*|исключ\w*|похорон\w*)",
)
NEGATED_AGREEMENT = _rx(
    r"\b(?:not|never|no|n't)(?: \w+){0,3} (?:agree\w*|announc\w*|set|scheduled|planned"
    r"|confirm\w*|decided|prepar\w*|invit\w*|organi[sz]\w*|propos\w*|arrang\w*)\b",
    r"\bне(?: \w+){0,2} (?:договорил\w*|согласова\w*|объяв\w*|назнач\w*|решен\w*"
    r"|подтвер\w*|готов\w*)",
)
SPEAKER = _rx(
    r"^(?P<s1>.{2,60}?) (?:says|said|believes|thinks|hopes|told|claims|considers)\b",
    r"\baccording to (?P<s2>[\w' .-]{2,40})",
    r"^(?P<s4>.{2,60}?) (?:заявил\w*|сообщил\w*|считает|полагает|надеется)\b",
    r"\bпо словам (?P<s5>[\w .-]{2,40})",
    r"^(?P<s6>[^:]{2,40}):\s",
)
# A headline's attribution: "Summit to be held in Budapest — Hungarian minister".
TITLE_SPEAKER = re.compile(r"\s-\s(?P<s3>[^-]{2,60})$")


@dataclass(frozen=True, slots=True)
class OnePass:
    """A table's patterns as one alternation, a named group per entry: every canonical
    name a text holds is found in one pass."""

    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, table: Mapping[str, re.Pattern[str]]) -> OnePass:
        """The one-pass search for the names of `table`."""
        names = tuple(table)
        joined = "|".join(f"(?P<n{n}>{table[name].pattern})" for n, name in enumerate(names))
        return cls(re.compile(joined), names)

    def found(self, text: str) -> set[str]:
        """The canonical names `text` holds."""
        return {self.names[int(str(m.lastgroup)[1:])] for m in self.pattern.finditer(text)}


LEADER_NAMES = OnePass.of({name: pattern for name, (_, pattern) in LEADERS.items()})
OFFICIAL_NAMES = OnePass.of({name: pattern for name, (_, pattern) in OFFICIALS.items()})
_PLACES = OnePass.of(PLACES)


def names_in(text: str, names: OnePass) -> set[str]:
    """The canonical names of `names` (LEADER_NAMES or OFFICIAL_NAMES) in folded `text`."""
    return names.found(text)


def places_in(text: str) -> set[str]:
    """Canonical places named in folded `text`; capitals named as a pair do not count."""
    return _PLACES.found(CAPITAL_PAIRS.sub(" ", text))


def leader_spans(text: str) -> dict[str, list[tuple[int, int]]]:
    """Where folded `text` names each side's leader, by name or by office."""
    spans: dict[str, list[tuple[int, int]]] = {"ru": [], "us": []}
    for side, pattern in [*LEADERS.values(), *((s, p) for s, p in LEADER_ROLES.items())]:
        spans[side] += [m.span() for m in pattern.finditer(text)]
    return {side: found for side, found in spans.items() if found}


def leader_sides(text: str) -> set[str]:
    """Sides ("ru", "us") whose leader folded `text` names, by name or by office."""
    sides = {side for side, pattern in LEADERS.values() if pattern.search(text)}
    sides |= {side for side, pattern in LEADER_ROLES.items() if pattern.search(text)}
    if BOTH_LEADERS.search(text):
        sides |= {"ru", "us"}
    return sides


def actors_in(texts: Iterable[str]) -> set[str]:
    """Canonical actors named in any of `texts`: leaders, officials and leader roles."""
    found: set[str] = set()
    for text in dict.fromkeys(texts):
        folded = fold(text)
        found |= names_in(folded, LEADER_NAMES) | names_in(folded, OFFICIAL_NAMES)
        found |= {f"leader:{side}" for side in leader_sides(folded)}
    return found


def strip_dateline(text: str) -> str:
    """`text` without a leading dateline ("MOSCOW, June 1. /TASS/.")."""
    return DATELINE.sub("", text, count=1)
