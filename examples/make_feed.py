"""Write ``examples/feed.csv``: an invented feed with one planted surge, for the demo and tests.

Every post was written for this project (no dataset's rows are copied); channels, authors and
events are invented. Eight weeks (Monday 1 September to Sunday 26 October 2025) of posts in
Russian, Kyrgyz and English across five channels: mostly ordinary posts (news, prices, daily
life, sport), some ordinary insults (referees, drivers, officials), now and then a post about
Tajiks (border talks, trade, neighbours) and, rarely, a hostile one. In the week of 13 October,
after an invented border incident, the channel ``batken_online`` carries a surge of hateful and
threatening posts against Tajiks, besides news and counter-speech about the incident: the
surge the demo's alerts should put first (:data:`PLANTED`).

The output is deterministic (seeded): rerun it to regenerate the committed file.

Example:
    $ python examples/make_feed.py            # writes examples/feed.csv
    $ python examples/make_feed.py --out /tmp/feed.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

#: What the demo's alerts should find first: a week, a channel and a target group.
PLANTED = {"channel": "batken_online", "target": "tajik", "start": "2025-10-13",
           "end": "2025-10-20"}

START = date(2025, 9, 1)  # a Monday
WEEKS = 8
SEED = 2025
TZ = "+06:00"  # Asia/Bishkek

# posts per day and the share of each language, per channel
CHANNELS: dict[str, tuple[float, dict[str, float]]] = {
    "batken_online": (1.5, {"ky": 0.55, "ru": 0.45}),
    "bishkek_chat": (2.8, {"ru": 0.7, "ky": 0.3}),
    "osh_bazar": (1.8, {"ky": 0.6, "ru": 0.4}),
    "kg_sport": (1.3, {"ky": 0.4, "ru": 0.35, "en": 0.25}),
    "expat_bishkek": (1.1, {"en": 1.0}),
}

PLACES_KY = ["Ош", "Баткен", "Кызыл-Кыя", "Жалал-Абад", "Бишкек", "Каракол", "Өзгөн"]
PLACES_RU = [("Ош", "Оше"), ("Баткен", "Баткене"), ("Бишкек", "Бишкеке"),
             ("Джалал-Абад", "Джалал-Абаде"), ("Кызыл-Кия", "Кызыл-Кие"),
             ("Каракол", "Караколе")]
TEAMS = ["Дордой", "Алга", "Абдыш-Ата", "Нефтчи", "Илбирс", "Мурас Юнайтед"]
ITEMS_KY = ["эт", "картөшкө", "пияз", "ун", "май", "кант"]
ITEMS_RU = ["мясо", "картошку", "лук", "муку", "масло", "сахар"]
ITEMS_EN = ["honey", "apricots", "walnuts", "a SIM card", "winter tyres", "felt slippers"]
STREETS = ["Ахунбаева", "Токтогула", "Масалиева", "Курманжан Датки", "Ленина"]
TIMES = ["9:00", "10:30", "12:00", "14:00", "16:00", "18:00"]

BENIGN = {
    "ky": [
        "Бүгүн {place} базарында эт {price} сом болуптур, кечээ арзаныраак эле.",
        "{place} шаарында жаңы мектеп ачылды, балдар абдан кубанычта.",
        "Эртең эртең менен саат {time} чейин суу болбойт деп жарыялашты.",
        "Ким билет, {place} автобусу саат канчада жөнөйт?",
        "Кечээ кечинде катуу жамгыр жаады, жолдор баткак болуп калды.",
        "Азыр {item} кымбаттап кетти, {price} сом деп жатышат.",
        "Балдар бакчасына каттоо качан башталат, ким билет?",
        "Бүгүн аба ырайы жакшы болду, үй-бүлө менен тоого чыгып келдик.",
        "Айылдагы жолду оңдой башташты, жергиликтүү бийликке рахмат.",
        "Куттуктайбыз! Жума күнү досубуздун үйлөнүү тою болот.",
        "Ооруканада дарыгерлер жетишпейт, кезек абдан узун.",
        "Жума күнү {place} борборунда концерт болот, баарыңар келгиле.",
        "Быйыл алма көп болду, бир чакасы {price} сом.",
        "Электр жарыгы дагы өчүп калды, качан күйгүзөт экен?",
        "Жаңы көпүрөнүн курулушу бүтүп калды, жакында ачылат.",
        "Мектептин жанына балдар үчүн оюн аянтчасы курулду.",
        "Эгин талаасына суу жетпей жатат, дыйкандар тынчсызданууда.",
        "Таксиге {place} шаарына чейин канча төлөш керек?",
        "Апама дары издеп жатам, {place} дарыканаларында барбы?",
        "Бүгүн базарда картөшкө {price} сомдон сатылып жатат.",
        "Мугалимдерге рахмат, балдарыбыз олимпиадада жеңишке жетишти.",
        "Күз келди, көмүрдүн баасы {price} сомго чыгыптыр.",
        "Кимдир бирөө ачкычтарын аялдамада жоготуп алыптыр, ээси табылсын.",
        "Жаңы жылга чейин жолду бүтүрөбүз деп убада беришти.",
    ],
    "ru": [
        "В {place_in} сегодня мясо по {price} сом за кило, вчера было дешевле.",
        "Подскажите, во сколько уходит маршрутка до города {place}?",
        "Завтра с утра до {time} не будет воды, предупредите соседей.",
        "В {place_in} открыли новую школу, дети очень довольны.",
        "Опять отключили свет, когда уже починят подстанцию?",
        "Цены на {item} опять выросли, теперь {price} сом.",
        "Кто знает хорошего стоматолога в центре? Посоветуйте, пожалуйста.",
        "В субботу на площади будет концерт, приходите всей семьёй.",
        "Сегодня отличная погода, ездили с детьми в горы.",
        "Ремонт дороги на улице {street} наконец-то начали.",
        "В поликлинике очереди с самого утра, врачей не хватает.",
        "Продаю детскую коляску, почти новая, недорого.",
        "Курс доллара сегодня снова вырос, в обменниках уже {rate}.",
        "Спасибо водителю автобуса, который вернул мой кошелёк!",
        "Урожай яблок в этом году хороший, ведро по {price} сом.",
        "Поздравляем выпускников! Удачи на экзаменах.",
        "Где в городе можно недорого починить телефон?",
        "Новый мост почти достроили, обещают открыть к зиме.",
        "Собрание жильцов в четверг в {time}, приходите.",
        "Потерялась собака, рыжая, отзывается на Барсик. Район улицы {street}.",
        "Уголь подорожал, тонна уже {price}0 сом, как зимовать?",
        "В {place_in} сегодня ярмарка мёда, очень советую.",
    ],
    "en": [
        "Anyone know a good place to get winter tyres in Bishkek?",
        "The water will be off tomorrow morning until {time}, heads up.",
        "Great hike to Ala-Archa today, the weather was perfect.",
        "Where can I buy {item} cheaper than {price} som?",
        "Looking for a Russian tutor, two evenings a week.",
        "The new cafe near the philharmonic has good coffee and fast wifi.",
        "Does the Osh bus leave at {time} or later? Can't find a timetable.",
        "Power cut again in our district, hope it's back soon.",
        "Exchange rate today is {rate}, up again.",
        "Flat for rent near the centre, two rooms, message me.",
        "Thanks to everyone who came to the charity run on Sunday!",
        "Any recommendations for a dentist who speaks English?",
        "The bazaar is packed today, apples are {price} som a kilo.",
        "Visa registration rules changed again, check the embassy page.",
        "Lovely concert in the park last night, the komuz player was amazing.",
    ],
}

SPORT = {
    "ky": ["Бүгүн {team} жеңди, куттуктайбыз!", "Кечээки оюн кызыктуу болду, {team} жакшы ойноду.",
           "Курама команда эртең саат {time} ойнойт, ким барат?",
           "{team} жаңы машыктыруучу алыптыр, көрөбүз эмне болорун."],
    "ru": ["{team} сегодня выиграл, отличная игра!", "Кто пойдёт на матч {team} в воскресенье?",
           "Билеты на матч {team} уже в продаже, по {price} сом.",
           "Хороший сезон у {team}, молодёжь радует."],
    "en": ["Great match last night, {team} played really well.",
           "Tickets for the {team} game are {price} som, who's going?",
           "Watching {team} this weekend, anyone want to join?"],
}

OFFENSIVE = {
    "ky": ["Бул айдоочу акмак го, жолдо кантип жүрөт?", "Калыс бүгүн келесоо болду, баары көрдү.",
           "Депутаттар уурулар, элге эч нерсе кылбайт, шерменделер.",
           "Оозуңду жап, акмак, жетишет эми.", "Ушул келесоолор жолду бузуп салышты."],
    "ru": ["Этот водитель маршрутки вообще идиот, чуть людей не сбил.",
           "Судья сегодня просто дебил, такой пенальти не дать.",
           "Депутаты опять воруют, уроды, ничего для людей не делают.",
           "Кто так паркуется, придурок? Весь двор перекрыл.",
           "Заткнись уже, тупой тролль, надоел со своими комментариями.",
           "Коммунальщики бездельники и дармоеды, третий день нет воды."],
    "en": ["That referee is a complete idiot, worst call I've ever seen.",
           "Whoever parked like this is a moron.", "Shut up, you clueless troll.",
           "These officials are useless clowns, no water for three days."],
}

# Anger at thieves, drivers or officials that names no identity group: every channel has some,
# so a channel's overall hate and threat rates are never zero before the surge.
HOSTILE_GENERIC = {
    "ky": ["Ошол ууруну кармасак, сабап салабыз, эсинде болсун.",
           "Бул чиновниктер элди тоноп жатат, баарын түрмөгө камаш керек, уятсыздар.",
           "Дагы бир жолу короого машинаңды койсоң, дөңгөлөгүңдү тешип салам."],
    "ru": ["Поймаю того, кто машину поцарапал, голову оторву.",
           "Этих чиновников-воров надо всех пересажать, твари.",
           "Ещё раз сосед включит музыку ночью, я ему все окна выбью."],
    "en": ["If I find the guy who stole my bike I'll break his legs."],
}

TAJIK_BENIGN = {
    "ky": ["Кыргыз-тажик чек арасы боюнча сүйлөшүүлөр кайра башталды.",
           "Тажик соодагерлер {place} базарына өрүк алып келишиптир.",
           "Чек арадагы айылдарда кыргыз жана тажик балдар бирге футбол ойношту.",
           "Тажик тарап менен суу бөлүштүрүү боюнча макулдашууга кол коюлду.",
           "Исфара жолунда тажик жана кыргыз айдоочулар бири-бирине жардам беришти."],
    "ru": ["Кыргызские и таджикские старейшины встретились и обсудили воду.",
           "Таджикские торговцы снова привезли на рынок абрикосы.",
           "Переговоры по границе с таджикской стороной продолжатся в понедельник.",
           "Мой сосед таджик помог нам с ремонтом крыши, спасибо ему."],
    "en": ["Kyrgyz and Tajik officials met again to talk about the border.",
           "Tajik traders brought apricots to the market today."],
}

TAJIK_HOSTILE_BACKGROUND = {
    "ky": ["Тажиктер бизге эч качан дос болбойт, ишенбегиле аларга."],
    "ru": ["Таджики опять понаехали, от них одни проблемы."],
    "en": ["Tajiks are nothing but trouble, always have been."],
}

# The planted surge: hostility against Tajiks after an invented border incident.
SURGE_INTROS = {
    "ky": ["", "", "Чек арада дагы атышуу болду. ", "Жетишет! ", "Кечээки окуядан кийин ",
           "Баткендиктер, уккула! "],
    "ru": ["", "", "Опять стрельба на границе. ", "Хватит терпеть! ", "После вчерашнего ",
           "Баткенцы, слушайте! "],
    "en": ["", "Enough! "],
}
SURGE = {
    "ky": ["тажиктерди бул жерден кууп чыгыш керек, алар биздин жерди тартып алып жатышат.",
           "тажиктер адам эмес, айбан, алар менен сүйлөшүүнүн кереги жок.",
           "тажиктер дагы чек арадан өтсө, баарын өлтүрөбүз.",
           "бардык тажиктерди айылдан кууп чыгабыз, үйлөрүн өрттөйбүз.",
           "тажик иттер, силерге бул жерде орун жок, кеткиле.",
           "базарда тажиктерди көрсөк, уруп кууп чыгабыз.",
           "тажиктерге өлүм! Бирөөсүн да тирүү калтырбайбыз.",
           "тажиктердин баары душман, аларды жок кылыш керек."],
    "ru": ["таджиков надо гнать отсюда, они забирают нашу землю.",
           "таджики не люди, а скот, говорить с ними бесполезно.",
           "если таджики ещё раз перейдут границу, мы их всех перебьём.",
           "соберёмся и сожжём дома таджиков, пусть бегут к себе.",
           "таджикские собаки, вам здесь не место, убирайтесь.",
           "увидим таджика на рынке, изобьём, пусть все знают.",
           "смерть таджикам! Ни одного не оставим.",
           "все таджики враги, их надо уничтожить."],
    "en": ["every Tajik who crosses the border should be shot.",
           "drive all the Tajiks out of Batken and burn their houses."],
}
SURGE_NEWS = {
    "ky": ["Чек арада кыргыз жана тажик чек арачыларынын ортосунда окуя болду, жарадарлар бар.",
           "Тажиктерге каршы чакырыктарга ишенбегиле, тынчтыкты сактайлы.",
           "Өкмөт тажик тарап менен сүйлөшүүлөрдү улантууну пландап жатат."],
    "ru": ["На границе произошёл инцидент между кыргызскими и таджикскими пограничниками, "
           "есть раненые.",
           "Власти просят не поддаваться на провокации против таджиков и сохранять спокойствие."],
}

USERS = ["aibek_88", "nurzada.k", "sergey_b", "gulya_osh", "timur.kg", "asel_m", "bakyt77",
         "elnura_b", "daniyar.s", "olga_pet", "kanat_jj", "meerim.a", "ruslan_kg", "aizada_t",
         "max_in_bishkek", "emily.w", "tom_travels", "janyl_a", "azamat.k", "dinara_s",
         "ulan_t", "cholpon.b", "igor_v", "saltanat_m", "begimai_k", "erlan_osh", "nastya_r",
         "kubat_d", "aigerim.j", "sam_kg"]
SURGE_USERS = ["batken_patriot", "chek_ara_01", "kyrgyz_sher", "tuura_soz", "jigit_batken",
               "el_uchun_", "aktan_b88", "temir_k", "ata_jurt_kg", "karakuz_x"]


def _fill(template: str, lang: str, rng: random.Random) -> str:
    place_ru = rng.choice(PLACES_RU)
    items = {"ky": ITEMS_KY, "ru": ITEMS_RU, "en": ITEMS_EN}[lang]
    return template.format(
        place=place_ru[0] if lang != "ky" else rng.choice(PLACES_KY), place_in=place_ru[1],
        price=rng.randrange(40, 900, 10), time=rng.choice(TIMES), item=rng.choice(items),
        team=rng.choice(TEAMS), street=rng.choice(STREETS),
        rate=f"{rng.uniform(86.5, 89.5):.2f}")


def _pick_lang(shares: dict[str, float], rng: random.Random) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _moment(day: date, rng: random.Random) -> str:
    at = datetime(day.year, day.month, day.day, rng.randint(7, 22), rng.randint(0, 59))
    return at.strftime("%Y-%m-%dT%H:%M:00") + TZ


def make_posts(seed: int = SEED) -> list[dict[str, str]]:
    """The feed's posts, sorted by time, each with id, date, channel, author and text."""
    rng = random.Random(seed)
    surge_start = date.fromisoformat(PLANTED["start"])
    surge_end = date.fromisoformat(PLANTED["end"])
    posts: list[tuple[str, str, str, str]] = []  # (date, channel, author, text)
    for offset in range(WEEKS * 7):
        day = START + timedelta(days=offset)
        week = offset // 7
        for channel, (per_day, shares) in CHANNELS.items():
            n = int(per_day) + (rng.random() < per_day - int(per_day))
            for _ in range(n):
                lang = _pick_lang(shares, rng)
                draw = rng.random()
                if channel == "kg_sport" and draw < 0.6:
                    text = _fill(rng.choice(SPORT[lang]), lang, rng)
                elif draw < 0.08:
                    text = rng.choice(OFFENSIVE[lang])
                elif draw < 0.13:
                    text = rng.choice(HOSTILE_GENERIC[lang])
                else:
                    text = _fill(rng.choice(BENIGN[lang]), lang, rng)
                posts.append((_moment(day, rng), channel, rng.choice(USERS), text))
            # posts about Tajiks: ordinary ones every week (daily in Batken, on the border),
            # a hostile one in other channels every other week
            tajik_posts = 1.4 if channel == "batken_online" else 0.08
            for _ in range(int(tajik_posts) + (rng.random() < tajik_posts % 1)):
                lang = _pick_lang({k: v for k, v in shares.items() if k in TAJIK_BENIGN}
                                  or {"en": 1.0}, rng)
                posts.append((_moment(day, rng), channel, rng.choice(USERS),
                              _fill(rng.choice(TAJIK_BENIGN[lang]), lang, rng)))
            if channel != "batken_online" and week % 2 == 1 and offset % 7 == 3 and \
                    rng.random() < 0.5:
                lang = _pick_lang(shares, rng)
                posts.append((_moment(day, rng), channel, rng.choice(USERS),
                              rng.choice(TAJIK_HOSTILE_BACKGROUND[lang])))
        if surge_start <= day < surge_end:
            # the incident's news and counter-speech, and the surge itself (a few prolific
            # accounts among the rest, as in real pile-ons)
            for _ in range(1 if offset % 2 else 0):
                lang = rng.choice(["ky", "ru"])
                posts.append((_moment(day, rng), PLANTED["channel"], rng.choice(USERS),
                              rng.choice(SURGE_NEWS[lang])))
            for _ in range(rng.randint(3, 5)):
                lang = rng.choices(["ky", "ru", "en"], weights=[0.5, 0.42, 0.08])[0]
                intro = rng.choice(SURGE_INTROS[lang])
                body = rng.choice(SURGE[lang])
                text = intro + (body[0].upper() + body[1:] if not intro or
                                intro.endswith((". ", "! ")) else body)
                posts.append((_moment(day, rng), PLANTED["channel"], rng.choice(SURGE_USERS),
                              text))
    posts.sort(key=lambda p: p[0])
    return [{"id": f"{i + 1:05d}", "date": moment, "channel": channel, "author": author,
             "text": text} for i, (moment, channel, author, text) in enumerate(posts)]


def write_feed(path: Path, seed: int = SEED) -> int:
    """Write the feed as UTF-8 CSV; returns the number of posts."""
    posts = make_posts(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "date", "channel", "author", "text"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(posts)
    return len(posts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("feed.csv"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    n = write_feed(args.out, args.seed)
    print(f"wrote {n} posts to {args.out}")


if __name__ == "__main__":
    main()
