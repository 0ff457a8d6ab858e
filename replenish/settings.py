"""settings.toml + environment -> typed, frozen settings.

Where values come from, strongest first:

1. ``REPLENISH_*`` environment variables; nested keys are joined with ``__``
   (``REPLENISH_FORECAST__RISK=0.05``, ``REPLENISH_SHOP__TIMEZONE=Asia/Taipei``,
   ``REPLENISH_PRODUCTS__RICE__MIN_DROP=10``). ``REPLENISH_DATABASE_URL`` picks
   the database.
2. The TOML file named by ``REPLENISH_SETTINGS``, else ``settings.toml`` in the
   working directory (a missing ``settings.toml`` is fine: defaults apply; a
   missing file named by ``REPLENISH_SETTINGS`` is an error).
3. The defaults below (they match the documented ``settings.toml``).

Errors::

    SettingsError (ValueError)   any invalid value, unknown key or unreadable file;
                                 the message names the key, the bad value and
                                 what is allowed.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from replenish.core.types import Locale, Unit

__all__ = [
    "ENV_PREFIX",
    "SETTINGS_PATH_ENV",
    "ConversationSettings",
    "ForecastSettings",
    "MeasurementErrorParams",
    "PriorParams",
    "ProductParams",
    "Settings",
    "SettingsError",
    "ShopParams",
    "SmsSettings",
    "TwilioParams",
    "load_settings",
    "validate_currency",
    "validate_region",
    "validate_timezone",
]

ENV_PREFIX = "REPLENISH_"
SETTINGS_PATH_ENV = "REPLENISH_SETTINGS"
DEFAULT_SETTINGS_FILE = "settings.toml"
DEFAULT_DATABASE_URL = "sqlite:///replenish.db"

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class SettingsError(ValueError):
    """Settings that cannot be used. ``problems`` holds one line per bad key."""

    def __init__(self, problems: list[str], *, source: str) -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid settings ({source}):\n{lines}")

    @classmethod
    def from_validation_error(cls, error: ValidationError, *, source: str) -> SettingsError:
        problems = []
        for item in error.errors(include_url=False):
            key = ".".join(str(part) for part in item["loc"]) or "(top level)"
            env = ENV_PREFIX + "__".join(str(part) for part in item["loc"]).upper()
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                problems.append(f"{key}: is required but missing (or set {env})")
            elif item["type"] == "extra_forbidden":
                problems.append(f"{key}: is not a known setting (check the spelling)")
            else:
                problems.append(
                    f"{key} = {item.get('input')!r}: {message} (settings file key {key!r}, "
                    f"or environment variable {env})"
                )
        return cls(problems, source=source)


# Validators shared with the database models (a shop's own values are checked the same way).


def validate_timezone(value: str) -> str:
    """An IANA time zone name such as ``Asia/Taipei``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "not a known time zone; use an IANA name such as "
            "'Asia/Taipei', 'Asia/Shanghai' or 'America/New_York'"
        ) from None
    return value


def validate_region(value: str) -> str:
    """A two-letter phone region that the phonenumbers library knows (TW, US, ...)."""
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            "not a phone region; use a two-letter country code such as "
            "'TW', 'CN', 'HK', 'US' or 'JP'"
        )
    return region


def validate_currency(value: str) -> str:
    """A three-letter ISO 4217 currency code."""
    currency = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("not a currency code; use three letters such as 'TWD', 'CNY' or 'USD'")
    return currency


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShopParams(_Frozen):
    """Defaults for a new shop (each shop can change its own copy later)."""

    name: str = Field(default="My shop", min_length=1)
    timezone: str = "Asia/Taipei"
    locale: Locale = Locale.ZH_TW
    region: str = "TW"
    currency: str = "TWD"
    open: time = time(8, 0)
    close: time = time(20, 0)

    _tz = field_validator("timezone")(validate_timezone)
    _region = field_validator("region")(validate_region)
    _currency = field_validator("currency")(validate_currency)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> ShopParams:
        if self.open >= self.close:
            raise ValueError(
                f"business hours open at {self.open:%H:%M} but close at {self.close:%H:%M}; "
                "open must be earlier than close"
            )
        return self


class MeasurementErrorParams(_Frozen):
    """Standard error of one reading, as a fraction of the tank's capacity, per source."""

    courier: Fraction = 0.02
    owner: Fraction = 0.04
    customer: Fraction = 0.12


class ForecastSettings(_Frozen):
    """Knobs of the forecast engine (see docs/ for the math)."""

    risk: float = Field(default=0.02, gt=0, lt=0.5)
    half_life_days: Positive = 45.0
    prior_cv: Positive = 0.35
    daily_cv: Positive = 0.25
    outlier_z: Positive = 3.0
    household_discount: float = Field(default=0.3, gt=0, le=1)
    change_discount: float = Field(default=0.05, gt=0, le=1)
    measurement_error: MeasurementErrorParams = MeasurementErrorParams()


class PriorParams(_Frozen):
    """Daily use per person, in the product's unit, before anything is learned.

    More than 0 for everyone: a household whose prior is zero could never be forecast.
    """

    adult: Positive
    child: Positive
    elder: Positive


class ProductParams(_Frozen):
    """A product a shop sells, as seeded into a new shop."""

    name: str = Field(min_length=1)
    unit: Unit
    units_per_litre: Positive
    bag_sizes: tuple[Annotated[float, Field(ge=0.001)], ...] = Field(min_length=1)
    min_drop: Positive
    priors: PriorParams
    aliases: tuple[str, ...] = ()


def _default_products() -> dict[str, ProductParams]:
    return {
        "rice": ProductParams(
            name="Rice",
            unit=Unit.KG,
            units_per_litre=0.8,
            bag_sizes=(5, 10),
            min_drop=5,
            priors=PriorParams(adult=0.15, child=0.08, elder=0.12),
            aliases=("rice", "米", "白米", "蓬萊米"),
        ),
        "water": ProductParams(
            name="Drinking water (5-gallon jug)",
            unit=Unit.UNIT,
            units_per_litre=round(1 / 18.9, 5),
            bag_sizes=(1,),
            min_drop=2,
            priors=PriorParams(adult=0.1, child=0.06, elder=0.08),
            aliases=("water", "jug", "水", "桶裝水", "飲用水"),
        ),
        "cooking_oil": ProductParams(
            name="Cooking oil",
            unit=Unit.L,
            units_per_litre=1.0,
            bag_sizes=(1, 3),
            min_drop=3,
            priors=PriorParams(adult=0.03, child=0.015, elder=0.025),
            aliases=("oil", "cooking oil", "油", "食用油", "沙拉油"),
        ),
        "propane": ProductParams(
            name="Propane (100-lb cylinder)",
            unit=Unit.UNIT,
            units_per_litre=round(1 / 108, 5),
            bag_sizes=(1,),
            min_drop=1,
            priors=PriorParams(adult=0.004, child=0.002, elder=0.003),
            aliases=("propane", "gas", "瓦斯", "桶裝瓦斯", "液化氣"),
        ),
    }


def _http_url(value: str, *, empty_ok: bool) -> str:
    text = value.strip().rstrip("/")
    if not text and empty_ok:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not a web address; write it like 'https://shop.example.com'")
    return text


class TwilioParams(_Frozen):
    """A Twilio account that sends the shop's texts (see docs/sms.md)."""

    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"
    timeout_seconds: Positive = 15.0

    @field_validator("account_sid")
    @classmethod
    def _account_sid(cls, value: str) -> str:
        if value and not re.fullmatch(r"AC[0-9a-fA-F]{32}", value):
            raise ValueError(
                "an Account SID is 'AC' and 32 hex digits (Twilio Console, Account Info)"
            )
        return value

    @field_validator("messaging_service_sid")
    @classmethod
    def _service_sid(cls, value: str) -> str:
        if value and not re.fullmatch(r"MG[0-9a-fA-F]{32}", value):
            raise ValueError("a Messaging Service SID is 'MG' and 32 hex digits")
        return value

    @field_validator("from_number")
    @classmethod
    def _from_number(cls, value: str) -> str:
        if not value:
            return value
        number = value.replace(" ", "").replace("-", "")
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
            raise ValueError(
                "the From number is your Twilio number with its country code: +15551234567"
            )
        return number

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value, empty_ok=False)

    @property
    def configured(self) -> bool:
        """Credentials are set (a sender is checked when the Twilio transport is chosen)."""
        return bool(self.account_sid and self.auth_token.get_secret_value())


class SmsSettings(_Frozen):
    """How text messages leave the shop: the transport and the outbox dispatcher.

    Rules across keys are field validators (the later field checks the earlier ones), so
    that an error names one key and never echoes the section, auth token included.
    """

    twilio: TwilioParams = TwilioParams()  # first: the fields below are checked against it
    # validate_default: the rules below also hold when only the other key was changed
    transport: Literal["auto", "console", "twilio"] = Field(default="auto", validate_default=True)
    public_url: str = ""
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: Positive = 30.0
    retry_max_seconds: Positive = Field(default=3600.0, validate_default=True)
    retry_jitter: float = Field(default=0.5, ge=0, le=1)
    stuck_after_seconds: Positive = Field(default=600.0, validate_default=True)
    batch_size: int = Field(default=100, ge=1, le=10000)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _http_url(value, empty_ok=True)

    @field_validator("transport")
    @classmethod
    def _twilio_complete(cls, value: str, info: ValidationInfo) -> str:
        t = info.data.get("twilio")
        if t is None:
            return value  # twilio itself is invalid, and reported
        if value == "twilio" and not t.configured:
            raise ValueError(
                "transport is 'twilio' but twilio.account_sid or twilio.auth_token is empty; "
                "set them (REPLENISH_SMS__TWILIO__ACCOUNT_SID, "
                "REPLENISH_SMS__TWILIO__AUTH_TOKEN) or use transport = 'console'"
            )
        if value != "console" and t.configured and not (t.from_number or t.messaging_service_sid):
            raise ValueError(
                "Twilio needs a sender: set twilio.from_number (+15551234567) or "
                "twilio.messaging_service_sid (MG...)"
            )
        return value

    @field_validator("retry_max_seconds")
    @classmethod
    def _longest_wait(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("retry_base_seconds")
        if base is not None and value < base:
            raise ValueError(
                f"retry_max_seconds ({value:g}) is shorter than retry_base_seconds "
                f"({base:g}); the longest wait must be at least the first"
            )
        return value

    @field_validator("stuck_after_seconds")
    @classmethod
    def _longer_than_a_send(cls, value: float, info: ValidationInfo) -> float:
        t = info.data.get("twilio")
        if t is not None and value <= 2 * t.timeout_seconds:
            raise ValueError(
                f"stuck_after_seconds ({value:g}) must be more than twice "
                f"twilio.timeout_seconds ({t.timeout_seconds:g}): a send still in flight must "
                "never look stuck"
            )
        return value

    @property
    def use_twilio(self) -> bool:
        """Send through Twilio: chosen, or ``auto`` with credentials set."""
        return self.transport == "twilio" or (self.transport == "auto" and self.twilio.configured)


class ConversationSettings(_Frozen):
    """How the shop talks with customers by text message (see docs/sms.md)."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    max_prompts_per_week: int = Field(default=2, ge=1, le=14)
    reminder_after_hours: float = Field(default=6.0, gt=0, le=168)
    call_list_days: int = Field(default=2, ge=0, le=14)
    snooze_days: int = Field(default=3, ge=1, le=60)
    loyalty_every: int = Field(default=10, ge=0)  # 0: no free drop
    help_phone: str = ""
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _quiet_hours_differ(self) -> ConversationSettings:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ")
        return self

    @field_validator("templates")
    @classmethod
    def _known_templates(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        import string

        from replenish.templates import FIELDS

        locales = {locale.value for locale in Locale}
        for locale, texts in value.items():
            if locale not in locales:
                raise ValueError(f"templates.{locale}: not a language; use one of "
                                 f"{', '.join(sorted(locales))}")
            for key, text in texts.items():
                if key not in FIELDS:
                    raise ValueError(f"templates.{locale}.{key}: not a message; the messages "
                                     f"are {', '.join(FIELDS)}")
                used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
                unknown = used - FIELDS[key]
                if unknown:
                    raise ValueError(
                        f"templates.{locale}.{key} uses {{{', '.join(sorted(unknown))}}}; "
                        f"it may use {', '.join('{' + f + '}' for f in sorted(FIELDS[key]))}")
        return value

    def template(self, locale: str, key: str) -> str:
        """The shop's text for ``key`` in ``locale``, else the default."""
        from replenish.templates import DEFAULT_TEMPLATES

        return self.templates.get(locale, {}).get(key) or DEFAULT_TEMPLATES[locale][key]


class Settings(BaseSettings):
    """Everything a shop owner can set. Frozen: load once at start, pass it down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    shop: ShopParams = ShopParams()
    forecast: ForecastSettings = ForecastSettings()
    sms: SmsSettings = SmsSettings()
    conversation: ConversationSettings = ConversationSettings()
    products: dict[str, ProductParams] = Field(default_factory=_default_products)

    @field_validator("products")
    @classmethod
    def _product_keys_are_identifiers(
        cls, value: dict[str, ProductParams]
    ) -> dict[str, ProductParams]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(
                    f"product key {key!r} must be lowercase letters, digits and '_' "
                    "(such as 'rice' or 'cooking_oil')"
                )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path.get())
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, toml]
        if "products" not in toml.toml_data:
            # Environment overrides such as REPLENISH_PRODUCTS__RICE__MIN_DROP are merged
            # into the default products rather than replacing them all.
            sources.append(_DefaultProductsSource(settings_cls))
        return tuple(sources)


class _DefaultProductsSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {"products": {key: p.model_dump() for key, p in _default_products().items()}}


_toml_path: ContextVar[Path | None] = ContextVar("_toml_path", default=None)


def _settings_path(path: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
    """The TOML file to read (None when there is none) and a description for messages."""
    if path is None and os.environ.get(SETTINGS_PATH_ENV):
        path = os.environ[SETTINGS_PATH_ENV]
        named_by = f" (named by {SETTINGS_PATH_ENV})"
    else:
        named_by = ""
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise SettingsError(
                [f"settings file {str(chosen)!r}{named_by} does not exist"],
                source=str(chosen),
            )
        return chosen, f"{chosen} and {ENV_PREFIX}* environment variables"
    default = Path(DEFAULT_SETTINGS_FILE)
    if default.is_file():
        return default, f"{default.resolve()} and {ENV_PREFIX}* environment variables"
    return None, f"defaults and {ENV_PREFIX}* environment variables"


def _environment_names(model: type[BaseModel], prefix: str) -> tuple[set[str], set[str]]:
    """Known variable names, and prefixes below which any name is allowed (dict fields)."""
    names: set[str] = set()
    open_prefixes: set[str] = set()
    for field_name, field in model.model_fields.items():
        name = f"{prefix}{field_name.upper()}"
        names.add(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sub_names, sub_open = _environment_names(annotation, name + "__")
            names |= sub_names
            open_prefixes |= sub_open
        elif getattr(annotation, "__origin__", None) is dict:
            open_prefixes.add(name + "__")
    return names, open_prefixes


def _unknown_environment() -> list[str]:
    """REPLENISH_* variables that name no setting (a typo would otherwise be ignored)."""
    names, open_prefixes = _environment_names(Settings, ENV_PREFIX)
    problems = []
    for variable in sorted(os.environ):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper == SETTINGS_PATH_ENV:
            continue
        if upper.startswith(ENV_PREFIX + "TEST_") or upper in names:
            continue
        if any(upper.startswith(p) for p in open_prefixes):
            continue
        close = difflib.get_close_matches(upper, sorted(names), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{variable}: is not a known setting{hint}")
    return problems


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings: ``path``, else ``$REPLENISH_SETTINGS``, else ``./settings.toml``.

    Raises SettingsError naming every bad key, its value and what is allowed.
    """
    toml_path, source = _settings_path(path)
    unknown = _unknown_environment()
    if unknown:
        raise SettingsError(unknown, source=f"{ENV_PREFIX}* environment variables")
    token = _toml_path.set(toml_path)
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError.from_validation_error(error, source=source) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError([f"{toml_path} is not valid TOML: {error}"], source=source) from None
    finally:
        _toml_path.reset(token)
