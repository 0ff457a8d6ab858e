"""The words ``replies`` listens for, in English and Chinese.

Patterns run on normalised text (``replies.normalise``: lower case, no punctuation, one
space between words) whose simplified characters were folded to traditional ones
(``SIMPLIFIED``) and whose Chinese characters are no longer split by spaces, so each
Chinese phrase is written once, in traditional characters. ``replies`` cuts each
match out of the text as it reads, so the order of the lists matters: longer and more
specific phrases come first ("快沒了" before "沒了", "還有一半" before "還有").
"""

from __future__ import annotations

import re

from replenish.core.numbers import CJK_NUMERAL, EN_COUNT, NUMBER

CJK = "\u3400-\u9fff\uf900-\ufaff"

EMOJI = str.maketrans({e: " ok " for e in "👍👌✅✔☑🆗🙆"} | {e: " no " for e in "👎❌✖🙅"})

_PAIRS = ("还還 没沒 周週 礼禮 个個 后後 订訂 几幾 点點 说說 两兩 见見 够夠 这這 样樣 传傳 发發 "
          "简簡 讯訊 谢謝 烦煩 帮幫 装裝 气氣 过過 们們 买買 换換 来來 给給 问問 题題 关關 系係 "
          "时時 间間 钟鐘 号號 开開 复復 阅閱 扰擾 别別 请請 对對 确確 认認 满滿 无無 余餘 经經 "
          "么麼 会會 吗嗎 为為 当當 于於 锁鎖 暂暫 费費 旧舊 莱萊 饮飲 货貨 单單 阵陣 骚騷 板闆 "
          "谁誰 务務 择擇 选選 仑侖")
SIMPLIFIED = str.maketrans({pair[0]: pair[1] for pair in _PAIRS.split()})


def _en(pattern: str) -> str:
    """``pattern`` as whole English words (not inside a longer word or number)."""
    return rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Polite Chinese words, taken out before reading (but not 了 and 吧: 沒了, 來吧).
_POLITE = ("謝謝|謝啦|多謝|感謝|感恩|麻煩(?:你|您)?|拜託|不好意思|辛苦(?:你|您)?了?|老闆娘?|"
           "您好|你好|哈囉|請問|請|喔|哦|噢|啦|嗯|唷|呀|啊|阿|耶|欸|囉|捏|哈|嘿|呢|嘛|唄")
POLITE = _c(_POLITE)
FILLER = _c(_en("please|pls|plz|thanks|thank you|thank u|thankyou|thx|ty|tks|tq|hi|hello|"
                "hey|dear|sir|madam|maam|lol|haha|hehe|ha") + f"|{_POLITE}|了|吧")

# Whole-reply keywords: the reply without filler and spaces must be exactly one of these.
MENU = _c(r"(?:選|選擇|回覆|回復|回|按|reply|option|press)?([123一二兩三]|one|two|three)")
BARE_STOP = _c(r"cancel|end|取消|取消服務")
BARE_START = _c(r"(?:start|unstop|resume|subscribe|resubscribe|yesstart|開始|恢復|重新訂閱|訂閱|"
                r"重新開始)(?:again|texts?|messages?|texting|通知|簡訊|訊息|短信)?")
BARE_HELP = _c(r"(?:help|helpme|info|幫助|幫忙|求助|說明|怎麼用|怎麼回覆?|什麼意思|看不懂|不懂)+")

STOP = _c(_en("stop|stopall|unsubscribe|unsub|opt out|optout|quit|remove me|take me off|"
              "leave me alone|(?:dont|do not) (?:text|message|msg|sms|contact|send)|"
              "no more (?:texts?|messages?|msgs?|sms)")
          + "|退訂|取消訂閱|取消通知|取消簡訊|取消短信|不要再(?:傳|發|寄|打擾|打給|通知)|"
            "別再(?:傳|發|寄|打)|停止|勿擾|拒收|封鎖|騷擾")
HELP = _c(_en("help|info|what is this|whats this|who is this|whos this|what does this mean")
          + "|幫助|說明|怎麼用|怎麼回覆?|什麼意思|看不懂|是誰|哪位|這是什麼|这是什么|什麼東西|"
            "什么东西")

# "Still have plenty" with a no: taken as about half a tank, a loose hint (a customer's
# reading carries a large error), so the forecast learns the tank is not near empty.
PLENTY = _c(_en("plenty|lots left|a lot left|still have (?:lots|a lot|some|enough)|enough left|"
                "still (?:full|half)")
            + "|還有很多|还有很多|還很多|还很多|還多|还多|還夠|还够|夠用|够用|還滿|还满")

# A complaint is for a person, whatever else it says ("上次送來的米有蟲" is not a yes).
COMPLAINT = _c(_en("bugs?|weevils?|worms?|moldy|mouldy|mold|mould|stale|rotten|smells?|"
                   "complain(?:t|ts)?|refund|broken|leak(?:s|ing)?|wrong (?:one|order|item)")
               + "|蟲|虫|發霉|发霉|壞了|坏了|壞掉|坏掉|臭|難吃|难吃|不新鮮|不新鲜|投訴|投诉|"
                 "退錢|退钱|退貨|退货|漏|破了|送錯|送错|少了|不夠秤|不够秤")

_DAY_PARTS = "早上|上午|中午|下午|晚上|傍晚|凌晨|白天"
TIME = _c(r"(?<![\d.])\d{5,}|\d{1,2}:\d{2}(?: ?(?:am|pm))?|"
          + _en(r"(?:(?:after|before|until|till|around) )?\d{1,2}(?: ?(?:am|pm|oclock|o clock))"
                r"|(?:after|before|until|till|around) \d{1,2}|morning|afternoon|evening|noon|night")
          + rf"|(?:{_DAY_PARTS})?(?:\d{{1,2}}|十[一二]?|[二兩三四五六七八九]) ?點"
            r"(?:鐘|半|前|後|以前|以後)?"
          + rf"|(?:{_DAY_PARTS})一點(?:鐘|半)?|{_DAY_PARTS}")

# Dates (11/28, 28號, 十一月二十八日) and, with a level word, fractions written with a slash.
_LEVELISH = "還有|還剩|剩下?|只剩|about|around|still|maybe"
FRACTION_SLASH = _c(rf"(?:{_LEVELISH}) ?(?P<a>\d+) ?/ ?(?P<b>\d+)"
                    rf"|(?P<c>\d+) ?/ ?(?P<d>\d+)(?= ?(?:left|full|remaining|of the tank|tank))")
DATE = _c(r"(?<![\d/.])(?P<m>\d{1,2}) ?/ ?(?P<d>\d{1,2})(?![\d/.])")
DATE_EN = _c(_en(r"(?:the )?(?P<d>\d{1,2})(?:st|nd|rd|th)"))
DATE_CJK = _c(rf"(?:(?P<m>\d{{1,2}}|{CJK_NUMERAL}) ?月 ?)?(?P<d>\d{{1,2}}|{CJK_NUMERAL}) ?(?:號|日)"
              r"(?! ?(?:後|以後|之後|過後|前|內))")

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6, "一": 0,
            "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
            **{str(n): n - 1 for n in range(1, 8)}, "weekend": 5}
WEEKDAY = (
    _c(r"(?P<pre>下下|下個|下|這個|這|本)?(?:(?:禮拜|星期|週) ?)?(?:禮拜|星期|週|拜)"
       r"(?P<d>[一二三四五六日天1-7末])"),
    _c(_en(r"(?:(?P<pre>next week on|next week|next|this|coming|on) )?(?P<d>monday|mon|tuesday|"
           r"tues|tue|wednesday|weds|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|"
           r"sun|weekend)")),
)

# Waits: a count of days, weeks or months; then fixed and vague waits.
FEW = ("a few", "few", "several", "幾", "好幾")
_EN_WAIT_N = rf"(?P<n>{NUMBER}|a few|few|several)"
_CJK_WAIT_N = rf"(?:過|再過|再等|等|晚|延)? ?(?P<n>{CJK_NUMERAL}|\d+|好幾|幾)"
WAIT_DAYS = {"d": 1, "w": 7, "m": 30, "天": 1, "日": 1, "禮": 7, "星": 7, "週": 7, "月": 30}
WAIT_COUNTS = (
    _c(_en(rf"(?:(?:in|after|wait|another|for) )?{_EN_WAIT_N} (?P<u>days?|weeks?|months?)"
           r"(?: (?:later|from now|more|time))?")),
    _c(rf"{_CJK_WAIT_N} ?個? ?(?P<u>天|日|禮拜|星期|週)(?: ?(?:後|以後|之後|過後))?(?! ?前)"),
    _c(rf"{_CJK_WAIT_N} ?(?=個|月 ?(?:後|以後|之後))個? ?(?P<u>月)(?: ?(?:後|以後|之後))?"),
)
WAITS: tuple[tuple[re.Pattern[str], int | None], ...] = (
    (_c("下下個?(?:禮拜|星期|週)|" + _en("week after next")), 14),
    (_c("下個?(?:禮拜|星期|週)|" + _en("next week")), 7),
    (_c("下個?月|" + _en("next month")), 30),
    (_c(_en("later|not now|not yet|not today|not this week|another (?:day|time)|"
            "some ?other (?:day|time)|other time|next time|wait|hold off|hold on|postpone|"
            "delay|reschedule|move it|come back")
        + "|改天|下次|晚點|晚一點|晚些|過陣子|過一陣子|過些天|等等|再等|等一下|要等|再說|延後|延期|"
          "改期|再看看|之後再|以後再|到時候?再|先等|先放著"), None),
)
RELATIVE_DAYS = (
    (_c("大後天"), 3),
    (_c("後天|" + _en("day after tomorrow|day after tmr")), 2),
    (_c("明天|明日|明早|明晚|" + _en("tomorrow|tmr|tmrw|tomorow|tommorow|tommorrow|tmw")), 1),
    (_c("今天|今日|今晚|" + _en("today|tonight")), 0),
)

# Levels as fractions, amounts left, and amounts to bring.
FRACTION_CJK = _c(rf"(?:{_LEVELISH}|大概|約)? ?(?P<a>{CJK_NUMERAL}|\d+) ?分之 ?"
                  rf"(?P<b>{CJK_NUMERAL}|\d+)")
PERCENT = (_c(rf"百分之 ?(?P<p>\d+(?:\.\d+)?|{CJK_NUMERAL})"),
           _c(r"(?<![\d.])(?P<p>\d+(?:\.\d+)?) ?(?:%|percent(?![a-z])|per cent(?![a-z])|趴)"))
TENTHS = (_c(rf"(?:還有|還剩|剩下?|只剩|大概剩?) ?(?P<t>{CJK_NUMERAL}|\d+) ?成"),
          _c(rf"(?P<t>{CJK_NUMERAL}|\d+) ?分滿"))
HALF_CJK = _c(r"(?:還有|還剩|剩下?|只剩|大概|約)? ?(?:一半|半缸|半滿|半箱|半桶|半罐)(?:左右)?")

_UNIT = ("(?P<kg>kgs?|kilos?|kilograms?|kilogrammes?|公斤|千克|公觔)"
         "|(?P<l>l|ltrs?|liters?|litres?|公升|升)"
         "|(?P<bag>bags?|sacks?|包|袋)|(?P<unit>jugs?|bottles?|cylinders?|units?|cans?|桶|瓶|罐)"
         "|(?P<jin>台斤|斤)")
_AMOUNT = rf"(?P<n>{NUMBER}) ?(?:(?P<and>and a half) )?(?:{_UNIT})(?P<half>半)?(?![a-z])"
_AMOUNT_OR_DIGITS = rf"(?:{_AMOUNT}|(?P<c>(?<![\d.])\d+(?:\.\d+)?)(?![\d.a-z{CJK}]))"
LEFT = (
    _c(rf"(?:還有|還剩|剩下?|只剩下?|剩餘) ?(?:大概|大約|約|差不多)? ?{_AMOUNT_OR_DIGITS}"),
    _c(_en(rf"{_AMOUNT_OR_DIGITS} (?:left|remaining)")),
    _c(_en(rf"still (?:have|got) (?:about |around )?{_AMOUNT_OR_DIGITS}")),
)
AMOUNT = _c(_AMOUNT)
OTHER_MEASURE = _c(rf"(?:{NUMBER}) ?(?:lbs?|pounds?|gallons?|gal|oz|ounces?|grams?|g|ml|cc|克|毫升"
                   r"|磅|加侖)(?![a-z])")
FRACTION_WORDS = (
    (_c(_en("two thirds|2 thirds")), 2 / 3),
    (_c(_en("three quarters|3 quarters")), 0.75),
    (_c(_en(r"(?:still (?:have |got )?)?(?:about |around |maybe |roughly )?(?:a |one )?"
            r"(?P<w>half|third|quarter)(?: (?:left|full|remaining|a tank|the tank|tank|way))?")),
     None),
)
FRACTION_OF = {"half": 0.5, "third": 1 / 3, "quarter": 0.25}

CONFIRM_FIRST = _c(_en("no problem|no prob|no problemo|no worries|not a problem|why not|of course|"
                       "no doubt") + "|沒問題|當然")
NEUTRAL = _c(_en("good morning|good afternoon|good evening|good night")
             + "|送來的|送来的|拿來的|拿来的|"
               "好像|不好|還好|好久|好多|要不要|只要|要是|但是|可是|還是|就是|只是|是不是|"
               "不是|於是|免費|一定|不對|沒關係")

# After products: level words ("沒米了" is rice, then "沒 了").
LEVEL_WORDS = (
    (_c(r"快(?:要)?沒(?:有)? ?了?|快(?:要)?用完|快(?:要)?吃完|快見底|差不多(?:沒|用完|吃完)|"
        r"剩一?點點?|還有一?點點?|剩不多|不多了|沒剩多少|沒多少|所剩無幾|快空|很少|"
        + _en("(?:almost|nearly|pretty much|just about) (?:empty|out|gone|finished|done)|"
              "(?:about|going|gonna) to run out|running (?:low|out)|getting low|"
              "(?:very |pretty )?low|not much(?: left)?|a (?:little|bit) left|very little|"
              "last bit|last one")), 0.1),
    (_c(r"(?:都|已經|全部)?沒(?:有)? ?了|用完了|吃完了|用光了?|吃光了?|空了|見底了?|一點都沒有?|"
        + _en("empty|ran out|have run out|has run out|all out|"
              # "we're out" (folded to "were out"), but not "we were out when you came",
              # "we're out of town": nothing but thanks may follow
              r"(?:we are|(?<!we )were|we re|im|i am|i m) out(?: of)?(?: now| already)?"
              r"(?!\s*(?!(?:please|pls|plz|thanks|thank|thx|ty)\b)[a-z0-9])|"
              "out of (?:it|stock)|all gone|none left|nothing left|used up|finished|"
              "no more")), 0.0),
    (_c(r"快滿|" + _en("almost full|nearly full|mostly full")), 0.9),
    (_c(r"還是滿的|還很滿|滿的|全滿|" + _en("(?:still )?full")), 1.0),
)

DECLINE = _c(_en("no thanks?|no thank you|no thx|not needed|no need|dont need|do not need|"
                 "dont want|do not want|dont come|do not come|not this time|"
                 "skip(?: it| this one| this time)?|pass|"
                 "(?:were|we are|im|i am) (?:good|fine|ok|okay|set)|all good|"
                 "still (?:have|got)(?: (?:plenty|lots|some|enough|a lot|it))?|"
                 "(?:have|got) (?:plenty|enough|lots)|plenty|enough|"
                 "cancel(?: it| this| this one| the order| order| the delivery| delivery)?|"
                 "nope|nah|na|no+|n")
             + "|不需要|不用|不要|不需|免(?!費)|不必|不了|算了|不買|跳過|這次不|暫時不|先不|"
               "不可以|不行|還有很多|還很多|還多|還有一些|還有些|還夠|夠用|夠了|取消|還有")
CONFIRM = _c(_en("yes+|yse|y|ye|yea+h?|yeh|ya+h?|yup+|yep+|yas|yessir|sure|okay|okey|oki|okie|"
                 "ok+|k+|alright|all right|fine|good|great|perfect|deal|confirm(?:ed)?|correct|"
                 "right|absolutely|definitely|please do|go ahead|do it|sounds good|bring it|"
                 "send it|deliver it|come|the usual|same as usual|as usual|"
                 "(?:same as|like) (?:last time|before|always|usual)|same again|same|"
                 "need it|want it|(?:i|we) (?:need|want)")
             + rf"|好的|好啊|可以|需要|還要|是的|對的|對啊|確認|確定|照舊|老樣子|一樣|同樣|就好|"
               rf"送來|拿來|送過來|來吧|好|要|是|對"
               rf"|(?:(?<![{CJK}])|(?<=[了吧]))行(?:(?![{CJK}])|(?=[了吧]))")
BARE_NUMBER = _c(rf"(?P<n>(?<![\d.])\d+(?:\.\d+)?(?![\d.a-z])|(?<![a-z])(?:{EN_COUNT})(?![a-z])"
                 rf"|(?:(?<![{CJK}])|(?<=[了吧要送拿給買訂]))(?:{CJK_NUMERAL})"
                 rf"(?:(?![{CJK}])|(?=[了吧就好])))")

GLUE = ("要送換改買來拿訂的是成包袋桶瓶罐個斤克升和跟與還也都就再吧嗎呢喔哦啊啦了好先快吃喝已"
        "這那次請給我們有沒剩用點些半一二兩三四五六七八九十謝煩嗯哈呀唷耶欸囉您")


def alias_pattern(alias: str) -> str:
    """A product alias as a pattern: English words with an optional plural; a single
    Chinese character only beside ``GLUE`` words (米 in 要米, 兩包米, 沒米了; not 糙米)."""
    body = re.escape(alias).replace(r"\ ", " ")
    latin_start, latin_end = re.match(r"[a-z0-9]", alias), re.search(r"[a-z0-9]$", alias)
    before = "(?<![a-z0-9])" if latin_start else ""
    after = "(?:s|es)?(?![a-z0-9])" if latin_end else ""
    if len(alias) == 1 and re.match(f"[{CJK}]", alias):
        before, after = rf"(?:(?<![{CJK}])|(?<=[{GLUE}]))", rf"(?:(?![{CJK}])|(?=[{GLUE}]))"
    return before + body + after


_LIGHT_WORDS = frozenset((
    "i", "we", "you", "he", "she", "it", "its", "is", "are", "was", "be", "been", "the", "a",
    "an", "that", "this", "so", "but", "and", "or", "would", "will", "can", "could", "me", "my",
    "our", "us", "of", "to", "for", "just", "much", "very", "make", "do", "does", "did", "have",
    "has", "had", "get", "got", "some", "any", "on", "at", "in", "by", "with", "then", "also",
    "too", "maybe", "think", "guess", "let", "lets", "know", "see", "if", "as", "up", "there",
    "here", "what", "when", "how", "one", "ok",
))
_LIGHT_CJK = frozenset("我你您他她們的這那次就也都在來送給再先會把下還很嗎呢個上又跟和與")
UNEXPLAINED = 4.0


def unexplained(rest: str) -> float:
    """How much of what is left after reading was not understood: a word counts 1, a
    Chinese character 1/2; filler and small words (the, 我, 的...) count nothing."""
    tokens = re.findall(rf"[{CJK}]|[^\s{CJK}]+", FILLER.sub(" ", rest))
    return sum(0.5 if re.match(f"[{CJK}]", t) else 1.0 for t in tokens
               if t not in _LIGHT_WORDS and t not in _LIGHT_CJK)
