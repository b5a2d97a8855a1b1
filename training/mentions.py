"""Identity-mention augmentation: neutral and positive sentences naming each target group, in
Russian, Kyrgyz, Kazakh and English, written by this project (Dixon et al. 2018, "Measuring
and Mitigating Unintended Bias in Text Classification").

Why: in the training corpus a group's name appears mostly in hateful rows. The weak Russian
``hate`` labels (toxic rows that name a group) and our hateful synthetic rows outnumber the
neutral mentions many times over (LGBT people about 18 to 1 in Russian training rows, Jewish
people 6 to 1), so a model learns the name itself as a sign of hate and flags "Tajik traders
brought apricots to the market" (in English, a stack of our models flagged 90% of the
fairness set's neutral sentences about Muslims and 70% of those about Jews). These sentences
give every group the same everyday and positive contexts, in the grammatical cases the group's
name takes in real posts.

The sentences are generated from the templates and word forms below by :func:`mention_rows`
and committed as ``training/synthetic/{ru,ky,kk,en}_mentions.csv`` (sources
``synthetic_ru_mentions``, ``synthetic_ky_mentions``, ``synthetic_kk_mentions`` and
``synthetic_en_mentions``).
Regenerate them with ``python -m training.mentions``; a test checks the committed files equal
the generator's output, and that they share no sentence and no five-word run with the
functional suites, the fairness templates or the neutral-mention benchmark, which measure what
this augmentation is meant to fix.

Over 500 lines because the word forms and templates of four languages are data, kept beside
the generator that renders them (a test compares the committed files with its output).

The rows are augmentation, not posts: the corpus puts them in train or calib only (never in dev
or test), so test figures stay measured on the same rows as before.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .sources import SYNTHETIC_DIR

__all__ = ["FILES", "Template", "first_upper", "mention_rows", "render_csv", "rows_csv",
           "write_files", "write_generated"]

#: Output file per language.
FILES = {"ru": "ru_mentions.csv", "ky": "ky_mentions.csv", "kk": "kk_mentions.csv",
         "en": "en_mentions.csv"}
COLUMNS = ["text", "offensive", "hate", "threat", "extremism", "target_ident", "kind", "lang",
           "template"]


@dataclass(frozen=True)
class Template:
    """A sentence with one slot, ``{N}`` (nominative plural), ``{G}`` (genitive), ``{D}``
    (dative), ``{A}`` (accusative, Kyrgyz), ``{I}`` (instrumental, Russian), ``{P}``
    (prepositional / locative), ``{B}`` (Kyrgyz ablative) or ``{J}`` (the attribute before a
    noun: a Russian adjective, a Kyrgyz bare stem); ``kind`` is ``neutral_mention``
    or ``positive_mention``. ``groups`` limits it to some groups (None: all)."""

    text: str
    kind: str = "neutral_mention"
    groups: tuple[str, ...] | None = None


# --- Russian ---------------------------------------------------------------------------------
# Each group: one or more names, each as (nominative, genitive, dative, instrumental,
# prepositional) plural. Several names per group where posts use several (LGBT people,
# people with disabilities, migrants); the slur forms are never used.
RU_FORMS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "kyrgyz": [("кыргызы", "кыргызов", "кыргызам", "кыргызами", "кыргызах"),
               ("киргизы", "киргизов", "киргизам", "киргизами", "киргизах")],
    "uzbek": [("узбеки", "узбеков", "узбекам", "узбеками", "узбеках")],
    "tajik": [("таджики", "таджиков", "таджикам", "таджиками", "таджиках")],
    "russian": [("русские", "русских", "русским", "русскими", "русских")],
    "dungan": [("дунгане", "дунган", "дунганам", "дунганами", "дунганах")],
    "uyghur": [("уйгуры", "уйгуров", "уйгурам", "уйгурами", "уйгурах")],
    "chinese": [("китайцы", "китайцев", "китайцам", "китайцами", "китайцах")],
    "kazakh": [("казахи", "казахов", "казахам", "казахами", "казахах")],
    "muslim": [("мусульмане", "мусульман", "мусульманам", "мусульманами", "мусульманах")],
    "christian": [("христиане", "христиан", "христианам", "христианами", "христианах"),
                  ("православные", "православных", "православным", "православными",
                   "православных")],
    "jewish": [("евреи", "евреев", "евреям", "евреями", "евреях")],
    "women": [("женщины", "женщин", "женщинам", "женщинами", "женщинах"),
              ("девушки", "девушек", "девушкам", "девушками", "девушках")],
    "lgbt": [("ЛГБТ-люди", "ЛГБТ-людей", "ЛГБТ-людям", "ЛГБТ-людьми", "ЛГБТ-людях"),
             ("геи", "геев", "геям", "геями", "геях"),
             ("лесбиянки", "лесбиянок", "лесбиянкам", "лесбиянками", "лесбиянках"),
             ("трансгендерные люди", "трансгендерных людей", "трансгендерным людям",
              "трансгендерными людьми", "трансгендерных людях"),
             ("гомосексуалы", "гомосексуалов", "гомосексуалам", "гомосексуалами",
              "гомосексуалах")],
    "migrant": [("мигранты", "мигрантов", "мигрантам", "мигрантами", "мигрантах"),
                ("трудовые мигранты", "трудовых мигрантов", "трудовым мигрантам",
                 "трудовыми мигрантами", "трудовых мигрантах")],
    "disabled": [("люди с инвалидностью", "людей с инвалидностью", "людям с инвалидностью",
                  "людьми с инвалидностью", "людях с инвалидностью"),
                 ("инвалиды", "инвалидов", "инвалидам", "инвалидами", "инвалидах"),
                 ("незрячие", "незрячих", "незрячим", "незрячими", "незрячих")],
}

# Adjectives (nominative plural) for the groups posts name that way ("таджикские торговцы").
RU_ADJECTIVES: dict[str, str] = {
    "kyrgyz": "кыргызские", "uzbek": "узбекские", "tajik": "таджикские", "russian": "русские",
    "dungan": "дунганские", "uyghur": "уйгурские", "chinese": "китайские",
    "kazakh": "казахские", "muslim": "мусульманские", "christian": "христианские",
    "jewish": "еврейские",
}

RU_TEMPLATES: list[Template] = [
    Template("{N} из соседнего подъезда помогли нам занести диван на пятый этаж."),
    Template("На свадьбе моего брата было много гостей, среди них {N} с работы."),
    Template("Статья о том, как {N} отмечают праздники, вышла в субботнем номере."),
    Template("Сколько {G} живёт в Чуйской области? Ищу свежую статистику для курсовой."),
    Template("Мэрия провела встречу с {I}, обсуждали ремонт дорог и освещение."),
    Template("В сборной по волейболу играют и {N}, тренер доволен командой."),
    Template("{N} тоже платят налоги и пользуются теми же больницами, что и мы."),
    Template("На курсах английского в нашей группе учатся {N}, занятия по субботам."),
    Template("Фотовыставка про {G} открылась в музее изобразительных искусств."),
    Template("Подкаст с {I} вышел вчера, слушайте по ссылке в описании канала."),
    Template("Правозащитники опубликовали доклад о положении {G} в регионе."),
    Template("У меня много друзей, и {N} среди них, с детства дружим."),
    Template("В новостях показали, как {N} помогали пострадавшим от селя в Баткене."),
    Template("Соседи сверху — {N}, по вечерам угощают нас пловом и чаем."),
    Template("На конференции говорили о правах {G} на рынке труда."),
    Template("Документальный фильм рассказывает о жизни {G} в маленьком городе."),
    Template("Поздравляю всех, кто празднует сегодня, мои друзья {N} тоже отмечают!"),
    Template("В нашем колледже {N} учатся наравне со всеми, никаких проблем нет."),
    Template("Исследователи опросили {G} о доступе к медицинской помощи."),
    Template("Депутаты обсудили законопроект, который касается {G}."),
    Template("В Токмоке {N} организовали бесплатные уроки для детей."),
    Template("Я работаю в такси, пассажиры разные, бывают и {N}, все вежливые."),
    Template("Журналисты поговорили с {I} о ценах на жильё в Бишкеке."),
    Template("О {P} у нас знают мало, поэтому эта книга очень полезна."),
    Template("Волонтёры раздавали продукты пожилым людям, помогали и {N}."),
    Template("Многие {N} приехали на ярмарку в Караколе со своими товарами."),
    Template("Во дворе дети играют вместе, и никто не спрашивает, кто тут {N}."),
    Template("Центр занятости предлагает курсы, на них записались и {N}."),
    Template("На форуме выступили {N} из Оша и Джалал-Абада, было интересно."),
    Template("Учитель истории рассказал нам о том, как {N} появились в долине.",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh")),
    Template("Спасибо соседям, {N} из нашего дома починили всем крыши после бури.",
             "positive_mention"),
    Template("Уважаю {G} за трудолюбие и за то, как они держатся друг за друга.",
             "positive_mention"),
    Template("{N} — прекрасные коллеги, с ними легко работать.", "positive_mention"),
    Template("Благодарна {D} из нашего села, они собрали деньги на операцию моей маме.",
             "positive_mention"),
    Template("Горжусь, что в нашем городе {N} и все остальные живут в мире.",
             "positive_mention"),
    Template("Лучший врач в нашей поликлинике работает с {I} уже двадцать лет.",
             "positive_mention"),
    Template("Желаю {D} здоровья и счастья, с праздником!", "positive_mention"),
    Template("Без {G} наш базар был бы скучнее, вкусная еда и добрые люди.",
             "positive_mention"),
    Template("Мой лучший друг говорит, что {N} научили его готовить самсу.",
             "positive_mention"),
    Template("{N} имеют право жить спокойно, и я рад, что у нас это понимают.",
             "positive_mention"),
    Template("Плохо, когда о {P} пишут только в криминальной хронике, это несправедливо.",
             "positive_mention"),
    Template("В школе дочки провели урок толерантности, рассказывали и про {G}.",
             "positive_mention"),
    Template("В Доме дружбы прошёл вечер, где {N} рассказывали о своих традициях.",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh", "muslim", "christian", "jewish")),
    Template("Кухня, которую готовят {N}, мне очень нравится, особенно выпечка.",
             "positive_mention",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh", "jewish")),
    Template("Язык, на котором говорят {N}, я начал учить по приложению.",
             groups=("kyrgyz", "uzbek", "tajik", "dungan", "uyghur", "chinese", "kazakh")),
    Template("Накануне праздника {N} пригласили соседей за общий стол.",
             groups=("muslim", "christian", "jewish", "kyrgyz", "uzbek", "dungan", "uyghur")),
    # trade and work: the contexts of the region's commonest stereotypes (the Osh bazaar,
    # traders, builders), given here in plain, neutral sentences
    Template("На Ошском базаре {N} продают курагу и изюм, цены в этом году ниже."),
    Template("На Дордое {N} держат несколько рядов с тканями, покупателей много."),
    Template("Ремонт в подъезде делали {N}, работу сдали вовремя и убрали за собой."),
    Template("В нашем микрорайоне {N} открыли пекарню, хлеб всегда свежий."),
    Template("Местные жители и {N} вместе отремонтировали мостик через арык."),
    Template("Цены на рынке обсуждали {N} и другие продавцы на собрании с акимом."),
    Template("{J} фермеры привозят в Бишкек дыни, торгуют прямо с машины.",
             groups=tuple(RU_ADJECTIVES)),
    Template("{J} предприниматели открыли цех по пошиву одежды в Кара-Балте.",
             groups=tuple(RU_ADJECTIVES)),
    Template("{J} семьи в нашем районе собрали деньги на новую детскую площадку.",
             "positive_mention", groups=tuple(RU_ADJECTIVES)),
    Template("{J} строители закончили ремонт школы до первого сентября.",
             groups=tuple(RU_ADJECTIVES)),
    Template("{J} продавцы на соседнем рынке всегда дают попробовать товар.",
             "positive_mention", groups=tuple(RU_ADJECTIVES)),
    Template("В городе работают {J} газеты и радио, у них свои читатели.",
             groups=tuple(RU_ADJECTIVES)),
]

# --- Kyrgyz ----------------------------------------------------------------------------------
# Each group: names as (nominative, genitive, dative, accusative, locative, ablative) plural.
KY_FORMS: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "kyrgyz": [("кыргыздар", "кыргыздардын", "кыргыздарга", "кыргыздарды", "кыргыздарда",
                "кыргыздардан")],
    "uzbek": [("өзбектер", "өзбектердин", "өзбектерге", "өзбектерди", "өзбектерде",
               "өзбектерден")],
    "tajik": [("тажиктер", "тажиктердин", "тажиктерге", "тажиктерди", "тажиктерде",
               "тажиктерден")],
    "russian": [("орустар", "орустардын", "орустарга", "орустарды", "орустарда", "орустардан")],
    "dungan": [("дуңгандар", "дуңгандардын", "дуңгандарга", "дуңгандарды", "дуңгандарда",
                "дуңгандардан")],
    "uyghur": [("уйгурлар", "уйгурлардын", "уйгурларга", "уйгурларды", "уйгурларда",
                "уйгурлардан")],
    "chinese": [("кытайлар", "кытайлардын", "кытайларга", "кытайларды", "кытайларда",
                 "кытайлардан")],
    "kazakh": [("казактар", "казактардын", "казактарга", "казактарды", "казактарда",
                "казактардан")],
    "muslim": [("мусулмандар", "мусулмандардын", "мусулмандарга", "мусулмандарды",
                "мусулмандарда", "мусулмандардан")],
    "christian": [("христиандар", "христиандардын", "христиандарга", "христиандарды",
                   "христиандарда", "христиандардан")],
    "jewish": [("жөөттөр", "жөөттөрдүн", "жөөттөргө", "жөөттөрдү", "жөөттөрдө", "жөөттөрдөн"),
               ("еврейлер", "еврейлердин", "еврейлерге", "еврейлерди", "еврейлерде",
                "еврейлерден")],
    "women": [("аялдар", "аялдардын", "аялдарга", "аялдарды", "аялдарда", "аялдардан"),
              ("кыз-келиндер", "кыз-келиндердин", "кыз-келиндерге", "кыз-келиндерди",
               "кыз-келиндерде", "кыз-келиндерден")],
    "lgbt": [("ЛГБТ адамдар", "ЛГБТ адамдардын", "ЛГБТ адамдарга", "ЛГБТ адамдарды",
              "ЛГБТ адамдарда", "ЛГБТ адамдардан"),
             ("гейлер", "гейлердин", "гейлерге", "гейлерди", "гейлерде", "гейлерден")],
    "migrant": [("мигранттар", "мигранттардын", "мигранттарга", "мигранттарды",
                 "мигранттарда", "мигранттардан"),
                ("эмгек мигранттары", "эмгек мигранттарынын", "эмгек мигранттарына",
                 "эмгек мигранттарын", "эмгек мигранттарында", "эмгек мигранттарынан")],
    "disabled": [("майыптар", "майыптардын", "майыптарга", "майыптарды", "майыптарда",
                  "майыптардан"),
                 ("ден соолугунун мүмкүнчүлүгү чектелген адамдар",
                  "ден соолугунун мүмкүнчүлүгү чектелген адамдардын",
                  "ден соолугунун мүмкүнчүлүгү чектелген адамдарга",
                  "ден соолугунун мүмкүнчүлүгү чектелген адамдарды",
                  "ден соолугунун мүмкүнчүлүгү чектелген адамдарда",
                  "ден соолугунун мүмкүнчүлүгү чектелген адамдардан")],
}

# The bare singular stem that stands before a noun ("өзбек сатуучулар").
KY_ATTRIBUTIVES: dict[str, str] = {
    "kyrgyz": "кыргыз", "uzbek": "өзбек", "tajik": "тажик", "russian": "орус",
    "dungan": "дуңган", "uyghur": "уйгур", "chinese": "кытай", "kazakh": "казак",
}

KY_TEMPLATES: list[Template] = [
    Template("Коңшу подъезддеги {N} бизге диванды бешинчи кабатка чыгарууга жардам беришти."),
    Template("Инимдин тоюнда конок көп болду, алардын арасында жумуштагы {N} да бар эле."),
    Template("Чүй облусунда жашаган {G} саны канча? Курстук ишим үчүн статистика издеп жатам."),
    Template("Шайлоо комиссиясынын курамына {B} да өкүлдөр кирди."),
    Template("Мэрия {N} менен жолугушуу өткөрдү, жолдорду оңдоо тууралуу сүйлөштү."),
    Template("Волейбол курамасында {N} да ойнойт, машыктыруучу командага ыраазы."),
    Template("{N} да салык төлөшөт жана биз барган ооруканаларга эле барышат."),
    Template("Англис тили курсунда биздин топто {N} да окушат, сабак ишемби күнү."),
    Template("Көркөм сүрөт музейинде {N} тууралуу сүрөт көргөзмөсү ачылды."),
    Template("Укук коргоочулар аймактагы {G} абалы боюнча баяндама жарыялашты."),
    Template("Менин досторум көп, алардын арасында {N} да бар, бала кезден бери доспуз."),
    Template("Жаңылыктарда {N} Баткендеги селден жабыр тарткандарга жардам бергенин көрсөтүштү."),
    Template("Конференцияда {G} эмгек рыногундагы укуктары тууралуу сөз болду."),
    Template("Даректүү тасма чакан шаардагы {G} жашоосу жөнүндө баяндайт."),
    Template("Биздин колледжде {N} баары менен бирдей окушат, эч кандай көйгөй жок."),
    Template("Изилдөөчүлөр {A} медициналык жардамга жетүү боюнча сурамжылашты."),
    Template("Депутаттар {D} тиешелүү мыйзам долбоорун талкуулашты."),
    Template("Токмокто {N} балдар үчүн акысыз сабактарды уюштурушту."),
    Template("Такси айдайм, жүргүнчүлөр ар кандай, {N} да болот, баары сылык."),
    Template("Журналисттер {N} менен Бишкектеги батирлердин баасы жөнүндө маектешти."),
    Template("Ыктыярчылар карыларга азык-түлүк таратышты, {N} да жардамдашты."),
    Template("Каракол жарманкесине көп {N} өз буюмдары менен келишти."),
    Template("Короодо балдар чогуу ойношот, ким {N} экенин эч ким сурабайт."),
    Template("Форумда Ош менен Жалал-Абаддан келген {N} сүйлөдү, кызыктуу болду."),
    Template("Тарых мугалими {N} өрөөнгө кантип келгенин айтып берди.",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh")),
    Template("{P} да ушундай салт бар экен, буга чейин билчү эмесмин.",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh", "muslim", "christian", "jewish")),
    Template("Эмгек борбору курстарды сунуштайт, аларга {N} да жазылышты."),
    Template("Кошуналарга рахмат, биздин үйдөгү {N} бороондон кийин баарыбыздын чатырыбызды "
             "оңдоп беришти.", "positive_mention"),
    Template("{A} эмгекчилдиги жана бири-бирин колдогону үчүн сыйлайм.", "positive_mention"),
    Template("{N} – сонун кесиптештер, алар менен иштөө жеңил.", "positive_mention"),
    Template("Айылыбыздагы {D} ыраазымын, апамдын операциясына акча чогултушту.",
             "positive_mention"),
    Template("Шаарыбызда {N} жана башкалар тынч жашаганына сыймыктанам.", "positive_mention"),
    Template("Баарыңарга ден соолук каалайм, {N}, майрамыңар менен!", "positive_mention"),
    Template("{N} тынч жашоого укуктуу, муну бизде түшүнгөнүнө кубанам.",
             "positive_mention"),
    Template("{N} тууралуу кылмыш кабарларында гана жазышканы туура эмес.",
             "positive_mention"),
    Template("Кызымдын мектебинде толеранттуулук сабагы болуп, {N} жөнүндө да айтышты.",
             "positive_mention"),
    Template("Достук үйүндө кече болуп, {N} өз салттары жөнүндө айтып беришти.",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh", "muslim", "christian", "jewish")),
    Template("{G} тамак-ашы мага аябай жагат, өзгөчө нандары.", "positive_mention",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh")),
    Template("Майрамдын алдында {N} коңшуларын дасторконго чакырышты.",
             groups=("muslim", "christian", "jewish", "kyrgyz", "uzbek", "dungan", "uyghur")),
    # trade and work, as in Russian
    Template("Ош базарында {N} өрүк менен мейиз сатышат, быйыл баасы арзаныраак."),
    Template("Дордойдо {N} кездеме саткан бир нече катар дүкөн кармашат."),
    Template("Подъезддеги оңдоону {N} жасашты, ишти убагында бүтүрүп, тазалап кетишти."),
    Template("Биздин кичи районго {N} нан бышыруучу жай ачышты, наны дайыма жаңы."),
    Template("Жергиликтүү тургундар менен {N} арыктын үстүндөгү көпүрөнү чогуу оңдошту."),
    Template("Базардагы баалар тууралуу {N} жана башка сатуучулар акимдин жыйынында "
             "сүйлөшүштү."),
    Template("{N} Бишкекке коон алып келип, машинадан эле сатышат."),
    Template("Кара-Балтада {N} кийим тигүүчү цех ачышты."),
    Template("{J} курулушчулар мектептин оңдоосун биринчи сентябрга чейин бүтүрүштү.",
             groups=tuple(KY_ATTRIBUTIVES)),
    Template("Коңшу базардагы {J} сатуучулар товарын дайыма даамдатып беришет.",
             "positive_mention",
             groups=tuple(KY_ATTRIBUTIVES)),
]

# --- Kazakh ----------------------------------------------------------------------------------
# Kazakh posts about groups met the same trouble without these sentences: the Kazakh hate set
# names a group in most of its hateful rows, while Kazakh negatives are reviews that name
# none, so a Kazakh stack flagged 28% of the fairness set's neutral Kazakh sentences
# (benchmarks/results/zero_shot_default_2026-12-02.2.md). Names as in Kyrgyz: (nominative,
# genitive, dative, accusative, locative, ablative) plural. No template puts a particle after
# a slot (да/де, ма/ме follow the name's vowels), so every name fits every template.
KK_FORMS: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "kyrgyz": [("қырғыздар", "қырғыздардың", "қырғыздарға", "қырғыздарды", "қырғыздарда",
                "қырғыздардан")],
    "uzbek": [("өзбектер", "өзбектердің", "өзбектерге", "өзбектерді", "өзбектерде",
               "өзбектерден")],
    "tajik": [("тәжіктер", "тәжіктердің", "тәжіктерге", "тәжіктерді", "тәжіктерде",
               "тәжіктерден")],
    "russian": [("орыстар", "орыстардың", "орыстарға", "орыстарды", "орыстарда", "орыстардан")],
    "dungan": [("дүңгендер", "дүңгендердің", "дүңгендерге", "дүңгендерді", "дүңгендерде",
                "дүңгендерден")],
    "uyghur": [("ұйғырлар", "ұйғырлардың", "ұйғырларға", "ұйғырларды", "ұйғырларда",
                "ұйғырлардан")],
    "chinese": [("қытайлар", "қытайлардың", "қытайларға", "қытайларды", "қытайларда",
                 "қытайлардан")],
    "kazakh": [("қазақтар", "қазақтардың", "қазақтарға", "қазақтарды", "қазақтарда",
                "қазақтардан")],
    "muslim": [("мұсылмандар", "мұсылмандардың", "мұсылмандарға", "мұсылмандарды",
                "мұсылмандарда", "мұсылмандардан")],
    "christian": [("христиандар", "христиандардың", "христиандарға", "христиандарды",
                   "христиандарда", "христиандардан")],
    "jewish": [("еврейлер", "еврейлердің", "еврейлерге", "еврейлерді", "еврейлерде",
                "еврейлерден"),
               ("яһудилер", "яһудилердің", "яһудилерге", "яһудилерді", "яһудилерде",
                "яһудилерден")],
    "women": [("әйелдер", "әйелдердің", "әйелдерге", "әйелдерді", "әйелдерде", "әйелдерден"),
              ("қыз-келіншектер", "қыз-келіншектердің", "қыз-келіншектерге",
               "қыз-келіншектерді", "қыз-келіншектерде", "қыз-келіншектерден")],
    "lgbt": [("ЛГБТ адамдар", "ЛГБТ адамдардың", "ЛГБТ адамдарға", "ЛГБТ адамдарды",
              "ЛГБТ адамдарда", "ЛГБТ адамдардан"),
             ("гейлер", "гейлердің", "гейлерге", "гейлерді", "гейлерде", "гейлерден")],
    "migrant": [("мигранттар", "мигранттардың", "мигранттарға", "мигранттарды",
                 "мигранттарда", "мигранттардан"),
                ("еңбек мигранттары", "еңбек мигранттарының", "еңбек мигранттарына",
                 "еңбек мигранттарын", "еңбек мигранттарында", "еңбек мигранттарынан")],
    "disabled": [("мүгедектер", "мүгедектердің", "мүгедектерге", "мүгедектерді",
                  "мүгедектерде", "мүгедектерден"),
                 ("мүмкіндігі шектеулі адамдар", "мүмкіндігі шектеулі адамдардың",
                  "мүмкіндігі шектеулі адамдарға", "мүмкіндігі шектеулі адамдарды",
                  "мүмкіндігі шектеулі адамдарда", "мүмкіндігі шектеулі адамдардан")],
}

# The bare stem that stands before a noun ("өзбек саудагерлері").
KK_ATTRIBUTIVES: dict[str, str] = {
    "kyrgyz": "қырғыз", "uzbek": "өзбек", "tajik": "тәжік", "russian": "орыс",
    "dungan": "дүңген", "uyghur": "ұйғыр", "chinese": "қытай", "kazakh": "қазақ",
}

_KK_PEOPLES = ("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese", "kazakh")

KK_TEMPLATES: list[Template] = [
    Template("Көрші подъездегі {N} бізге диванды бесінші қабатқа көтеруге көмектесті."),
    Template("Інімнің тойында қонақ көп болды, арасында жұмыстағы әріптестер мен {N} бар еді."),
    Template("Алматы облысында тұратын {G} саны қанша? Курстық жұмысыма статистика іздеп "
             "жүрмін."),
    Template("Сайлау комиссиясының құрамына {B} шыққан өкілдер кірді."),
    Template("Әкімдік {G} өкілдерімен кездесу өткізіп, жол жөндеуді талқылады."),
    Template("Волейбол құрамасында {N} ойнайды, жаттықтырушы командаға риза."),
    Template("{N} салық төлейді және біз баратын ауруханаларға барады."),
    Template("Ағылшын тілі курсында біздің топта {N} оқиды, сабақ сенбі күні."),
    Template("Бейнелеу өнері мұражайында {N} туралы фотокөрме ашылды."),
    Template("Құқық қорғаушылар өңірдегі {G} жағдайы туралы баяндама жариялады."),
    Template("Менің достарым көп, олардың арасында {N} бар, бала кезден доспыз."),
    Template("Жаңалықтарда {N} селден зардап шеккендерге көмек бергенін көрсетті."),
    Template("Конференцияда {G} еңбек нарығындағы құқықтары туралы айтылды."),
    Template("Деректі фильм шағын қаладағы {G} өмірі туралы баяндайды."),
    Template("Біздің колледжде {N} басқалармен тең оқиды, ешқандай мәселе жоқ."),
    Template("Зерттеушілер {A} медициналық көмекке қолжетімділік туралы сауалнамадан өткізді."),
    Template("Депутаттар {D} қатысты заң жобасын талқылады."),
    Template("Талдықорғанда {N} балаларға тегін сабақтар ұйымдастырды."),
    Template("Таксиде жұмыс істеймін, жолаушылар әртүрлі, арасында {N} болады, бәрі сыпайы."),
    Template("Журналистер {G} өкілдерімен Астанадағы пәтер бағасы туралы сөйлесті."),
    Template("Еріктілер қарттарға азық-түлік таратты, оларға {N} көмектесті."),
    Template("Көптеген {N} Шымкенттегі жәрмеңкеге өз тауарларымен келді."),
    Template("Жұмыспен қамту орталығы курстар ұсынады, оларға {N} жазылды."),
    Template("Форумда Шымкент пен Түркістаннан келген {N} сөз сөйледі, қызықты болды."),
    Template("Тарих мұғалімі {N} бұл өңірге қалай келгенін айтып берді.", groups=_KK_PEOPLES),
    Template("{P} осындай дәстүр бар екенін бұрын білмеппін.",
             groups=(*_KK_PEOPLES, "muslim", "christian", "jewish")),
    Template("Көршілерге рақмет, біздің үйдегі {N} дауылдан кейін бәріміздің шатырымызды "
             "жөндеп берді.", "positive_mention"),
    Template("{A} еңбекқорлығы және бір-біріне қолдау көрсететіні үшін құрметтеймін.",
             "positive_mention"),
    Template("{N} – тамаша әріптестер, олармен жұмыс істеу оңай.", "positive_mention"),
    Template("Ауылымыздағы {D} алғысым шексіз, анамның операциясына ақша жинап берді.",
             "positive_mention"),
    Template("Қаламызда {N} және басқалар тату тұратынын мақтан тұтамын.", "positive_mention"),
    Template("Барлығыңызға денсаулық тілеймін, {N}, мерекелеріңіз құтты болсын!",
             "positive_mention"),
    Template("{N} тыныш өмір сүруге құқылы, мұны бізде түсінетініне қуаныштымын.",
             "positive_mention"),
    Template("{N} туралы тек қылмыстық жаңалықтарда жазу әділетсіз.", "positive_mention"),
    Template("Қызымның мектебінде толеранттылық сабағы өтіп, {N} туралы да айтылды.",
             "positive_mention"),
    Template("Достық үйінде кеш өтіп, {N} өз салт-дәстүрлері туралы айтып берді.",
             groups=(*_KK_PEOPLES, "muslim", "christian", "jewish")),
    Template("{G} тағамдары маған қатты ұнайды, әсіресе нандары.", "positive_mention",
             groups=_KK_PEOPLES),
    Template("Мереке қарсаңында {N} көршілерін дастарқанға шақырды.",
             groups=("muslim", "christian", "jewish", "kazakh", "uzbek", "dungan", "uyghur")),
    # trade and work, as in Russian and Kyrgyz
    Template("Көк базарда {N} кептірілген өрік пен мейіз сатады, биыл бағасы арзандау."),
    Template("Барахолкада {N} мата сататын бірнеше қатар дүкен ұстайды."),
    Template("Подъездегі жөндеуді {N} жасады, жұмысты уақытында бітіріп, артынан жинап кетті."),
    Template("Біздің шағын ауданда {N} наубайхана ашты, наны әрқашан жаңа."),
    Template("Жергілікті тұрғындар мен {N} арықтың үстіндегі көпірді бірге жөндеді."),
    Template("Базардағы бағалар туралы {N} және басқа сатушылар әкіммен кездесуде сөйлесті."),
    Template("{J} фермерлер Алматыға қауын әкеліп, көліктен сатады.", groups=_KK_PEOPLES),
    Template("{J} кәсіпкерлер Қарағандыда тігін цехын ашты.", groups=_KK_PEOPLES),
    Template("{J} құрылысшылар мектепті жөндеуді бірінші қыркүйекке дейін аяқтады.",
             groups=_KK_PEOPLES),
    Template("Көрші базардағы {J} сатушылар тауарын әрқашан татып көруге береді.",
             "positive_mention", groups=_KK_PEOPLES),
]

# --- English ---------------------------------------------------------------------------------
# English has no case forms: each name is used as it stands ({N}); {J} is the adjective.
EN_FORMS: dict[str, list[tuple[str]]] = {
    "kyrgyz": [("Kyrgyz people",), ("the Kyrgyz",)],
    "uzbek": [("Uzbeks",), ("Uzbek people",)],
    "tajik": [("Tajiks",)],
    "russian": [("Russians",)],
    "dungan": [("Dungans",)],
    "uyghur": [("Uyghurs",), ("Uighurs",)],
    "chinese": [("Chinese people",)],
    "kazakh": [("Kazakhs",)],
    "muslim": [("Muslims",), ("Muslim families",)],
    "christian": [("Christians",)],
    "jewish": [("Jews",), ("Jewish people",)],
    "women": [("women",), ("girls",)],
    "lgbt": [("LGBT people",), ("gay people",), ("lesbians",), ("trans people",), ("gay men",)],
    "migrant": [("migrants",), ("immigrants",), ("labour migrants",)],
    "disabled": [("disabled people",), ("people with disabilities",), ("wheelchair users",)],
}
EN_ADJECTIVES: dict[str, str] = {
    "kyrgyz": "Kyrgyz", "uzbek": "Uzbek", "tajik": "Tajik", "russian": "Russian",
    "dungan": "Dungan", "uyghur": "Uyghur", "chinese": "Chinese", "kazakh": "Kazakh",
    "muslim": "Muslim", "christian": "Christian", "jewish": "Jewish",
}

EN_TEMPLATES: list[Template] = [
    Template("{N} from the next building helped us carry a sofa up to the fifth floor."),
    Template("There were lots of guests at my brother's wedding, {N} from work among them."),
    Template("The Saturday paper ran a story on how {N} celebrate the holidays."),
    Template("How many {N} live in the Chui region? I need recent figures for my thesis."),
    Template("The mayor's office met {N} to talk about road repairs and street lights."),
    Template("Our volleyball team includes {N} too, and the coach is happy with the squad."),
    Template("{N} pay taxes and use the same hospitals as the rest of us."),
    Template("In my English class there are {N} as well, lessons are on Saturdays."),
    Template("A photo exhibition about {N} opened at the fine arts museum."),
    Template("Human rights groups published a report on the situation of {N} in the region."),
    Template("I have many friends, {N} among them, we have been close since school."),
    Template("The news showed {N} helping families hit by the mudslide in Batken."),
    Template("The conference discussed the labour rights of {N}."),
    Template("A documentary follows the everyday life of {N} in a small town."),
    Template("At our college {N} study alongside everyone else, no problems at all."),
    Template("Researchers surveyed {N} about access to health care."),
    Template("MPs debated a draft law that concerns {N}."),
    Template("In Tokmok {N} organised free lessons for children."),
    Template("I drive a taxi and get all kinds of passengers, {N} too, all of them polite."),
    Template("Journalists spoke to {N} about rents in Bishkek."),
    Template("Volunteers handed out food to old people, and {N} helped as well."),
    Template("At the forum {N} from Osh and Jalal-Abad gave talks, it was interesting."),
    Template("The job centre offers training courses, and {N} signed up too."),
    Template("In the yard the kids play together and nobody asks whose family is {J}.",
             groups=tuple(EN_ADJECTIVES)),
    Template("Thanks to our neighbours: {N} in our block fixed everyone's roofs after the storm.",
             "positive_mention"),
    Template("I respect {N} for how hard they work and how they look out for each other.",
             "positive_mention"),
    Template("{N} are great colleagues, easy to work with.", "positive_mention"),
    Template("Grateful to {N} in our village, they raised money for my mother's surgery.",
             "positive_mention"),
    Template("Proud that {N} and everyone else in our town live in peace.", "positive_mention"),
    Template("Wishing {N} health and happiness, happy holidays!", "positive_mention"),
    Template("It is unfair that {N} only make the news in crime reports.", "positive_mention"),
    Template("My daughter's school had a lesson on tolerance, including one about {N}.",
             "positive_mention"),
    Template("{N} sell dried apricots and raisins at the Osh bazaar, cheaper this year."),
    Template("{N} did the repairs in our stairwell, finished on time and cleaned up."),
    Template("{N} opened a bakery in our neighbourhood, the bread is always fresh."),
    Template("Local residents and {N} rebuilt the little bridge over the canal together."),
    Template("{J} farmers bring melons to Bishkek and sell them straight from the truck.",
             groups=tuple(EN_ADJECTIVES)),
    Template("{J} entrepreneurs opened a sewing workshop in Kara-Balta.",
             groups=tuple(EN_ADJECTIVES)),
    Template("{J} families in our district raised money for a new playground.",
             "positive_mention", groups=tuple(EN_ADJECTIVES)),
    Template("{J} builders finished repairing the school before the first of September.",
             groups=tuple(EN_ADJECTIVES)),
    Template("{J} food is my favourite, especially the bread.", "positive_mention",
             groups=("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese",
                     "kazakh", "jewish")),
    Template("Before the holiday {N} invited the neighbours to share a meal.",
             groups=("muslim", "christian", "jewish", "kyrgyz", "uzbek", "dungan", "uyghur")),
]

_RU_SLOTS = ("N", "G", "D", "I", "P")
_KY_SLOTS = ("N", "G", "D", "A", "P", "B")
LANGS = {"ru": (RU_FORMS, RU_TEMPLATES, _RU_SLOTS), "ky": (KY_FORMS, KY_TEMPLATES, _KY_SLOTS),
         "kk": (KK_FORMS, KK_TEMPLATES, _KY_SLOTS), "en": (EN_FORMS, EN_TEMPLATES, ("N",))}
ATTRIBUTIVES = {"ru": RU_ADJECTIVES, "ky": KY_ATTRIBUTIVES, "kk": KK_ATTRIBUTIVES,
                "en": EN_ADJECTIVES}


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def mention_rows(lang: str) -> list[dict[str, str]]:
    """Every template with every name of every group it fits, in a fixed order.

    Each row: the sentence, labels offensive/hate/threat ``0`` and extremism unknown, the
    group, the kind, the language and the template's number (rows of one template are
    near-duplicates of each other and stay in one split).
    """
    forms, templates, slots = LANGS[lang]
    rows = []
    for number, template in enumerate(templates):
        for group, names in forms.items():
            if template.groups is not None and group not in template.groups:
                continue
            for name in names:
                fields = dict(zip(slots, name, strict=True))
                if "{J}" in template.text:
                    if name is not names[0]:
                        continue  # one adjective per group
                    fields["J"] = ATTRIBUTIVES[lang][group]
                text = template.text.format(**fields)
                rows.append({"text": first_upper(text), "offensive": "0", "hate": "0",
                             "threat": "0", "extremism": "", "target_ident": group,
                             "kind": template.kind, "lang": lang,
                             "template": f"{lang}-mention-{number:02d}"})
    random.Random(f"mentions-{lang}").shuffle(rows)
    return rows


def rows_csv(rows: list[dict[str, str]]) -> str:
    """Generated rows as a committed file's exact content (:data:`COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_csv(lang: str) -> str:
    """The committed file's exact content for ``lang``."""
    return rows_csv(mention_rows(lang))


def write_generated(files: dict[str, str], render: Callable[[str], str], folder: Path
                    ) -> list[Path]:
    """Write ``render(lang)`` to ``folder / files[lang]`` for every language of ``files``."""
    paths = []
    for lang, name in files.items():
        path = Path(folder) / name
        path.write_text(render(lang), encoding="utf-8")
        paths.append(path)
    return paths


def write_files(folder: Path = SYNTHETIC_DIR) -> list[Path]:
    """Write the files of :data:`FILES` into ``folder``."""
    return write_generated(FILES, render_csv, folder)


if __name__ == "__main__":
    for written in write_files(Path(sys.argv[1]) if len(sys.argv) > 1 else SYNTHETIC_DIR):
        print(f"wrote {written}")
