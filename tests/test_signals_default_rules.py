"""The default rules (config/rules.toml) on how press offices phrase each step.

Sentences are written in the style of kremlin.ru / mid.ru / whitehouse.gov releases;
they are not taken from the dev set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.signals import load_rules, match_document

RULES = load_rules(Path(__file__).resolve().parent.parent / "config" / "rules.toml")


def types(title: str, text: str, lang: str) -> set[str]:
    return {s.type for s in match_document(RULES, title, text, lang).signals}


def flagged(title: str, text: str, lang: str) -> bool:
    return match_document(RULES, title, text, lang).flagged


@pytest.mark.parametrize(("title", "text", "kind"), [
    ("Телефонный разговор с Президентом США Дональдом Трампом",
     "Состоялся телефонный разговор Владимира Путина с Президентом США.", "leader_call"),
    ("", "Владимир Путин провёл телефонный разговор с Президентом Соединённых Штатов Америки "
         "Дональдом Трампом.", "leader_call"),
    ("", "Думаю, нам нужно созвониться с Президентом Трампом и обсудить это.", "leader_call"),
    ("", "В Женеве прошли консультации по стратегической стабильности между Россией и США.",
     "strategic_stability"),
    ("", "Российская и американская делегации провели консультации по стратегической "
         "стабильности.", "strategic_stability"),
    ("", "В Эр-Рияде состоялись переговоры делегаций России и США.", "neutral_venue_meeting"),
    ("", "Российско-американская встреча прошла в Стамбуле.", "neutral_venue_meeting"),
    ("", "Владимир Путин принял в Кремле специального посланника Президента США Стивена "
         "Уиткоффа.", "envoy_visit"),
    ("", "Спецпосланник Уиткофф прибыл в Москву для встречи с Путиным.", "envoy_visit"),
    ("", "Кирилл Дмитриев прибыл в Вашингтон с визитом.", "envoy_visit"),
    ("", "Сергей Лавров провёл телефонный разговор с Государственным секретарём США Марко "
         "Рубио.", "leader_call"),
    ("", "Помощник Президента Юрий Ушаков сообщил о подготовке встречи Путина с Трампом.",
     "summit_planning"),
    ("", "Продолжаются российско-американские консультации на уровне экспертов.",
     "envoy_visit"),
    ("", "Внимание мира приковано к переговорам между Россией и Соединёнными Штатами.",
     "envoy_visit"),
    ("", "Рябков заявил, что консультации по ДСНВ с США отложены.", "refusal"),
    ("", "Путин и Трамп провели телефонный разговор.", "leader_call"),
    ("", "Песков: встреча Путина и Трампа пока не планируется.", "refusal"),
    ("", "Путин пригласил Трампа в Москву.", "summit_planning"),
    ("", "Путин сказал Трампу, что следующая встреча может пройти в Москве.",
     "summit_planning"),
    ("", "Лавров и Рубио обсудили по телефону подготовку встречи президентов.", "leader_call"),
    ("", "Кремль: Путин готов встретиться с Трампом.", "summit_planning"),
    ("", "Путин и Трамп договорились встретиться в Будапеште.", "summit_planning"),
    ("", "Россия приостанавливает участие в Договоре о стратегических наступательных "
         "вооружениях.", "arms_control"),
    ("", "Рябков: Россия и США могут провести новый раунд консультаций по раздражителям.",
     "envoy_visit"),
    ("", "Уиткофф вылетел в Москву для переговоров с Путиным.", "envoy_visit"),
])
def test_default_rules_russian_phrasings(title: str, text: str, kind: str) -> None:
    """Each supported Russian phrasing fires its signal type and flags the item."""
    assert kind in types(title, text, "ru")
    assert flagged(title, text, "ru")


@pytest.mark.parametrize(("title", "text", "kind"), [
    ("Readout of President Biden's Call with President Vladimir Putin of Russia",
     "President Biden spoke today with President Vladimir Putin of Russia.", "leader_call"),
    ("Telephone conversation with US President Donald Trump",
     "Vladimir Putin had a telephone conversation with President of the United States "
     "Donald Trump.", "leader_call"),
    ("", "Secretary Rubio spoke with Russian Foreign Minister Lavrov.", "leader_call"),
    ("", "The United States and Russia held talks on strategic stability in Geneva.",
     "strategic_stability"),
    ("", "The United States and Russia agreed to extend the New START Treaty.", "arms_control"),
    ("", "Special Envoy Witkoff arrived in Moscow and met with President Putin.", "envoy_visit"),
    ("", "US and Russian delegations met in Riyadh for talks.", "neutral_venue_meeting"),
    ("", "President Biden will meet President Putin in Geneva on June 16.", "summit_planning"),
    ("", "The President has no plans to meet with President Putin.", "refusal"),
    ("", "President Trump and President Putin held a telephone conversation.", "leader_call"),
    ("", "Trump and Putin spoke by phone for more than two hours on Tuesday.", "leader_call"),
    ("", "Vladimir Putin (in English): Next time in Moscow. Donald Trump: Oh, that's an "
         "interesting one.", "summit_planning"),
    ("", "Mr Lavrov told Secretary Rubio that the next meeting in Washington was possible.",
     "summit_planning"),
    ("", "President Putin invited President Trump to Moscow.", "summit_planning"),
    ("", "Secretary Rubio and Foreign Minister Lavrov discussed by phone the next steps.",
     "leader_call"),
    ("", "Dmitriev arrived in Miami for talks with Witkoff.", "envoy_visit"),
    ("", "Lavrov said Russia was ready for a meeting with Rubio but no date had been set.",
     "summit_planning"),
    ("", "Putin hosted Witkoff at the Kremlin for nearly five hours.", "envoy_visit"),
])
def test_default_rules_english_phrasings(title: str, text: str, kind: str) -> None:
    """Each supported English phrasing fires its signal type and flags the item."""
    assert kind in types(title, text, "en")
    assert flagged(title, text, "en")


@pytest.mark.parametrize(("title", "text", "lang"), [
    ("Telephone conversation with President of Turkey Recep Tayyip Erdogan",
     "Vladimir Putin had a telephone conversation with President of Turkey.", "en"),
    ("Meeting with Ilham Aliyev and Nikol Pashinyan",
     "Russia hosted talks between Armenia and Azerbaijan; the next round is in Abu Dhabi.", "en"),
    ("Outcomes of the United States and Ukraine Expert Groups",
     "US-Ukraine expert talks were held in Riyadh.", "en"),
    ("Russian-Chinese talks",
     "Russia and China held consultations on strategic stability in Beijing.", "en"),
    ("Statement on COP29", "The United States delegation at COP29 in Baku met partners.", "en"),
    ("Abu Dhabi Grand Prix", "Fans from Russia and America watched the Grand Prix.", "en"),
    ("BRICS Summit", "Vladimir Putin took part in the BRICS summit.", "en"),
    ("Указ о мерах по обеспечению финансовой стабильности",
     "В целях обеспечения финансовой стабильности Российской Федерации постановляю.", "ru"),
    ("Телефонный разговор с Президентом ОАЭ",
     "Состоялся телефонный разговор с Президентом ОАЭ. Была высоко оценена роль ОАЭ в "
     "содействии российско-американскому диалогу.", "ru"),
    ("Заседание Совета глав государств – членов ОДКБ",
     "Владимир Путин принял участие в заседании Совета коллективной безопасности ОДКБ.", "ru"),
    ("Russian-Chinese talks", "Vladimir Putin: Next time in Moscow. Xi Jinping: Thank you, "
     "I accept with pleasure.", "en"),
    ("Заседание Высшего Евразийского экономического совета",
     "Следующая встреча в Москве состоится в декабре, сообщил Владимир Путин.", "ru"),
    ("Plenary session of the BRICS summit", "Russia and the United States are the largest "
     "nuclear powers, Putin told the BRICS summit in Kazan.", "en"),
    ("", "President Biden spoke by phone with Chancellor Scholz about Russia's war.", "en"),
    ("", "Лавров по телефону обсудил с министром иностранных дел Турции ситуацию на Украине.",
     "ru"),
    ("", "Россия приостанавливает участие в Договоре об обычных вооружённых силах в Европе.",
     "ru"),
    ("", "Trade between Moscow and Washington fell sharply last year.", "en"),
    ("Телефонный разговор с Президентом ОАЭ", "Президент ОАЭ высоко оценил диалог России и "
     "США и выразил готовность содействовать переговорам.", "ru"),
    ("Телефонный разговор с Президентом ОАЭ", "Президент ОАЭ подтвердил готовность "
     "предоставить площадку для переговоров России и США.", "ru"),
    ("Telephone conversation with President of the UAE", "The President of the UAE "
     "reaffirmed his readiness to host talks between Russia and the United States.", "en"),
    ("Встреча с Премьер-министром Индии",
     "Путин проинформировал премьер-министра о российско-американских контактах.", "ru"),
    ("", "В Баку открылась конференция ООН по изменению климата COP29, в которой участвуют "
         "делегации России и США.", "ru"),
])
def test_default_rules_hard_negatives(title: str, text: str, lang: str) -> None:
    """Third parties in the same cities, other 'stability', and other summits do not flag."""
    assert not flagged(title, text, lang)
