"""The default text of every message, per language. A shop overrides any of them in
settings.toml (``[conversation.templates.zh-TW]`` ...); fields are written ``{shop}``.

Fields each template may use are listed in ``FIELDS``; settings refuse a template that
uses any other (a typo would otherwise send a hole to a customer). Prompts stay within
two SMS segments with realistic values (tests/test_templates.py checks it).
"""

from __future__ import annotations

__all__ = ["DEFAULT_TEMPLATES", "FIELDS", "KEYS"]

_COMMON = {"shop", "name", "product", "quantity", "unit"}
FIELDS: dict[str, set[str]] = {
    "prompt": _COMMON | {"runout_day", "drop_day"},
    "heads_up": _COMMON | {"drop_day", "window"},
    "reminder": _COMMON | {"runout_day", "drop_day"},
    "booked": _COMMON | {"drop_day", "window"},
    "rushed": _COMMON | {"drop_day", "window"},
    "snoozed": _COMMON | {"ask_day"},
    "snoozed_soon": _COMMON | {"ask_day", "runout_day"},
    "declined": _COMMON,
    "level_thanks": _COMMON,
    "stopped": _COMMON,
    "started": _COMMON,
    "help": _COMMON | {"phone"},
    "unknown": _COMMON | {"when"},
    "trimmed": _COMMON,
    "minimum": _COMMON,
    "followup": _COMMON,
    "loyalty": _COMMON | {"count"},
    "nearby": _COMMON | {"drop_day"},
    "courier_link": {"shop", "name", "day", "stops", "url"},
}
KEYS = tuple(FIELDS)

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "zh-TW": {
        "prompt": "{shop}:{name}您好,府上的{product}預計{runout_day}前後用完。{drop_day}送"
                  "{quantity}{unit}好嗎?回覆1確認、2改天、3不用,或直接回覆想要的數量。",
        "heads_up": "{shop}:{name}您好,{drop_day}{window}會送{quantity}{unit}{product}到府。"
                    "回覆2改期、3這次不用。",
        "reminder": "{shop}:{name}您好,{drop_day}送{quantity}{unit}{product}好嗎?"
                    "回覆1確認、2改天、3不用。",
        "booked": "好的!{drop_day}{window}送{quantity}{unit}{product}到府。謝謝您🙏",
        "rushed": "不好意思!我們{drop_day}{window}盡快送{quantity}{unit}{product}到府。"
                  "不需要請回覆3。",
        "snoozed": "好的,我們{ask_day}再跟您確認。謝謝!",
        "snoozed_soon": "好的。府上的{product}預計{runout_day}前後用完,"
                        "我們{ask_day}再跟您確認。謝謝!",
        "declined": "好的,這次先不送。需要時回覆數量即可,謝謝!",
        "level_thanks": "收到,謝謝您告訴我們!",
        "stopped": "{shop}:已停止簡訊通知。若要恢復請回覆START。",
        "started": "{shop}:已恢復簡訊通知,謝謝!",
        "help": "{shop}:回覆1確認、2改天、3不用,或回覆想要的數量。有問題請來電{phone}。",
        "unknown": "{shop}:收到您的訊息,我們{when}會親自回覆您,謝謝!",
        "trimmed": "府上只裝得下{quantity}{unit},這次先送{quantity}{unit}。",
        "minimum": "最少一次送{quantity}{unit}。",
        "followup": "{name}您好,今天的{product}送到了嗎?滿意請回覆1–5分,謝謝!",
        "loyalty": "這是第{count}次送貨,這次的{product}免費招待!",
        "nearby": "{shop}:{name}您好,我們{drop_day}會到府上附近送貨,順便帶{quantity}{unit}"
                  "{product}給您好嗎?回覆1確認、3不用。",
        "courier_link": "{shop}:{name}您好,{day}的路線共{stops}站\n{url}",
    },
    "zh-CN": {
        "prompt": "{shop}:{name}您好,府上的{product}预计{runout_day}前后用完。{drop_day}送"
                  "{quantity}{unit}好吗?回复1确认、2改天、3不用,或直接回复想要的数量。",
        "heads_up": "{shop}:{name}您好,{drop_day}{window}会送{quantity}{unit}{product}到府。"
                    "回复2改期、3这次不用。",
        "reminder": "{shop}:{name}您好,{drop_day}送{quantity}{unit}{product}好吗?"
                    "回复1确认、2改天、3不用。",
        "booked": "好的!{drop_day}{window}送{quantity}{unit}{product}到府。谢谢您🙏",
        "rushed": "不好意思!我们{drop_day}{window}尽快送{quantity}{unit}{product}到府。"
                  "不需要请回复3。",
        "snoozed": "好的,我们{ask_day}再跟您确认。谢谢!",
        "snoozed_soon": "好的。府上的{product}预计{runout_day}前后用完,"
                        "我们{ask_day}再跟您确认。谢谢!",
        "declined": "好的,这次先不送。需要时回复数量即可,谢谢!",
        "level_thanks": "收到,谢谢您告诉我们!",
        "stopped": "{shop}:已停止短信通知。如需恢复请回复START。",
        "started": "{shop}:已恢复短信通知,谢谢!",
        "help": "{shop}:回复1确认、2改天、3不用,或回复想要的数量。有问题请来电{phone}。",
        "unknown": "{shop}:收到您的消息,我们{when}会亲自回复您,谢谢!",
        "trimmed": "府上只装得下{quantity}{unit},这次先送{quantity}{unit}。",
        "minimum": "最少一次送{quantity}{unit}。",
        "followup": "{name}您好,今天的{product}送到了吗?满意请回复1–5分,谢谢!",
        "loyalty": "这是第{count}次送货,这次的{product}免费赠送!",
        "nearby": "{shop}:{name}您好,我们{drop_day}会到府上附近送货,顺便带{quantity}{unit}"
                  "{product}给您好吗?回复1确认、3不用。",
        "courier_link": "{shop}:{name}您好,{day}的路线共{stops}站\n{url}",
    },
    "en": {
        "prompt": "{shop}: Hi {name}, your {product} will run out around {runout_day}. Shall we "
                  "bring {quantity} {unit} on {drop_day}? Reply 1 yes, 2 later, 3 no, or the "
                  "amount you want.",
        "heads_up": "{shop}: Hi {name}, we'll drop {quantity} {unit} of {product} on "
                    "{drop_day}{window}. Reply 2 to move it, 3 to skip.",
        "reminder": "{shop}: Hi {name}, shall we bring {quantity} {unit} of {product} on "
                    "{drop_day}? Reply 1 yes, 2 later, 3 no.",
        "booked": "Great! {quantity} {unit} of {product} on {drop_day}{window}. Thank you!",
        "rushed": "Sorry you're running out! We'll bring {quantity} {unit} of {product} on "
                  "{drop_day}{window}. Reply 3 if you don't need it.",
        "snoozed": "Sure, we'll check with you again on {ask_day}. Thanks!",
        "snoozed_soon": "Sure. Your {product} may run out around {runout_day}, so we'll check "
                        "with you again on {ask_day}. Thanks!",
        "declined": "OK, no delivery this time. Reply with an amount whenever you need one.",
        "level_thanks": "Got it, thanks for letting us know!",
        "stopped": "{shop}: You won't get more texts from us. Reply START to resume.",
        "started": "{shop}: Texts are back on. Thank you!",
        "help": "{shop}: Reply 1 yes, 2 later, 3 no, or the amount you want. Questions? "
                "Call {phone}.",
        "unknown": "{shop}: Thanks for your message. A person will answer {when}.",
        "trimmed": "Your tank only has room for {quantity} {unit}, so that is what we'll "
                   "bring.",
        "minimum": "Our smallest drop is {quantity} {unit}.",
        "followup": "Hi {name}, how was today's delivery? Reply 1-5. Thank you!",
        "loyalty": "This is delivery number {count}: the {product} is on us!",
        "nearby": "{shop}: Hi {name}, we're on your street on {drop_day}. Reply YES and we'll "
                  "bring {quantity} {unit} of {product}, or 3 if you don't need it yet.",
        "courier_link": "{shop}: Hi {name}, your route for {day}: {stops} stops.\n{url}",
    },
}
