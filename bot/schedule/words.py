"""The words people type for times, in the languages Crier reads (a data module of
bot/schedule/parse.py): days, parts of the day, clock words, fillers and duration units, and
the patterns that find them in a message."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Each canonical token, then how people write it in en, de, fr, es, it, pt, ru and uk
# ("|" between; an indented line goes on). Longer phrases win over shorter ones, so
# "pasado mañana" is the day after tomorrow, "mañana" tomorrow and "por la mañana" morning.
WORDS = """
@now: now|right now|jetzt|sofort|maintenant|ahora|ahora mismo|adesso|subito|agora|сейчас
    |прямо сейчас|зараз
@today: today|heute|aujourd'hui|hoy|oggi|hoje|сегодня|сьогодні
@tomorrow: tomorrow|tmrw|tmr|morgen|demain|mañana|manana|domani|amanhã|amanha|завтра
@overmorrow: day after tomorrow|the day after tomorrow|übermorgen|uebermorgen|après-demain
    |après demain|apres-demain|pasado mañana|pasado manana|dopodomani|depois de amanhã
    |depois de amanha|послезавтра|післязавтра
@tonight: tonight|this evening|heute abend|ce soir|esta noche|stasera|questa sera|hoje à noite
    |hoje a noite|esta noite|сегодня вечером|сьогодні ввечері|сьогодні увечері
@today @morning: this morning|heute morgen|heute früh|ce matin|esta mañana|stamattina
    |questa mattina|hoje de manhã|esta manhã|сегодня утром|сьогодні вранці|сьогодні зранку
@today @afternoon: this afternoon|heute nachmittag|cet après-midi|esta tarde|oggi pomeriggio
    |questo pomeriggio|hoje à tarde|сегодня днём|сегодня днем|сьогодні вдень
@today @night: heute nacht|cette nuit|stanotte|сегодня ночью|сьогодні вночі
@tomorrow @morning: morgen früh|domattina
@morning: morning|in the morning|morgens|vormittag|vormittags|am morgen|früh|matin|du matin
    |le matin|por la mañana|de la mañana|en la mañana|mattina|di mattina|del mattino
    |la mattina|de manhã|da manhã|pela manhã|утром|утра|вранці|зранку|ранку
@afternoon: afternoon|in the afternoon|nachmittag|nachmittags|am nachmittag|après-midi
    |apres-midi|de l'après-midi|l'après-midi|por la tarde|de la tarde|en la tarde|pomeriggio
    |del pomeriggio|di pomeriggio|à tarde|da tarde|pela tarde|днём|днем|дня|вдень|удень
@evening: evening|in the evening|abend|abends|am abend|soir|du soir|le soir|por la noche
    |de la noche|sera|di sera|la sera|à noite|da noite|de noite|pela noite|вечером|вечера
    |ввечері|увечері|вечора
@night: night|at night|nacht|nachts|in der nacht|nuit|la nuit|de la nuit|noche|notte
    |di notte|ночью|ночи|вночі|уночі|ночі
@noon: noon|midday|mittag|mittags|midi|mediodía|mediodia|mezzogiorno|meio-dia|meio dia
    |полдень|в полдень|опівдні|о півдні|полудень
@midnight: midnight|mitternacht|minuit|medianoche|mezzanotte|meia-noite|meia noite|полночь
    |в полночь|опівночі|о півночі|північ
@next: next|coming|nächsten|nächster|nächste|kommenden|kommender|kommende|prochain|prochaine
    |próximo|próxima|proximo|proxima|que viene|prossimo|prossima|que vem|следующий
    |следующую|следующее|следующей|в следующий|в следующую|наступний|наступного|наступну
    |наступної|в наступний|у наступний|в наступну|у наступну
@this: this|diesen|dieser|diese|ce|cette|este|esta|questo|questa|этот|эту|в этот|в эту|цей
    |цю|в цей|у цей|в цю|у цю
@am: am|a.m|a. m
@pm: pm|p.m|p. m
@oclock: o'clock|oclock|uhr|h|heures|heure|horas|hora|ore|часов|часа|час|годині|години
    |годин|година
1: all'una|l'una
@mon: monday|mon|montag|mo|lundi|lun|lunes|lunedì|lunedi|segunda-feira|segunda|понедельник
    |понедельника|пн|понеділок|понеділка
@tue: tuesday|tue|tues|dienstag|di|mardi|martes|martedì|martedi|terça-feira|terça
    |terca-feira|terca|вторник|вторника|вт|вівторок|вівторка
@wed: wednesday|wed|mittwoch|mi|mercredi|mer|miércoles|miercoles|mercoledì|mercoledi
    |quarta-feira|quarta|среда|среду|среды|ср|середа|середу|середи
@thu: thursday|thu|thur|thurs|donnerstag|do|jeudi|jeu|jueves|giovedì|giovedi|quinta-feira
    |quinta|четверг|четверга|чт|четвер
@fri: friday|fri|freitag|fr|vendredi|ven|viernes|vie|venerdì|venerdi|sexta-feira|sexta
    |пятница|пятницу|пятницы|пт|п'ятниця|п'ятницю|п'ятниці
@sat: saturday|sat|samstag|sonnabend|sa|samedi|sam|sábado|sabado|sabato|суббота|субботу
    |субботы|сб|субота|суботу|суботи
@sun: sunday|sun|sonntag|so|dimanche|dim|domingo|dom|domenica|воскресенье|воскресенья|вс
    |неділя|неділю|неділі|нд
"""
#: Words that only join the others: "um 9", "à 9h", "a las 9", "alle 9", "в 9", "о 9".
FILLERS = """at|on|the|um|à|a|las|la|alle|all|às|as|ao|al|na|no|el|le|l|d|'|de|del|der|den|dem
    |die|das|of|for|around|about|gegen|vers|hacia|verso|в|во|о|об|у|на|к|около|близько"""

# Durations: "in 90 min", "dans 2 heures", "через час", "tra un'ora", "daqui a 2 dias".
IN_WORDS = re.compile(r"^(?:in|within|dans|en|dentro de|через|за|tra|fra|em|daqui a)\s+")
UNITS = """
minute: m|min|mins|minute|minutes|minuten|minuto|minutos|minuti|mn|минут|минуты|минуту|мин
    |хвилин|хвилини|хвилину|хв
hour: h|hr|hrs|hour|hours|std|stunde|stunden|heure|heures|hora|horas|ora|ore|ч|час|часа
    |часов|год|година|години|годин|годину
day: d|day|days|tag|tage|tagen|jour|jours|día|días|dia|dias|giorno|giorni|день|дня|дней|дні
    |днів
week: w|wk|week|weeks|woche|wochen|semaine|semaines|semana|semanas|settimana|settimane
    |неделя|неделю|недели|недель|тиждень|тижні|тижнів
month: month|months|monat|monate|monaten|mois|mes|meses|mese|mesi|mês|месяц|месяца|месяцев
    |місяць|місяці|місяців
1: a|an|one|ein|eine|einer|einem|einen|un|une|una|uno|um|uma|один|одна|одну|одного
2: two|zwei|deux|dos|due|dois|duas|два|две|дві
3: three|drei|trois|tres|tre|três|три
+: and|und|et|y|e|и|і|й
"""
REL_PHRASES = """
90 min: an hour and a half|anderthalb stunden|eineinhalb stunden|une heure et demie
    |una hora y media|un'ora e mezza|uma hora e meia|полтора часа|півтори години
30 min: half an hour|a half hour|einer halben stunde|eine halbe stunde|une demi-heure
    |demi-heure|media hora|meia hora|mezz'ora|mezzora|полчаса|пів години|півгодини
1 ora: un'ora
"""


def table(text: str) -> dict[str, str]:
    """{"phrase": "key"} from "key: phrase|phrase" lines (an indented line goes on)."""
    joined = re.sub(r"\n\s+\|", "|", text.strip())
    table: dict[str, str] = {}
    for line in joined.splitlines():
        key, _, phrases = line.partition(": ")
        table.update(dict.fromkeys(phrases.split("|"), key))
    return table


PHRASES = table(WORDS)
FILLER_WORDS = frozenset(table(f"-: {FILLERS}"))
UNIT_OF = table(UNITS)
REL_REWRITES = table(REL_PHRASES)
WEEKDAYS = {
    f"@{code}": day for day, code in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}
PARTS = {
    "@morning": "morning",
    "@afternoon": "afternoon",
    "@evening": "evening",
    "@tonight": "evening",
    "@night": "night",
    "@noon": "noon",
    "@midnight": "midnight",
}


def alternation(phrases: Iterable[str]) -> re.Pattern[str]:
    # Longest first; a phrase stands alone between non-letters (digits are fine: "9h30").
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(rf"(?<![^\W\d_])(?:{'|'.join(map(re.escape, ordered))})(?![^\W\d_])")


PHRASE_PATTERN = alternation(PHRASES)
REL_PATTERN = alternation(REL_REWRITES)
