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

import os
import re
import tomllib
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
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
    "ForecastSettings",
    "MeasurementErrorParams",
    "PriorParams",
    "ProductParams",
    "Settings",
    "SettingsError",
    "ShopParams",
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
    """Daily use per person, in the product's unit, before anything is learned."""

    adult: NonNegative
    child: NonNegative
    elder: NonNegative


class ProductParams(_Frozen):
    """A product a shop sells, as seeded into a new shop."""

    name: str = Field(min_length=1)
    unit: Unit
    units_per_litre: Positive
    bag_sizes: tuple[Positive, ...] = Field(min_length=1)
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


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings: ``path``, else ``$REPLENISH_SETTINGS``, else ``./settings.toml``.

    Raises SettingsError naming every bad key, its value and what is allowed.
    """
    toml_path, source = _settings_path(path)
    token = _toml_path.set(toml_path)
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError.from_validation_error(error, source=source) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError([f"{toml_path} is not valid TOML: {error}"], source=source) from None
    finally:
        _toml_path.reset(token)
