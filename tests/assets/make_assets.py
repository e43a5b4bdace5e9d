"""Make the tiny offline model assets that the test suite loads instead of a real LLM.

Tests must run without network access and in seconds on a CPU, so they cannot download a
Llama checkpoint. This script builds a stand-in with the same interfaces:

``tiny-llama/``
    A byte-level BPE tokenizer (``tokenizers``; vocabulary ~1280, trained on a multilingual
    corpus written below), wrapped as a ``transformers.PreTrainedTokenizerFast`` with the special
    tokens ``<pad>`` (0), ``<s>`` (1, bos), ``</s>`` (2, eos) and ``<unk>`` (3), right padding,
    ``model_max_length`` 1024 and no chat template. Like Llama's, it prepends ``<s>`` to every
    encoded sequence (``add_special_tokens=True``) and appends nothing. Because the pre-tokenizer
    and decoder are byte-level, any Unicode text round-trips exactly
    (``decode(encode(text), skip_special_tokens=True) == text``).
    Next to it a random-init fp32 ``LlamaForCausalLM`` (hidden 64, 2 layers, 4 heads, 2 kv heads,
    intermediate 128, untied embeddings; ``model.safetensors``) and a ``generation_config.json``
    holding the eos and pad ids.

``tiny-llama-chat/``
    The same tokenizer and weights, plus a minimal Jinja chat template
    (:data:`CHAT_TEMPLATE`), so tests can exercise the chat-template prompt path.

The corpus mixes English, German, Russian, Thai and Chinese: GSM8K-style math word problems
(``<<a+b=c>>`` calculator annotations and ``#### answer`` lines), short question/answer pairs,
NLI premise/hypothesis/label lines, digits and punctuation. Everything is seeded, so rerunning

    python tests/assets/make_assets.py [--out DIR]

reproduces byte-identical files (given the same ``tokenizers``/``transformers``/``torch``
versions; ``config.json`` records the ``transformers`` version).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SEED = 0
VOCAB_SIZE = 1280
PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]  # ids 0, 1, 2, 3 in this order
MODEL_MAX_LENGTH = 1024
PLAIN_DIR = "tiny-llama"
CHAT_DIR = "tiny-llama-chat"
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

# Math word problems: (names, items, templates for add / sub / mul). Each template formats with
# name, a, b, c (the result) and item; the answer line uses GSM8K's calculator annotation.
EN_NAMES = ["Anna", "Tom", "Maria", "James", "Lena", "Omar", "Sofia", "Ben"]
EN_ITEMS = ["apples", "books", "pencils", "cookies", "marbles", "stickers", "cards", "eggs"]
EN_MATH = {
    "add": (
        "{name} has {a} {item}. {name} buys {b} more {item}. How many {item} does {name} have now?",
        "{name} has {a}+{b}=<<{a}+{b}={c}>>{c} {item} now.\n#### {c}",
    ),
    "sub": (
        "{name} had {a} {item} and gave {b} of them to a friend. How many {item} are left?",
        "{name} has {a}-{b}=<<{a}-{b}={c}>>{c} {item} left.\n#### {c}",
    ),
    "mul": (
        "There are {a} boxes with {b} {item} in each box. How many {item} are there in total?",
        "There are {a}*{b}=<<{a}*{b}={c}>>{c} {item} in total.\n#### {c}",
    ),
}

DE_NAMES = ["Anna", "Lukas", "Marie", "Jonas", "Lea", "Felix", "Sophie", "Paul"]
DE_ITEMS = ["Äpfel", "Bücher", "Stifte", "Kekse", "Murmeln", "Aufkleber", "Karten", "Eier"]
DE_MATH = {
    "add": (
        "{name} hat {a} {item}. {name} kauft {b} weitere {item}. Wie viele {item} hat {name} jetzt?",
        "{name} hat jetzt {a}+{b}=<<{a}+{b}={c}>>{c} {item}.\n#### {c}",
    ),
    "sub": (
        "{name} hatte {a} {item} und schenkte {b} davon einer Freundin. Wie viele {item} sind übrig?",
        "Es sind {a}-{b}=<<{a}-{b}={c}>>{c} {item} übrig.\n#### {c}",
    ),
    "mul": (
        "Es gibt {a} Kisten mit je {b} {item}. Wie viele {item} sind es insgesamt?",
        "Insgesamt sind es {a}*{b}=<<{a}*{b}={c}>>{c} {item}.\n#### {c}",
    ),
}

# Russian nouns agree with the number: (one, few, many) forms.
RU_NAMES = [
    ("Анна", "Анны"),
    ("Иван", "Ивана"),
    ("Мария", "Марии"),
    ("Сергей", "Сергея"),
    ("Ольга", "Ольги"),
    ("Дмитрий", "Дмитрия"),
    ("Елена", "Елены"),
    ("Павел", "Павла"),
]
RU_ITEMS = [
    ("яблоко", "яблока", "яблок"),
    ("книга", "книги", "книг"),
    ("карандаш", "карандаша", "карандашей"),
    ("печенье", "печенья", "печений"),
    ("шарик", "шарика", "шариков"),
    ("открытка", "открытки", "открыток"),
    ("наклейка", "наклейки", "наклеек"),
    ("яйцо", "яйца", "яиц"),
]
RU_MATH = {
    "add": (
        "У {gen} есть {a} {item_a}. {name} покупает ещё {b} {item_b}. Сколько {item_many} теперь у {gen}?",
        "Теперь у {gen} {a}+{b}=<<{a}+{b}={c}>>{c} {item_c}.\n#### {c}",
    ),
    "sub": (
        "У {gen} было {a} {item_a}, и {b} из них {name} отдал(а) другу. Сколько {item_many} осталось?",
        "Осталось {a}-{b}=<<{a}-{b}={c}>>{c} {item_c}.\n#### {c}",
    ),
    "mul": (
        "Есть {a} коробок, в каждой по {b} {item_b}. Сколько всего {item_many}?",
        "Всего {a}*{b}=<<{a}*{b}={c}>>{c} {item_c}.\n#### {c}",
    ),
}

# Thai counts with classifiers: (noun, classifier).
TH_NAMES = ["สมชาย", "สมหญิง", "มานี", "ปิติ", "วีระ", "ชูใจ", "นิด", "ต้น"]
TH_ITEMS = [
    ("แอปเปิล", "ลูก"),
    ("หนังสือ", "เล่ม"),
    ("ดินสอ", "แท่ง"),
    ("คุกกี้", "ชิ้น"),
    ("ลูกแก้ว", "ลูก"),
    ("สติกเกอร์", "แผ่น"),
    ("การ์ด", "ใบ"),
    ("ไข่", "ฟอง"),
]
TH_MATH = {
    "add": (
        "{name}มี{item} {a} {cls} แล้วซื้อเพิ่มอีก {b} {cls} ตอนนี้{name}มี{item}ทั้งหมดกี่{cls}",
        "{name}มี{item} {a}+{b}=<<{a}+{b}={c}>>{c} {cls}\n#### {c}",
    ),
    "sub": (
        "{name}มี{item} {a} {cls} และให้เพื่อนไป {b} {cls} {name}เหลือ{item}กี่{cls}",
        "เหลือ{item} {a}-{b}=<<{a}-{b}={c}>>{c} {cls}\n#### {c}",
    ),
    "mul": (
        "มีกล่อง {a} กล่อง แต่ละกล่องมี{item} {b} {cls} รวมมี{item}ทั้งหมดกี่{cls}",
        "รวมมี{item} {a}*{b}=<<{a}*{b}={c}>>{c} {cls}\n#### {c}",
    ),
}

# Chinese counts with measure words: (noun, measure word).
ZH_NAMES = ["小明", "小红", "李华", "王芳", "张伟", "刘洋", "陈静", "赵磊"]
ZH_ITEMS = [
    ("苹果", "个"),
    ("书", "本"),
    ("铅笔", "支"),
    ("饼干", "块"),
    ("弹珠", "颗"),
    ("贴纸", "张"),
    ("卡片", "张"),
    ("鸡蛋", "个"),
]
ZH_MATH = {
    "add": (
        "{name}有{a}{mw}{item}，又买了{b}{mw}。{name}现在一共有多少{mw}{item}？",
        "{name}现在有{a}+{b}=<<{a}+{b}={c}>>{c}{mw}{item}。\n#### {c}",
    ),
    "sub": (
        "{name}有{a}{mw}{item}，送给朋友{b}{mw}。{name}还剩多少{mw}{item}？",
        "还剩{a}-{b}=<<{a}-{b}={c}>>{c}{mw}{item}。\n#### {c}",
    ),
    "mul": (
        "有{a}个盒子，每个盒子里有{b}{mw}{item}。一共有多少{mw}{item}？",
        "一共有{a}*{b}=<<{a}*{b}={c}>>{c}{mw}{item}。\n#### {c}",
    ),
}

# (question word, answer word) and capitals per language.
QA_WORDS = {
    "en": ("Question", "Answer"),
    "de": ("Frage", "Antwort"),
    "ru": ("Вопрос", "Ответ"),
    "th": ("คำถาม", "คำตอบ"),
    "zh": ("问题", "答案"),
}
CAPITALS = {
    "en": [
        ("France", "Paris"),
        ("Germany", "Berlin"),
        ("Japan", "Tokyo"),
        ("Italy", "Rome"),
        ("Russia", "Moscow"),
        ("Thailand", "Bangkok"),
        ("China", "Beijing"),
        ("Spain", "Madrid"),
        ("Egypt", "Cairo"),
        ("Canada", "Ottawa"),
    ],
    "de": [
        ("Frankreich", "Paris"),
        ("Deutschland", "Berlin"),
        ("Japan", "Tokio"),
        ("Italien", "Rom"),
        ("Russland", "Moskau"),
        ("Thailand", "Bangkok"),
        ("China", "Peking"),
        ("Spanien", "Madrid"),
        ("Ägypten", "Kairo"),
        ("Kanada", "Ottawa"),
    ],
    "ru": [
        ("Франции", "Париж"),
        ("Германии", "Берлин"),
        ("Японии", "Токио"),
        ("Италии", "Рим"),
        ("России", "Москва"),
        ("Таиланда", "Бангкок"),
        ("Китая", "Пекин"),
        ("Испании", "Мадрид"),
        ("Египта", "Каир"),
        ("Канады", "Оттава"),
    ],
    "th": [
        ("ฝรั่งเศส", "ปารีส"),
        ("เยอรมนี", "เบอร์ลิน"),
        ("ญี่ปุ่น", "โตเกียว"),
        ("อิตาลี", "โรม"),
        ("รัสเซีย", "มอสโก"),
        ("ไทย", "กรุงเทพมหานคร"),
        ("จีน", "ปักกิ่ง"),
        ("สเปน", "มาดริด"),
        ("อียิปต์", "ไคโร"),
        ("แคนาดา", "ออตตาวา"),
    ],
    "zh": [
        ("法国", "巴黎"),
        ("德国", "柏林"),
        ("日本", "东京"),
        ("意大利", "罗马"),
        ("俄罗斯", "莫斯科"),
        ("泰国", "曼谷"),
        ("中国", "北京"),
        ("西班牙", "马德里"),
        ("埃及", "开罗"),
        ("加拿大", "渥太华"),
    ],
}
CAPITAL_Q = {
    "en": "What is the capital of {country}?",
    "de": "Was ist die Hauptstadt von {country}?",
    "ru": "Какой город является столицей {country}?",
    "th": "เมืองหลวงของประเทศ{country}คือเมืองอะไร",
    "zh": "{country}的首都是哪里？",
}
CAPITAL_A = {
    "en": "The capital of {country} is {capital}.",
    "de": "Die Hauptstadt von {country} ist {capital}.",
    "ru": "Столица {country} — {capital}.",
    "th": "เมืองหลวงของประเทศ{country}คือ{capital}",
    "zh": "{country}的首都是{capital}。",
}
# Extractive QA with a context sentence: born in {year} in {city}.
BORN_CTX = {
    "en": ("Context: {name} was born in {year} in {city} and works as a teacher.", "When was {name} born?"),
    "de": (
        "Kontext: {name} wurde {year} in {city} geboren und arbeitet als Lehrerin.",
        "Wann wurde {name} geboren?",
    ),
    "ru": (
        "Контекст: {name} родился в {year} году в городе {city} и работает учителем.",
        "В каком году родился {name}?",
    ),
    "th": ("บริบท: {name}เกิดเมื่อปี {year} ที่เมือง{city} และทำงานเป็นครู", "{name}เกิดปีอะไร"),
    "zh": ("背景：{name}于{year}年出生在{city}，是一名老师。", "{name}是哪一年出生的？"),
}
CITIES = {
    "en": ["London", "Boston", "Sydney", "Dublin", "Toronto"],
    "de": ["München", "Hamburg", "Köln", "Wien", "Zürich"],
    "ru": ["Казань", "Самара", "Омск", "Тула", "Пермь"],
    "th": ["เชียงใหม่", "ขอนแก่น", "ภูเก็ต", "หาดใหญ่", "อุดรธานี"],
    "zh": ["上海", "广州", "成都", "杭州", "西安"],
}

# NLI: (premise, [(hypothesis, label index)]) with label index 0/1/2 = entailment/neutral/contradiction.
NLI_WORDS = {
    "en": ("Premise", "Hypothesis", "Label", ("entailment", "neutral", "contradiction")),
    "de": ("Prämisse", "Hypothese", "Label", ("Folgerung", "neutral", "Widerspruch")),
    "ru": ("Посылка", "Гипотеза", "Метка", ("следование", "нейтрально", "противоречие")),
    "th": ("ข้อตั้ง", "สมมติฐาน", "ป้ายกำกับ", ("เป็นจริง", "เป็นกลาง", "ขัดแย้ง")),
    "zh": ("前提", "假设", "标签", ("蕴含", "中立", "矛盾")),
}
NLI_SCENES = {
    "en": [
        (
            "{name} is reading a book in the park.",
            [
                ("{name} is outside.", 0),
                ("{name} is reading a novel about dogs.", 1),
                ("{name} is asleep at home.", 2),
            ],
        ),
        (
            "{name} is cooking soup in the kitchen.",
            [("{name} is making food.", 0), ("The soup is for a party.", 1), ("{name} is swimming.", 2)],
        ),
        (
            "{name} runs to the station in the rain.",
            [
                ("{name} is moving fast.", 0),
                ("{name} is late for the train.", 1),
                ("The weather is sunny and dry.", 2),
            ],
        ),
    ],
    "de": [
        (
            "{name} liest ein Buch im Park.",
            [
                ("{name} ist draußen.", 0),
                ("{name} liest einen Roman über Hunde.", 1),
                ("{name} schläft zu Hause.", 2),
            ],
        ),
        (
            "{name} kocht Suppe in der Küche.",
            [
                ("{name} bereitet Essen zu.", 0),
                ("Die Suppe ist für ein Fest.", 1),
                ("{name} schwimmt im See.", 2),
            ],
        ),
        (
            "{name} läuft im Regen zum Bahnhof.",
            [
                ("{name} bewegt sich schnell.", 0),
                ("{name} kommt zu spät zum Zug.", 1),
                ("Das Wetter ist sonnig.", 2),
            ],
        ),
    ],
    "ru": [
        (
            "{name} читает книгу в парке.",
            [("{name} на улице.", 0), ("{name} читает роман о собаках.", 1), ("{name} спит дома.", 2)],
        ),
        (
            "{name} варит суп на кухне.",
            [("{name} готовит еду.", 0), ("Суп для праздника.", 1), ("{name} плавает в озере.", 2)],
        ),
        (
            "{name} бежит под дождём на вокзал.",
            [
                ("{name} быстро двигается.", 0),
                ("{name} опаздывает на поезд.", 1),
                ("Погода сухая и солнечная.", 2),
            ],
        ),
    ],
    "th": [
        (
            "{name}กำลังอ่านหนังสืออยู่ในสวนสาธารณะ",
            [("{name}อยู่ข้างนอก", 0), ("{name}กำลังอ่านนิยายเกี่ยวกับสุนัข", 1), ("{name}กำลังนอนหลับอยู่ที่บ้าน", 2)],
        ),
        (
            "{name}กำลังทำซุปอยู่ในครัว",
            [("{name}กำลังทำอาหาร", 0), ("ซุปนี้ทำสำหรับงานเลี้ยง", 1), ("{name}กำลังว่ายน้ำ", 2)],
        ),
        (
            "{name}วิ่งไปสถานีรถไฟท่ามกลางสายฝน",
            [("{name}กำลังเคลื่อนที่เร็ว", 0), ("{name}ไปขึ้นรถไฟสาย", 1), ("อากาศแจ่มใสและแห้ง", 2)],
        ),
    ],
    "zh": [
        (
            "{name}正在公园里看书。",
            [("{name}在户外。", 0), ("{name}在看一本关于狗的小说。", 1), ("{name}正在家里睡觉。", 2)],
        ),
        (
            "{name}正在厨房里做汤。",
            [("{name}在做饭。", 0), ("这汤是为聚会准备的。", 1), ("{name}正在游泳。", 2)],
        ),
        (
            "{name}冒着雨跑向车站。",
            [("{name}在快速移动。", 0), ("{name}赶火车要迟到了。", 1), ("天气晴朗干燥。", 2)],
        ),
    ],
}
NLI_PROMPT = {
    "en": "Does the premise imply the hypothesis? Answer with entailment, neutral or contradiction.",
    "de": "Folgt die Hypothese aus der Prämisse? Antworte mit Folgerung, neutral oder Widerspruch.",
    "ru": "Следует ли гипотеза из посылки? Ответь: следование, нейтрально или противоречие.",
    "th": "ข้อตั้งสนับสนุนสมมติฐานหรือไม่ ตอบว่า เป็นจริง เป็นกลาง หรือ ขัดแย้ง",
    "zh": "前提是否蕴含假设？请回答蕴含、中立或矛盾。",
}
# Free-standing sentences: instructions and everyday text.
MISC = {
    "en": [
        "Solve the following math problem step by step.",
        "Translate the following text into English.",
        "The answer is a number.",
        "Let's think step by step.",
        "Hello, world! How are you today?",
        "Please answer the question based on the context.",
        "The weather is nice today, isn't it?",
    ],
    "de": [
        "Löse die folgende Matheaufgabe Schritt für Schritt.",
        "Übersetze den folgenden Text ins Deutsche.",
        "Die Antwort ist eine Zahl.",
        "Lass uns Schritt für Schritt denken.",
        "Hallo Welt! Wie geht's?",
        "Beantworte die Frage anhand des Kontexts.",
        "Größe, Straße, Übung, schön und müde.",
    ],
    "ru": [
        "Реши следующую задачу по шагам.",
        "Переведи следующий текст на русский язык.",
        "Ответ — это число.",
        "Давай подумаем шаг за шагом.",
        "Привет, мир! Как дела?",
        "Ответь на вопрос по контексту.",
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    ],
    "th": [
        "จงแก้โจทย์คณิตศาสตร์ต่อไปนี้ทีละขั้นตอน",
        "จงแปลข้อความต่อไปนี้เป็นภาษาไทย",
        "คำตอบคือตัวเลข",
        "ลองคิดทีละขั้นตอน",
        "สวัสดีชาวโลก! วันนี้เป็นอย่างไรบ้าง",
        "จงตอบคำถามโดยอ้างอิงจากบริบท",
        "วันนี้อากาศดีมาก เราไปเที่ยวทะเลกันเถอะ",
    ],
    "zh": [
        "请一步一步地解决下面的数学题。",
        "请把下面的文字翻译成中文。",
        "答案是一个数字。",
        "让我们一步一步地思考。",
        "你好，世界！你今天好吗？",
        "请根据上下文回答问题。",
        "今天天气很好，我们去公园散步吧。",
    ],
}
LANGS = ("en", "de", "ru", "th", "zh")


def _ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    """Russian noun form for the number ``n``: forms are (1, 2-4, 5+)."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def _operands(rng: random.Random, op: str) -> tuple[int, int, int]:
    if op == "add":
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        return a, b, a + b
    if op == "sub":
        a = rng.randint(10, 90)
        b = rng.randint(1, a - 1)
        return a, b, a - b
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    return a, b, a * b


def _math(rng: random.Random, lang: str, op: str) -> tuple[str, str]:
    """One (question, answer) math word problem."""
    a, b, c = _operands(rng, op)
    if lang == "en":
        q, r = EN_MATH[op]
        kw = {"name": rng.choice(EN_NAMES), "item": rng.choice(EN_ITEMS)}
    elif lang == "de":
        q, r = DE_MATH[op]
        kw = {"name": rng.choice(DE_NAMES), "item": rng.choice(DE_ITEMS)}
    elif lang == "ru":
        q, r = RU_MATH[op]
        (name, gen), forms = rng.choice(RU_NAMES), rng.choice(RU_ITEMS)
        kw = {
            "name": name,
            "gen": gen,
            "item_a": _ru_plural(a, forms),
            "item_b": _ru_plural(b, forms),
            "item_c": _ru_plural(c, forms),
            "item_many": forms[2],
        }
    elif lang == "th":
        q, r = TH_MATH[op]
        item, cls = rng.choice(TH_ITEMS)
        kw = {"name": rng.choice(TH_NAMES), "item": item, "cls": cls}
    else:
        q, r = ZH_MATH[op]
        item, mw = rng.choice(ZH_ITEMS)
        kw = {"name": rng.choice(ZH_NAMES), "item": item, "mw": mw}
    return q.format(a=a, b=b, c=c, **kw), r.format(a=a, b=b, c=c, **kw)


def _names(lang: str) -> list[str]:
    return {"en": EN_NAMES, "de": DE_NAMES, "ru": [n for n, _ in RU_NAMES], "th": TH_NAMES, "zh": ZH_NAMES}[
        lang
    ]


def _numbers(rng: random.Random) -> list[str]:
    """Digits, dates, prices, arithmetic and punctuation in assorted scripts."""
    out = []
    for _ in range(60):
        a, b = rng.randint(0, 9999), rng.randint(1, 999)
        out.append(
            rng.choice(
                [
                    f"{a} + {b} = {a + b}",
                    f"{a} - {b} = {a - b}",
                    f"{a} * {b} = {a * b}",
                    f"{a} / {b} = {a / b:.2f}",
                    f"<<{a}*{b}={a * b}>>{a * b}",
                    f"#### {a}",
                    f"${a}.{b % 100:02d} and {b}%",
                    f"{rng.randint(1900, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"({a} + {b}) * 2 = {(a + b) * 2};",
                    f"№{b}, {a:,} €, {b / 7:.3f}",
                    f"{a}，{b}。{a + b}？",
                ]
            )
        )
    out += [
        "0 1 2 3 4 5 6 7 8 9 10 11 12 100 1000 3.14 2.718 -7 +3 1/2 50% 1,000,000",
        "! ? . , ; : ' \" ( ) [ ] { } < > / \\ | - _ + = * & ^ % $ # @ ~ ` …",
        "„Anführungszeichen“ «кавычки» “quotes” 「引号」 — – · • ° × ÷ ≤ ≥ ≠ ±",
        "。，、？！：；（）《》“”‘’ ๆ ฯ ๑ ๒ ๓ ๔ ๕ ๖ ๗ ๘ ๙ ๐",
        "<|system|>\n<|user|>\n<|assistant|>\n",
    ]
    return out


def build_corpus(seed: int = SEED) -> list[str]:
    """The tokenizer training corpus: a few hundred short multilingual texts, deterministic in ``seed``."""
    rng = random.Random(seed)
    texts: list[str] = []
    for lang in LANGS:
        qw, aw = QA_WORDS[lang]
        for i in range(36):  # math word problems, as plain text and in QA / chat form
            q, r = _math(rng, lang, ("add", "sub", "mul")[i % 3])
            texts.append(
                rng.choice([f"{q}\n{r}", f"{qw}: {q}\n{aw}: {r}", f"<|user|>\n{q}\n<|assistant|>\n{r}"])
            )
        for country, capital in CAPITALS[lang]:
            q = CAPITAL_Q[lang].format(country=country)
            texts.append(f"{qw}: {q}\n{aw}: {capital}")
            texts.append(CAPITAL_A[lang].format(country=country, capital=capital))
        ctx, q = BORN_CTX[lang]
        for _ in range(12):
            name, year, city = rng.choice(_names(lang)), rng.randint(1950, 2010), rng.choice(CITIES[lang])
            texts.append(
                f"{ctx.format(name=name, year=year, city=city)}\n{qw}: {q.format(name=name)}\n{aw}: {year}"
            )
        pw, hw, lw, labels = NLI_WORDS[lang]
        for premise, hyps in NLI_SCENES[lang]:
            for hyp, label in hyps:
                name = rng.choice(_names(lang))
                texts.append(
                    f"{pw}: {premise.format(name=name)}\n{hw}: {hyp.format(name=name)}\n"
                    f"{NLI_PROMPT[lang]}\n{lw}: {labels[label]}"
                )
        texts += MISC[lang]
    texts += _numbers(rng)
    rng.shuffle(texts)
    return texts


# --------------------------------------------------------------------------------------------
# Tokenizer and model
# --------------------------------------------------------------------------------------------


def build_tokenizer(corpus: list[str]) -> PreTrainedTokenizerFast:
    """Train the byte-level BPE tokenizer and wrap it for transformers (no chat template)."""
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    # Like Llama: "<s>" before every sequence, nothing after; ByteLevel keeps offsets byte-exact.
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
            ),
        ]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="right",
        model_max_length=MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
    )


def build_model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """A random-init fp32 tiny Llama whose vocabulary and special ids match ``tokenizer``."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=MODEL_MAX_LENGTH,
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return model


def make_assets(out: Path) -> dict[str, Path]:
    """Write ``tiny-llama/`` and ``tiny-llama-chat/`` under ``out`` (replacing them) and return their paths."""
    out = Path(out)
    plain, chat = out / PLAIN_DIR, out / CHAT_DIR
    for d in (plain, chat):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)

    tokenizer = build_tokenizer(build_corpus())
    model = build_model(tokenizer)
    tokenizer.save_pretrained(plain)
    model.save_pretrained(plain, safe_serialization=True)

    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(chat)
    model.save_pretrained(chat, safe_serialization=True)
    return {"plain": plain, "chat": chat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write tiny-llama/ and tiny-llama-chat/ into (default: next to this script)",
    )
    args = parser.parse_args()
    paths = make_assets(args.out)
    for kind, path in paths.items():
        size = sum(f.stat().st_size for f in path.iterdir())
        print(f"{kind}: {path} ({size / 1024:.0f} KiB): {', '.join(sorted(f.name for f in path.iterdir()))}")


if __name__ == "__main__":
    main()
