"""The default rules (config/rules.toml) on how agencies and press offices phrase contact.

Every sentence here is written for these tests in the style of wire headlines and of
kremlin.ru / mid.ru / whitehouse.gov releases; none is taken from ../shared. Each class
of the design has positives and hard negatives: both sides named (or a compound naming
both), a contact word, no third party as the counterpart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.signals import load_rules, match_document

RULES = load_rules(Path(__file__).resolve().parent.parent / "config" / "rules.toml")


def types(title: str, text: str = "", lang: str | None = None) -> set[str]:
    return {s.type for s in match_document(RULES, title, text, lang).signals}


def flagged(title: str, text: str = "", lang: str | None = None) -> bool:
    return match_document(RULES, title, text, lang).flagged


# Headlines: terse, attributed after a dash, sides often as "Russia, US" or a compound.
HEADLINES = [
    ("Putin and Trump could speak by phone before long — Kremlin", "leader_call"),
    ("US president calls his conversation with Putin very good", "leader_call"),
    ("Peskov does not rule out a new Putin-Trump phone call", "leader_call"),
    ("Senior American envoys set to travel to Moscow for talks", "envoy_visit"),
    ("Russian investment envoy lands in Miami for a meeting with Witkoff", "envoy_visit"),
    ("Kremlin aide thanks the US side for a useful meeting in Florida", "envoy_visit"),
    ("Ryabkov: contacts with the US are better kept out of the public eye", "envoy_visit"),
    ("Kremlin keeps silent about fresh Russia-US contacts", "envoy_visit"),
    ("Russia and the US discuss an easing of sanctions on oil", "envoy_visit"),
    ("Moscow still awaits Washington's reply to its arms proposal", "envoy_visit"),
    ("Kremlin wants the US to explain remarks about nuclear testing", "strategic_stability"),
    ("Lavrov: Washington only has to agree to prolong New START by a year", "arms_control"),
    ("Moscow stands by what was agreed at the Alaska summit — MFA", "summit_planning"),
    ("Orban expects a Russia-US summit in Budapest next year", "summit_planning"),
    ("Preparations for a Putin-Trump meeting have not started, Kremlin says", "summit_planning"),
    (
        "Russian, American and Ukrainian delegations to meet again in Abu Dhabi",
        "neutral_venue_meeting",
    ),
    ("Plan to hold the next trilateral round in Abu Dhabi has US backing", "neutral_venue_meeting"),
    ("Trump calls off planned summit with Putin", "refusal"),
    ("Trump invites Putin to the White House", "summit_planning"),
]

HEADLINES_RU = [
    ("Песков: Путин и Трамп могут созвониться в ближайшее время", "leader_call"),
    ("Уиткофф и Кушнер прилетели в Москву на переговоры", "envoy_visit"),
    ("Дмитриев прибыл в Вашингтон для встречи с представителями администрации", "envoy_visit"),
    ("Россия и США продолжат консультации по работе посольств", "envoy_visit"),
    ("Рябков: Москва ждет ответа Вашингтона по инициативе о ДСНВ", "arms_control"),
    ("Лавров и Рубио обсудили по телефону подготовку саммита", "leader_call"),
    ("Ушаков: встреча Путина и Трампа пока не готовится", "summit_planning"),
    ("В Кремле рассказали о подготовке российско-американского саммита", "summit_planning"),
    (
        "Захарова: Москва ждет от Вашингтона разъяснений по ядерным испытаниям",
        "strategic_stability",
    ),
    ("Путин обсудил с американским спецпосланником пути урегулирования", "envoy_visit"),
    ("Трамп пообещал, что поговорит с Путиным на следующей неделе", "leader_call"),
    ("Кремль пока не получил ответа от США на свои предложения", "envoy_visit"),
]

# Releases: whole sentences, sometimes with the voice of the text as one side.
RELEASES = [
    (
        "Readout of the President's Call with President Putin",
        "The President spoke today with President Vladimir Putin of Russia.",
        "leader_call",
    ),
    (
        "Telephone conversation with US President",
        "Vladimir Putin had a telephone conversation with President of the United States.",
        "leader_call",
    ),
    ("", "I'll be meeting with President Putin in two weeks in Geneva.", "summit_planning"),
    ("", "The Secretary spoke with Russian Foreign Minister Lavrov on Tuesday.", "leader_call"),
    (
        "",
        "The United States and Russia held talks on strategic stability in Vienna.",
        "strategic_stability",
    ),
    (
        "",
        "Special Envoy Witkoff arrived in Moscow and was received by President Putin.",
        "envoy_visit",
    ),
    (
        "",
        "President Putin: Next time in Moscow. President Trump: That is an idea.",
        "summit_planning",
    ),
    ("", "We had a good round of talks with the Russians in Riyadh.", "neutral_venue_meeting"),
]

RELEASES_RU = [
    (
        "Телефонный разговор с Президентом США",
        "Состоялся телефонный разговор Владимира Путина с Президентом Соединённых Штатов.",
        "leader_call",
    ),
    ("", "Владимир Путин принял в Кремле специального посланника Президента США.", "envoy_visit"),
    ("", "В Эр-Рияде прошли переговоры делегаций России и США.", "neutral_venue_meeting"),
    ("", "Продолжаются российско-американские консультации на уровне экспертов.", "envoy_visit"),
    ("", "Думаю, нам нужно созвониться с Президентом Трампом и обсудить это.", "leader_call"),
    ("", "Рябков заявил, что консультации по ДСНВ с США отложены.", "arms_control"),
    ("", "Путин пригласил Трампа в Москву.", "summit_planning"),
    ("", "Путин и Трамп договорились встретиться в Будапеште.", "summit_planning"),
]

# One side only, third parties as the counterpart, contact that is not diplomatic,
# third parties urging dialogue, and passing mentions in a third party's readout.
HARD_NEGATIVES = [
    ("Central Asian leader arrives at the Kremlin for talks with Putin", ""),
    ("Putin and the Mongolian president hold talks", ""),
    ("Kazakh president's meeting with Trump of interest to Moscow — Kremlin", ""),
    ("Japanese lawmaker urges his prime minister to meet Putin", ""),
    ("Russia and Belarus agree on gas prices for next year", ""),
    ("Putin sends greetings to a climate summit in Riyadh", ""),
    ("Talks on a Russia-US hockey friendly have stalled", ""),
    ("UN chief calls for dialogue between Russia and the US on nuclear arms", ""),
    ("US and Ukrainian officials hold talks in Geneva", ""),
    ("Witkoff holds talks with Iranian negotiators in Muscat", ""),
    ("US imposes new sanctions on Russian oil majors", ""),
    ("Kremlin comments on Trump's remarks about the war", ""),
    ("Missile tests, US sanctions: what Putin discussed with his Security Council", ""),
    ("Hungarian minister meets Lavrov, discusses US relations", ""),
    ("The US will not go to war with Russia over this, Trump says", ""),
    ("Peskov explained the Kremlin's view of the new US tariffs", ""),
    (
        "Telephone conversation with President of France",
        "The leaders exchanged views on the Russian-American consultations.",
    ),
    (
        "Meeting with President of Finland",
        "Thank you for accepting our invitation to visit Russia.",
    ),
    ("", "President Biden spoke by phone with Chancellor Scholz about Russia's war."),
    ("", "The President met Secretary Rubio in the Oval Office."),
    ("BRICS summit", "Russia and the United States are nuclear powers, Putin told the summit."),
]

HARD_NEGATIVES_RU = [
    ("Путин провел переговоры с президентом Казахстана", ""),
    ("Москва ввела встречные ограничения против США", ""),
    ("Песков ответил на слова Трампа о России", ""),
    ("Реакция Кремля на новое заявление Трампа", ""),
    ("В Кремле полагают и ожидают, что США откажутся от пошлин", ""),
    (
        "Телефонный разговор с Президентом ОАЭ",
        "Была высоко оценена роль ОАЭ в содействии российско-американскому диалогу.",
    ),
    ("Матч Россия – США по хоккею отменен", ""),
    ("Лавров встретился с министром иностранных дел Китая", ""),
    ("США ввели новые санкции против российских компаний", ""),
    (
        "Указ о мерах по обеспечению финансовой стабильности",
        "В целях обеспечения финансовой стабильности Российской Федерации постановляю.",
    ),
]


@pytest.mark.parametrize(("title", "kind"), HEADLINES)
def test_default_rules_headlines_flagged_with_their_type(title: str, kind: str) -> None:
    """Headline phrasings of each kind of contact flag the item with that signal type."""
    assert kind in types(title)
    assert flagged(title)


@pytest.mark.parametrize(("title", "kind"), HEADLINES_RU)
def test_default_rules_russian_headlines_flagged(title: str, kind: str) -> None:
    """Russian headlines: inflected names, pairs joined by "и", stems."""
    assert kind in types(title, lang="ru")
    assert flagged(title, lang="ru")


@pytest.mark.parametrize(("title", "text", "kind"), RELEASES)
def test_default_rules_release_sentences_flagged(title: str, text: str, kind: str) -> None:
    """Press-release sentences, the text's own voice standing for one side."""
    assert kind in types(title, text, "en")
    assert flagged(title, text, "en")


@pytest.mark.parametrize(("title", "text", "kind"), RELEASES_RU)
def test_default_rules_russian_release_sentences_flagged(title: str, text: str, kind: str) -> None:
    """Kremlin-style Russian release sentences flag their signal type."""
    assert kind in types(title, text, "ru")
    assert flagged(title, text, "ru")


@pytest.mark.parametrize(("title", "text"), HARD_NEGATIVES)
def test_default_rules_hard_negatives(title: str, text: str) -> None:
    """One side only, a third party as counterpart or urging, sport: not flagged."""
    assert not flagged(title, text, "en")


@pytest.mark.parametrize(("title", "text"), HARD_NEGATIVES_RU)
def test_default_rules_russian_hard_negatives(title: str, text: str) -> None:
    """The same classes in Russian are not flagged."""
    assert not flagged(title, text, "ru")


def test_default_rules_signal_names_actors_places_and_sides() -> None:
    """A signal records the canonical names of who is involved, where, and the sides."""
    match = match_document(RULES, "Witkoff meets Dmitriev in Abu Dhabi", "")
    signal = next(s for s in match.signals if s.type == "neutral_venue_meeting")
    assert {"witkoff", "dmitriev"} <= set(signal.actors)
    assert signal.places == ("abu dhabi",)
    assert signal.sides == ("ru", "us")


def test_default_rules_pair_records_both_principals() -> None:
    """ "Putin and Trump" names both sides; each is recorded under its own name."""
    signal = match_document(RULES, "Putin and Trump spoke by phone", "").signals[0]
    assert signal.sides == ("ru", "us")
    assert {"putin", "trump"} <= set(signal.actors)


def test_default_rules_trilateral_names_the_third_party_side() -> None:
    """Trilateral talks with both sides are a signal; the third party shows in `sides`."""
    match = match_document(RULES, "Russian, US and Ukrainian delegations meet in Geneva", "")
    assert match.flagged
    assert "third" in match.signals[0].sides


def test_default_rules_refusal_denied_is_no_refusal() -> None:
    """ "Does not rule out a call" is a call in prospect, not a refusal."""
    assert types("Kremlin does not rule out a new Putin-Trump call") == {"leader_call"}
    assert "refusal" not in types("Песков не исключил нового разговора Путина и Трампа", lang="ru")
    assert "refusal" in types("Kremlin rules out a Putin-Trump call this year")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Telephone conversation with President of the United States", True),
        ("Meeting with US Special Envoy", True),
        ("Встреча со Специальным посланником Президента США", True),
        ("Meeting with Chief Rabbi of Russia", False),
        ("Встреча с вдовой Героя России", False),
        ("Talks with President of Mongolia", False),
    ],
)
def test_default_rules_title_opening_with_a_contact_speaks_for_its_publisher(
    title: str, expected: bool
) -> None:
    """A title opening with the contact ("Telephone conversation with ...") is in its
    publisher's voice: a contact if the counterpart is the other side's principal."""
    assert flagged(title) is expected
