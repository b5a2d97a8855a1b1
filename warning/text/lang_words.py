"""The word lists language ID reads (:mod:`warning.text.lang`): very frequent function words
per language and script, more Kyrgyz and Kazakh words whose keyboard-folded forms matter, and
the Latin transliterations people use for Russian, Kyrgyz and Kazakh.
"""

from __future__ import annotations

__all__ = ["KK_MORE", "KY_MORE", "MARKERS", "TRANSLIT"]

# Frequent words that mark a language; each list avoids words shared with the others listed for
# the same script (Kyrgyz and Kazakh share many, which the letters then separate).
MARKERS: dict[str, frozenset[str]] = {
    "ru": frozenset(
        """
        что это как нет все уже еще только когда где кто почему сегодня очень просто
        вообще короче если или мне меня тебя тебе его был была было будет есть можно
        нужно надо вот тут там сейчас потом ничего тоже даже хорошо спасибо привет
        пожалуйста ребята кто-то какой какая какие который которые чем чтобы вас нас нам
        они она оно мы вы со мной подскажите знает знаю сколько опять лучше
        """.split()
    ),
    "ky": frozenset(
        """
        бул мына ушул ошол жана менен деп эмне эмес жок экен эле го болот болду болуп
        болсо болсун кандай кайсы качан кайда азыр абдан жакшы жаман бүгүн эртең кечээ
        үчүн дагы бирок анан тууралуу боюнча жерде элдин кыргыз балдар жатат келет барат
        айтты деди кылып берет алып келип баары бардыгы биздин силер силерди бизди эч
        кимдир керекпи саламатсызбы рахмат ыраазымын канча кимде бирөө жатам жатабыз
        жатасың жатышат албай болбой келбей барбай билбейм билем акча балам кандайсың
        эмнеге эмнени ушундай ошондой кийин мурун бардык бергиле келгиле барайын келдим
        бардым айтып көрүп берип кылам чейин сыяктуу
        """.split()
    ),
    "kk": frozenset(
        """
        бұл және менен деп емес жоқ екен болды болып болса қандай қайда қашан қазір өте
        жақсы жаман бүгін ертең кеше үшін тағы бірақ сосын туралы бойынша жерде біздің
        сіздер рахмет бугин ертен калай канша жаксы коп кешке ма ме ба па пе сагат али
        барамын келемин болады келеди барады кореди жане ушин жасайды айтады
        неге жатыр отыр олар осы
        """.split()
    ),
    "uz": frozenset(
        """
        va bu uchun emas bilan yaxshi juda kerak qanday nima hali ham bor yo'q edi ekan
        bo'ldi bo'lsin bo'ladi hozir bugun ertaga kecha rahmat assalomu alaykum qachon
        qayerda nega men sen biz siz ular lekin ammo yana hamma ҳам ва учун билан жуда
        яхши қандай нима ҳали йўқ эди бўлди ҳозир эртага раҳмат ассалому керак эмас экан
        яна бозор нархи нима кеча
        """.split()
    ),
    "tr": frozenset(
        """
        ve bir bu için çok ne ama daha gibi değil var yok mı mi mu mü ben sen biz siz
        onlar olsun oldu olan ile kadar şey nasıl neden niye şimdi bugün yarın dün
        teşekkürler merhaba abi kardeşim artık hala acaba
        """.split()
    ),
    "en": frozenset(
        """
        the and is are to of in it you this that what was were for with have has not but
        my your they we he she be can will just so do does don't i'm it's there their
        about would should who why when where how thanks please
        """.split()
    ),
}
# More Kyrgyz and Kazakh words, written properly; their keyboard-folded forms are what matters.
KY_MORE = """
    үчүн бирок алар ушул ошол мындай ушундай баары эми азыр эртең бүгүн кийин чейин анан
    эмнеге эмне качан жакшы көп болот келет барат айтат жатат отурат жүрөт керек гана мага
    сага ага алардын силердин сенин менин көрүп күтүп бүгүнкү өтө көрдүм көрдүк жүрөт
    мен сен биз сиз сиздин силер жумуш жумушка
    """.split()
KK_MORE = """
    және үшін бірақ олар осы мынау сол барлық емес екен еді ертең бүгін кейін дейін сосын
    тағы енді қалай қашан неге неше жақсы көп әлі сондай сияқты болады келеді барады айтады
    жатыр отыр тұр жүр бәрі ғой ғана қазір маған саған оған олардың біздің сіздің сенің
    менің көрдім көрдік жатырмын барамын келемін жаңа мына керек кімде бар жоқ мен сен
    ет етті етіп екі ел жұмыс жұмысқа балалар балаларды балаларға
    """.split()



# Latin transliterations of Russian and Kyrgyz as people type them.
TRANSLIT: dict[str, frozenset[str]] = {
    "ru": frozenset(
        """
        privet kak dela chto cho shto eto ne net da ya ty tebya menya mne tebe kogda gde
        kto pochemu segodnya zavtra vchera ochen prosto voobshe vobshe koroche esli ili
        budet est mozhno nuzhno nado vot tut tam seychas potom nichego tozhe dazhe
        horosho khorosho spasibo pozhaluysta rebyata znayu znaet skazat uzhas blya blyat
        suka nahuy nahui pizdec konechno bolshoe vse vsem idem kupit kakoy pomoshch
        normalno tolko opyat skolko hochu chas zdes vsegda nikogda bolshe mnogo luchshe
        zachem davay davayte poka kstati ladno ponyal ponyatno rabota kakaya
        """.split()
    ),
    "ky": frozenset(
        """
        salam kandaysyn kandaisyn jakshy jakshi jaman emne emnege bul men sen biz siler
        alar jok bar eken ele bolot boldu bolup bolso bolsun kerek menen jana dep azyr
        abdan bugun ertec erteng kechee uchun dagy birok anan kyrgyz kyrgyzdar eli
        baaryna jerde jatat jatam keldi barat baram rahmat raxmat kalgyla jurosunbu
        jurosun kyzyk tynchtyk tynchtykty kaalayt balam baldar kudai jakynda kimde baryp
        kelip kelgile bergile jatam jatabyz toigo emes
        """.split()
    ),
    "kk": frozenset(
        """
        salem salemetsiz salemetsizbe rahmet qalaisyn qalaysyn jaqsy bugin emes joq
        qazaq qazaqstan kazakh qazir jane barady keledi boldy jigitter qalai oryn ma
        """.split()
    ),
}
